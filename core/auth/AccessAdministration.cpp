#include "auth/AccessAdministration.h"

#include "audit/AuditLog.h"
#include "common/Clock.h"

namespace annot {

void AccessAdministration::record(const Actor& by, const std::string& action, const std::string& name, const std::string& detail) {
  audit_.record({by.name, by.role, action, "user", name, "success", detail, by.source});
}

AccessAdministration::Disabled AccessAdministration::disable(const std::string& name, const Actor& by) {
  if (!by.name.empty() && by.name == name) {
    throw UserError(UserError::Kind::Conflict, "an administrator cannot disable themselves: ask another administrator");
  }
  Disabled out;
  out.changed = users_.setDisabled(name, true);
  // Whatever the user held is claimable by another reader now; what they saved stays.
  out.releasedTasks = returnClaims_(name);
  std::string detail = out.changed ? "" : "already disabled; ";
  detail += std::to_string(out.releasedTasks.size()) + " claimed task(s) returned to the pool";
  for (size_t i = 0; i < out.releasedTasks.size(); ++i) detail += (i ? ", " : ": ") + std::to_string(out.releasedTasks[i]);
  record(by, "disable-user", name, detail);
  return out;
}

bool AccessAdministration::enable(const std::string& name, const Actor& by) {
  const bool changed = users_.setDisabled(name, false);
  record(by, "enable-user", name, changed ? "" : "already enabled");
  return changed;
}

size_t AccessAdministration::revokeAll(const std::string& name, const Actor& by) {
  const size_t revoked = users_.revokeAll(name);
  record(by, "revoke-tokens", name, std::to_string(revoked) + " token(s) revoked");
  return revoked;
}

void AccessAdministration::revoke(const std::string& name, int64_t tokenId, const Actor& by) {
  users_.revoke(name, tokenId);
  record(by, "revoke-token", name, "token " + std::to_string(tokenId));
}

IssuedToken AccessAdministration::issue(const std::string& name, std::optional<unsigned> lifetimeDays, const Actor& by) {
  IssuedToken issued = users_.issueToken(name, lifetimeDays);
  record(by, "issue-token", name, "token " + std::to_string(issued.info.id) + ", expires " + readableUtc(issued.info.expiresMs));
  return issued;
}

}  // namespace annot
