#pragma once
// A thread that runs one round of work every `period` and whenever woken, until stopped: the
// shape of every background loop in core (outbox sender, study stability, Orthanc's change
// feed). A round that throws is logged under the worker's name and retried at the next one.
// Long rounds ask `stopping()` between items so that stop() does not wait for all of them.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace annot {

class PeriodicWorker {
 public:
  PeriodicWorker(std::string name, std::chrono::milliseconds period, std::function<void()> round)
      : name_(std::move(name)), period_(period), round_(std::move(round)) {}
  ~PeriodicWorker() { stop(); }
  PeriodicWorker(const PeriodicWorker&) = delete;
  PeriodicWorker& operator=(const PeriodicWorker&) = delete;

  // `first` runs once on the worker's thread before the first round (start-up recovery).
  void start(std::function<void()> first = {});
  void stop();
  void wake();
  bool stopping();

 private:
  void run(const std::function<void()>& first);
  void guarded(const std::function<void()>& work);

  const std::string name_;
  const std::chrono::milliseconds period_;
  const std::function<void()> round_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false, woken_ = false;
  std::thread thread_;
};

}  // namespace annot
