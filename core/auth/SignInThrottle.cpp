#include "auth/SignInThrottle.h"

namespace annot {

std::optional<int64_t> SignInThrottle::lockedUntil(const std::string& key, int64_t nowMs) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = records_.find(key);
  if (it == records_.end() || it->second.lockedUntilMs <= nowMs) return std::nullopt;
  return it->second.lockedUntilMs;
}

bool SignInThrottle::fail(const std::string& key, unsigned limit, int64_t nowMs) {
  std::lock_guard<std::mutex> lock(mutex_);
  forgetOld(nowMs);
  Record& r = records_[key];
  const int64_t windowMs = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.window).count();
  while (!r.failures.empty() && r.failures.front() <= nowMs - windowMs) r.failures.pop_front();
  r.failures.push_back(nowMs);
  if (r.lockedUntilMs > nowMs || r.failures.size() < limit) return false;
  r.lockedUntilMs = nowMs + std::chrono::duration_cast<std::chrono::milliseconds>(settings_.lockout).count();
  r.failures.clear();
  return true;
}

void SignInThrottle::succeed(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = records_.find(key);
  if (it != records_.end() && it->second.lockedUntilMs == 0) records_.erase(it);
}

// Keeps the table bounded by the addresses seen within a window, not by all time.
void SignInThrottle::forgetOld(int64_t nowMs) {
  const int64_t windowMs = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.window).count();
  if (nowMs - lastSweepMs_ < windowMs) return;
  lastSweepMs_ = nowMs;
  for (auto it = records_.begin(); it != records_.end();) {
    const bool idle = it->second.lockedUntilMs <= nowMs && (it->second.failures.empty() || it->second.failures.back() <= nowMs - windowMs);
    it = idle ? records_.erase(it) : std::next(it);
  }
}

}  // namespace annot
