#pragma once
// Granting and ending access, the same for the API (admin page, plugin) and the command line:
// every change is audited with who made it, and a disabled user's claimed tasks go back to the
// pool at once. Sessions need no notice: every request re-reads the user and the token it rests
// on (ApiHandler::authenticate).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "auth/UserStore.h"

namespace annot {

class AuditLog;

// Who makes the change: a signed-in admin (name, role, network address) or the command line.
struct Actor {
  std::string name;
  std::string role;
  std::string source;  // network address, or "cli"
};

class AccessAdministration {
 public:
  // `returnClaims(name)`: returns the user's claimed tasks to the pool, gives their ids
  // (Worklist::returnClaimsOf, or Worklist::returnClaimsToPool from the command line).
  using ClaimReturner = std::function<std::vector<int64_t>(const std::string&)>;
  AccessAdministration(UserStore& users, AuditLog& audit, ClaimReturner returnClaims)
      : users_(users), audit_(audit), returnClaims_(std::move(returnClaims)) {}

  struct Disabled {
    bool changed = false;                 // false: the user already was disabled
    std::vector<int64_t> releasedTasks;   // claimed tasks returned to the pool
  };
  // Throws UserError (NotFound; Conflict when an admin would disable themselves).
  Disabled disable(const std::string& name, const Actor& by);
  bool enable(const std::string& name, const Actor& by);
  size_t revokeAll(const std::string& name, const Actor& by);
  void revoke(const std::string& name, int64_t tokenId, const Actor& by);
  IssuedToken issue(const std::string& name, std::optional<unsigned> lifetimeDays, const Actor& by);

 private:
  void record(const Actor& by, const std::string& action, const std::string& name, const std::string& detail);

  UserStore& users_;
  AuditLog& audit_;
  ClaimReturner returnClaims_;
};

}  // namespace annot
