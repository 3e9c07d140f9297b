#include "auth/UserStore.h"

#include <openssl/crypto.h>

#include "common/Clock.h"
#include "common/Digest.h"
#include "common/SecureRandom.h"
#include "common/EnumNames.h"

namespace annot {
namespace {
const std::pair<Role, const char*> kRoles[] = {
    {Role::Annotator, "annotator"}, {Role::Reviewer, "reviewer"}, {Role::Admin, "admin"}, {Role::Researcher, "researcher"}};

std::string saltedHash(const std::string& salt, const std::string& secret) { return sha256Hex(salt + ":" + secret); }

}  // namespace

bool isValidUserName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (unsigned char c : name) {
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '-' && c != '@') return false;
  }
  return true;
}

namespace {

constexpr int64_t kDayMs = 86400000;
// How often recorded token uses reach the disk: a request never waits for a write of its own.
constexpr int64_t kUseFlushMs = 60000;
const char* const kUserColumns = "id, name, role, created_ms, disabled, identified_access";

template <typename Statement>
User readUser(const Statement& st) {
  User u;
  u.id = st.integer(0);
  u.name = st.text(1);
  u.role = roleFromName(st.text(2)).value_or(Role::Researcher);
  u.createdMs = st.integer(3);
  u.disabled = st.integer(4) != 0;
  u.identifiedAccess = st.integer(5) != 0;
  return u;
}

// A new user row (no token); its id filled in.
template <typename Connection>
User insertUser(Connection& db, const std::string& name, Role role) {
  User user;
  user.name = name;
  user.role = role;
  user.createdMs = nowMillis();
  db.prepare("INSERT INTO users(name, role, created_ms) VALUES(?,?,?)").bind(1, name).bind(2, std::string(roleName(role)))
      .bind(3, user.createdMs).run();
  user.id = db.lastInsertRowId();
  return user;
}

template <typename Connection>
User requireUser(Connection& db, const std::string& name) {
  auto st = db.prepare(std::string("SELECT ") + kUserColumns + " FROM users WHERE name = ?");
  st.bind(1, name);
  if (!st.step()) throw UserError(UserError::Kind::NotFound, "no user '" + name + "'");
  return readUser(st);
}

// "an_<id>_<64 hex>" split into id and secret; nothing when it cannot be a token.
std::optional<std::pair<int64_t, std::string>> parseToken(const std::string& token) {
  if (token.rfind("an_", 0) != 0) return std::nullopt;
  const auto sep = token.find('_', 3);
  if (sep == std::string::npos || sep == 3 || sep - 3 > 18) return std::nullopt;
  const std::string idText = token.substr(3, sep - 3);
  if (idText.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const std::string secret = token.substr(sep + 1);
  if (secret.size() != 64) return std::nullopt;
  return std::pair{static_cast<int64_t>(std::stoll(idText)), secret};
}
}  // namespace

const char* roleName(Role role) { return enumName(kRoles, role); }
std::optional<Role> roleFromName(const std::string& name) { return enumFromName(kRoles, name); }

bool grantsMore(Role a, Role b) {
  const auto power = [](Role r) { return r == Role::Admin ? 3 : r == Role::Reviewer ? 2 : r == Role::Annotator ? 1 : 0; };
  return power(a) > power(b);
}

UserStore::UserStore(StateDatabase& db, unsigned tokenLifetimeDays) : db_(db), lifetimeDays_(tokenLifetimeDays) {}

UserStore::~UserStore() {
  try {
    flushLastUse();
  } catch (...) {
    // Last uses are informative; a database already gone loses at most a minute of them.
  }
}

int64_t UserStore::expiryFor(std::optional<unsigned> lifetimeDays) const {
  const unsigned days = lifetimeDays.value_or(lifetimeDays_);
  return days == 0 ? 0 : nowMillis() + static_cast<int64_t>(days) * kDayMs;
}

template <typename Connection>
IssuedToken UserStore::issue(Connection& db, const User& user, std::optional<unsigned> lifetimeDays) {
  const std::string salt = randomHex(16);
  const std::string secret = randomHex(32);
  TokenInfo info;
  info.createdMs = nowMillis();
  info.expiresMs = expiryFor(lifetimeDays);
  db.prepare("INSERT INTO tokens(user_fk, salt, hash, created_ms, expires_ms) VALUES(?,?,?,?,?)")
      .bind(1, user.id).bind(2, salt).bind(3, saltedHash(salt, secret)).bind(4, info.createdMs).bind(5, info.expiresMs).run();
  info.id = db.lastInsertRowId();
  return {user, "an_" + std::to_string(info.id) + "_" + secret, info};
}

IssuedToken UserStore::addUser(const std::string& name, Role role, std::optional<unsigned> lifetimeDays) {
  if (!isValidUserName(name)) {
    throw UserError(UserError::Kind::Invalid, "user name '" + name + "' is not valid (1-64 letters, digits, '.', '_', '-', '@')");
  }
  try {
    return db_.withAny([&](auto& db) {
      TransactionOf<decltype(db)> tx(db);
      auto exists = db.prepare("SELECT 1 FROM users WHERE name = ?");
      exists.bind(1, name);
      if (exists.step()) throw UserError(UserError::Kind::Conflict, "user '" + name + "' already exists");
      exists.reset();
      const User user = insertUser(db, name, role);
      IssuedToken token = issue(db, user, lifetimeDays);
      tx.commit();
      return token;
    });
  } catch (const pg::PgError& e) {
    // Another node created the same name between the check and the insert.
    if (e.uniqueViolation()) throw UserError(UserError::Kind::Conflict, "user '" + name + "' already exists");
    throw;
  }
}

IssuedToken UserStore::issueToken(const std::string& userName, std::optional<unsigned> lifetimeDays) {
  return db_.withAny([&](auto& db) { return issue(db, requireUser(db, userName), lifetimeDays); });
}

TokenCheck UserStore::check(const std::string& token) {
  TokenCheck out;
  const auto parsed = parseToken(token);
  if (!parsed) {
    out.problem = TokenProblem::Malformed;
    return out;
  }
  // Plain names: a lambda may not capture structured bindings before C++20.
  const int64_t id = parsed->first;
  const std::string secret = parsed->second;
  out.tokenId = id;
  const int64_t now = nowMillis();
  db_.withAny([&](auto& db) {
    auto st = db.prepare(
        "SELECT u.id, u.name, u.role, u.created_ms, u.disabled, u.identified_access, t.salt, t.hash, t.revoked, t.expires_ms "
        "FROM tokens t JOIN users u ON u.id = t.user_fk WHERE t.id = ?");
    st.bind(1, id);
    if (!st.step()) {
      out.problem = TokenProblem::Unknown;
      return;
    }
    const User user = readUser(st);
    const std::string expected = st.text(7);
    const std::string actual = saltedHash(st.text(6), secret);
    const bool revoked = st.integer(8) != 0;
    out.expiresMs = st.integer(9);
    st.reset();
    // The secret first: what ended a token is told only to whoever holds it.
    if (expected.size() != actual.size() || CRYPTO_memcmp(expected.data(), actual.data(), expected.size()) != 0) {
      out.problem = TokenProblem::WrongSecret;
      return;
    }
    out.userName = user.name;
    if (revoked) {
      out.problem = TokenProblem::Revoked;
    } else if (out.expiresMs != 0 && out.expiresMs <= now) {
      out.problem = TokenProblem::Expired;
    } else if (user.disabled) {
      out.problem = TokenProblem::Disabled;
    } else {
      out.user = user;
    }
  });
  if (out.user) noteUse(id, now);
  return out;
}

std::string tokenProblemMessage(const TokenCheck& check) {
  if (!check.problem) return "";
  switch (*check.problem) {
    case TokenProblem::Revoked: return "this token was revoked: ask an administrator for a new one";
    case TokenProblem::Expired: return "this token expired on " + readableUtc(check.expiresMs) + ": ask an administrator for a new one";
    case TokenProblem::Disabled: return "user '" + check.userName + "' is disabled: ask an administrator";
    case TokenProblem::Malformed:
    case TokenProblem::Unknown:
    case TokenProblem::WrongSecret: break;
  }
  return "the token is not valid";
}

std::optional<User> UserStore::holderOf(int64_t tokenId) {
  const int64_t now = nowMillis();
  auto holder = db_.withAny([&](auto& db) -> std::optional<User> {
    auto st = db.prepare(
        "SELECT u.id, u.name, u.role, u.created_ms, u.disabled, u.identified_access FROM tokens t JOIN users u ON u.id = t.user_fk "
        "WHERE t.id = ? AND t.revoked = 0 AND (t.expires_ms = 0 OR t.expires_ms > ?) AND u.disabled = 0");
    st.bind(1, tokenId).bind(2, now);
    if (!st.step()) return std::nullopt;
    return readUser(st);
  });
  if (holder) noteUse(tokenId, now);
  return holder;
}

void UserStore::noteUse(int64_t tokenId, int64_t nowMs) {
  bool flush = false;
  {
    std::lock_guard<std::mutex> lock(useMutex_);
    pendingUse_[tokenId] = nowMs;
    if (nowMs - lastFlushMs_ >= kUseFlushMs) {
      lastFlushMs_ = nowMs;
      flush = true;
    }
  }
  if (flush) flushLastUse();
}

void UserStore::flushLastUse() {
  std::unordered_map<int64_t, int64_t> uses;
  {
    std::lock_guard<std::mutex> lock(useMutex_);
    uses.swap(pendingUse_);
  }
  if (uses.empty()) return;
  db_.withAny([&](auto& db) {
    TransactionOf<decltype(db)> tx(db);
    auto st = db.prepare(isPostgres<decltype(db)> ? "UPDATE tokens SET last_used_ms = GREATEST(last_used_ms, ?) WHERE id = ?"
                                                  : "UPDATE tokens SET last_used_ms = MAX(last_used_ms, ?) WHERE id = ?");
    for (const auto& [id, when] : uses) {
      st.bind(1, when).bind(2, id).run();
      st.reset();
    }
    tx.commit();
  });
}

bool UserStore::setDisabled(const std::string& name, bool disabled) {
  return db_.withAny([&](auto& db) {
    const User user = requireUser(db, name);
    if (user.disabled == disabled) return false;
    db.prepare("UPDATE users SET disabled = ? WHERE id = ?").bind(1, int64_t{disabled ? 1 : 0}).bind(2, user.id).run();
    return true;
  });
}

size_t UserStore::revokeAll(const std::string& name) {
  return db_.withAny([&](auto& db) {
    const User user = requireUser(db, name);
    db.prepare("UPDATE tokens SET revoked = 1 WHERE user_fk = ? AND revoked = 0").bind(1, user.id).run();
    return static_cast<size_t>(db.changes());
  });
}

void UserStore::revoke(const std::string& name, int64_t tokenId) {
  db_.withAny([&](auto& db) {
    const User user = requireUser(db, name);
    db.prepare("UPDATE tokens SET revoked = 1 WHERE id = ? AND user_fk = ?").bind(1, tokenId).bind(2, user.id).run();
    if (db.changes() == 0) throw UserError(UserError::Kind::NotFound, "user '" + name + "' has no token " + std::to_string(tokenId));
  });
}

std::vector<TokenInfo> UserStore::tokensOf(const std::string& name) {
  flushLastUse();
  return db_.withAny([&](auto& db) {
    const User user = requireUser(db, name);
    std::vector<TokenInfo> out;
    auto st = db.prepare("SELECT id, created_ms, expires_ms, last_used_ms, revoked FROM tokens WHERE user_fk = ? ORDER BY id DESC");
    st.bind(1, user.id);
    while (st.step()) out.push_back({st.integer(0), st.integer(1), st.integer(2), st.integer(3), st.integer(4) != 0});
    return out;
  });
}

User UserStore::ensureDirectoryUser(const std::string& name, Role role) {
  if (!isValidUserName(name)) throw UserError(UserError::Kind::Invalid, "user name '" + name + "' is not valid");
  try {
    return ensureDirectoryUserOnce(name, role);
  } catch (const pg::PgError& e) {
    // Two nodes signed the same person in for the first time at once: the other's row is there now.
    if (!e.uniqueViolation()) throw;
    return ensureDirectoryUserOnce(name, role);
  }
}

User UserStore::ensureDirectoryUserOnce(const std::string& name, Role role) {
  return db_.withAny([&](auto& db) {
    TransactionOf<decltype(db)> tx(db);
    auto st = db.prepare(std::string("SELECT ") + kUserColumns + " FROM users WHERE name = ?");
    st.bind(1, name);
    User user;
    if (st.step()) {
      user = readUser(st);
      st.reset();
      if (user.role != role) {
        db.prepare("UPDATE users SET role = ? WHERE id = ?").bind(1, std::string(roleName(role))).bind(2, user.id).run();
        user.role = role;
      }
    } else {
      st.reset();
      user = insertUser(db, name, role);
    }
    tx.commit();
    return user;
  });
}

void UserStore::setIdentifiedAccess(const std::string& name, bool granted) {
  db_.withAny([&](auto& db) {
    auto st = db.prepare("UPDATE users SET identified_access = ? WHERE name = ?");
    st.bind(1, int64_t{granted ? 1 : 0}).bind(2, name).run();
    if (db.changes() == 0) throw UserError(UserError::Kind::NotFound, "no user '" + name + "'");
  });
}

std::optional<User> UserStore::find(const std::string& name) {
  return db_.withAny([&](auto& db) -> std::optional<User> {
    auto st = db.prepare(std::string("SELECT ") + kUserColumns + " FROM users WHERE name = ?");
    st.bind(1, name);
    if (!st.step()) return std::nullopt;
    return readUser(st);
  });
}

std::vector<User> UserStore::list() {
  return db_.withAny([&](auto& db) {
    std::vector<User> out;
    auto st = db.prepare(std::string("SELECT ") + kUserColumns + " FROM users ORDER BY id");
    while (st.step()) out.push_back(readUser(st));
    return out;
  });
}

}  // namespace annot
