// Access that ends, over real HTTP: a disabled user's token, a revoked token and an expired
// token get 401 on every route of the node and of the plugin inside Orthanc (the routes come
// from the deployment's own route table), at the first request after the change, whether the
// change came from the command line or the API; a disabled reader's claimed task is claimable
// by another reader at once with their saved work; no secret the test used reaches a log or the
// audit trail.
#include <gtest/gtest.h>

#include <filesystem>

#include "DirectoryHarness.h"
#include "NodeHarness.h"
#include "OrthancHarness.h"
#include "SiteHarness.h"
#include "support/PostgresCluster.h"

using namespace annot::test;
using nlohmann::json;

namespace {

std::string tokenId(const std::string& token) { return token.substr(3, token.find('_', 3) - 3); }
std::string secretOf(const std::string& token) { return token.substr(token.rfind('_') + 1); }

// Time passes: the token's expiry is moved into the past, as the clock would.
void expire(const Site& site, const std::string& token) {
  stateSql(site.stateDatabase, "UPDATE tokens SET expires_ms = 1000 WHERE id = " + tokenId(token) + ";");
}

// A path matching a route pattern, its "{}" and "*" filled in.
std::string pathFor(const std::string& pattern) {
  std::string path = pattern;
  for (size_t at; (at = path.find("{}")) != std::string::npos;) path.replace(at, 2, "1");
  if (!path.empty() && path.back() == '*') path.back() = 'x';
  return path;
}

// Every route of the deployment that needs credentials answers 401 to each of `ended`.
void expectEveryRouteRefuses(const Site& site, const std::map<std::string, std::string>& ended) {
  size_t guarded = 0;
  const json routes = site.routes();
  for (const auto& route : routes) {
    if (route["roles"].empty()) continue;
    ++guarded;
    const std::string path = pathFor(route["pattern"]);
    for (const auto& [what, token] : ended) {
      const HttpResult r = site.call(token, route["method"], path, "{}");
      EXPECT_EQ(r.status, 401) << site.name << ' ' << route["method"].get<std::string>() << ' ' << path << " with a " << what << ": " << r.body;
    }
  }
  EXPECT_GT(guarded, 30u) << site.name << ": the route table was read";
}

// The scenario on one deployment; returns the secrets it used.
std::vector<std::string> endAccessOn(const Site& site, const std::function<void(const std::string&)>& disableFromOutside) {
  const std::string leaver = site.addUser("leaver", "annotator");
  const std::string leaked = site.addUser("leaked", "reviewer");
  const std::string lapsed = site.addUser("lapsed", "researcher");
  for (const auto& token : {leaver, leaked, lapsed}) EXPECT_EQ(site.call(token, "GET", "/dicomweb/studies").status, 200) << site.name;

  disableFromOutside("leaver");
  const HttpResult revoked = site.call(site.adminToken, "DELETE", "/api/v1/users/leaked/tokens/" + tokenId(leaked));
  EXPECT_EQ(revoked.status, 200) << revoked.body;
  expire(site, lapsed);

  const HttpResult expiredAnswer = site.call(lapsed, "GET", "/dicomweb/studies");
  EXPECT_EQ(expiredAnswer.status, 401);
  EXPECT_NE(expiredAnswer.body.find("expired on"), std::string::npos) << expiredAnswer.body;
  EXPECT_NE(site.call(leaked, "GET", "/api/v1/tasks").body.find("revoked"), std::string::npos);
  EXPECT_NE(site.call(leaver, "GET", "/api/v1/tasks").body.find("disabled"), std::string::npos);
  expectEveryRouteRefuses(site, {{"disabled user's token", leaver}, {"revoked token", leaked}, {"expired token", lapsed}});

  // The admin sees what happened to each token.
  const json tokens = json::parse(site.call(site.adminToken, "GET", "/api/v1/users/leaked/tokens").body)["tokens"];
  EXPECT_EQ(tokens.size(), 1u);
  if (!tokens.empty()) {
    EXPECT_EQ(tokens[0]["state"], "revoked");
    EXPECT_FALSE(tokens[0]["lastUsed"].is_null()) << "it was used before it was revoked";
  }
  return {leaver, leaked, lapsed, site.adminToken};
}

HttpResult signInWithPassword(const Site& site, const std::string& name, const std::string& password) {
  return httpRequest(site.httpPort, "POST", site.root + "/api/v1/session", json{{"name", name}, {"password", password}}.dump(),
                     {{"Content-Type", "application/json"}});
}

// Hospital sign-in on one deployment: each group's role, refusals with their reasons, and a
// directory that is down.
void signInThroughTheDirectory(const Site& site, RunningDirectory& directory) {
  const json methods = json::parse(httpRequest(site.httpPort, "GET", site.root + "/api/v1/session").body)["signInMethods"];
  EXPECT_EQ(methods, json({"token", "password"})) << site.name;
  const std::map<std::string, std::string> roles = {{"rad1", "annotator"}, {"rev1", "reviewer"}, {"adm1", "admin"}};
  for (const auto& [user, role] : roles) {
    const HttpResult r = signInWithPassword(site, user, RunningDirectory::password(user));
    ASSERT_EQ(r.status, 201) << site.name << ' ' << user << ": " << r.body;
    EXPECT_EQ(json::parse(r.body)["role"], role) << user << ": the most powerful role of their groups";
  }
  // The session is a real one: the worklist answers with its cookie.
  const HttpResult signedIn = signInWithPassword(site, "rad1", RunningDirectory::password("rad1"));
  std::string cookie;
  for (const auto& [k, v] : signedIn.headers) if (k == "set-cookie") cookie = v.substr(0, v.find(';'));
  EXPECT_EQ(httpRequest(site.httpPort, "GET", site.root + "/api/v1/tasks", "", {{"Cookie", cookie}}).status, 200) << site.name;

  EXPECT_EQ(signInWithPassword(site, "rad1", "wrong").status, 401);
  EXPECT_EQ(signInWithPassword(site, "rad1", "").status, 401) << "an empty password is an anonymous bind: refused before it";
  EXPECT_EQ(signInWithPassword(site, "nobody", "whatever").status, 401);
  const HttpResult visitor = signInWithPassword(site, "visitor", RunningDirectory::password("visitor"));
  EXPECT_EQ(visitor.status, 403) << "in no group that grants a role: " << visitor.body;
  EXPECT_NE(visitor.body.find("not in a group"), std::string::npos) << visitor.body;
  // A name that tries to reach another entry through the DN is escaped, not followed.
  EXPECT_EQ(signInWithPassword(site, "rad1,ou=people", RunningDirectory::password("rad1")).status, 401);

  // An administrator's local decision wins over the directory.
  ASSERT_EQ(site.call(site.adminToken, "PUT", "/api/v1/users/rad1/disabled", R"({"disabled": true})").status, 200);
  EXPECT_EQ(httpRequest(site.httpPort, "GET", site.root + "/api/v1/tasks", "", {{"Cookie", cookie}}).status, 401) << "the open session ends";
  const HttpResult refused = signInWithPassword(site, "rad1", RunningDirectory::password("rad1"));
  EXPECT_EQ(refused.status, 401);
  EXPECT_NE(refused.body.find("disabled"), std::string::npos) << refused.body;

  // The directory down: a clear 503, and token sign-in still works.
  directory.stop();
  const HttpResult down = signInWithPassword(site, "rev1", RunningDirectory::password("rev1"));
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_EQ(site.call(site.adminToken, "GET", "/api/v1/tasks").status, 200);
  directory.start();
  EXPECT_EQ(signInWithPassword(site, "rev1", RunningDirectory::password("rev1")).status, 201);

  // The trail has each sign-in and refusal, and no password.
  const std::string trail = site.call(site.adminToken, "GET", "/api/v1/audit?action=sign-in&limit=1000").body;
  EXPECT_NE(trail.find("ldap: role reviewer"), std::string::npos) << trail;
  for (const char* user : {"rad1", "rev1", "adm1", "visitor"}) {
    EXPECT_EQ(trail.find(RunningDirectory::password(user)), std::string::npos) << "a password is in the audit trail";
  }
}

void expectNoSecretIn(const std::string& where, const std::string& text, const std::vector<std::string>& secrets) {
  for (const auto& token : secrets) EXPECT_EQ(text.find(secretOf(token)), std::string::npos) << "a token's secret is in " << where;
}

}  // namespace

TEST(Access, EndsOnEveryRouteOfTheNodeAtTheNextRequestAndNothingSavedIsLost) {
  TempDir tmp;
  RunningNode node(tmp / "data", NodeSettings{1, {}});
  const Site site{"node", node.httpPort(), "", node.adminToken(), node.stateDatabase()};

  // A reader's claimed task with a saved draft, before their access ends.
  const std::string study = generateStudy(tmp / "ct", {"--slices", "2", "--rows", "32", "--columns", "32", "--body-part", "CHEST"});
  const std::string slice = sopInstanceUidOf(listFiles(tmp / "ct", ".dcm").at(0));
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "ct"}).exitCode, 0);
  const std::string task = firstTaskOf(node, study);
  // On the node, the first user is disabled from the command line while the node runs.
  std::vector<std::string> secrets = endAccessOn(site, [&](const std::string& name) {
    const CommandResult r = node.userCommand({"disable", name});
    EXPECT_EQ(r.exitCode, 0) << r.output;
  });
  // The node's CLI: a second reader claims and saves, then is disabled from the command line
  // while the node runs.
  const std::string rita = node.addUser("rita", "annotator");
  const std::string bob = node.addUser("bob", "annotator");
  ASSERT_EQ(site.call(rita, "POST", "/api/v1/tasks/" + task + "/claim").status, 200);
  const json draft = {{"observer", {{"name", "Reader^Rita"}}},
                      {"findings", {{{"label", "nodule"}, {"geometry", {{"type", "point"}, {"image", {{"sopInstanceUid", slice}}}, {"points", {{10, 12}}}}}}}}};
  const HttpResult saved = site.call(rita, "PUT", "/api/v1/tasks/" + task + "/annotation?draft=true", draft.dump());
  ASSERT_EQ(saved.status, 201) << saved.body;
  const CommandResult disabled = node.userCommand({"disable", "rita"});
  ASSERT_EQ(disabled.exitCode, 0) << disabled.output;
  EXPECT_NE(disabled.output.find("1 claimed task(s) returned to the pool"), std::string::npos) << disabled.output;
  EXPECT_EQ(site.call(rita, "GET", "/api/v1/tasks").status, 401) << "the running node sees the command line's change";
  ASSERT_EQ(site.call(bob, "POST", "/api/v1/tasks/" + task + "/claim").status, 200) << "claimable by another reader at once";
  const json kept = json::parse(site.call(bob, "GET", "/api/v1/tasks/" + task + "/annotation").body);
  EXPECT_EQ(kept["annotation"]["findings"][0]["geometry"]["points"], json({{10, 12}})) << kept.dump();

  // The command line lists every token with its use and expiry, issues one for a set time and
  // revokes one by id.
  const CommandResult issued = node.userCommand({"token", "bob", "--days", "7"});
  ASSERT_EQ(issued.exitCode, 0) << issued.output;
  std::string bobsSecond = issued.output.substr(issued.output.rfind("an_"));  // the last line
  while (!bobsSecond.empty() && std::isspace(static_cast<unsigned char>(bobsSecond.back()))) bobsSecond.pop_back();
  EXPECT_EQ(site.call(bobsSecond, "GET", "/api/v1/studies").status, 200);
  ASSERT_EQ(node.userCommand({"revoke", "bob", "--token", tokenId(bobsSecond)}).exitCode, 0);
  EXPECT_EQ(site.call(bobsSecond, "GET", "/api/v1/studies").status, 401);
  EXPECT_EQ(site.call(bob, "GET", "/api/v1/studies").status, 200) << "only that token";
  const CommandResult listed = node.userCommand({"list"});
  EXPECT_NE(listed.output.find("rita\tannotator\tdisabled"), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("token " + tokenId(bobsSecond) + "\trevoked"), std::string::npos) << listed.output;
  secrets.insert(secrets.end(), {rita, bob, bobsSecond});

  // Nothing secret in the node's log or the audit trail.
  const HttpResult trail = site.call(site.adminToken, "GET", "/api/v1/audit?limit=1000");
  expectNoSecretIn("the audit trail", trail.body, secrets);
  expectNoSecretIn("the node's log", node.process().log(), secrets);
  for (const char* action : {"disable-user", "revoke-token", "issue-token"}) EXPECT_NE(trail.body.find(action), std::string::npos) << action;
}

TEST(Access, EndsOnEveryRouteOfThePluginInsideOrthanc) {
  TempDir tmp;
  RunningOrthanc orthanc(tmp / "orthanc", OrthancSettings{true, 1});
  const Site site{"plugin", orthanc.httpPort(), "/annotation", orthanc.adminToken(), orthanc.stateDatabase()};
  const auto secrets = endAccessOn(site, [&](const std::string& name) {
    const HttpResult r = site.call(site.adminToken, "PUT", "/api/v1/users/" + name + "/disabled", R"({"disabled": true})");
    EXPECT_EQ(r.status, 200) << r.body;
  });
  expectNoSecretIn("Orthanc's log", orthanc.log(), secrets);
  expectNoSecretIn("the audit trail", site.call(site.adminToken, "GET", "/api/v1/audit?limit=1000").body, secrets);
}

TEST(Access, HospitalStaffSignInWithTheirDirectoryPasswordOnTheNode) {
  TempDir tmp;
  RunningDirectory directory(tmp / "ldap");
  RunningNode node(tmp / "data", NodeSettings{60, {{"Ldap", directory.settings()}}});
  const Site site{"node", node.httpPort(), "", node.adminToken(), node.stateDatabase()};
  signInThroughTheDirectory(site, directory);
  for (const char* user : {"rad1", "rev1", "adm1"}) {
    EXPECT_EQ(node.process().log().find(RunningDirectory::password(user)), std::string::npos) << "a password is in the log";
  }
}

TEST(Access, HospitalStaffSignInWithTheirDirectoryPasswordInsideOrthanc) {
  TempDir tmp;
  RunningDirectory directory(tmp / "ldap");
  RunningOrthanc orthanc(tmp / "orthanc", OrthancSettings{true, 60, {{"Ldap", directory.settings()}}});
  const Site site{"plugin", orthanc.httpPort(), "/annotation", orthanc.adminToken(), orthanc.stateDatabase()};
  signInThroughTheDirectory(site, directory);
  for (const char* user : {"rad1", "rev1", "adm1"}) {
    EXPECT_EQ(orthanc.log().find(RunningDirectory::password(user)), std::string::npos) << "a password is in Orthanc's log";
  }
}
