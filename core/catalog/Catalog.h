#pragma once
// The index of everything the node holds. SQLite is the embedded implementation; the interface
// is where a PostgreSQL-backed catalog slots in for larger sites.
#include <optional>
#include <string>
#include <vector>

#include "catalog/IndexReader.h"
#include "catalog/Records.h"
#include "catalog/StudyIndex.h"

namespace annot {

struct PendingStudy {
  std::string studyInstanceUid;
  int64_t lastUpdateMs = 0;
};

// A row committed by addInstances() that is not yet known to be durable (see Catalog::Durability).
struct UnconfirmedInstance {
  std::string sopInstanceUid;
  std::string storageKey;
  uint64_t fileSize = 0;
};

class Catalog : public StudyIndex {
 public:
  // When a committed row is durable:
  //   EachCommit         addInstances() flushes its own log before returning.
  //   ByStorageBarrier   addInstances() makes rows visible without a flush; the ingest path's
  //                      filesystem barrier that follows (which also covers the catalog's files)
  //                      makes them durable, and markDurable(commitMark()) records that. After a
  //                      crash, rows past the recorded mark may lack their files and are checked
  //                      (ingest/IngestRecovery) before the node serves again. One flush per
  //                      group instead of two.
  enum class Durability { EachCommit, ByStorageBarrier };

  virtual ~Catalog() = default;

  // Commits all records in one transaction (group commit); returns one outcome per record.
  // Either every record is committed when this returns, or it throws and none is; durable as
  // durability() says.
  virtual std::vector<CommitOutcome> addInstances(const std::vector<InstanceRecord>& records) = 0;
  virtual Durability durability() const { return Durability::EachCommit; }
  // The newest row committed so far, as an opaque mark for markDurable().
  virtual int64_t commitMark() { return 0; }
  // Everything committed up to `mark` is durable; recorded with the next transaction.
  virtual void markDurable(int64_t mark) { (void)mark; }
  // Writes the durable mark now (at shutdown, so a clean restart has nothing to check); it is
  // itself durable after the next storage barrier.
  virtual void writeDurableMark() {}
  // Rows committed after the last recorded durable mark (all rows a crash may have cut short).
  virtual std::vector<UnconfirmedInstance> instancesPastDurableMark() { return {}; }
  // Removes instances (and series, studies, patients left empty), keeping counts right. For
  // rows whose files a crash or a failed barrier may have lost: their senders were never
  // acknowledged and will send again. The durable mark stays where it is; a caller that has
  // checked the rows that remain marks them (markDurable(commitMark()), writeDurableMark()).
  virtual void removeInstances(const std::vector<std::string>& sopInstanceUids) { (void)sopInstanceUids; }
  virtual bool hasInstance(const std::string& sopInstanceUid) = 0;
  // The study and series an indexed instance was stored under; nullopt when it is not indexed.
  virtual std::optional<InstancePlace> placeOf(const std::string& sopInstanceUid) = 0;
  virtual std::optional<InstanceSummary> findInstance(const std::string& sopInstanceUid) = 0;

  // Studies not yet declared stable, with the time of their last new instance.
  virtual std::vector<PendingStudy> unstableStudies() = 0;
  // Marks a study stable unless it changed after `lastUpdateMs`; returns whether it did.
  virtual bool markStable(const std::string& studyInstanceUid, int64_t lastUpdateMs) = 0;
};

// A catalog that also answers SQL over its index (DICOMweb searches): what a node runs on,
// embedded (SqliteCatalog) or shared by several nodes (PostgresCatalog).
class SearchableCatalog : public Catalog, public IndexReader {};

}  // namespace annot
