#pragma once
// Process-wide counters of one node, rendered in the Prometheus text exposition format.
#include <atomic>
#include <cstdint>
#include <string>

namespace annot {

class Metrics {
 public:
  std::atomic<uint64_t> instancesReceived{0};   // newly stored instances
  std::atomic<uint64_t> instancesDuplicate{0};  // re-sent instances acknowledged without storing again
  std::atomic<uint64_t> copiesWaited{0};        // copies that waited for a copy of the same instance in flight
  std::atomic<uint64_t> bytesReceived{0};
  std::atomic<uint64_t> failuresMalformed{0};
  std::atomic<uint64_t> failuresMismatch{0};
  std::atomic<uint64_t> failuresOutOfResources{0};
  std::atomic<uint64_t> failuresProcessing{0};
  std::atomic<uint64_t> associationsAccepted{0};
  std::atomic<uint64_t> associationsRejected{0};
  std::atomic<int64_t> associationsActive{0};
  std::atomic<uint64_t> echoRequests{0};
  std::atomic<uint64_t> commitBatches{0};
  std::atomic<uint64_t> studiesStable{0};
  std::atomic<uint64_t> httpRequests{0};
  std::atomic<uint64_t> httpErrors{0};

  // Renders counters; `extra` (already in exposition format) is appended, e.g. catalog gauges.
  std::string renderPrometheus(const std::string& extra = "") const;
};

}  // namespace annot
