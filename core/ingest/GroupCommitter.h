#pragma once
// Makes received instances durable in groups, in two pipelined stages so that the two disk
// barriers overlap across groups:
//   1. the storage barrier: whatever associations have handed in gets one InstanceStore sync
//      (files and their names durable);
//   2. the catalog barrier: every group that passed stage 1 is committed in one transaction.
// Only then are the waiting associations released to send their C-STORE responses. A row is
// never committed before its file is durable, so the catalog never points at a lost file.
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
  GroupCommitter(Catalog& catalog, InstanceStore& store, Metrics& metrics, size_t maxBatch = 512);
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Blocks until the record is durable; rethrows the commit error otherwise.
  CommitOutcome commit(InstanceRecord record);
  // Finishes everything queued, then stops the threads.
  void stop();

 private:
  struct Pending {
    InstanceRecord record;
    std::promise<CommitOutcome> done;
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

  void runStorageStage();
  void runCatalogStage();
  static void fail(Batch& batch);

  Catalog& catalog_;
  InstanceStore& store_;
  Metrics& metrics_;
  const size_t maxBatch_;
  std::mutex submitMutex_;
  bool stopping_ = false;
  Stage toStorage_;
  Stage toCatalog_;
  std::thread storageThread_;
  std::thread catalogThread_;
};

}  // namespace annot
