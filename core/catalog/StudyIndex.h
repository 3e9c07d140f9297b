#pragma once
// The read side of an index of studies: what the HTTP API and the worklist need to find studies
// and their instances. The node's own catalog is one; the Orthanc plugin reads Orthanc's index
// through its REST API instead of keeping a second one.
#include <cstdint>
#include <optional>
#include <string>

#include "catalog/Records.h"

namespace annot {

class StudyIndex {
 public:
  virtual ~StudyIndex() = default;

  virtual StudyPage findStudies(const StudyQuery& query) = 0;
  virtual std::optional<StudyDetail> getStudy(const std::string& studyInstanceUid) = 0;

  struct Totals {
    uint64_t patients = 0, studies = 0, series = 0, instances = 0, bytes = 0;
  };
  virtual Totals totals() = 0;
  // Version of the index schema this process works with (reported by /healthz).
  virtual int schemaVersion() = 0;
};

}  // namespace annot
