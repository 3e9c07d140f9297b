#include "events/EventBus.h"

#include "common/Log.h"

namespace annot {

void EventBus::onInstanceStored(InstanceStoredListener listener) {
  std::lock_guard<std::mutex> lock(mutex_);
  instanceStored_.push_back(std::move(listener));
}

void EventBus::onStudyStable(StudyStableListener listener) {
  std::lock_guard<std::mutex> lock(mutex_);
  studyStable_.push_back(std::move(listener));
}

template <typename Listener, typename Event>
void EventBus::dispatch(const std::vector<Listener>& listeners, const Event& event) {
  std::vector<Listener> copy;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    copy = listeners;
  }
  for (const auto& listener : copy) {
    try {
      listener(event);
    } catch (const std::exception& e) {
      // One faulty subscriber must not break ingest or starve the others.
      LOG_ERROR("events", "listener failed: " << e.what());
    }
  }
}

void EventBus::publish(const InstanceStoredEvent& event) { dispatch(instanceStored_, event); }
void EventBus::publish(const StudyStableEvent& event) { dispatch(studyStable_, event); }

}  // namespace annot
