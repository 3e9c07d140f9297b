#pragma once
// The embedded catalog: one SQLite database in WAL mode with synchronous=FULL, so a commit that
// returned survives power loss. Writes go through one connection (serialised); reads use a
// small pool of connections so HTTP queries never wait for ingest.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "catalog/Catalog.h"
#include "catalog/IndexReader.h"
#include "catalog/SqliteDb.h"

namespace annot {

class SqliteCatalog : public Catalog, public IndexReader {
 public:
  explicit SqliteCatalog(const std::string& databasePath);
  ~SqliteCatalog() override;

  std::vector<CommitOutcome> addInstances(const std::vector<InstanceRecord>& records) override;
  bool hasInstance(const std::string& sopInstanceUid) override;
  std::optional<InstanceSummary> findInstance(const std::string& sopInstanceUid) override;
  StudyPage findStudies(const StudyQuery& query) override;
  std::optional<StudyDetail> getStudy(const std::string& studyInstanceUid) override;
  std::vector<PendingStudy> unstableStudies() override;
  bool markStable(const std::string& studyInstanceUid, int64_t lastUpdateMs) override;
  Totals totals() override;
  int schemaVersion() override;
  std::vector<std::vector<std::string>> query(const std::string& sql, const std::vector<std::string>& params) override;

 private:
  class ReaderLease;
  struct WriterStatements;
  ReaderLease reader();
  CommitOutcome insertOne(const InstanceRecord& record);

  std::string path_;
  std::mutex writeMutex_;
  std::unique_ptr<sqlite::Database> writer_;
  std::unique_ptr<WriterStatements> statements_;
  std::mutex readersMutex_;
  std::vector<std::unique_ptr<sqlite::Database>> idleReaders_;
};

}  // namespace annot
