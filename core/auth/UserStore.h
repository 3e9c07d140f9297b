#pragma once
// Users with roles and their API tokens. A token is shown once when issued; only a salted
// SHA-256 of its secret is stored. Tokens read "an_<id>_<secret>" so the row is found without
// scanning, and the secret is compared in constant time.
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "state/StateDatabase.h"

namespace annot {

enum class Role { Annotator, Reviewer, Admin, Researcher };
const char* roleName(Role role);
std::optional<Role> roleFromName(const std::string& name);

struct User {
  int64_t id = 0;
  std::string name;
  Role role = Role::Researcher;
  int64_t createdMs = 0;
  bool disabled = false;
  bool identifiedAccess = false;  // a researcher an admin allowed to see identified data
};

struct IssuedToken {
  User user;
  std::string token;  // the only time the secret exists outside the caller
};

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
  explicit UserStore(StateDatabase& db) : db_(db) {}

  // Creates a user and a first token. Names: 1-64 of letters, digits, '.', '_', '-', '@'.
  IssuedToken addUser(const std::string& name, Role role);
  IssuedToken issueToken(const std::string& userName);
  // The user a token belongs to, or nothing (unknown, revoked, wrong secret, disabled user).
  std::optional<User> authenticate(const std::string& token);
  std::optional<User> find(const std::string& name);
  // Grants or withdraws a researcher's access to identified data (admin decision, audited by the caller).
  void setIdentifiedAccess(const std::string& name, bool granted);
  std::vector<User> list();

 private:
  StateDatabase& db_;
};

}  // namespace annot
