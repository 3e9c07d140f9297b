#pragma once
// Hospital sign-in through LDAP or Active Directory: the user's name and password are checked
// by binding as the user (the product never stores or logs the password), the groups the user
// belongs to are looked up, and configured groups grant one of the four roles. Local users and
// tokens remain for small sites, scripts and DICOMweb clients.
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/UserStore.h"

namespace annot {

struct LdapSettings {
  std::string url;                // ldap://host:389 or ldaps://host:636; empty: LDAP sign-in is off
  bool startTls = false;          // upgrade ldap:// with StartTLS (required unless the server is local)
  std::string caFile;             // trusted CA certificates for ldaps:// and StartTLS; empty: the system's
  // The DN (or, for Active Directory, the user principal name) to bind as; {user} is the name
  // typed: "uid={user},ou=people,dc=hospital,dc=org" or "{user}@hospital.org".
  std::string userDnTemplate;
  std::string groupBase;          // where group entries are searched
  // Which groups contain the user; {dn} is the user's DN, {user} the name typed.
  std::string groupFilter = "(member={dn})";
  std::map<std::string, Role> groupRoles;  // group DN (compared case-insensitively) -> role
  std::chrono::seconds timeout{5};
  bool enabled() const { return !url.empty(); }
};

// Reads the "Ldap" configuration object; throws std::invalid_argument naming the key.
LdapSettings parseLdapSettings(const nlohmann::json& section);

struct LdapOutcome {
  enum class Kind { Granted, WrongCredentials, NoRole, Unavailable } kind = Kind::Unavailable;
  Role role = Role::Researcher;           // when granted: the most powerful role of the groups
  std::vector<std::string> groups;        // the user's groups (DNs) the directory returned
  std::string detail;                     // for the audit trail: never a password
};

class LdapDirectory {
 public:
  explicit LdapDirectory(LdapSettings settings) : settings_(std::move(settings)) {}
  bool enabled() const { return settings_.enabled(); }
  // Binds as the user and maps their groups to a role. An empty password is refused before
  // any bind: LDAP treats it as an anonymous bind, which succeeds for anyone.
  LdapOutcome signIn(const std::string& user, const std::string& password) const;

 private:
  LdapSettings settings_;
};

// RFC 4515 escaping of a value put into a search filter.
std::string escapeLdapFilterValue(const std::string& value);
// RFC 4514 escaping of a value put into a DN.
std::string escapeLdapDnValue(const std::string& value);

}  // namespace annot
