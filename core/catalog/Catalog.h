#pragma once
// The index of everything the node holds. SQLite is the embedded implementation; the interface
// is where a PostgreSQL-backed catalog slots in for larger sites.
#include <optional>
#include <string>
#include <vector>

#include "catalog/Records.h"
#include "catalog/StudyIndex.h"

namespace annot {

struct PendingStudy {
  std::string studyInstanceUid;
  int64_t lastUpdateMs = 0;
};

class Catalog : public StudyIndex {
 public:
  virtual ~Catalog() = default;

  // Commits all records in one transaction (group commit); returns one outcome per record.
  // Either every record is durable when this returns, or it throws and none is.
  virtual std::vector<CommitOutcome> addInstances(const std::vector<InstanceRecord>& records) = 0;
  virtual bool hasInstance(const std::string& sopInstanceUid) = 0;
  virtual std::optional<InstanceSummary> findInstance(const std::string& sopInstanceUid) = 0;

  // Studies not yet declared stable, with the time of their last new instance.
  virtual std::vector<PendingStudy> unstableStudies() = 0;
  // Marks a study stable unless it changed after `lastUpdateMs`; returns whether it did.
  virtual bool markStable(const std::string& studyInstanceUid, int64_t lastUpdateMs) = 0;
};

}  // namespace annot
