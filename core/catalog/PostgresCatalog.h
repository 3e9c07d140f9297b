#pragma once
// The catalog several nodes share: the same index as the embedded one (patients, studies,
// series, instances), in a PostgreSQL database beside the product's state. Every node indexes
// what it receives into it and answers searches from it; the files live in a storage folder the
// nodes share. A commit is durable when it returns (Durability::EachCommit). Ingest runs at
// READ COMMITTED and leans on the unique keys: two nodes filing the first instances of one study
// at once make one study, and an instance two nodes receive at once is indexed once (the second
// is told AlreadyPresent). Writes go through one connection per node, reads through a pool.
#include <memory>
#include <mutex>
#include <string>

#include "catalog/Catalog.h"
#include "catalog/IndexReader.h"
#include "common/LendingPool.h"
#include "sql/PostgresDb.h"

namespace annot {

class PostgresCatalog : public SearchableCatalog {
 public:
  explicit PostgresCatalog(const std::string& uri);
  ~PostgresCatalog() override;

  std::vector<CommitOutcome> addInstances(const std::vector<InstanceRecord>& records) override;
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
  SqlDialect dialect() const override { return SqlDialect::Postgres; }

 private:
  // Runs `work` with the writer connection, again when it lost a race with another node.
  template <typename Work>
  auto writing(Work&& work);
  LendingPool<pg::Connection>::Lease reader();
  CommitOutcome insertOne(const InstanceRecord& record);

  std::string uri_;
  std::mutex writeMutex_;
  std::unique_ptr<pg::Connection> writer_;
  LendingPool<pg::Connection> readers_;
};

}  // namespace annot
