#include "auth/LdapDirectory.h"

#include <ldap.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include "config/ConfigReaders.h"

namespace annot {
namespace {

// The handle of one sign-in, unbound and freed on every path.
struct LdapHandle {
  LDAP* ld = nullptr;
  ~LdapHandle() {
    if (ld) ldap_unbind_ext_s(ld, nullptr, nullptr);
  }
};

struct MessageDeleter {
  void operator()(LDAPMessage* m) const { ldap_msgfree(m); }
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string replaced(std::string text, const std::string& key, const std::string& value) {
  for (size_t at = 0; (at = text.find(key, at)) != std::string::npos; at += value.size()) text.replace(at, key.size(), value);
  return text;
}


LdapOutcome unavailable(const std::string& what, int rc) {
  LdapOutcome o;
  o.kind = LdapOutcome::Kind::Unavailable;
  o.detail = what + ": " + ldap_err2string(rc);
  return o;
}
}  // namespace

std::string escapeLdapFilterValue(const std::string& value) {
  std::string out;
  for (unsigned char c : value) {
    if (c == '*' || c == '(' || c == ')' || c == '\\' || c == 0) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "\\%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string escapeLdapDnValue(const std::string& value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    const bool edge = (i == 0 && (c == ' ' || c == '#')) || (i + 1 == value.size() && c == ' ');
    if (edge || c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' || c == '=') out += '\\';
    out += c;
  }
  return out;
}

LdapSettings parseLdapSettings(const nlohmann::json& section) {
  if (!section.is_object()) throw std::invalid_argument("'Ldap' must be a JSON object");
  config::rejectUnknownKeys(section, {"Url", "StartTls", "CaFile", "UserDnTemplate", "GroupBase", "GroupFilter", "Roles", "TimeoutSeconds"});
  LdapSettings s;
  s.url = config::readString(section, "Url", "");
  s.startTls = config::readBool(section, "StartTls", false);
  s.caFile = config::readString(section, "CaFile", "");
  s.userDnTemplate = config::readString(section, "UserDnTemplate", "");
  s.groupBase = config::readString(section, "GroupBase", "");
  s.groupFilter = config::readString(section, "GroupFilter", s.groupFilter);
  s.timeout = std::chrono::seconds(config::readPositive<unsigned>(section, "TimeoutSeconds", 5));
  if (s.url.rfind("ldap://", 0) != 0 && s.url.rfind("ldaps://", 0) != 0) {
    throw std::invalid_argument("'Ldap.Url' must start with ldap:// or ldaps://");
  }
  if (s.userDnTemplate.find("{user}") == std::string::npos) {
    throw std::invalid_argument("'Ldap.UserDnTemplate' must contain {user}, e.g. \"uid={user},ou=people,dc=hospital,dc=org\"");
  }
  if (s.groupBase.empty()) throw std::invalid_argument("'Ldap.GroupBase' is required: where the groups that grant roles are");
  if (!section.contains("Roles") || !section["Roles"].is_object() || section["Roles"].empty()) {
    throw std::invalid_argument("'Ldap.Roles' must map group DNs to roles, e.g. {\"cn=radiologists,ou=groups,dc=hospital,dc=org\": \"annotator\"}");
  }
  for (const auto& [group, role] : section["Roles"].items()) {
    const auto parsed = role.is_string() ? roleFromName(role.get<std::string>()) : std::nullopt;
    if (!parsed) throw std::invalid_argument("'Ldap.Roles' entry '" + group + "' must be annotator, reviewer, admin or researcher");
    s.groupRoles[lower(group)] = *parsed;
  }
  return s;
}

LdapOutcome LdapDirectory::signIn(const std::string& user, const std::string& password) const {
  LdapOutcome out;
  if (password.empty()) {
    out.kind = LdapOutcome::Kind::WrongCredentials;
    out.detail = "empty password";
    return out;
  }
  LdapHandle h;
  int rc = ldap_initialize(&h.ld, settings_.url.c_str());
  if (rc != LDAP_SUCCESS) return unavailable("LDAP URL " + settings_.url, rc);
  const int version = LDAP_VERSION3;
  ldap_set_option(h.ld, LDAP_OPT_PROTOCOL_VERSION, &version);
  ldap_set_option(h.ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
  timeval timeout{static_cast<time_t>(settings_.timeout.count()), 0};
  ldap_set_option(h.ld, LDAP_OPT_NETWORK_TIMEOUT, &timeout);
  ldap_set_option(h.ld, LDAP_OPT_TIMEOUT, &timeout);
  if (!settings_.caFile.empty()) {
    ldap_set_option(h.ld, LDAP_OPT_X_TLS_CACERTFILE, settings_.caFile.c_str());
    const int fresh = 0;
    ldap_set_option(h.ld, LDAP_OPT_X_TLS_NEWCTX, &fresh);
  }
  if (settings_.startTls) {
    rc = ldap_start_tls_s(h.ld, nullptr, nullptr);
    if (rc != LDAP_SUCCESS) return unavailable("StartTLS with " + settings_.url, rc);
  }
  // The name typed goes into a DN: escaped, so "admin,ou=x" cannot bind as someone else.
  const std::string bindName = replaced(settings_.userDnTemplate, "{user}", escapeLdapDnValue(user));
  berval credentials{static_cast<ber_len_t>(password.size()), const_cast<char*>(password.data())};
  rc = ldap_sasl_bind_s(h.ld, bindName.c_str(), LDAP_SASL_SIMPLE, &credentials, nullptr, nullptr, nullptr);
  if (rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INVALID_DN_SYNTAX || rc == LDAP_NO_SUCH_OBJECT) {
    out.kind = LdapOutcome::Kind::WrongCredentials;
    out.detail = std::string("bind refused: ") + ldap_err2string(rc);
    return out;
  }
  if (rc != LDAP_SUCCESS) return unavailable("bind to " + settings_.url, rc);

  // The user's own DN: asked of the server (Active Directory binds with a principal name).
  std::string dn = bindName;
  struct berval* who = nullptr;
  if (ldap_whoami_s(h.ld, &who, nullptr, nullptr) == LDAP_SUCCESS && who) {
    std::string authz(who->bv_val, who->bv_len);
    if (authz.rfind("dn:", 0) == 0 && authz.size() > 3) dn = authz.substr(3);
    ber_bvfree(who);
  }
  const std::string filter = replaced(replaced(settings_.groupFilter, "{dn}", escapeLdapFilterValue(dn)), "{user}", escapeLdapFilterValue(user));
  char noAttributes[] = LDAP_NO_ATTRS;
  char* attributes[] = {noAttributes, nullptr};
  LDAPMessage* raw = nullptr;
  rc = ldap_search_ext_s(h.ld, settings_.groupBase.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(), attributes, 0, nullptr, nullptr,
                         &timeout, 1000, &raw);
  std::unique_ptr<LDAPMessage, MessageDeleter> result(raw);
  if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) return unavailable("group search under " + settings_.groupBase, rc);
  std::optional<Role> best;
  for (LDAPMessage* e = ldap_first_entry(h.ld, result.get()); e; e = ldap_next_entry(h.ld, e)) {
    char* entryDn = ldap_get_dn(h.ld, e);
    if (!entryDn) continue;
    const std::string group = entryDn;
    ldap_memfree(entryDn);
    out.groups.push_back(group);
    const auto it = settings_.groupRoles.find(lower(group));
    if (it != settings_.groupRoles.end() && (!best || grantsMore(it->second, *best))) best = it->second;
  }
  if (!best) {
    out.kind = LdapOutcome::Kind::NoRole;
    out.detail = "in " + std::to_string(out.groups.size()) + " group(s), none of which grants a role";
    return out;
  }
  out.kind = LdapOutcome::Kind::Granted;
  out.role = *best;
  out.detail = std::string("ldap: role ") + roleName(*best) + " from " + std::to_string(out.groups.size()) + " group(s)";
  return out;
}

}  // namespace annot
