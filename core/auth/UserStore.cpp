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

User readUser(const sqlite::Statement& st) {
  User u;
  u.id = st.integer(0);
  u.name = st.text(1);
  u.role = roleFromName(st.text(2)).value_or(Role::Researcher);
  u.createdMs = st.integer(3);
  u.disabled = st.integer(4) != 0;
  u.identifiedAccess = st.integer(5) != 0;
  return u;
}

IssuedToken issue(sqlite::Database& db, const User& user) {
  const std::string salt = randomHex(16);
  const std::string secret = randomHex(32);
  db.prepare("INSERT INTO tokens(user_fk, salt, hash, created_ms) VALUES(?,?,?,?)")
      .bind(1, user.id).bind(2, salt).bind(3, saltedHash(salt, secret)).bind(4, nowMillis()).run();
  return {user, "an_" + std::to_string(db.lastInsertRowId()) + "_" + secret};
}
}  // namespace

const char* roleName(Role role) { return enumName(kRoles, role); }
std::optional<Role> roleFromName(const std::string& name) { return enumFromName(kRoles, name); }

IssuedToken UserStore::addUser(const std::string& name, Role role) {
  if (!isValidUserName(name)) {
    throw UserError(UserError::Kind::Invalid, "user name '" + name + "' is not valid (1-64 letters, digits, '.', '_', '-', '@')");
  }
  return db_.with([&](sqlite::Database& db) {
    sqlite::Transaction tx(db);
    auto exists = db.prepare("SELECT 1 FROM users WHERE name = ?");
    exists.bind(1, name);
    if (exists.step()) throw UserError(UserError::Kind::Conflict, "user '" + name + "' already exists");
    exists.reset();
    User user;
    user.name = name;
    user.role = role;
    user.createdMs = nowMillis();
    db.prepare("INSERT INTO users(name, role, created_ms) VALUES(?,?,?)").bind(1, name).bind(2, std::string(roleName(role)))
        .bind(3, user.createdMs).run();
    user.id = db.lastInsertRowId();
    IssuedToken token = issue(db, user);
    tx.commit();
    return token;
  });
}

IssuedToken UserStore::issueToken(const std::string& userName) {
  return db_.with([&](sqlite::Database& db) {
    auto st = db.prepare("SELECT id, name, role, created_ms, disabled, identified_access FROM users WHERE name = ?");
    st.bind(1, userName);
    if (!st.step()) throw UserError(UserError::Kind::NotFound, "no user '" + userName + "'");
    const User user = readUser(st);
    st.reset();
    return issue(db, user);
  });
}

std::optional<User> UserStore::authenticate(const std::string& token) {
  // an_<id>_<64 hex>
  if (token.rfind("an_", 0) != 0) return std::nullopt;
  const auto sep = token.find('_', 3);
  if (sep == std::string::npos || sep == 3 || sep - 3 > 18) return std::nullopt;
  const std::string idText = token.substr(3, sep - 3);
  if (idText.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const std::string secret = token.substr(sep + 1);
  if (secret.size() != 64) return std::nullopt;
  return db_.with([&](sqlite::Database& db) -> std::optional<User> {
    auto st = db.prepare(
        "SELECT u.id, u.name, u.role, u.created_ms, u.disabled, u.identified_access, t.salt, t.hash FROM tokens t JOIN users u ON u.id = t.user_fk "
        "WHERE t.id = ? AND t.revoked = 0");
    st.bind(1, static_cast<int64_t>(std::stoll(idText)));
    if (!st.step()) return std::nullopt;
    const User user = readUser(st);
    const std::string expected = st.text(7);
    const std::string actual = saltedHash(st.text(6), secret);
    st.reset();
    if (expected.size() != actual.size() || CRYPTO_memcmp(expected.data(), actual.data(), expected.size()) != 0) return std::nullopt;
    if (user.disabled) return std::nullopt;
    return user;
  });
}

void UserStore::setIdentifiedAccess(const std::string& name, bool granted) {
  db_.with([&](sqlite::Database& db) {
    auto st = db.prepare("UPDATE users SET identified_access = ? WHERE name = ?");
    st.bind(1, int64_t{granted ? 1 : 0}).bind(2, name).run();
    if (db.changes() == 0) throw UserError(UserError::Kind::NotFound, "no user '" + name + "'");
  });
}

std::optional<User> UserStore::find(const std::string& name) {
  return db_.with([&](sqlite::Database& db) -> std::optional<User> {
    auto st = db.prepare("SELECT id, name, role, created_ms, disabled, identified_access FROM users WHERE name = ?");
    st.bind(1, name);
    if (!st.step()) return std::nullopt;
    return readUser(st);
  });
}

std::vector<User> UserStore::list() {
  return db_.with([&](sqlite::Database& db) {
    std::vector<User> out;
    auto st = db.prepare("SELECT id, name, role, created_ms, disabled, identified_access FROM users ORDER BY id");
    while (st.step()) out.push_back(readUser(st));
    return out;
  });
}

}  // namespace annot
