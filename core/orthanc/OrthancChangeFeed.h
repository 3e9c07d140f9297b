#pragma once
// Follows Orthanc's change log (/changes) from a cursor kept in the state database and turns it
// into worklist scheduling: a study that received instances from anyone but us is scheduled
// when Orthanc declares it stable. Orthanc's change callback only wakes this feed (its callbacks
// share one thread and must stay short); the work happens here, on the feed's own thread.
// Because the cursor and the set of touched studies are durable, a restart of Orthanc loses
// nothing: changes are read again from the cursor, and a study whose StableStudy event never
// came (Orthanc stopped first) is scheduled once Orthanc reports it stable.
#include <atomic>
#include <functional>
#include <set>
#include <string>

#include "common/PeriodicWorker.h"
#include "orthanc/OrthancRest.h"
#include "state/StateDatabase.h"

namespace annot {

class OrthancChangeFeed {
 public:
  using IsOwnOutput = std::function<bool(const std::string& sopInstanceUid)>;
  using Schedule = std::function<void(const std::string& studyInstanceUid)>;
  OrthancChangeFeed(OrthancRest& rest, StateDatabase& db, IsOwnOutput isOwnOutput, Schedule schedule)
      : rest_(rest), db_(db), isOwnOutput_(std::move(isOwnOutput)), schedule_(std::move(schedule)),
        // Polls every second as well as when woken.
        worker_("changes", std::chrono::seconds(1), [this] { follow(); }) {}

  // Called for every new instance, ours included, before anything else (IOCM: a rejection note
  // may be the product's own). On the feed's thread; exceptions are logged.
  void onEveryNewInstance(std::function<void(const std::string& instanceId)> hook) { newInstanceHook_ = std::move(hook); }

  // Follows the log on a thread; once it has caught up, the touched studies are re-checked
  // (follow()). Call once Orthanc serves REST.
  void start() { worker_.start(); }
  void stop() { worker_.stop(); }
  void wake() { worker_.wake(); }

  // Whether the feed knows where in Orthanc's change log it stands: from then on nothing Orthanc
  // receives is missed (before, on a first start, it may be: the feed follows from "now").
  bool following() const { return following_; }

  // One pass over new changes; returns how many were read. (The thread calls this.)
  size_t poll();
  // Schedules touched studies that Orthanc now reports stable.
  void recoverTouched();

 private:
  void follow();  // reads changes until none are left
  void onNewInstance(const std::string& instanceId);
  void onStableStudy(const std::string& studyId);
  bool scheduleStudy(const std::string& studyId);
  int64_t cursor();

  OrthancRest& rest_;
  StateDatabase& db_;
  IsOwnOutput isOwnOutput_;
  Schedule schedule_;
  std::function<void(const std::string&)> newInstanceHook_;
  std::atomic<bool> following_{false};
  bool recovered_ = false;  // touched studies re-checked after the first catch-up (worker thread only)
  PeriodicWorker worker_;  // last: stopped before the members its rounds use go
};

}  // namespace annot
