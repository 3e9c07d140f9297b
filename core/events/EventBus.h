#pragma once
// Publish/subscribe between the ingest path and whatever hangs off it (stability monitor,
// worklist). Listeners run synchronously on the publisher's thread: they must only enqueue.
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace annot {

struct InstanceStoredEvent {
  std::string studyInstanceUid;
  std::string seriesInstanceUid;
  std::string sopInstanceUid;
  int64_t receivedAtMs = 0;
  std::string sopClassUid = {};
};

struct StudyStableEvent {
  std::string studyInstanceUid;
  int64_t lastUpdateMs = 0;
};

class EventBus {
 public:
  using InstanceStoredListener = std::function<void(const InstanceStoredEvent&)>;
  using StudyStableListener = std::function<void(const StudyStableEvent&)>;

  void onInstanceStored(InstanceStoredListener listener);
  void onStudyStable(StudyStableListener listener);
  void publish(const InstanceStoredEvent& event);
  void publish(const StudyStableEvent& event);

 private:
  template <typename Listener, typename Event>
  void dispatch(const std::vector<Listener>& listeners, const Event& event);

  std::mutex mutex_;
  std::vector<InstanceStoredListener> instanceStored_;
  std::vector<StudyStableListener> studyStable_;
};

}  // namespace annot
