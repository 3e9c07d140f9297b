#pragma once
// Browser sessions: signing in to the workstation exchanges a user's token for a session id
// carried by an HttpOnly, SameSite=Strict cookie, so the page never holds a long-lived secret
// and same-origin viewers (the workstation's images, OHIF at /viewer) are authenticated
// without one. A session ends when its user signs out, after an idle period, or after an
// absolute lifetime. Changes made with a session need its CSRF token in a header: a cookie
// alone proves nothing about who built the request.
//
// Sessions live in memory: a restart of the node or of Orthanc signs everybody out, which is
// what an administrator restarting after a security incident expects.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace annot {

struct SessionSettings {
  std::chrono::seconds idle{15 * 60};       // hospital policy: 15 minutes without a request
  std::chrono::seconds lifetime{12 * 3600};  // one shift, whatever the activity
};

struct Session {
  std::string userName;
  int64_t tokenId = 0;  // the token signed in with: the session ends when it is revoked or expires
  std::string csrfToken;
  int64_t createdMs = 0;
  int64_t lastSeenMs = 0;
};

class SessionStore {
 public:
  explicit SessionStore(SessionSettings settings = {}) : settings_(settings) {}

  struct Opened {
    std::string id;  // the cookie's value: shown once, kept only as a hash
    Session session;
  };
  Opened open(const std::string& userName, int64_t tokenId);
  // The live session with this id, its idle clock restarted; nothing when unknown or expired.
  std::optional<Session> touch(const std::string& id);
  void close(const std::string& id);
  // Ends every session of a user (disabled, or signed out everywhere).
  void closeAllOf(const std::string& userName);
  const SessionSettings& settings() const { return settings_; }

 private:
  bool expired(const Session& session, int64_t nowMs) const;
  void forgetExpired(int64_t nowMs);

  const SessionSettings settings_;
  std::mutex mutex_;
  std::unordered_map<std::string, Session> sessions_;  // by SHA-256 of the id
  int64_t lastSweepMs_ = 0;
};

}  // namespace annot
