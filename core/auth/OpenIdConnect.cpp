#include "auth/OpenIdConnect.h"

#include <openssl/sha.h>

#include <algorithm>
#include <stdexcept>

#include "auth/JsonWebToken.h"
#include "common/Clock.h"
#include "common/SecureRandom.h"
#include "config/ConfigReaders.h"
#include "http/HttpClient.h"
#include "http/HttpMessage.h"

namespace annot {
namespace {
using nlohmann::json;

constexpr int64_t kPendingMs = 10 * 60 * 1000;      // a sign-in left at the provider's page expires
constexpr int64_t kDiscoveryMs = 60 * 60 * 1000;    // the provider's endpoints and keys are re-read hourly
constexpr int64_t kClockSkewMs = 2 * 60 * 1000;     // tolerated between the provider's clock and ours


std::string randomUrlSafe(size_t bytes) {
  const std::string hex = randomHex(bytes);
  std::string raw;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) raw += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return base64UrlEncode(raw);
}

std::string s256(const std::string& verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return base64UrlEncode(std::string(reinterpret_cast<char*>(digest), sizeof digest));
}

OidcOutcome refused(const std::string& detail, OidcOutcome::Kind kind = OidcOutcome::Kind::Refused) {
  OidcOutcome o;
  o.kind = kind;
  o.detail = detail;
  return o;
}

std::string withoutTrailingSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}
}  // namespace

OidcSettings parseOidcSettings(const json& section) {
  if (!section.is_object()) throw std::invalid_argument("'OpenIdConnect' must be a JSON object");
  config::rejectUnknownKeys(section, {"Issuer", "ClientId", "ClientSecret", "RedirectUri", "Scopes", "UserClaim", "RolesClaim", "Roles",
                                      "CaFile", "TimeoutSeconds"});
  OidcSettings s;
  s.issuer = config::readString(section, "Issuer", "");
  s.clientId = config::readString(section, "ClientId", "");
  s.clientSecret = config::readString(section, "ClientSecret", "");
  s.redirectUri = config::readString(section, "RedirectUri", "");
  s.scopes = config::readString(section, "Scopes", s.scopes);
  s.userClaim = config::readString(section, "UserClaim", s.userClaim);
  s.rolesClaim = config::readString(section, "RolesClaim", s.rolesClaim);
  s.caFile = config::readString(section, "CaFile", "");
  s.timeout = std::chrono::seconds(config::readPositive<unsigned>(section, "TimeoutSeconds", 10));
  const bool loopback = s.issuer.rfind("http://127.0.0.1", 0) == 0 || s.issuer.rfind("http://localhost", 0) == 0;
  if (s.issuer.rfind("https://", 0) != 0 && !loopback) {
    throw std::invalid_argument("'OpenIdConnect.Issuer' must be an https:// URL (http:// only on this machine, for testing)");
  }
  if (s.clientId.empty()) throw std::invalid_argument("'OpenIdConnect.ClientId' is required");
  if (s.clientSecret.empty()) throw std::invalid_argument("'OpenIdConnect.ClientSecret' is required (a confidential client)");
  if (s.redirectUri.find("/api/v1/session/oidc/callback") == std::string::npos) {
    throw std::invalid_argument("'OpenIdConnect.RedirectUri' must be this server's .../api/v1/session/oidc/callback, as registered at the provider");
  }
  if (s.scopes.find("openid") == std::string::npos) throw std::invalid_argument("'OpenIdConnect.Scopes' must include openid");
  if (!section.contains("Roles") || !section["Roles"].is_object() || section["Roles"].empty()) {
    throw std::invalid_argument("'OpenIdConnect.Roles' must map values of the roles claim to roles, e.g. {\"radiologists\": \"annotator\"}");
  }
  for (const auto& [value, role] : section["Roles"].items()) {
    const auto parsed = role.is_string() ? roleFromName(role.get<std::string>()) : std::nullopt;
    if (!parsed) throw std::invalid_argument("'OpenIdConnect.Roles' entry '" + value + "' must be annotator, reviewer, admin or researcher");
    s.roles[value] = *parsed;
  }
  return s;
}

json OpenIdConnect::discovery() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!discovery_.is_null() && nowMillis() - discoveredMs_ < kDiscoveryMs) return discovery_;
  }
  const HttpClientOptions options{settings_.timeout, settings_.caFile};
  const auto r = httpFetch("GET", withoutTrailingSlash(settings_.issuer) + "/.well-known/openid-configuration", "", {}, options);
  if (r.status != 200) throw HttpClientError("the provider's discovery document answered " + std::to_string(r.status));
  json doc = json::parse(r.body, nullptr, false);
  for (const char* key : {"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"}) {
    if (!doc.is_object() || !doc.contains(key) || !doc[key].is_string()) throw HttpClientError(std::string("the provider's discovery document lacks ") + key);
  }
  if (withoutTrailingSlash(doc["issuer"]) != withoutTrailingSlash(settings_.issuer)) {
    throw HttpClientError("the provider calls itself " + doc["issuer"].get<std::string>() + ", not the configured issuer");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  discovery_ = doc;
  discoveredMs_ = nowMillis();
  keys_ = json();
  return discovery_;
}

json OpenIdConnect::keys(bool refresh) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!refresh && !keys_.is_null()) return keys_;
  }
  const json doc = discovery();
  const auto r = httpFetch("GET", doc["jwks_uri"], "", {}, HttpClientOptions{settings_.timeout, settings_.caFile});
  if (r.status != 200) throw HttpClientError("the provider's keys answered " + std::to_string(r.status));
  json jwks = json::parse(r.body, nullptr, false);
  if (!jwks.is_object() || !jwks.contains("keys")) throw HttpClientError("the provider's keys are not a JSON Web Key Set");
  std::lock_guard<std::mutex> lock(mutex_);
  keys_ = jwks;
  return keys_;
}

std::string OpenIdConnect::begin(const std::string& next) {
  const json doc = discovery();
  Pending p{randomUrlSafe(32), randomUrlSafe(16), next, nowMillis()};
  const std::string state = randomUrlSafe(16);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = pending_.begin(); it != pending_.end();) it = p.createdMs - it->second.createdMs > kPendingMs ? pending_.erase(it) : std::next(it);
    if (pending_.size() > 10000) throw HttpClientError("too many sign-ins in progress");
    pending_[state] = p;
  }
  const std::string endpoint = doc["authorization_endpoint"];
  return endpoint + (endpoint.find('?') == std::string::npos ? "?" : "&") + "response_type=code&client_id=" + percentEncode(settings_.clientId) +
         "&redirect_uri=" + percentEncode(settings_.redirectUri) + "&scope=" + percentEncode(settings_.scopes) + "&state=" + state +
         "&nonce=" + p.nonce + "&code_challenge=" + s256(p.verifier) + "&code_challenge_method=S256";
}

OidcOutcome OpenIdConnect::finish(const std::string& code, const std::string& state) {
  Pending pending;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = pending_.find(state);
    if (it == pending_.end()) return refused("unknown or already used state (a replayed or forged answer, or a sign-in older than 10 minutes)");
    pending = it->second;
    pending_.erase(it);
  }
  if (nowMillis() - pending.createdMs > kPendingMs) return refused("the sign-in took longer than 10 minutes");
  if (code.empty()) return refused("the provider sent no code");
  json tokens;
  try {
    const json doc = discovery();
    const std::string body = "grant_type=authorization_code&code=" + percentEncode(code) + "&redirect_uri=" + percentEncode(settings_.redirectUri) +
                             "&code_verifier=" + percentEncode(pending.verifier) + "&client_id=" + percentEncode(settings_.clientId);
    const std::string credentials = percentEncode(settings_.clientId) + ":" + percentEncode(settings_.clientSecret);
    const auto r = httpFetch("POST", doc["token_endpoint"], body,
                             {{"Content-Type", "application/x-www-form-urlencoded"},
                              {"Authorization", "Basic " + [&] {
                                 // Basic credentials are standard base64, not base64url.
                                 std::string b = base64UrlEncode(credentials);
                                 std::replace(b.begin(), b.end(), '-', '+');
                                 std::replace(b.begin(), b.end(), '_', '/');
                                 while (b.size() % 4) b += '=';
                                 return b;
                               }()}},
                             HttpClientOptions{settings_.timeout, settings_.caFile});
    tokens = json::parse(r.body, nullptr, false);
    if (r.status != 200 || !tokens.is_object() || !tokens.contains("id_token") || !tokens["id_token"].is_string()) {
      const std::string error = tokens.is_object() ? tokens.value("error", "") + " " + tokens.value("error_description", "") : "";
      return refused("the token endpoint answered " + std::to_string(r.status) + (error.empty() ? "" : ": " + error));
    }
  } catch (const HttpClientError& e) {
    return refused(e.what(), OidcOutcome::Kind::Unavailable);
  }
  json claims;
  try {
    const std::string idToken = tokens["id_token"];
    auto verified = verifyJwt(idToken, keys(false));
    if (!verified) verified = verifyJwt(idToken, keys(true));  // the provider rotated its keys
    if (!verified) return refused("no key of the provider matches the ID token's");
    claims = *verified;
  } catch (const TokenVerificationError& e) {
    return refused(std::string("ID token refused: ") + e.what());
  } catch (const HttpClientError& e) {
    return refused(e.what(), OidcOutcome::Kind::Unavailable);
  }
  return outcomeOf(claims, pending);
}

OidcOutcome OpenIdConnect::outcomeOf(const json& claims, const Pending& pending) {
  const int64_t now = nowMillis();
  if (withoutTrailingSlash(claims.value("iss", "")) != withoutTrailingSlash(settings_.issuer)) return refused("ID token from another issuer");
  const json& aud = claims.contains("aud") ? claims["aud"] : json();
  const bool forUs = aud.is_string() ? aud == settings_.clientId
                                     : aud.is_array() && std::find(aud.begin(), aud.end(), settings_.clientId) != aud.end();
  if (!forUs) return refused("ID token for another client");
  if (!claims.contains("exp") || !claims["exp"].is_number() || claims["exp"].get<double>() * 1000 + kClockSkewMs < now) {
    return refused("ID token expired");
  }
  if (claims.contains("iat") && claims["iat"].is_number() && claims["iat"].get<double>() * 1000 - kClockSkewMs > now) {
    return refused("ID token issued in the future");
  }
  if (claims.value("nonce", "") != pending.nonce) return refused("ID token for another sign-in (nonce)");
  OidcOutcome o;
  o.next = pending.next;
  o.user = claims.contains(settings_.userClaim) && claims[settings_.userClaim].is_string() ? claims[settings_.userClaim].get<std::string>() : "";
  if (!isValidUserName(o.user)) return refused("claim '" + settings_.userClaim + "' is not a usable user name");
  std::vector<std::string> values;
  if (claims.contains(settings_.rolesClaim)) {
    const json& v = claims[settings_.rolesClaim];
    if (v.is_string()) values.push_back(v);
    for (const auto& item : v.is_array() ? v : json::array()) {
      if (item.is_string()) values.push_back(item);
    }
  }
  std::optional<Role> best;
  for (const auto& value : values) {
    const auto it = settings_.roles.find(value);
    if (it != settings_.roles.end() && (!best || grantsMore(it->second, *best))) best = it->second;
  }
  if (!best) {
    o.kind = OidcOutcome::Kind::NoRole;
    o.detail = "oidc: " + std::to_string(values.size()) + " value(s) in '" + settings_.rolesClaim + "', none of which grants a role";
    return o;
  }
  o.kind = OidcOutcome::Kind::Granted;
  o.role = *best;
  o.detail = std::string("oidc: role ") + roleName(*best) + " from '" + settings_.rolesClaim + "'";
  return o;
}

}  // namespace annot
