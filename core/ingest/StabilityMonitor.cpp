#include "ingest/StabilityMonitor.h"

#include <algorithm>
#include <vector>

#include "common/Log.h"

namespace annot {

StabilityMonitor::StabilityMonitor(Catalog& catalog, EventBus& bus, Metrics& metrics,
                                   std::chrono::milliseconds stableAge)
    : catalog_(catalog),
      bus_(bus),
      metrics_(metrics),
      stableAge_(stableAge),
      // Checks often enough that a study is declared stable soon after its age is reached.
      worker_("stability", std::clamp(stableAge / 4, std::chrono::milliseconds(100), std::chrono::milliseconds(1000)),
              [this] { checkNow(nowMillis()); }) {
  bus_.onInstanceStored([this](const InstanceStoredEvent& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& last = lastUpdate_[e.studyInstanceUid];
    last = std::max(last, e.receivedAtMs);
  });
}

void StabilityMonitor::start() {
  for (const auto& pending : catalog_.unstableStudies()) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& last = lastUpdate_[pending.studyInstanceUid];
    last = std::max(last, pending.lastUpdateMs);
  }
  worker_.start();
}

void StabilityMonitor::checkNow(int64_t nowMs) {
  std::vector<std::pair<std::string, int64_t>> due;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [uid, last] : lastUpdate_) {
      if (nowMs - last >= stableAge_.count()) due.emplace_back(uid, last);
    }
  }
  for (const auto& [uid, last] : due) {
    bool changed = false;
    try {
      changed = catalog_.markStable(uid, last);
    } catch (const std::exception& e) {
      LOG_ERROR("stability", "cannot mark study " << uid << " stable: " << e.what());
      continue;  // retried at the next check
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = lastUpdate_.find(uid);
      // Keep tracking if an instance arrived while we were marking it.
      if (it != lastUpdate_.end() && it->second == last) lastUpdate_.erase(it);
    }
    if (changed) {
      ++metrics_.studiesStable;
      LOG_INFO("stability", "study " << uid << " is stable");
      bus_.publish(StudyStableEvent{uid, last});
    }
  }
}

}  // namespace annot
