#pragma once
// Makes received instances durable in groups. Only when a group is durable are the waiting
// associations released to send their C-STORE responses. Two ways, after the catalog's
// durability():
//   EachCommit: two pipelined stages whose disk barriers overlap across groups:
//     1. the storage barrier: whatever associations have handed in gets one InstanceStore sync
//        (files and their names durable);
//     2. the catalog barrier: every group that passed stage 1 is committed in one transaction.
//     A row is never committed before its file is durable.
//   ByStorageBarrier: one barrier per group, run by the first waiting caller on its own thread
//     (leader and followers, no commit thread): the rows are committed without a flush, then
//     the storage barrier makes files, names and rows durable together, and the catalog
//     records the mark. A crash between the two leaves rows past the mark whose files
//     may be missing; ingest/IngestRecovery checks exactly those at start-up. If the barrier
//     fails, the group's rows are removed again before the associations hear of the failure.
//     A leader about to run a barrier first waits, briefly, for commits that were announced
//     (announce()): an association that has its whole object and is finishing the file then
//     shares this barrier instead of queueing for the next one. PostgreSQL's commit_delay
//     with commit_siblings does the same for its WAL flush.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "catalog/Catalog.h"
#include "metrics/Metrics.h"
#include "storage/InstanceStore.h"

namespace annot {

class GroupCommitter {
 public:
  // How long a leader waits at most for announced commits; a ceiling, reached only when an
  // announced association stalls (its file's last writes take about half of it).
  static constexpr std::chrono::microseconds kSiblingWait{1000};

  GroupCommitter(Catalog& catalog, InstanceStore& store, Metrics& metrics, size_t maxBatch = 512,
                 std::chrono::microseconds siblingWait = kSiblingWait);
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // A commit on its way (see above). Handing it to commit() fulfils it; dropping it unused
  // withdraws it.
  class Announcement {
   public:
    Announcement() = default;
    Announcement(Announcement&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Announcement& operator=(Announcement&& other) noexcept;
    ~Announcement() { withdraw(); }
    Announcement(const Announcement&) = delete;
    Announcement& operator=(const Announcement&) = delete;

   private:
    friend class GroupCommitter;
    explicit Announcement(GroupCommitter* owner) : owner_(owner) {}
    void withdraw();
    GroupCommitter* owner_ = nullptr;
  };
  Announcement announce();
  // Blocks until the record is durable; rethrows the commit error otherwise.
  CommitOutcome commit(InstanceRecord record, Announcement announced);
  CommitOutcome commit(InstanceRecord record);
  // Blocks until everything the catalog shows now is durable (for answering a re-sent
  // instance: its first copy may still be on its way to the disk). Returns at once when the
  // last barrier already covered every committed row.
  void awaitDurable();
  // Finishes everything queued, then stops the threads.
  void stop();

 private:
  struct Pending {
    InstanceRecord record;
    std::promise<CommitOutcome> done;
    bool barrierOnly = false;  // awaitDurable(): no row, only the next barrier
  };
  using Batch = std::vector<Pending>;

  // A queue handed from one stage to the next; close() lets the consumer drain and exit.
  struct Stage {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Pending> items;
    bool closed = false;
    void push(Batch&& batch);
    // Waits for work; returns an empty batch once closed and drained.
    Batch take(size_t maxItems);
    void close();
  };

  CommitOutcome submit(Pending pending, Announcement announced);
  void settle(Announcement& announced);  // with submitMutex_ held
  void runStorageStage();
  void runCatalogStage();
  void commitThenBarrier(Batch& batch);
  static void fail(Batch& batch);

  Catalog& catalog_;
  InstanceStore& store_;
  Metrics& metrics_;
  const size_t maxBatch_;
  const std::chrono::microseconds siblingWait_;
  const bool oneBarrier_;
  std::mutex submitMutex_;
  bool stopping_ = false;
  // ByStorageBarrier: entries waiting for a leader, and whether one is committing (submitMutex_).
  std::deque<Pending> waiting_;
  bool leading_ = false;
  bool stopped_ = false;
  // ByStorageBarrier: the catalog's commit mark the last successful barrier covered (-1: none
  // yet since start; recovery has checked older rows, but one barrier costs little).
  std::atomic<int64_t> durableMark_{-1};
  std::condition_variable leaderDone_;
  size_t announced_ = 0;                 // announced commits not yet submitted (submitMutex_)
  std::condition_variable arrivals_;     // an announced commit was submitted or withdrawn
  Stage toStorage_;
  Stage toCatalog_;
  std::thread storageThread_;
  std::thread catalogThread_;
};

}  // namespace annot
