#pragma once
// Users with roles and their API tokens. A token is shown once when issued; only a salted
// SHA-256 of its secret is stored (the secret is 256 random bits: a slow password hash would
// add nothing a guesser could feel). Tokens read "an_<id>_<secret>" so the row is found without
// scanning, and the secret is compared in constant time. Tokens expire (TokenLifetimeDays, or
// a lifetime given when issued), can be revoked one by one or all at once, and stop working
// when their user is disabled.
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "state/StateDatabase.h"

namespace annot {

enum class Role { Annotator, Reviewer, Admin, Researcher };
const char* roleName(Role role);
std::optional<Role> roleFromName(const std::string& name);
// Whether `a` grants more than `b` (admin, reviewer, annotator, researcher): a hospital account
// in several groups gets the most powerful of their roles.
bool grantsMore(Role a, Role b);

struct User {
  int64_t id = 0;
  std::string name;
  Role role = Role::Researcher;
  int64_t createdMs = 0;
  bool disabled = false;
  bool identifiedAccess = false;  // a researcher an admin allowed to see identified data
};

// What is known of a token besides its secret.
struct TokenInfo {
  int64_t id = 0;
  int64_t createdMs = 0;
  int64_t expiresMs = 0;  // 0: never
  int64_t lastUsedMs = 0;  // 0: never used
  bool revoked = false;
};

struct IssuedToken {
  User user;
  std::string token;  // the only time the secret exists outside the caller
  TokenInfo info;
};

// Why a token did not authenticate. Guesses (malformed, unknown, wrong secret) are told apart
// from tokens that once worked, which get a message saying what ended them.
enum class TokenProblem { Malformed, Unknown, WrongSecret, Revoked, Expired, Disabled };

struct TokenCheck {
  std::optional<User> user;  // set when the token is good
  int64_t tokenId = 0;       // parsed from the token, when it has one
  std::optional<TokenProblem> problem;
  int64_t expiresMs = 0;     // when the token expires (or expired)
  std::string userName;      // whose token it is, once its secret matched (for the audit trail)
};

// What to tell the holder of a token that did not authenticate, in words.
std::string tokenProblemMessage(const TokenCheck& check);

class UserError : public std::runtime_error {
 public:
  enum class Kind { Invalid, Conflict, NotFound };
  UserError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }
 private:
  Kind kind_;
};

// 1-64 of letters, digits, '.', '_', '-', '@': what a user name may be (a token is not one).
bool isValidUserName(const std::string& name);

class UserStore {
 public:
  // `tokenLifetimeDays`: the lifetime of a token issued without one; 0 means tokens never expire.
  explicit UserStore(StateDatabase& db, unsigned tokenLifetimeDays = 90);
  ~UserStore();

  // Creates a user and a first token. Names: 1-64 of letters, digits, '.', '_', '-', '@'.
  // `lifetimeDays` overrides the default lifetime of the token (0: never expires).
  IssuedToken addUser(const std::string& name, Role role, std::optional<unsigned> lifetimeDays = std::nullopt);
  IssuedToken issueToken(const std::string& userName, std::optional<unsigned> lifetimeDays = std::nullopt);
  // Checks a token; a good one has its use recorded (in memory, written at most once a minute).
  TokenCheck check(const std::string& token);
  // The user a token belongs to, or nothing (unknown, revoked, expired, wrong secret, disabled user).
  std::optional<User> authenticate(const std::string& token) { return check(token).user; }
  // The holder of token `tokenId` while it is still good (not revoked or expired, user enabled):
  // a browser session lives no longer than the token it was opened with.
  std::optional<User> holderOf(int64_t tokenId);
  std::optional<User> find(const std::string& name);
  // The local record of a user the hospital directory vouched for: created on first sign-in
  // (without a token), its role brought in line with the directory's on every sign-in. A user
  // an administrator disabled here stays disabled.
  User ensureDirectoryUser(const std::string& name, Role role);
  // Grants or withdraws a researcher's access to identified data (admin decision, audited by the caller).
  void setIdentifiedAccess(const std::string& name, bool granted);
  // Disables or enables a user; returns false when it already was so. Throws NotFound.
  bool setDisabled(const std::string& name, bool disabled);
  // Revokes every live token of a user; returns how many. Throws NotFound.
  size_t revokeAll(const std::string& name);
  // Revokes one token of a user. Throws NotFound when the user has no such token.
  void revoke(const std::string& name, int64_t tokenId);
  // The user's tokens, newest first, with their last use.
  std::vector<TokenInfo> tokensOf(const std::string& name);
  std::vector<User> list();
  // Writes the recorded last uses now.
  void flushLastUse();
  unsigned tokenLifetimeDays() const { return lifetimeDays_; }

 private:
  int64_t expiryFor(std::optional<unsigned> lifetimeDays) const;
  User ensureDirectoryUserOnce(const std::string& name, Role role);
  template <typename Connection>  // sqlite::Database or pg::Connection (defined in the .cpp)
  IssuedToken issue(Connection& db, const User& user, std::optional<unsigned> lifetimeDays);
  void noteUse(int64_t tokenId, int64_t nowMs);

  StateDatabase& db_;
  const unsigned lifetimeDays_;
  std::mutex useMutex_;
  std::unordered_map<int64_t, int64_t> pendingUse_;  // token id -> last use not yet written
  int64_t lastFlushMs_ = 0;
};

}  // namespace annot
