#include "auth/SessionStore.h"

#include "common/Clock.h"
#include "common/Digest.h"
#include "common/SecureRandom.h"

namespace annot {

SessionStore::Opened SessionStore::open(const std::string& userName, int64_t tokenId) {
  Opened opened;
  opened.id = randomHex(32);
  const int64_t now = nowMillis();
  opened.session = {userName, tokenId, randomHex(32), now, now};
  std::lock_guard<std::mutex> lock(mutex_);
  forgetExpired(now);
  sessions_[sha256Hex(opened.id)] = opened.session;
  return opened;
}

std::optional<Session> SessionStore::touch(const std::string& id) {
  const int64_t now = nowMillis();
  const std::string key = sha256Hex(id);
  std::lock_guard<std::mutex> lock(mutex_);
  forgetExpired(now);
  const auto it = sessions_.find(key);
  if (it == sessions_.end()) return std::nullopt;
  if (expired(it->second, now)) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.lastSeenMs = now;
  return it->second;
}

void SessionStore::close(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  sessions_.erase(sha256Hex(id));
}

void SessionStore::closeAllOf(const std::string& userName) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.userName == userName ? sessions_.erase(it) : std::next(it);
  }
}

bool SessionStore::expired(const Session& s, int64_t nowMs) const {
  const int64_t idleMs = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.idle).count();
  const int64_t lifetimeMs = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.lifetime).count();
  return nowMs - s.lastSeenMs > idleMs || nowMs - s.createdMs > lifetimeMs;
}

void SessionStore::forgetExpired(int64_t nowMs) {
  // Sessions nobody asks for again are dropped by a sweep, at most once a second so that a busy
  // server's requests stay O(1); a session asked for is checked on its own in touch().
  if (nowMs - lastSweepMs_ < 1000) return;
  lastSweepMs_ = nowMs;
  for (auto it = sessions_.begin(); it != sessions_.end();) it = expired(it->second, nowMs) ? sessions_.erase(it) : std::next(it);
}

}  // namespace annot
