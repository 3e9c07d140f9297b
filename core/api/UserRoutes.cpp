// ApiHandler's user administration: users, their tokens, and ending access.
#include "api/ApiHandler.h"
#include "api/ApiSupport.h"
#include "api/StudyJson.h"
#include "common/Clock.h"

namespace annot {
namespace {
using api::BadRequest;
using api::jsonResponse;
using api::kAdmin;
using nlohmann::json;

HttpResponse userError(const UserError& e) {
  const int status = e.kind() == UserError::Kind::Conflict ? 409 : e.kind() == UserError::Kind::Invalid ? 422 : 404;
  return errorResponse(status, e.what());
}

HttpResponse noStore(HttpResponse r) {
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

json tokenJson(const TokenInfo& t) {
  const bool expired = t.expiresMs != 0 && t.expiresMs <= nowMillis();
  return {{"tokenId", t.id}, {"created", isoTimeFromMillis(t.createdMs)},
          {"expires", t.expiresMs ? json(isoTimeFromMillis(t.expiresMs)) : json(nullptr)},
          {"lastUsed", t.lastUsedMs ? json(isoTimeFromMillis(t.lastUsedMs)) : json(nullptr)},
          {"state", t.revoked ? "revoked" : expired ? "expired" : "active"}};
}

json tokensJson(const std::vector<TokenInfo>& tokens) {
  json list = json::array();
  for (const auto& t : tokens) list.push_back(tokenJson(t));
  return list;
}

// "lifetimeDays": 0 (never expires) to 3650; absent: the configured default.
std::optional<unsigned> lifetimeDaysIn(const json& body) {
  if (!body.contains("lifetimeDays")) return std::nullopt;
  const json& v = body["lifetimeDays"];
  if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 3650) {
    throw BadRequest("'lifetimeDays' must be a whole number of days from 0 (never expires) to 3650");
  }
  return v.get<unsigned>();
}

int64_t tokenIdOf(const std::string& text) {
  if (text.empty() || text.size() > 15 || text.find_first_not_of("0123456789") != std::string::npos) {
    throw BadRequest("token id '" + text + "' must be a number");
  }
  return std::stoll(text);
}
}  // namespace

void ApiHandler::addUserRoutes() {
  routes_.push_back({"GET", "/api/v1/users", kAdmin, [this](const Call& c) { return listUsers(c); }});
  routes_.push_back({"POST", "/api/v1/users", kAdmin, [this](const Call& c) { return createUser(c); }});
  routes_.push_back({"PUT", "/api/v1/users/{}/identified-access", kAdmin, [this](const Call& c) { return grantIdentifiedAccess(c); }});
  routes_.push_back({"PUT", "/api/v1/users/{}/disabled", kAdmin, [this](const Call& c) { return setDisabled(c); }});
  routes_.push_back({"GET", "/api/v1/users/{}/tokens", kAdmin, [this](const Call& c) { return listTokens(c); }});
  routes_.push_back({"POST", "/api/v1/users/{}/tokens", kAdmin, [this](const Call& c) { return issueToken(c); }});
  routes_.push_back({"DELETE", "/api/v1/users/{}/tokens", kAdmin, [this](const Call& c) { return revokeTokens(c); }});
  routes_.push_back({"DELETE", "/api/v1/users/{}/tokens/{}", kAdmin, [this](const Call& c) { return revokeTokens(c); }});
  routes_.push_back({"GET", "/api/v1/routes", kAdmin, [this](const Call& c) { return listRoutes(c); }});
}

Actor ApiHandler::actorOf(const Call& call) const {
  return {call.user ? call.user->name : "", call.user ? roleName(call.user->role) : "", call.request.remoteAddress};
}

HttpResponse ApiHandler::listUsers(const Call& call) {
  json list = json::array();
  for (const auto& u : users_.list()) {
    list.push_back({{"name", u.name}, {"role", roleName(u.role)}, {"created", isoTimeFromMillis(u.createdMs)}, {"disabled", u.disabled},
                    {"identifiedAccess", u.identifiedAccess}, {"tokens", tokensJson(users_.tokensOf(u.name))}});
  }
  audit(call, "list-users", "user", "");
  return jsonResponse(200, {{"users", list}});
}

HttpResponse ApiHandler::grantIdentifiedAccess(const Call& call) {
  const json body = api::parseJsonBody(call.request);
  if (!body.is_object() || !body.contains("granted") || !body["granted"].is_boolean()) throw BadRequest("body must be {\"granted\": true|false}");
  const std::string name = call.params.at(0);
  const auto user = users_.find(name);
  if (!user) return errorResponse(404, "no user '" + name + "'");
  if (user->role != Role::Researcher) return errorResponse(409, "only researchers have a de-identified view; '" + name + "' is " + roleName(user->role));
  users_.setIdentifiedAccess(name, body["granted"].get<bool>());
  audit(call, body["granted"].get<bool>() ? "grant-identified-access" : "withdraw-identified-access", "user", name);
  return jsonResponse(200, {{"name", name}, {"identifiedAccess", body["granted"].get<bool>()}});
}

HttpResponse ApiHandler::createUser(const Call& call) {
  const json body = api::parseJsonBody(call.request);
  if (!body.is_object() || !body.contains("name") || !body["name"].is_string() || !body.contains("role") || !body["role"].is_string()) {
    throw BadRequest("body must be {\"name\": \"...\", \"role\": \"annotator|reviewer|admin|researcher\"}");
  }
  const auto role = roleFromName(body["role"].get<std::string>());
  if (!role) throw BadRequest("role must be annotator, reviewer, admin or researcher");
  const auto lifetime = lifetimeDaysIn(body);
  try {
    const IssuedToken issued = users_.addUser(body["name"].get<std::string>(), *role, lifetime);
    audit(call, "create-user", "user", issued.user.name, "success",
          std::string("role ") + roleName(*role) + ", token " + std::to_string(issued.info.id) + " expires " + readableUtc(issued.info.expiresMs));
    json out = tokenJson(issued.info);
    out.update({{"name", issued.user.name}, {"role", roleName(issued.user.role)}, {"token", issued.token}});
    return noStore(jsonResponse(201, out));
  } catch (const UserError& e) {
    return userError(e);
  }
}

HttpResponse ApiHandler::setDisabled(const Call& call) {
  const json body = api::parseJsonBody(call.request);
  if (!body.is_object() || !body.contains("disabled") || !body["disabled"].is_boolean()) throw BadRequest("body must be {\"disabled\": true|false}");
  const std::string name = call.params.at(0);
  try {
    if (body["disabled"].get<bool>()) {
      const auto done = access_.disable(name, actorOf(call));
      // Open browser sessions would end at their next request anyway; they end now.
      sessions_.closeAllOf(name);
      return jsonResponse(200, {{"name", name}, {"disabled", true}, {"releasedTasks", done.releasedTasks}});
    }
    access_.enable(name, actorOf(call));
    return jsonResponse(200, {{"name", name}, {"disabled", false}});
  } catch (const UserError& e) {
    return userError(e);
  }
}

HttpResponse ApiHandler::listTokens(const Call& call) {
  const std::string name = call.params.at(0);
  try {
    const json tokens = tokensJson(users_.tokensOf(name));
    audit(call, "list-tokens", "user", name);
    return jsonResponse(200, {{"name", name}, {"tokens", tokens}});
  } catch (const UserError& e) {
    return userError(e);
  }
}

HttpResponse ApiHandler::issueToken(const Call& call) {
  const std::string name = call.params.at(0);
  const json body = call.request.body.empty() ? json::object() : api::parseJsonBody(call.request);
  if (!body.is_object()) throw BadRequest("body must be {} or {\"lifetimeDays\": N}");
  try {
    const IssuedToken issued = access_.issue(name, lifetimeDaysIn(body), actorOf(call));
    json out = tokenJson(issued.info);
    out.update({{"name", name}, {"token", issued.token}});
    return noStore(jsonResponse(201, out));
  } catch (const UserError& e) {
    return userError(e);
  }
}

HttpResponse ApiHandler::revokeTokens(const Call& call) {
  const std::string name = call.params.at(0);
  try {
    if (call.params.size() > 1) {
      access_.revoke(name, tokenIdOf(call.params.at(1)), actorOf(call));
      return jsonResponse(200, {{"name", name}, {"revoked", 1}});
    }
    const size_t revoked = access_.revokeAll(name, actorOf(call));
    // A session rests on a token; with every token gone, the user's sessions end now.
    sessions_.closeAllOf(name);
    return jsonResponse(200, {{"name", name}, {"revoked", revoked}});
  } catch (const UserError& e) {
    return userError(e);
  }
}

HttpResponse ApiHandler::listRoutes(const Call&) {
  json list = json::array();
  for (const auto& r : routeTable()) {
    json roles = json::array();
    for (Role role : r.roles) roles.push_back(roleName(role));
    list.push_back({{"method", r.method}, {"pattern", r.pattern}, {"roles", roles}});
  }
  return jsonResponse(200, {{"routes", list}});
}

}  // namespace annot
