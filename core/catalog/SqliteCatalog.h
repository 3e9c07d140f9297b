#pragma once
// The embedded catalog: one SQLite database in WAL mode. With Durability::EachCommit
// (synchronous=FULL) a commit that returned survives power loss; with ByStorageBarrier
// (synchronous=NORMAL) the ingest path's syncfs of the data folder makes it durable, which is
// only sound when the database lives on that filesystem (NodeApp checks). Writes go through one
// connection (serialised); reads use a small pool of connections so HTTP queries never wait
// for ingest.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "catalog/Catalog.h"
#include "catalog/IndexReader.h"
#include "catalog/SqliteDb.h"
#include "common/LendingPool.h"

namespace annot {

class SqliteCatalog : public SearchableCatalog {
 public:
  explicit SqliteCatalog(const std::string& databasePath, Durability durability = Durability::EachCommit);
  ~SqliteCatalog() override;

  std::vector<CommitOutcome> addInstances(const std::vector<InstanceRecord>& records) override;
  Durability durability() const override { return durability_; }
  int64_t commitMark() override;
  void markDurable(int64_t mark) override;
  void writeDurableMark() override;
  std::vector<UnconfirmedInstance> instancesPastDurableMark() override;
  void removeInstances(const std::vector<std::string>& sopInstanceUids) override;
  bool hasInstance(const std::string& sopInstanceUid) override;
  std::optional<InstancePlace> placeOf(const std::string& sopInstanceUid) override;
  std::optional<InstanceSummary> findInstance(const std::string& sopInstanceUid) override;
  StudyPage findStudies(const StudyQuery& query) override;
  std::optional<StudyDetail> getStudy(const std::string& studyInstanceUid) override;
  std::vector<PendingStudy> unstableStudies() override;
  bool markStable(const std::string& studyInstanceUid, int64_t lastUpdateMs) override;
  Totals totals() override;
  int schemaVersion() override;
  std::vector<std::vector<std::string>> query(const std::string& sql, const std::vector<std::string>& params) override;

 private:
  struct WriterStatements;
  // Borrows a read connection for the duration of one query.
  LendingPool<sqlite::Database>::Lease reader() { return readers_.lease(); }
  CommitOutcome insertOne(const InstanceRecord& record);
  void recordDurableMarkLocked();  // writes durableThrough_ in the open transaction

  std::string path_;
  const Durability durability_;
  std::mutex writeMutex_;
  int64_t committedThrough_ = 0;  // newest instance row committed (under writeMutex_)
  int64_t durableThrough_ = 0;    // newest row reported durable, written with the next commit
  int64_t recordedThrough_ = 0;   // what the database holds
  std::unique_ptr<sqlite::Database> writer_;
  std::unique_ptr<WriterStatements> statements_;
  LendingPool<sqlite::Database> readers_;
};

}  // namespace annot
