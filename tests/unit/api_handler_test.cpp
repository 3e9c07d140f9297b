#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/ApiHandler.h"
#include "common/Clock.h"
#include "catalog/SqliteCatalog.h"
#include "state/StateDatabase.h"
#include "storage/FileInstanceStore.h"
#include "worklist/IndexedStudySource.h"
#include "worklist/IngestResultSink.h"
#include "support/DicomFixtures.h"
#include "support/TestSupport.h"

using namespace annot;
using nlohmann::json;

namespace {
class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<InstanceRecord> batch;
    for (int i = 0; i < 3; ++i) {
      test::TestInstance t;
      t.studyUid = "8." + std::to_string(i);
      t.seriesUid = t.studyUid + ".1";
      t.sopUid = t.seriesUid + ".1";
      t.patientId = i == 0 ? "P0" : "P1";
      t.studyDate = "2024010" + std::to_string(i + 1);
      t.modality = i == 2 ? "MR" : "CT";
      batch.push_back(test::makeRecord(t));
    }
    catalog.addInstances(batch);
  }

  HttpResponse get(const std::string& target, const std::string& token = "") {
    HttpRequest r;
    r.method = "GET";
    EXPECT_TRUE(parseRequestTarget(target, r.path, r.query));
    r.headers["authorization"] = "Bearer " + (token.empty() ? admin : token);
    r.remoteAddress = "192.0.2.7";
    return api.handle(r);
  }

  // Any request; `headers` as the client sent them (lower-case names), no token unless given.
  HttpResponse call(const std::string& method, const std::string& target, const std::string& body = "",
                    std::map<std::string, std::string> headers = {}, ApiHandler* handler = nullptr) {
    HttpRequest r;
    r.method = method;
    EXPECT_TRUE(parseRequestTarget(target, r.path, r.query));
    r.headers = std::move(headers);
    r.body = body;
    r.remoteAddress = "192.0.2.7";
    return (handler ? *handler : api).handle(r);
  }

  static std::string header(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  // Signs in with a token; returns {cookie "annot_session=...", CSRF token}.
  std::pair<std::string, std::string> signIn(const std::string& name, const std::string& token, ApiHandler* handler = nullptr) {
    const auto r = call("POST", "/api/v1/session", json{{"name", name}, {"token", token}}.dump(), {}, handler);
    EXPECT_EQ(r.status, 201) << r.body;
    const std::string cookie = header(r, "Set-Cookie");
    return {cookie.substr(0, cookie.find(';')), json::parse(r.body).value("csrfToken", "")};
  }

  test::TempDir dir;
  SqliteCatalog catalog{dir / "index.sqlite"};
  StateDatabase state{dir / "state.sqlite"};
  UserStore users{state};
  AuditLog audit{state};
  FileInstanceStore store{dir.path()};
  IndexedStudySource studies{catalog, readFromStore(store)};
  ProtocolSet protocols = ProtocolSet::loadDirectory(ANNOT_SOURCE_DIR "/sr-templates/protocols");
  Metrics metrics;
  EventBus bus;
  IngestPipeline pipeline{catalog, store, bus, metrics, IngestOptions{0}};
  IngestResultSink results{pipeline, "ANNOTNODE"};
  Worklist worklist{state, protocols, studies, results};
  ApiHandler api{catalog, metrics, users, audit, worklist, ApiInfo{"annotation-node", "test", "ANNOTNODE", ""}};
  std::string admin = users.addUser("root", Role::Admin).token;
};

std::string messageOf(const HttpResponse& r) { return json::parse(r.body)["error"]["message"]; }
}  // namespace

TEST_F(ApiTest, HealthReportsCatalogState) {
  const auto r = get("/healthz");
  ASSERT_EQ(r.status, 200);
  const auto body = json::parse(r.body);
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["studies"], 3);
  EXPECT_EQ(body["aeTitle"], "ANNOTNODE");
}

TEST_F(ApiTest, ListsAndFiltersStudies) {
  auto body = json::parse(get("/api/v1/studies").body);
  EXPECT_EQ(body["total"], 3);
  EXPECT_EQ(body["studies"].size(), 3u);
  EXPECT_EQ(body["studies"][0]["StudyDate"], "20240103");

  body = json::parse(get("/api/v1/studies?PatientID=P1").body);
  EXPECT_EQ(body["total"], 2);
  body = json::parse(get("/api/v1/studies?Modality=MR").body);
  ASSERT_EQ(body["total"], 1);
  EXPECT_EQ(body["studies"][0]["ModalitiesInStudy"], json::array({"MR"}));
  body = json::parse(get("/api/v1/studies?StudyDate=20240101-20240102").body);
  EXPECT_EQ(body["total"], 2);
  body = json::parse(get("/api/v1/studies?from=20240102").body);
  EXPECT_EQ(body["total"], 2);
  body = json::parse(get("/api/v1/studies?StudyDate=20240103").body);
  EXPECT_EQ(body["total"], 1);
  body = json::parse(get("/api/v1/studies?limit=1&offset=1").body);
  EXPECT_EQ(body["total"], 3);
  ASSERT_EQ(body["studies"].size(), 1u);
  EXPECT_EQ(body["studies"][0]["StudyDate"], "20240102");
}

TEST_F(ApiTest, ReturnsOneStudyWithSeriesAndInstances) {
  const auto r = get("/api/v1/studies/8.1");
  ASSERT_EQ(r.status, 200);
  const auto body = json::parse(r.body);
  EXPECT_EQ(body["StudyInstanceUID"], "8.1");
  ASSERT_EQ(body["Series"].size(), 1u);
  EXPECT_EQ(body["Series"][0]["SeriesInstanceUID"], "8.1.1");
  ASSERT_EQ(body["Series"][0]["Instances"].size(), 1u);
  EXPECT_EQ(body["Series"][0]["Instances"][0]["SOPInstanceUID"], "8.1.1.1");
  EXPECT_EQ(body["Series"][0]["Instances"][0]["SendingAET"], "SCU");
}

TEST_F(ApiTest, BadRequestsGetClearErrors) {
  EXPECT_EQ(get("/api/v1/studies/9.9").status, 404);
  auto r = get("/api/v1/studies/not-a-uid");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(messageOf(r).find("not a valid Study Instance UID"), std::string::npos);
  r = get("/api/v1/studies?limit=0");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(messageOf(r).find("'limit' must be between 1 and 1000"), std::string::npos);
  r = get("/api/v1/studies?from=2024-01-01");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(messageOf(r).find("YYYYMMDD"), std::string::npos);
  r = get("/api/v1/studies?from=20240105&to=20240101");
  EXPECT_EQ(r.status, 400);
  r = get("/api/v1/studies?PatientId=P1");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(messageOf(r).find("unknown query parameter 'PatientId'"), std::string::npos);
  EXPECT_EQ(get("/nowhere").status, 404);

  HttpRequest post;
  post.method = "POST";
  post.path = "/api/v1/studies";
  post.headers["authorization"] = "Bearer " + admin;
  const auto notAllowed = api.handle(post);
  EXPECT_EQ(notAllowed.status, 405);
  ASSERT_FALSE(notAllowed.headers.empty());
  EXPECT_EQ(notAllowed.headers[0].first, "Allow");
}

TEST_F(ApiTest, MetricsAreInPrometheusTextFormat) {
  metrics.instancesReceived += 7;
  const auto r = get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.contentType.rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_NE(r.body.find("# TYPE annot_instances_received_total counter\nannot_instances_received_total 7\n"), std::string::npos);
  EXPECT_NE(r.body.find("annot_catalog_objects{level=\"study\"} 3"), std::string::npos);
  EXPECT_NE(r.body.find("annot_associations_active 0"), std::string::npos);
}

TEST_F(ApiTest, TokensRolesAndTheAuditTrail) {
  const std::string reader = users.addUser("reader", Role::Annotator).token;
  HttpRequest anonymous;
  anonymous.method = "GET";
  anonymous.path = "/api/v1/studies";
  const auto unauthorized = api.handle(anonymous);
  EXPECT_EQ(unauthorized.status, 401);
  EXPECT_EQ(get("/api/v1/studies", reader).status, 200);
  EXPECT_EQ(get("/api/v1/users", reader).status, 403);
  EXPECT_EQ(get("/api/v1/studies/8.1", reader).status, 200);
  EXPECT_EQ(get("/api/v1/studies", "an_1_" + std::string(64, 'f')).status, 401) << "wrong secret";
  const auto trail = json::parse(get("/api/v1/audit?verify=true&user=reader").body);
  EXPECT_TRUE(trail["verification"]["intact"].get<bool>());
  ASSERT_EQ(trail["entries"].size(), 3u);
  EXPECT_EQ(trail["entries"][0]["action"], "list-studies");
  EXPECT_EQ(trail["entries"][1]["action"], "access");
  EXPECT_EQ(trail["entries"][1]["outcome"], "denied");
  EXPECT_EQ(trail["entries"][2]["objectId"], "8.1");
  EXPECT_EQ(trail["entries"][2]["source"], "192.0.2.7");
}

TEST_F(ApiTest, TheAuditChainExposesTampering) {
  get("/api/v1/studies");
  get("/api/v1/studies/8.1");
  get("/api/v1/studies/8.2");
  audit.flush();  // views are committed in batches; this test reads the file behind the log's back
  // The database refuses edits of the trail ...
  sqlite::Database raw(dir / "state.sqlite");
  EXPECT_THROW(raw.exec("UPDATE audit SET object_id = '9.9' WHERE action = 'view-study'"), sqlite::SqliteError);
  EXPECT_THROW(raw.exec("DELETE FROM audit"), sqlite::SqliteError);
  // ... and someone who removes that guard is caught by the hash chain.
  raw.exec("DROP TRIGGER audit_no_update");
  raw.exec("UPDATE audit SET object_id = '9.9' WHERE id = 2");
  const auto v = audit.verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.firstBrokenId, 2);
}

TEST(UserStore, TokensAreSaltedSecretsShownOnce) {
  test::TempDir dir;
  StateDatabase state(dir / "state.sqlite");
  UserStore users(state);
  const IssuedToken first = users.addUser("alice", Role::Reviewer);
  const IssuedToken second = users.issueToken("alice");
  EXPECT_NE(first.token, second.token);
  EXPECT_EQ(users.authenticate(first.token)->name, "alice");
  EXPECT_EQ(users.authenticate(second.token)->role, Role::Reviewer);
  std::string tampered = first.token;
  tampered.back() = tampered.back() == 'a' ? 'b' : 'a';
  EXPECT_FALSE(users.authenticate(tampered));
  EXPECT_FALSE(users.authenticate("an_99_" + first.token.substr(first.token.rfind('_') + 1)));
  EXPECT_FALSE(users.authenticate(""));
  EXPECT_FALSE(users.authenticate("an_x_y"));
  // Nothing in the database lets anyone recover a token.
  sqlite::Database raw(dir / "state.sqlite");
  auto st = raw.prepare("SELECT group_concat(salt || hash) FROM tokens");
  st.step();
  EXPECT_EQ(st.text(0).find(first.token.substr(first.token.rfind('_') + 1)), std::string::npos);
  EXPECT_THROW(users.addUser("alice", Role::Admin), UserError);
  EXPECT_THROW(users.addUser("bad name", Role::Admin), UserError);
  EXPECT_THROW(users.issueToken("nobody"), UserError);
}

TEST_F(ApiTest, SignInGivesAnHttpOnlySessionWhoseChangesNeedItsCsrfToken) {
  const std::string token = users.addUser("rita", Role::Annotator).token;
  // The page asks first: nobody is signed in.
  auto r = call("GET", "/api/v1/session");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["signedIn"], false);
  // A wrong pairing of name and token is refused, and audited without the token.
  r = call("POST", "/api/v1/session", json{{"name", "root"}, {"token", token}}.dump());
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(header(r, "Set-Cookie").empty());
  r = call("POST", "/api/v1/session", R"({"name": "rita"})");
  EXPECT_EQ(r.status, 400);
  // A token pasted into the name field is refused and never written to the trail.
  EXPECT_EQ(call("POST", "/api/v1/session", json{{"name", token}, {"token", "x"}}.dump()).status, 401);

  r = call("POST", "/api/v1/session", json{{"name", "rita"}, {"token", token}}.dump());
  ASSERT_EQ(r.status, 201);
  const std::string setCookie = header(r, "Set-Cookie");
  EXPECT_EQ(setCookie.rfind("annot_session=", 0), 0u);
  EXPECT_NE(setCookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(setCookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(setCookie.find("Path=/;"), std::string::npos);
  EXPECT_EQ(setCookie.find("Secure"), std::string::npos) << "plain HTTP here";
  EXPECT_EQ(setCookie.find(token), std::string::npos) << "the token is not the session";
  const json session = json::parse(r.body);
  EXPECT_EQ(session["role"], "annotator");
  EXPECT_EQ(session["idleTimeoutSeconds"], 900);
  const std::string cookie = setCookie.substr(0, setCookie.find(';'));
  const std::string csrf = session["csrfToken"];

  // The cookie alone reads.
  r = call("GET", "/api/v1/tasks", "", {{"cookie", "theme=dark; " + cookie}});
  EXPECT_EQ(r.status, 200) << r.body;
  r = call("GET", "/api/v1/session", "", {{"cookie", cookie}});
  EXPECT_EQ(json::parse(r.body)["name"], "rita");
  EXPECT_EQ(json::parse(r.body)["csrfToken"], csrf) << "a reloaded page gets its CSRF token back";
  // A change needs the CSRF token too: a cookie rides along with requests other sites make.
  r = call("POST", "/api/v1/tasks/1/claim", "", {{"cookie", cookie}});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(messageOf(r).find("X-CSRF-Token"), std::string::npos);
  r = call("POST", "/api/v1/tasks/1/claim", "", {{"cookie", cookie}, {"x-csrf-token", csrf + "0"}});
  EXPECT_EQ(r.status, 403);
  r = call("POST", "/api/v1/tasks/999/claim", "", {{"cookie", cookie}, {"x-csrf-token", csrf}});
  EXPECT_EQ(r.status, 404) << "past authentication: the task does not exist";
  // Roles hold for sessions as for tokens.
  EXPECT_EQ(call("GET", "/api/v1/users", "", {{"cookie", cookie}}).status, 403);

  // Signing out ends the session at once.
  r = call("DELETE", "/api/v1/session", "", {{"cookie", cookie}, {"x-csrf-token", csrf}});
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(header(r, "Set-Cookie").find("Max-Age=0"), std::string::npos);
  r = call("GET", "/api/v1/tasks", "", {{"cookie", cookie}});
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(messageOf(r).find("sign in again"), std::string::npos);
  EXPECT_EQ(json::parse(call("GET", "/api/v1/session", "", {{"cookie", cookie}}).body)["signedIn"], false);

  // The trail has the sign-in, the refusals and the sign-out, never a secret.
  const json trail = json::parse(get("/api/v1/audit?limit=1000").body)["entries"];
  std::string actions;
  for (const auto& e : trail) actions += e["action"].get<std::string>() + "/" + e["outcome"].get<std::string>() + " ";
  EXPECT_NE(actions.find("sign-in/denied"), std::string::npos) << actions;
  EXPECT_NE(actions.find("sign-in/success"), std::string::npos) << actions;
  EXPECT_NE(actions.find("sign-out/success"), std::string::npos) << actions;
  EXPECT_EQ(trail.dump().find(token.substr(token.rfind('_') + 1)), std::string::npos);
  EXPECT_EQ(trail.dump().find(cookie.substr(cookie.find('=') + 1)), std::string::npos);
  EXPECT_EQ(trail.dump().find(csrf), std::string::npos);
}

TEST_F(ApiTest, ASessionEndsAfterItsIdleTime) {
  BrowserSettings browser;
  browser.sessions.idle = std::chrono::seconds(0);
  ApiHandler strict{catalog, metrics, users, audit, worklist, ApiInfo{"annotation-node", "test", "ANNOTNODE", "/annotation"}, browser};
  const auto [cookie, csrf] = signIn("root", admin, &strict);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(call("GET", "/api/v1/studies", "", {{"cookie", cookie}}, &strict).status, 401);
  // Under a prefix the cookie is scoped to it.
  const auto r = call("POST", "/api/v1/session", json{{"name", "root"}, {"token", admin}}.dump(), {}, &strict);
  EXPECT_NE(header(r, "Set-Cookie").find("Path=/annotation/;"), std::string::npos);
}

TEST_F(ApiTest, TheWorkstationIsServedWithItsTypesCachingAndPolicy) {
  const std::string root = dir / "ui";
  std::filesystem::create_directories(root + "/codecs");
  test::writeFile(root + "/index.html", "<!DOCTYPE html><title>w</title>");
  test::writeFile(root + "/app-5XK2QJ3D.js", "export {};");
  test::writeFile(root + "/codecs/charlswasm_decode.wasm", std::string("\0asm", 4));
  test::writeFile(dir / "secret.txt", "not for the browser");
  BrowserSettings browser;
  browser.workstationDirectory = root;
  ApiHandler served{catalog, metrics, users, audit, worklist, ApiInfo{"annotation-node", "test", "ANNOTNODE", ""}, browser};

  // "/ui" goes to the page by name, so that its relative links resolve inside the folder.
  auto r = call("GET", "/ui?study=1.2.3", "", {}, &served);
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(header(r, "Location"), "/ui/index.html?study=1.2.3");
  r = call("GET", "/ui/", "", {}, &served);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.contentType, "text/html; charset=utf-8");
  EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
  const std::string csp = header(r, "Content-Security-Policy");
  const std::string scripts = csp.substr(csp.find("script-src"), csp.find(';', csp.find("script-src")) - csp.find("script-src"));
  EXPECT_EQ(scripts, "script-src 'self' 'wasm-unsafe-eval'") << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  // Bundles named by their content are kept for a year; the rest is revalidated by ETag.
  r = call("GET", "/ui/app-5XK2QJ3D.js", "", {}, &served);
  EXPECT_EQ(r.contentType, "text/javascript; charset=utf-8");
  EXPECT_EQ(header(r, "Cache-Control"), "public, max-age=31536000, immutable");
  r = call("GET", "/ui/codecs/charlswasm_decode.wasm", "", {}, &served);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.contentType, "application/wasm");
  EXPECT_EQ(r.body.size(), 4u);
  const std::string etag = header(r, "ETag");
  ASSERT_FALSE(etag.empty());
  r = call("GET", "/ui/codecs/charlswasm_decode.wasm", "", {{"if-none-match", etag}}, &served);
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.body.empty());
  // A changed file is served anew.
  test::writeFile(root + "/codecs/charlswasm_decode.wasm", std::string("\0asm\1", 5));
  r = call("GET", "/ui/codecs/charlswasm_decode.wasm", "", {{"if-none-match", etag}}, &served);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), 5u);
  // Nothing outside the folder, nothing hidden.
  EXPECT_EQ(call("GET", "/ui/../secret.txt", "", {}, &served).status, 404);
  EXPECT_EQ(call("GET", "/ui/%2e%2e/secret.txt", "", {}, &served).status, 404);
  EXPECT_EQ(call("GET", "/ui/.hidden", "", {}, &served).status, 404);
  EXPECT_EQ(call("GET", "/ui/nothing.js", "", {}, &served).status, 404);
  // No workstation built: a clear answer saying how to get one.
  r = call("GET", "/ui/", "", {}, &api);
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(messageOf(r).find("scripts/build.sh"), std::string::npos);
}

TEST_F(ApiTest, AnEmptyQueryOrAnEmptyParameterMeansNoFilter) {
  // "tasks?" as the plugin's Orthanc hands it over gives a parameter without a name.
  HttpRequest r;
  r.method = "GET";
  r.path = "/api/v1/tasks";
  r.query.emplace("", "");
  r.headers["authorization"] = "Bearer " + admin;
  auto answer = api.handle(r);
  EXPECT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(get("/api/v1/tasks?").status, 200);
  EXPECT_EQ(get("/api/v1/tasks?&state=").status, 200);
  EXPECT_EQ(get("/api/v1/tasks?state=&priority=&dueBefore=&protocol=").status, 200);
  // A named parameter the route does not know is still an error, and so is a bad value.
  EXPECT_EQ(get("/api/v1/tasks?colour=red").status, 400);
  EXPECT_EQ(get("/api/v1/tasks?state=DONE").status, 400);
  EXPECT_EQ(get("/api/v1/tasks?priority=URGENT").status, 400);
  EXPECT_EQ(get("/api/v1/tasks?dueBefore=tomorrow").status, 400);
  EXPECT_EQ(get("/api/v1/studies?&limit=").status, 200);
}

TEST_F(ApiTest, TheMostUrgentTasksComeFirstAndCanBeNarrowedByPriorityAndDueDate) {
  test::TestInstance extra;
  extra.studyUid = "8.3";
  extra.seriesUid = "8.3.1";
  extra.sopUid = "8.3.1.1";
  catalog.addInstances({test::makeRecord(extra)});
  auto schedule = [&](const std::string& study, const std::string& priority, const std::string& due) {
    const json body = {{"study", study}, {"protocol", "chest-ct-lung-nodules"}, {"priority", priority}, {"due", due}};
    const auto r = call("POST", "/api/v1/tasks", body.dump(), {{"authorization", "Bearer " + admin}});
    ASSERT_EQ(r.status, 201) << r.body;
  };
  schedule("8.0", "MEDIUM", "2026-12-01");
  schedule("8.1", "HIGH", "2026-12-20");
  schedule("8.2", "HIGH", "2026-12-08T09:00");
  schedule("8.3", "MEDIUM", "");
  // Each study in the order its tasks are listed (two readers: two tasks each).
  auto studies = [&](const std::string& filter) {
    std::vector<std::string> out;
    const json list = json::parse(get("/api/v1/tasks?" + filter).body);
    for (const auto& t : list["tasks"]) {
      if (out.empty() || out.back() != t["studyInstanceUid"]) out.push_back(t["studyInstanceUid"]);
    }
    return out;
  };
  using List = std::vector<std::string>;
  // Priority first, then the nearest due date; a task without one after those with one.
  EXPECT_EQ(studies(""), (List{"8.2", "8.1", "8.0", "8.3"}));
  EXPECT_EQ(studies("priority=HIGH"), (List{"8.2", "8.1"}));
  EXPECT_EQ(studies("priority=LOW"), List{});
  // Due on a day, whatever the time; tasks without a due date are never due.
  EXPECT_EQ(studies("dueBefore=2026-12-08"), (List{"8.2", "8.0"}));
  EXPECT_EQ(studies("dueBefore=2026-12-07"), (List{"8.0"}));
  EXPECT_EQ(studies("dueBefore=2026-12-31&priority=MEDIUM"), (List{"8.0"}));
  EXPECT_EQ(json::parse(get("/api/v1/tasks?dueBefore=2026-12-08").body)["tasks"].size(), 4u);
  // A due date that is no date is refused when scheduling, saying what is expected.
  const auto r = call("POST", "/api/v1/tasks", json{{"study", "8.0"}, {"protocol", "chest-ct-lung-nodules"}, {"due", "soon"}}.dump(),
                      {{"authorization", "Bearer " + admin}});
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(messageOf(r).find("ISO 8601 date"), std::string::npos) << r.body;
}

TEST_F(ApiTest, TheViewerAsksForASignInAndIsToldWhereItIsMounted) {
  const std::string root = dir / "ohif";
  std::filesystem::create_directories(root);
  test::writeFile(root + "/index.html", R"(<script>window.PUBLIC_URL="%VIEWER_BASE%/"</script><script src="%VIEWER_BASE%/app.js"></script>)");
  test::writeFile(root + "/app.js", "export {};");
  BrowserSettings browser;
  browser.viewerDirectory = root;
  ApiHandler served{catalog, metrics, users, audit, worklist, ApiInfo{"annotation-node", "test", "ANNOTNODE", "/annotation"}, browser};

  // The page, under any of the viewer's own routes, is for signed-in browsers only: others sign
  // in and come back to where they were going.
  const std::vector<std::pair<std::string, std::string>> pages = {
      {"/viewer", "/annotation/viewer"},
      {"/viewer/", "/annotation/viewer"},
      {"/viewer/index.html", "/annotation/viewer/index.html"},
      {"/viewer/viewer?StudyInstanceUIDs=1.2&x=a%20b", "/annotation/viewer/viewer?StudyInstanceUIDs=1.2&x=a b"}};
  for (const auto& [page, back] : pages) {
    const auto r = call("GET", page, "", {}, &served);
    EXPECT_EQ(r.status, 302) << page;
    EXPECT_EQ(header(r, "Cache-Control"), "no-store") << page;
    const std::string location = header(r, "Location");
    ASSERT_EQ(location.rfind("/annotation/ui/index.html?next=", 0), 0u) << location;
    // The return address arrives whole, its own query included (decoded once here, once more
    // by the viewer's router).
    std::string path, next;
    std::multimap<std::string, std::string> query, nextQuery;
    ASSERT_TRUE(parseRequestTarget(location, path, query));
    ASSERT_EQ(query.count("next"), 1u) << location;
    ASSERT_TRUE(parseRequestTarget(query.find("next")->second, next, nextQuery)) << location;
    EXPECT_EQ(next + (nextQuery.empty() ? "" : "?StudyInstanceUIDs=" + nextQuery.find("StudyInstanceUIDs")->second + "&x=" + nextQuery.find("x")->second), back)
        << location;
  }
  // Signed in, a route of the application gets the page, told where the viewer is mounted.
  const auto page = call("GET", "/viewer/viewer?StudyInstanceUIDs=1.2", "", {{"authorization", "Bearer " + admin}}, &served);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.contentType, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find(R"(window.PUBLIC_URL="/annotation/viewer/")"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find(R"(src="/annotation/viewer/app.js")"), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("%VIEWER_BASE%"), std::string::npos);
  // The viewer's code is not patient data: served to anyone; a missing file stays a 404.
  EXPECT_EQ(call("GET", "/viewer/app.js", "", {}, &served).status, 200);
  EXPECT_EQ(call("GET", "/viewer/missing.js", "", {}, &served).status, 404);
}

TEST_F(ApiTest, TheOutboxIsListedForAdmins) {
  Outbox outbox{state, 1000};
  api.setOutbox(&outbox);
  outbox.enqueue("1.2.3.1", {"PACS", "ARCHIVE"});
  outbox.enqueue("1.2.3.2", {"PACS"});
  auto due = outbox.claimDue(std::numeric_limits<int64_t>::max() / 2);
  for (const auto& item : due) {
    if (item.sopInstanceUid == "1.2.3.1" && item.destination == "PACS") outbox.recordAttempt(item.id, true, "0000", "");
    if (item.sopInstanceUid == "1.2.3.2") outbox.recordAttempt(item.id, false, "", "connection refused");
  }
  auto r = get("/api/v1/outbox");
  ASSERT_EQ(r.status, 200) << r.body;
  json body = json::parse(r.body);
  // Each object counted once: 1.2.3.1 sent, 1.2.3.2 failing, none left untried.
  EXPECT_EQ(body["destinations"]["PACS"], (json{{"pending", 0}, {"failed", 1}, {"sent", 1}, {"skipped", 0}}));
  EXPECT_EQ(body["destinations"]["ARCHIVE"], (json{{"pending", 1}, {"failed", 0}, {"sent", 0}, {"skipped", 0}}));
  EXPECT_EQ(body["items"].size(), 3u);
  body = json::parse(get("/api/v1/outbox?state=failed").body);
  ASSERT_EQ(body["items"].size(), 1u);
  EXPECT_EQ(body["items"][0]["lastError"], "connection refused");
  body = json::parse(get("/api/v1/outbox?state=pending").body);
  ASSERT_EQ(body["items"].size(), 1u);
  EXPECT_EQ(body["items"][0]["destination"], "ARCHIVE");
  EXPECT_EQ(body["items"][0]["state"], "pending");
  EXPECT_EQ(get("/api/v1/outbox?state=lost").status, 400);
  const std::string reader = users.addUser("reader", Role::Annotator).token;
  EXPECT_EQ(get("/api/v1/outbox", reader).status, 403);
}

namespace {
// A path that matches a route pattern: "{}" and "*" filled with a plausible segment.
std::string pathFor(const std::string& pattern) {
  std::string path = pattern;
  for (size_t at; (at = path.find("{}")) != std::string::npos;) path.replace(at, 2, "1");
  if (!path.empty() && path.back() == '*') path.back() = 'x';
  return path;
}

std::string tokenIdOf(const std::string& token) { return token.substr(3, token.find('_', 3) - 3); }
}  // namespace

// Generated from the route table: every route that needs credentials refuses, with 401, a
// disabled user's token, a revoked token, an expired token and a session whose user was
// disabled, on the first request after the change; the expired token is told so.
TEST_F(ApiTest, EndedAccessIsRefusedOnEveryRouteAtTheNextRequest) {
  const std::string disabled = users.addUser("gone", Role::Admin).token;
  const std::string revoked = users.addUser("leaked", Role::Admin).token;
  const std::string expired = users.addUser("lapsed", Role::Admin).token;
  const std::string sessionHolder = users.addUser("browser", Role::Admin).token;
  const auto [cookie, csrf] = signIn("browser", sessionHolder);
  // Each credential works before the change.
  for (const auto& token : {disabled, revoked, expired}) EXPECT_EQ(get("/api/v1/studies", token).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/studies", "", {{"cookie", cookie}}).status, 200);

  ASSERT_EQ(call("PUT", "/api/v1/users/gone/disabled", R"({"disabled": true})", {{"authorization", "Bearer " + admin}}).status, 200);
  ASSERT_EQ(call("DELETE", "/api/v1/users/leaked/tokens/" + tokenIdOf(revoked), "", {{"authorization", "Bearer " + admin}}).status, 200);
  state.with([&](sqlite::Database& db) {
    db.prepare("UPDATE tokens SET expires_ms = ? WHERE id = ?").bind(1, nowMillis() - 1000).bind(2, std::stoll(tokenIdOf(expired))).run();
  });
  ASSERT_EQ(call("PUT", "/api/v1/users/browser/disabled", R"({"disabled": true})", {{"authorization", "Bearer " + admin}}).status, 200);

  size_t checked = 0;
  for (const auto& route : api.routeTable()) {
    if (route.roles.empty()) continue;
    const std::string path = pathFor(route.pattern);
    const std::map<std::string, std::map<std::string, std::string>> credentials = {
        {"disabled user", {{"authorization", "Bearer " + disabled}}},
        {"revoked token", {{"x-annotation-token", revoked}}},
        {"expired token", {{"authorization", "Bearer " + expired}}},
        {"disabled user's session", {{"cookie", cookie}, {"x-csrf-token", csrf}}}};
    for (const auto& [what, headers] : credentials) {
      const HttpResponse r = call(route.method, path, "{}", headers);
      EXPECT_EQ(r.status, 401) << route.method << ' ' << path << " with a " << what << ": " << r.body;
      if (what == "expired token") {
        EXPECT_NE(r.body.find("expired on"), std::string::npos) << r.body;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 4u * 30) << "every route with roles, four ways";
  // What ended each credential is in the audit trail, and no secret is.
  const json trail = json::parse(get("/api/v1/audit?limit=1000").body);
  const std::string text = trail.dump();
  for (const auto& token : {disabled, revoked, expired, sessionHolder, admin}) {
    EXPECT_EQ(text.find(token.substr(token.rfind('_') + 1)), std::string::npos) << "a secret reached the audit trail";
  }
  for (const char* action : {"\"disable-user\"", "\"revoke-token\""}) EXPECT_NE(text.find(action), std::string::npos) << action;
  EXPECT_NE(text.find("this token expired on"), std::string::npos);
  // Enabled again, the user's token works again; the revoked one never does.
  ASSERT_EQ(call("PUT", "/api/v1/users/gone/disabled", R"({"disabled": false})", {{"authorization", "Bearer " + admin}}).status, 200);
  EXPECT_EQ(get("/api/v1/studies", disabled).status, 200);
  EXPECT_EQ(get("/api/v1/studies", revoked).status, 401);
}

TEST_F(ApiTest, TokensExpireListTheirUseAndCanBeRevokedOneByOneOrAll) {
  const IssuedToken first = users.addUser("rita", Role::Annotator, 30u);
  const auto issued = call("POST", "/api/v1/users/rita/tokens", R"({"lifetimeDays": 0})", {{"authorization", "Bearer " + admin}});
  ASSERT_EQ(issued.status, 201) << issued.body;
  const json second = json::parse(issued.body);
  EXPECT_TRUE(second["expires"].is_null()) << "0 days: never expires";
  EXPECT_EQ(header(issued, "Cache-Control"), "no-store");
  EXPECT_EQ(call("POST", "/api/v1/users/rita/tokens", R"({"lifetimeDays": -1})", {{"authorization", "Bearer " + admin}}).status, 400);
  EXPECT_EQ(get("/api/v1/studies", first.token).status, 200);
  users.flushLastUse();
  const json listed = json::parse(get("/api/v1/users/rita/tokens").body);
  ASSERT_EQ(listed["tokens"].size(), 2u);
  const json& older = listed["tokens"][1];
  EXPECT_EQ(older["tokenId"], first.info.id);
  EXPECT_EQ(older["state"], "active");
  EXPECT_FALSE(older["lastUsed"].is_null()) << "its use was recorded";
  const int64_t days = (first.info.expiresMs - first.info.createdMs) / 86400000;
  EXPECT_EQ(days, 30);
  EXPECT_TRUE(listed["tokens"][0]["lastUsed"].is_null());
  // Revoking every token ends both at once.
  const auto revoked = call("DELETE", "/api/v1/users/rita/tokens", "", {{"authorization", "Bearer " + admin}});
  EXPECT_EQ(json::parse(revoked.body)["revoked"], 2);
  EXPECT_EQ(get("/api/v1/studies", first.token).status, 401);
  EXPECT_EQ(get("/api/v1/studies", second["token"]).status, 401);
  EXPECT_NE(get("/api/v1/studies", first.token).body.find("revoked"), std::string::npos);
  EXPECT_EQ(json::parse(get("/api/v1/users/rita/tokens").body)["tokens"][0]["state"], "revoked");
  EXPECT_EQ(call("DELETE", "/api/v1/users/rita/tokens/999", "", {{"authorization", "Bearer " + admin}}).status, 404);
  EXPECT_EQ(call("PUT", "/api/v1/users/root/disabled", R"({"disabled": true})", {{"authorization", "Bearer " + admin}}).status, 409)
      << "an administrator does not lock themselves out";
}

TEST_F(ApiTest, ADisabledReadersClaimedTaskGoesBackToThePoolWithItsWork) {
  // A task on the CT study of the fixture, claimed and worked on by a reader.
  const auto scheduled = call("POST", "/api/v1/tasks", json{{"study", "8.0"}, {"protocol", "chest-ct-lung-nodules"}}.dump(),
                              {{"authorization", "Bearer " + admin}});
  ASSERT_EQ(scheduled.status, 201) << scheduled.body;
  const std::string task = std::to_string(json::parse(scheduled.body)["tasks"][0]["id"].get<int>());
  const std::string reader = users.addUser("leaver", Role::Annotator).token;
  const std::string other = users.addUser("stayer", Role::Annotator).token;
  ASSERT_EQ(call("POST", "/api/v1/tasks/" + task + "/claim", "", {{"authorization", "Bearer " + reader}}).status, 200);
  EXPECT_EQ(call("POST", "/api/v1/tasks/" + task + "/claim", "", {{"authorization", "Bearer " + other}}).status, 409) << "held";
  const auto disabled = call("PUT", "/api/v1/users/leaver/disabled", R"({"disabled": true})", {{"authorization", "Bearer " + admin}});
  ASSERT_EQ(disabled.status, 200);
  EXPECT_EQ(json::parse(disabled.body)["releasedTasks"], json::array({std::stoi(task)}));
  EXPECT_EQ(call("POST", "/api/v1/tasks/" + task + "/claim", "", {{"authorization", "Bearer " + other}}).status, 200) << "claimable at once";
}

TEST_F(ApiTest, GuessingTokensOrSignInsLocksTheAddressOrTheUserForAWhile) {
  BrowserSettings settings;
  settings.throttle = ThrottleSettings{6, 3, std::chrono::seconds(600), std::chrono::seconds(600)};
  ApiHandler strict{catalog, metrics, users, audit, worklist, ApiInfo{"annotation-node", "test", "ANNOTNODE", ""}, settings};
  const std::string rita = users.addUser("rita", Role::Annotator).token;
  // A user's sign-in: three wrong tokens lock it, even with the right one afterwards.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(call("POST", "/api/v1/session", json{{"name", "rita"}, {"token", "an_1_" + std::string(64, 'a')}}.dump(), {}, &strict).status, 401);
  }
  const auto locked = call("POST", "/api/v1/session", json{{"name", "rita"}, {"token", rita}}.dump(), {}, &strict);
  EXPECT_EQ(locked.status, 429) << locked.body;
  EXPECT_NE(header(locked, "Retry-After"), "");
  // Her token still works for scripts: only sign-in by name was locked.
  EXPECT_EQ(call("GET", "/api/v1/studies", "", {{"authorization", "Bearer " + rita}}, &strict).status, 200);
  // Unknown tokens from one address: with the three failed sign-ins, the sixth failure locks
  // the address, for good tokens too.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(call("GET", "/api/v1/studies", "", {{"authorization", "Bearer guess-" + std::to_string(i)}}, &strict).status, 401);
  }
  EXPECT_EQ(call("GET", "/api/v1/studies", "", {{"authorization", "Bearer " + rita}}, &strict).status, 429);
  const json lockouts = json::parse(get("/api/v1/audit?action=lockout").body)["entries"];
  ASSERT_EQ(lockouts.size(), 2u) << lockouts.dump();
  EXPECT_EQ(lockouts.dump().find("guess-"), std::string::npos) << "no token in the trail";
  // The default handler keeps its own counts: nothing is locked there.
  EXPECT_EQ(get("/api/v1/studies", rita).status, 200);
}
