#include "common/PeriodicWorker.h"

#include "common/Log.h"

namespace annot {

void PeriodicWorker::start(std::function<void()> first) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
  }
  thread_ = std::thread([this, first = std::move(first)] { run(first); });
}

void PeriodicWorker::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PeriodicWorker::wake() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

bool PeriodicWorker::stopping() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopping_;
}

void PeriodicWorker::guarded(const std::function<void()>& work) {
  try {
    work();
  } catch (const std::exception& e) {
    LOG_ERROR(name_.c_str(), e.what() << " (retried at the next round)");
  }
}

void PeriodicWorker::run(const std::function<void()>& first) {
  if (first) guarded(first);
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // A missed wake-up only delays a round by one period, never loses it.
      wake_.wait_for(lock, period_, [this] { return stopping_ || woken_; });
      if (stopping_) return;
      woken_ = false;
    }
    guarded(round_);
  }
}

}  // namespace annot
