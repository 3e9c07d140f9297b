#pragma once
// The product's extension to QIDO-RS: find studies by what has been labeled in them, and return
// a summary of their labels. Keys live in the "annotation." namespace so they never collide with
// DICOM attribute keywords or tags:
//   annotation.status=approved|labeled|in-progress   results written back | a reader finished | work open
//   annotation.protocol=ID                          studies with tasks of that protocol
//   annotation.finding=CODE or SCHEME:CODE          a finding or classification coded so (latest revisions)
//   annotation.readers=N                            at least N readers finished
//   includefield=annotation.summary                 adds an "annotation" object to each study
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "state/StateDatabase.h"

namespace annot::dicomweb {

class LabelFilters {
 public:
  explicit LabelFilters(StateDatabase& db) : db_(db) {}
  // Studies that pass every annotation.* key of the request; nothing when it has none. Throws
  // QidoError for an unknown key or a bad value.
  std::optional<std::vector<std::string>> matchingStudies(const std::multimap<std::string, std::string>& params);
  // Whether includefield asks for the summary.
  static bool wantsSummary(const std::multimap<std::string, std::string>& params);
  nlohmann::json summary(const std::string& studyInstanceUid);

 private:
  StateDatabase& db_;
};

}  // namespace annot::dicomweb
