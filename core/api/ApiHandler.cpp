#include "api/ApiHandler.h"

#include <sys/stat.h>

#include <openssl/crypto.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "api/ApiSupport.h"
#include "api/StudyJson.h"
#include "common/Clock.h"
#include "common/Log.h"
#include "dicom/Uid.h"

namespace annot {
namespace {
using nlohmann::json;
using api::BadRequest;
using api::jsonResponse;
using api::parseBounded;

bool isDicomDate(const std::string& s) {
  if (s.size() != 8) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string requireDate(const std::string& value, const char* name) {
  if (!value.empty() && !isDicomDate(value)) throw BadRequest(std::string("'") + name + "' must be a date YYYYMMDD");
  return value;
}

}  // namespace

namespace {
using api::kAdmin;
using api::kAnyRole;
using api::kWorkers;

std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Matches a path against a pattern; fills the {} parameters. A pattern ending in "/*" matches
// its prefix followed by anything, and hands the rest over as the last parameter.
bool matches(const std::string& pattern, const std::string& path, std::vector<std::string>& params) {
  if (pattern.size() >= 2 && pattern.compare(pattern.size() - 2, 2, "/*") == 0) {
    const std::string prefix = pattern.substr(0, pattern.size() - 1);
    if (path.compare(0, prefix.size(), prefix) != 0) return false;
    params = {path.substr(prefix.size())};
    return true;
  }
  const auto want = segments(pattern), have = segments(path);
  if (want.size() != have.size()) return false;
  std::vector<std::string> found;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] == "{}") {
      if (have[i].empty()) return false;
      found.push_back(have[i]);
    } else if (want[i] != have[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

// "?" alone, "?&x=1" (Weasis) and Orthanc's handing-over of both give a parameter without a
// name: it says nothing. On the product's own API an empty value (the workstation's "state="
// when no state is picked) means no filter too. DICOMweb keeps empty values: QIDO gives them a
// meaning (return the attribute, match anything).
bool saysNothing(const std::string& path, const std::string& key, const std::string& value) {
  return key.empty() || (value.empty() && path.compare(0, 5, "/api/") == 0);
}

// A copy of the request with what says nothing taken out and DICOMweb's "accept" query
// parameter (PS3.18 8.3.3.1: it stands for the Accept header) moved into the header; nothing
// when the request is fine as it is (the usual case, so no body is copied).
std::optional<HttpRequest> normalised(const HttpRequest& request) {
  const bool dicomweb = request.path.compare(0, 10, "/dicomweb/") == 0;
  bool change = false;
  for (const auto& [key, value] : request.query) change = change || saysNothing(request.path, key, value) || (dicomweb && key == "accept");
  if (!change) return std::nullopt;
  HttpRequest cleaned = request;
  std::string accept;
  for (auto it = cleaned.query.begin(); it != cleaned.query.end();) {
    if (dicomweb && it->first == "accept") {
      accept += (accept.empty() ? "" : ", ") + it->second;
      it = cleaned.query.erase(it);
    } else {
      it = saysNothing(cleaned.path, it->first, it->second) ? cleaned.query.erase(it) : std::next(it);
    }
  }
  if (!accept.empty()) cleaned.headers["accept"] = accept;
  return cleaned;
}

const char* kSessionCookie = "annot_session";

// The value of one cookie in a Cookie header, or "".
std::string cookieValue(const std::string& header, const std::string& name) {
  size_t start = 0;
  while (start < header.size()) {
    const size_t end = std::min(header.find(';', start), header.size());
    size_t b = start;
    while (b < end && header[b] == ' ') ++b;
    const size_t eq = header.find('=', b);
    if (eq != std::string::npos && eq < end && header.compare(b, eq - b, name) == 0) return header.substr(eq + 1, end - eq - 1);
    start = end + 1;
  }
  return {};
}

bool sameSecret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The workstation's policy: scripts only from the node itself; WebAssembly (the image codecs)
// may compile, nothing may eval; workers from the node or from blobs the loader makes.
// OHIF's published build starts with inline scripts and evaluates code: its policy allows that,
// still only from the node itself (it is a third-party application, the workstation is ours).
const char* kViewerPolicy =
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval' blob:; worker-src 'self' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' data: blob:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'self'";

const char* kWorkstationPolicy =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
}  // namespace

ApiHandler::ApiHandler(StudyIndex& catalog, Metrics& metrics, UserStore& users, AuditLog& audit, Worklist& worklist, ApiInfo info,
                       BrowserSettings browser)
    : catalog_(catalog),
      metrics_(metrics),
      users_(users),
      audit_(audit),
      worklist_(worklist),
      info_(std::move(info)),
      secureCookies_(browser.secureCookies),
      sessions_(browser.sessions),
      throttle_(browser.throttle),
      access_(users, audit, [&worklist](const std::string& name) { return worklist.returnClaimsOf(name); }),
      ldap_(browser.ldap),
      oidc_(browser.oidc),
      workstation_(StaticFilesOptions{browser.workstationDirectory, "index.html", kWorkstationPolicy,
                                      "build the product with scripts/build.sh (it bundles the workstation)", false, {}}),
      viewer_(StaticFilesOptions{browser.viewerDirectory, "index.html", kViewerPolicy,
                                 "the OHIF viewer is installed by scripts/install-deps.sh and scripts/build.sh", true,
                                 {{"%VIEWER_BASE%", info_.routePrefix + "/viewer"}}}) {
  routes_ = {
      {"GET", "/healthz", {}, [this](const Call&) { return this->health(); }},
      {"GET", "/metrics", {}, [this](const Call&) { return this->metrics(); }},
      // The page's relative links resolve against the folder it is served from. Orthanc hands
      // "/annotation/ui/" to the plugin as "/ui", so the entry is a named file, not the folder;
      // the query (the worklist's ?study=) goes along.
      {"GET", "/ui", {}, [this](const Call& c) { return redirect(info_.routePrefix + "/ui/index.html" + encodeQuery(c.request.query)); }},
      {"GET", "/ui/*", {}, [this](const Call& c) { return workstation_.serve(c.params.at(0), c.request); }},
      {"GET", "/viewer", {}, [this](const Call& c) { return viewer(c, ""); }},
      {"GET", "/viewer/*", {}, [this](const Call& c) { return viewer(c, c.params.at(0)); }},
      {"POST", "/api/v1/session", {}, [this](const Call& c) { return signIn(c); }},
      // Open: a page asks whether it is signed in before it shows a sign-in form.
      {"GET", "/api/v1/session", {}, [this](const Call& c) { return currentSession(c); }},
      {"DELETE", "/api/v1/session", kAnyRole, [this](const Call& c) { return signOut(c); }},
      // Open: the browser comes here before it has a session, and back from the provider.
      {"GET", "/api/v1/session/oidc/start", {}, [this](const Call& c) { return startOidc(c); }},
      {"GET", "/api/v1/session/oidc/callback", {}, [this](const Call& c) { return finishOidc(c); }},
      {"GET", "/api/v1/outbox", kAdmin, [this](const Call& c) { return listOutbox(c); }},
      // Identified study lists for the people who label; researchers read the de-identified
      // view through DICOMweb (the access matrix found these open to them).
      {"GET", "/api/v1/studies", kWorkers, [this](const Call& c) { return listStudies(c); }},
      {"GET", "/api/v1/studies/{}", kWorkers, [this](const Call& c) { return getStudy(c); }},
      {"GET", "/api/v1/audit", kAdmin, [this](const Call& c) { return queryAudit(c); }},
  };
  addUserRoutes();
  addWorklistRoutes();
  addDicomwebRoutes();
  addUpsRoutes();
}

HttpResponse ApiHandler::handle(const HttpRequest& request) {
  ++metrics_.httpRequests;
  HttpResponse response;
  try {
    response = route(request);
  } catch (const BadRequest& e) {
    response = errorResponse(400, e.what());
  } catch (const pg::PgError& e) {
    // The shared database: a change another node made at the same moment, or the database out
    // of reach, is the client's to try again, not an internal error.
    LOG_ERROR("http", request.method << ' ' << request.path << " failed: " << e.what());
    const std::string& state = e.sqlState();
    if (e.uniqueViolation()) {
      response = errorResponse(409, "a concurrent change made the same thing first; reload and try again");
    } else if (e.retryable() || state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0 || state == "53300") {
      response = errorResponse(503, "the database is busy or out of reach; try again shortly");
      response.headers.emplace_back("Retry-After", "2");
    } else {
      response = errorResponse(500, std::string("internal error: ") + e.what());
    }
  } catch (const std::exception& e) {
    LOG_ERROR("http", request.method << ' ' << request.path << " failed: " << e.what());
    response = errorResponse(500, std::string("internal error: ") + e.what());
  }
  if (response.status >= 400) ++metrics_.httpErrors;
  return response;
}

HttpResponse ApiHandler::route(const HttpRequest& request) {
  if (const auto cleaned = normalised(request)) return route(*cleaned);
  const std::string method = request.method == "HEAD" ? "GET" : request.method;
  std::string allowed;
  for (const auto& r : routes_) {
    std::vector<std::string> params;
    if (!matches(r.pattern, request.path, params)) continue;
    if (r.method != method) {
      allowed += (allowed.empty() ? "" : ", ") + r.method;
      continue;
    }
    Call call{request, std::move(params), std::nullopt, std::nullopt, "", false, ""};
    if (!r.roles.empty()) {
      const bool sent = !request.header("authorization").empty() || !request.header("x-annotation-token").empty() ||
                        !cookieValue(request.header("cookie"), kSessionCookie).empty();
      if (sent) {
        if (auto locked = lockedOut(call, "")) return *locked;
      }
      authenticate(call);
      if (!call.user) {
        AuditEvent e{call.deniedUser, "", "authenticate", "route", request.path, "denied",
                     sent ? (call.denial.empty() ? "unknown credentials" : call.denial) : "no credentials", request.remoteAddress};
        audit_.record(e);
        if (call.guessed) countFailure(call, "");
        HttpResponse denied = errorResponse(401, sent ? (call.denial.empty() ? "the token or session is not valid any more: sign in again" : call.denial)
                                                      : "a valid token is required (Authorization: Bearer <token>, or "
                                                        "X-Annotation-Token: <token>), or a signed-in session");
        denied.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"annotation-node\"");
        return denied;
      }
      // A cookie rides along with any request the browser makes, including one another site
      // made it send: changes need the session's CSRF token too, which only our pages hold.
      if (call.session && method != "GET" &&
          !sameSecret(request.header("x-csrf-token"), call.session->csrfToken)) {
        audit(call, "access", "route", request.method + " " + request.path, "denied", "session change without its CSRF token");
        return errorResponse(403, "a change made with a browser session needs the X-CSRF-Token header its sign-in returned");
      }
      if (!r.roles.count(call.user->role)) {
        audit(call, "access", "route", request.method + " " + request.path, "denied", "role not allowed");
        return errorResponse(403, std::string("role '") + roleName(call.user->role) + "' may not " + request.method + " " + request.path);
      }
    }
    return r.handler(call);
  }
  if (!allowed.empty()) {
    HttpResponse r = errorResponse(405, request.method + " is not allowed on " + request.path);
    r.headers.emplace_back("Allow", allowed);
    return r;
  }
  return errorResponse(404, "no route for " + request.path);
}

void ApiHandler::authenticate(Call& call) {
  const HttpRequest& request = call.request;
  // X-Annotation-Token exists for deployments where the Authorization header belongs to
  // someone else: Orthanc's own HTTP authentication in front of the plugin, a proxy.
  std::string token = request.header("x-annotation-token");
  const std::string header = request.header("authorization");
  static const std::string kBearer = "Bearer ";
  if (token.empty() && header.size() > kBearer.size() && header.compare(0, kBearer.size(), kBearer) == 0) {
    token = header.substr(kBearer.size());
  }
  if (!token.empty()) {
    const TokenCheck checked = users_.check(token);
    call.user = checked.user;
    if (!call.user) {
      call.denial = tokenProblemMessage(checked);
      call.deniedUser = checked.userName;
      call.guessed = checked.problem == TokenProblem::Malformed || checked.problem == TokenProblem::Unknown ||
                     checked.problem == TokenProblem::WrongSecret;
    }
    return;
  }
  const std::string id = cookieValue(request.header("cookie"), kSessionCookie);
  if (id.empty()) return;
  call.session = sessions_.touch(id);
  if (!call.session) {
    call.denial = "the session ended (signed out, idle for too long, or the server restarted): sign in again";
    return;
  }
  // The user and the token signed in with are read again on every request: a disabled user's
  // session, or one opened with a token since revoked or expired, stops at once.
  // A directory sign-in rests on no token: the user alone must still be enabled.
  if (call.session->tokenId) {
    call.user = users_.holderOf(call.session->tokenId);
  } else {
    call.user = users_.find(call.session->userName);
    if (call.user && call.user->disabled) call.user.reset();
  }
  if (!call.user || call.user->name != call.session->userName) {
    call.denial = "the session ended: its user was disabled or the token it was opened with was revoked or expired";
    call.deniedUser = call.session->userName;
    sessions_.close(id);
    call.user.reset();
    call.session.reset();
  }
}

std::optional<HttpResponse> ApiHandler::lockedOut(const Call& call, const std::string& userName) {
  const int64_t now = nowMillis();
  std::optional<int64_t> until = throttle_.lockedUntil(SignInThrottle::addressKey(call.request.remoteAddress), now);
  std::string who = "this address";
  if (!until && !userName.empty()) {
    until = throttle_.lockedUntil(SignInThrottle::userKey(userName), now);
    who = "user '" + userName + "'";
  }
  if (!until) return std::nullopt;
  HttpResponse r = errorResponse(429, "too many failed sign-ins or unknown tokens from " + who + ": try again after " + readableUtc(*until));
  r.headers.emplace_back("Retry-After", std::to_string((*until - now + 999) / 1000));
  return r;
}

void ApiHandler::countFailure(const Call& call, const std::string& userName) {
  const int64_t now = nowMillis();
  const auto& limits = throttle_.settings();
  const std::string address = call.request.remoteAddress;
  if (throttle_.fail(SignInThrottle::addressKey(address), limits.failuresPerAddress, now)) {
    audit_.record({"", "", "lockout", "address", address, "denied",
                   std::to_string(limits.failuresPerAddress) + " failed sign-ins or unknown tokens; locked for " +
                       std::to_string(limits.lockout.count() / 60) + " min", address});
  }
  if (!userName.empty() && throttle_.fail(SignInThrottle::userKey(userName), limits.failuresPerUser, now)) {
    audit_.record({userName, "", "lockout", "user", userName, "denied",
                   std::to_string(limits.failuresPerUser) + " failed sign-ins; sign-in locked for " +
                       std::to_string(limits.lockout.count() / 60) + " min", address});
  }
}

bool ApiHandler::viewerInstalled() const {
  struct stat st {};
  return !viewer_.root().empty() && ::stat((viewer_.root() + "/index.html").c_str(), &st) == 0;
}

HttpResponse ApiHandler::viewer(const Call& open, const std::string& relativePath) {
  // The viewer's page is for signed-in browsers: anyone else signs in first and comes back.
  if (viewer_.servesIndex(relativePath)) {
    Call call = open;
    authenticate(call);
    if (!call.user) {
      const std::string back = info_.routePrefix + "/viewer" + (relativePath.empty() ? "" : "/" + relativePath) + encodeQuery(open.request.query);
      return redirect(info_.routePrefix + "/ui/index.html?next=" + percentEncode(back), /*noStore=*/true);
    }
  }
  return viewer_.serve(relativePath, open.request);
}

std::string ApiHandler::sessionCookie(const std::string& value, bool expire) const {
  std::string cookie = std::string(kSessionCookie) + "=" + value + "; Path=" + info_.routePrefix + "/; HttpOnly; SameSite=Strict";
  if (secureCookies_) cookie += "; Secure";
  if (expire) cookie += "; Max-Age=0";
  return cookie;
}

HttpResponse ApiHandler::signIn(const Call& call) {
  const json body = api::parseJsonBody(call.request);
  const bool withToken = body.is_object() && body.contains("token") && body["token"].is_string();
  const bool withPassword = body.is_object() && body.contains("password") && body["password"].is_string();
  if (!body.is_object() || !body.contains("name") || !body["name"].is_string() || withToken == withPassword) {
    throw BadRequest(ldap_.enabled() ? "body must be {\"name\": \"user name\", \"password\": \"the hospital password\"} or "
                                       "{\"name\", \"token\": \"an API token\"}"
                                     : "body must be {\"name\": \"user name\", \"token\": \"the user's API token\"}");
  }
  const std::string name = body["name"];
  // Who tried is recorded by the name given, unless it cannot be a user name (a token pasted
  // into the wrong field): secrets never reach the trail.
  const std::string named = isValidUserName(name) ? name : "";
  if (auto locked = lockedOut(call, named)) return *locked;
  if (withPassword) return signInWithDirectory(call, named, body["password"].get<std::string>());
  const TokenCheck checked = users_.check(body["token"].get<std::string>());
  Call attempt{call.request, {}, checked.user, std::nullopt, "", false, ""};
  if (!attempt.user || attempt.user->name != name) {
    const bool ended = checked.problem == TokenProblem::Revoked || checked.problem == TokenProblem::Expired ||
                       checked.problem == TokenProblem::Disabled;
    const std::string why = ended && checked.userName == name ? tokenProblemMessage(checked) : "user name and token do not match an active user";
    audit_.record({"", "", "sign-in", "user", named.empty() ? "(not a user name)" : named, "denied", why, call.request.remoteAddress});
    if (!ended || checked.userName != name) countFailure(call, named);
    return errorResponse(401, why);
  }
  audit(attempt, "sign-in", "user", attempt.user->name, "success", "token " + std::to_string(checked.tokenId));
  return openSession(attempt, checked.tokenId);
}

HttpResponse ApiHandler::signInWithDirectory(const Call& call, const std::string& name, const std::string& password) {
  const auto denied = [&](int status, const std::string& why, const std::string& detail) {
    audit_.record({"", "", "sign-in", "user", name.empty() ? "(not a user name)" : name, "denied", detail, call.request.remoteAddress});
    return errorResponse(status, why);
  };
  if (!ldap_.enabled()) return denied(400, "sign-in with a password is not configured here: use your API token", "no directory configured");
  if (name.empty()) {
    countFailure(call, "");
    return denied(401, "user name and password do not match", "not a user name");
  }
  const LdapOutcome outcome = ldap_.signIn(name, password);
  switch (outcome.kind) {
    case LdapOutcome::Kind::WrongCredentials:
      countFailure(call, name);
      return denied(401, "user name and password do not match", "ldap: " + outcome.detail);
    case LdapOutcome::Kind::NoRole:
      return denied(403, "your hospital account is not in a group that grants access to labeling: ask an administrator",
                    "ldap: " + outcome.detail);
    case LdapOutcome::Kind::Unavailable:
      LOG_WARN("auth", "LDAP sign-in of " << name << " failed: " << outcome.detail);
      return denied(503, "the hospital directory could not be reached: try again, or sign in with an API token",
                    "ldap unavailable: " + outcome.detail);
    case LdapOutcome::Kind::Granted: break;
  }
  const User user = users_.ensureDirectoryUser(name, outcome.role);
  if (user.disabled) return denied(401, "user '" + name + "' is disabled: ask an administrator", "ldap: disabled here");
  throttle_.succeed(SignInThrottle::userKey(name));
  const Call attempt{call.request, {}, user, std::nullopt, "", false, ""};
  audit(attempt, "sign-in", "user", name, "success", outcome.detail);
  return openSession(attempt, 0);
}

HttpResponse ApiHandler::startOidc(const Call& call) {
  if (!oidc_.enabled()) return errorResponse(404, "sign-in through an OpenID provider is not configured here");
  try {
    return redirect(oidc_.begin(call.request.queryValue("next")), /*noStore=*/true);
  } catch (const std::exception& e) {
    LOG_WARN("auth", "OpenID sign-in could not start: " << e.what());
    return redirect(info_.routePrefix + "/ui/index.html?signin_error=" +
                        percentEncode("the hospital sign-in could not be reached: try again, or sign in with an API token"),
                    true);
  }
}

HttpResponse ApiHandler::finishOidc(const Call& call) {
  if (!oidc_.enabled()) return errorResponse(404, "sign-in through an OpenID provider is not configured here");
  const auto back = [&](const std::string& message) {
    return redirect(info_.routePrefix + "/ui/index.html?signin_error=" + percentEncode(message), true);
  };
  const std::string providerError = call.request.queryValue("error");
  if (!providerError.empty()) {
    audit_.record({"", "", "sign-in", "user", "(oidc)", "denied", "provider answered " + providerError, call.request.remoteAddress});
    return back("the hospital sign-in was not completed (" + providerError + ")");
  }
  if (auto locked = lockedOut(call, "")) return *locked;
  const OidcOutcome outcome = oidc_.finish(call.request.queryValue("code"), call.request.queryValue("state"));
  const std::string who = outcome.user.empty() ? "(oidc)" : outcome.user;
  switch (outcome.kind) {
    case OidcOutcome::Kind::Refused:
      audit_.record({"", "", "sign-in", "user", who, "denied", "oidc: " + outcome.detail, call.request.remoteAddress});
      countFailure(call, "");
      return back("the hospital sign-in could not be accepted: start it again");
    case OidcOutcome::Kind::Unavailable:
      LOG_WARN("auth", "OpenID sign-in failed: " << outcome.detail);
      audit_.record({"", "", "sign-in", "user", who, "denied", "oidc unavailable: " + outcome.detail, call.request.remoteAddress});
      return back("the hospital sign-in could not be reached: try again, or sign in with an API token");
    case OidcOutcome::Kind::NoRole:
      audit_.record({"", "", "sign-in", "user", who, "denied", outcome.detail, call.request.remoteAddress});
      return back("your hospital account is not in a group that grants access to labeling: ask an administrator");
    case OidcOutcome::Kind::Granted: break;
  }
  const User user = users_.ensureDirectoryUser(outcome.user, outcome.role);
  if (user.disabled) {
    audit_.record({"", "", "sign-in", "user", user.name, "denied", "oidc: disabled here", call.request.remoteAddress});
    return back("user '" + user.name + "' is disabled: ask an administrator");
  }
  const Call attempt{call.request, {}, user, std::nullopt, "", false, ""};
  audit(attempt, "sign-in", "user", user.name, "success", outcome.detail);
  HttpResponse r = openSession(attempt, 0);
  // Back to the page the browser came from: only this server's workstation or viewer.
  const std::string& next = outcome.next;
  const bool ours = (next.rfind(info_.routePrefix + "/ui/", 0) == 0 || next.rfind(info_.routePrefix + "/viewer", 0) == 0) &&
                    next.find("//") == std::string::npos && next.find('\\') == std::string::npos;
  HttpResponse moved = redirect(ours ? next : info_.routePrefix + "/ui/index.html", true);
  for (const auto& h : r.headers) {
    if (h.first == "Set-Cookie") moved.headers.push_back(h);
  }
  return moved;
}

json ApiHandler::signInMethods() const {
  json methods = json::array({"token"});
  if (ldap_.enabled()) methods.push_back("password");
  if (oidc_.enabled()) methods.push_back("oidc");
  return methods;
}

HttpResponse ApiHandler::openSession(const Call& signedIn, int64_t tokenId) {
  const SessionStore::Opened opened = sessions_.open(signedIn.user->name, tokenId);
  HttpResponse r = jsonResponse(201, {{"signedIn", true}, {"name", signedIn.user->name}, {"role", roleName(signedIn.user->role)},
                                      {"csrfToken", opened.session.csrfToken}, {"viewer", viewerInstalled()},
                                      {"idleTimeoutSeconds", sessions_.settings().idle.count()}});
  r.headers.emplace_back("Set-Cookie", sessionCookie(opened.id, false));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse ApiHandler::currentSession(const Call& open) {
  Call call = open;
  authenticate(call);
  if (!call.user) {
    HttpResponse r = jsonResponse(200, {{"signedIn", false}, {"signInMethods", signInMethods()}});
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }
  json body = {{"signedIn", true}, {"name", call.user->name}, {"role", roleName(call.user->role)}, {"via", call.session ? "session" : "token"},
               {"viewer", viewerInstalled()}};
  body["signInMethods"] = signInMethods();
  if (call.session) {
    body["csrfToken"] = call.session->csrfToken;
    body["idleTimeoutSeconds"] = sessions_.settings().idle.count();
  }
  HttpResponse r = jsonResponse(200, body);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse ApiHandler::signOut(const Call& call) {
  const std::string id = cookieValue(call.request.header("cookie"), kSessionCookie);
  if (!id.empty()) sessions_.close(id);
  audit(call, "sign-out", "user", call.user->name);
  HttpResponse r = jsonResponse(200, {{"signedOut", true}});
  r.headers.emplace_back("Set-Cookie", sessionCookie("", true));
  return r;
}

HttpResponse ApiHandler::listOutbox(const Call& call) {
  const std::string state = call.request.queryValue("state");
  if (!state.empty() && state != "pending" && state != "failed" && state != "sent" && state != "skipped") {
    throw BadRequest("state must be pending, failed, sent or skipped");
  }
  const unsigned limit = call.request.query.count("limit") ? parseBounded(call.request.queryValue("limit"), "limit", 1, 1000) : 100;
  json destinations = json::object();
  json items = json::array();
  if (outbox_) {
    for (const auto& [name, c] : outbox_->counts()) destinations[name] = {{"pending", c.pending}, {"failed", c.failed}, {"sent", c.sent}, {"skipped", c.skipped}};
    for (const auto& item : outbox_->list(state, limit)) {
      items.push_back({{"id", item.id}, {"sopInstanceUid", item.sopInstanceUid}, {"destination", item.destination},
                       {"state", stateOf(item)}, {"attempts", item.attempts},
                       {"lastStatus", item.lastStatus}, {"lastError", item.lastError},
                       {"sent", item.sentMs ? isoTimeFromMillis(item.sentMs) : ""}});
    }
  }
  audit(call, "list-outbox", "outbox", state);
  return jsonResponse(200, {{"destinations", destinations}, {"items", items}});
}

std::vector<ApiHandler::RouteInfo> ApiHandler::routeTable() const {
  std::vector<RouteInfo> out;
  for (const auto& r : routes_) out.push_back({r.method, r.pattern, r.roles});
  return out;
}

void ApiHandler::audit(const Call& call, const std::string& action, const std::string& objectType, const std::string& objectId,
                       const std::string& outcome, const std::string& detail, const std::string& study) {
  AuditEvent e;
  if (call.user) {
    e.user = call.user->name;
    e.role = roleName(call.user->role);
  }
  e.action = action;
  e.objectType = objectType;
  e.objectId = objectId;
  e.outcome = outcome;
  e.detail = detail;
  e.source = call.request.remoteAddress;
  e.study = study;
  // Successful reads are views: batched so a search does not wait on its own disk flush.
  // Changes and refusals are written before the answer leaves.
  if (outcome == "success" && call.request.method == "GET") audit_.recordView(e);
  else audit_.record(e);
}

HttpResponse ApiHandler::health() {
  try {
    if (notReadyBecause_) {
      if (const auto why = notReadyBecause_()) return jsonResponse(503, {{"status", "starting"}, {"message", *why}});
    }
    const auto totals = catalog_.totals();
    // The state database answers too (a shared PostgreSQL may be down while the node is up).
    StateDatabase& state = worklist_.database();
    return jsonResponse(200, {{"status", "ok"}, {"product", info_.product}, {"version", info_.version},
                              {"aeTitle", info_.aeTitle}, {"schemaVersion", catalog_.schemaVersion()},
                              {"stateDatabase", {{"kind", state.onPostgres() ? "postgresql" : "sqlite"},
                                                 {"schemaVersion", state.schemaVersion()}}},
                              {"studies", totals.studies}, {"instances", totals.instances}});
  } catch (const std::exception& e) {
    return jsonResponse(503, {{"status", "unavailable"}, {"message", e.what()}});
  }
}

HttpResponse ApiHandler::metrics() {
  std::ostringstream extra;
  const auto totals = catalog_.totals();
  extra << "# HELP annot_catalog_objects Objects in the catalog.\n# TYPE annot_catalog_objects gauge\n"
        << "annot_catalog_objects{level=\"patient\"} " << totals.patients << '\n'
        << "annot_catalog_objects{level=\"study\"} " << totals.studies << '\n'
        << "annot_catalog_objects{level=\"series\"} " << totals.series << '\n'
        << "annot_catalog_objects{level=\"instance\"} " << totals.instances << '\n'
        << "# HELP annot_catalog_bytes Bytes of stored instances.\n# TYPE annot_catalog_bytes gauge\n"
        << "annot_catalog_bytes " << totals.bytes << '\n';
  HttpResponse r;
  r.contentType = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics_.renderPrometheus(extra.str());
  return r;
}

HttpResponse ApiHandler::listStudies(const Call& call) {
  const HttpRequest& request = call.request;
  static const std::set<std::string> known = {"PatientID", "StudyDate", "from", "to", "Modality", "limit", "offset"};
  for (const auto& [key, value] : request.query) {
    if (!known.count(key)) {
      throw BadRequest("unknown query parameter '" + key + "' (use PatientID, StudyDate, from, to, Modality, limit, offset)");
    }
  }
  StudyQuery q;
  q.patientId = request.queryValue("PatientID");
  q.modality = request.queryValue("Modality");
  q.dateFrom = requireDate(request.queryValue("from"), "from");
  q.dateTo = requireDate(request.queryValue("to"), "to");
  // DICOM range syntax, as in QIDO: StudyDate=20200101-20201231, 20200101-, -20201231 or one date.
  const std::string range = request.queryValue("StudyDate");
  if (!range.empty()) {
    const auto dash = range.find('-');
    if (dash == std::string::npos) {
      q.dateFrom = q.dateTo = requireDate(range, "StudyDate");
    } else {
      q.dateFrom = requireDate(range.substr(0, dash), "StudyDate");
      q.dateTo = requireDate(range.substr(dash + 1), "StudyDate");
    }
  }
  if (!q.dateFrom.empty() && !q.dateTo.empty() && q.dateFrom > q.dateTo) {
    throw BadRequest("date range is empty: 'from' is after 'to'");
  }
  if (request.query.count("limit")) q.limit = parseBounded(request.queryValue("limit"), "limit", 1, 1000);
  if (request.query.count("offset")) q.offset = parseBounded(request.queryValue("offset"), "offset", 0, 100000000);

  const StudyPage page = catalog_.findStudies(q);
  json studies = json::array();
  std::string shown;
  for (const auto& s : page.studies) {
    studies.push_back(toJson(s));
    shown += (shown.empty() ? "" : ",") + s.study.studyInstanceUid;
  }
  audit(call, "list-studies", "study", shown, "success", "query:" + request.queryValue("PatientID") + "|" + q.dateFrom + "-" + q.dateTo + "|" + q.modality);
  return jsonResponse(200, {{"total", page.total}, {"offset", q.offset}, {"limit", q.limit}, {"studies", studies}});
}

HttpResponse ApiHandler::getStudy(const Call& call) {
  const std::string& studyUid = call.params.at(0);
  if (!isValidUid(studyUid)) throw BadRequest("'" + studyUid + "' is not a valid Study Instance UID");
  const auto detail = catalog_.getStudy(studyUid);
  if (!detail) return errorResponse(404, "study " + studyUid + " is not in the catalog");
  audit(call, "view-study", "study", studyUid);
  return jsonResponse(200, toJson(*detail));
}

HttpResponse ApiHandler::queryAudit(const Call& call) {
  const HttpRequest& request = call.request;
  json out = json::object();
  if (request.queryValue("verify") == "true") {
    const auto v = audit_.verify();
    out["verification"] = {{"intact", v.intact}, {"entries", v.entries}, {"firstBrokenId", v.firstBrokenId}};
  }
  AuditQuery q;
  q.user = request.queryValue("user");
  q.action = request.queryValue("action");
  q.objectId = request.queryValue("object");
  if (request.query.count("after")) q.afterId = parseBounded(request.queryValue("after"), "after", 0, 999999999);
  if (request.query.count("limit")) q.limit = parseBounded(request.queryValue("limit"), "limit", 1, 1000);
  json entries = json::array();
  for (const auto& e : audit_.query(q)) {
    entries.push_back({{"id", e.id}, {"time", isoTimeFromMillis(e.timeMs)}, {"user", e.event.user}, {"role", e.event.role},
                       {"action", e.event.action}, {"objectType", e.event.objectType}, {"objectId", e.event.objectId},
                       {"outcome", e.event.outcome}, {"detail", e.event.detail}, {"source", e.event.source}, {"hash", e.hash}});
    if (!e.event.study.empty()) entries.back()["study"] = e.event.study;
  }
  out["entries"] = entries;
  audit(call, "query-audit", "audit", "");
  return jsonResponse(200, out);
}

}  // namespace annot
