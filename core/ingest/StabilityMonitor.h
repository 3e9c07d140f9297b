#pragma once
// Declares a study stable when no new instance arrived for `stableAge`, persists that in the
// catalog and publishes StudyStableEvent. Studies left unstable by a restart are picked up
// from the catalog, so no stable event is lost across restarts.
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "catalog/Catalog.h"
#include "common/Clock.h"
#include "common/PeriodicWorker.h"
#include "events/EventBus.h"
#include "metrics/Metrics.h"

namespace annot {

class StabilityMonitor {
 public:
  StabilityMonitor(Catalog& catalog, EventBus& bus, Metrics& metrics, std::chrono::milliseconds stableAge);
  void start();
  void stop() { worker_.stop(); }
  // Runs one check now against the given clock value (milliseconds since the epoch).
  void checkNow(int64_t nowMs);

 private:
  Catalog& catalog_;
  EventBus& bus_;
  Metrics& metrics_;
  const std::chrono::milliseconds stableAge_;
  std::mutex mutex_;
  std::map<std::string, int64_t> lastUpdate_;
  PeriodicWorker worker_;  // last: stopped before the members its rounds use go
};

}  // namespace annot
