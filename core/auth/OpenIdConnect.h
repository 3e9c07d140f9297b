#pragma once
// Hospital sign-in through OpenID Connect: the authorization code flow with PKCE (RFC 7636)
// for the workstation, with a confidential client. The browser is sent to the provider; the
// provider sends it back with a code; the server exchanges the code for an ID token, checks
// the token's RSA signature against the provider's published keys (OpenSSL), its issuer,
// audience, lifetime and nonce, and maps a claim (groups or roles) to one of the four roles.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "auth/UserStore.h"

namespace annot {

struct OidcSettings {
  std::string issuer;        // e.g. https://login.hospital.org/realms/radiology; empty: off
  std::string clientId;
  std::string clientSecret;  // sent with HTTP Basic to the token endpoint
  std::string redirectUri;   // this server's .../api/v1/session/oidc/callback, as registered
  std::string scopes = "openid profile";
  std::string userClaim = "preferred_username";  // the user name (must be a valid user name)
  std::string rolesClaim = "groups";             // a string or an array of strings
  std::map<std::string, Role> roles;             // claim value -> role
  std::string caFile;                            // the provider's CA for https; empty: the system's
  std::chrono::seconds timeout{10};
  bool enabled() const { return !issuer.empty(); }
};

// Reads the "OpenIdConnect" configuration object; throws std::invalid_argument naming the key.
OidcSettings parseOidcSettings(const nlohmann::json& section);

struct OidcOutcome {
  enum class Kind { Granted, Refused, NoRole, Unavailable } kind = Kind::Unavailable;
  std::string user;
  Role role = Role::Researcher;
  std::string next;     // where the browser wanted to go (kept from the start of the sign-in)
  std::string detail;   // for the audit trail: never a code or a token
};

class OpenIdConnect {
 public:
  explicit OpenIdConnect(OidcSettings settings) : settings_(std::move(settings)) {}
  bool enabled() const { return settings_.enabled(); }
  // The provider's authorization URL for a new sign-in; state, nonce and the PKCE verifier are
  // kept for ten minutes. Throws HttpClientError when the provider cannot be reached.
  std::string begin(const std::string& next);
  // Completes the sign-in the provider sent back (`state` is used once).
  OidcOutcome finish(const std::string& code, const std::string& state);

 private:
  struct Pending {
    std::string verifier, nonce, next;
    int64_t createdMs = 0;
  };
  nlohmann::json discovery();
  nlohmann::json keys(bool refresh);
  OidcOutcome outcomeOf(const nlohmann::json& claims, const Pending& pending);

  const OidcSettings settings_;
  std::mutex mutex_;
  std::unordered_map<std::string, Pending> pending_;  // by state
  nlohmann::json discovery_, keys_;
  int64_t discoveredMs_ = 0;
};

}  // namespace annot
