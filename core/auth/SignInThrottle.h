#pragma once
// Slows down guessing: failed sign-ins and token guesses are counted per network address and
// per user name in a sliding window; past the limit the key is locked for a while, and the
// caller audits the moment a lockout starts. Only guesses count (an unknown token, a wrong
// secret, a name and token that do not match); a token that once worked and was revoked or
// expired is not a guess, so a script still running with an old token does not lock out
// everybody behind the same proxy.
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace annot {

struct ThrottleSettings {
  unsigned failuresPerAddress = 20;  // within `window`, from one address
  unsigned failuresPerUser = 5;      // within `window`, naming one user
  std::chrono::seconds window{15 * 60};
  std::chrono::seconds lockout{15 * 60};
};

class SignInThrottle {
 public:
  explicit SignInThrottle(ThrottleSettings settings = {}) : settings_(settings) {}

  // When the key's lockout ends (ms since the epoch), or nothing when it is not locked.
  std::optional<int64_t> lockedUntil(const std::string& key, int64_t nowMs);
  // Counts a failure; returns true when this failure starts a lockout.
  bool fail(const std::string& key, unsigned limit, int64_t nowMs);
  // A success clears the key's failures.
  void succeed(const std::string& key);
  const ThrottleSettings& settings() const { return settings_; }

  static std::string addressKey(const std::string& address) { return "address " + address; }
  static std::string userKey(const std::string& name) { return "user " + name; }

 private:
  struct Record {
    std::deque<int64_t> failures;
    int64_t lockedUntilMs = 0;
  };
  void forgetOld(int64_t nowMs);

  const ThrottleSettings settings_;
  std::mutex mutex_;
  std::unordered_map<std::string, Record> records_;
  int64_t lastSweepMs_ = 0;
};

}  // namespace annot
