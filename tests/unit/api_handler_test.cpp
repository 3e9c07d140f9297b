#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/ApiHandler.h"
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
