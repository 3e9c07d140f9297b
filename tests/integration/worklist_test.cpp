// The labeling worklist through the real node: stable study → tasks per reader → claim, save,
// submit → review; blinding, independent readers, leases, concurrent claims, restarts, roles.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "NodeHarness.h"
#include "Validators.h"
#include "storage/FileInstanceStore.h"
#include "support/PostgresCluster.h"

using namespace annot::test;
using nlohmann::json;

namespace {
json code(const char* value, const char* scheme, const char* meaning) {
  return {{"code", value}, {"scheme", scheme}, {"meaning", meaning}};
}

// A complete nodule annotation for the chest CT protocol on one slice.
json noduleAnnotation(const std::string& sopUid, const std::string& reader) {
  return {{"observer", {{"name", reader}}},
          {"findings", {{{"label", "nodule"},
                         {"geometry", {{"type", "ellipse"}, {"image", {{"sopInstanceUid", sopUid}}},
                                       {"points", {{10, 20}, {30, 20}, {20, 15}, {20, 25}}}}},
                         {"evaluations", {{{"concept", code("NODCOMP", "99ANNOT", "Nodule composition")}, {"value", code("SOLID", "99ANNOT", "Solid")}},
                                          {{"concept", code("LRCAT", "99ANNOT", "Lung-RADS assessment category")},
                                           {"value", code("LR3", "99ANNOT", "Lung-RADS 3: probably benign")}}}}}}},
          {"classifications", {{{"label", "emphysema"}, {"value", code("2667000", "SCT", "Absent")}}}}};
}

HttpResult as(const RunningNode& node, const std::string& token, const std::string& method, const std::string& target,
              const std::string& body = "") {
  return httpRequest(node.httpPort(), method, target, body, {{"Authorization", "Bearer " + token}});
}

std::vector<json> tasksOf(const RunningNode& node, const std::string& study) {
  const json list = node.getJson("/api/v1/tasks?study=" + study);
  return std::vector<json>(list["tasks"].begin(), list["tasks"].end());
}

}  // namespace

// A small chest CT sent to a fresh node, its first label task claimed by a reader: `task` is
// its id, `slice` one of its images.
class ClaimedChestTask : public ::testing::Test {
 protected:
  void SetUp() override {
    reader = node.addUser("reader", "annotator");
    const std::string study = generateStudy(tmp / "ct", {"--slices", "2", "--rows", "64", "--columns", "64"});
    slice = sopInstanceUidOf(listFiles(tmp / "ct", ".dcm").at(0));
    ASSERT_EQ(storescu(node.dicomPort(), {tmp / "ct"}).exitCode, 0);
    ASSERT_TRUE(eventually([&] { return tasksOf(node, study).size() == 2; })) << "no tasks for the study";
    task = std::to_string(tasksOf(node, study)[0]["id"].get<int>());
    ASSERT_EQ(as(node, reader, "POST", "/api/v1/tasks/" + task + "/claim").status, 200);
  }

  TempDir tmp;
  RunningNode node{tmp / "data", NodeSettings{1}};
  std::string reader, slice, task;
};

TEST(Worklist, AStableStudyBecomesLabeledReviewedWorkWithNothingLost) {
  TempDir tmp;
  const std::string study = generateStudy(tmp / "ct", {"--slices", "3", "--rows", "64", "--columns", "64"});
  const std::string slice = sopInstanceUidOf(listFiles(tmp / "ct", ".dcm").at(0));
  // The default lease (30 minutes): a loaded machine never lets one lapse by accident; the
  // lapse below is made by moving the lease's end into the past.
  NodeSettings settings{1, {}};
  auto node = std::make_unique<RunningNode>(tmp / "data", settings);
  const std::string ann1 = node->addUser("ann1", "annotator"), ann2 = node->addUser("ann2", "annotator");
  const std::string rev = node->addUser("rev", "reviewer"), rev2 = node->addUser("rev2", "reviewer");
  ASSERT_EQ(storescu(node->dicomPort(), {tmp / "ct"}).exitCode, 0);

  // The chest CT protocol wants two independent readers: two label tasks, once.
  ASSERT_TRUE(eventually([&] { return tasksOf(*node, study).size() == 2; })) << node->process().log();
  ASSERT_EQ(storescu(node->dicomPort(), {tmp / "ct"}).exitCode, 0);  // re-sent: stable again later
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  auto tasks = tasksOf(*node, study);
  ASSERT_EQ(tasks.size(), 2u) << "re-sending never duplicates tasks";
  const std::string a = std::to_string(tasks[0]["id"].get<int>()), b = std::to_string(tasks[1]["id"].get<int>());
  EXPECT_EQ(tasks[0]["state"], "SCHEDULED");
  EXPECT_EQ(tasks[0]["protocol"]["id"], "chest-ct-lung-nodules");

  // Many readers claim the same task at once: exactly one wins.
  std::vector<std::string> racers;
  for (int i = 0; i < 6; ++i) racers.push_back(node->addUser("racer" + std::to_string(i), "annotator"));
  std::atomic<int> won{0}, lost{0};
  std::vector<std::thread> threads;
  for (const auto& token : racers) {
    threads.emplace_back([&, token] {
      const int status = as(*node, token, "POST", "/api/v1/tasks/" + a + "/claim").status;
      (status == 200 ? won : lost)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won, 1);
  EXPECT_EQ(lost, 5);
  const std::string winner = node->getJson("/api/v1/tasks/" + a)["assignee"];
  const std::string winnerToken = racers.at(static_cast<size_t>(winner.back() - '0'));
  ASSERT_EQ(as(*node, winnerToken, "POST", "/api/v1/tasks/" + a + "/release").status, 200);

  // Reader 1: claim, a refused save that says why, two saves, revisions kept.
  ASSERT_EQ(as(*node, ann1, "POST", "/api/v1/tasks/" + a + "/claim").status, 200);
  json incomplete = noduleAnnotation(slice, "Ann^One");
  incomplete["findings"][0]["evaluations"].erase(1);
  const auto refused = as(*node, ann1, "PUT", "/api/v1/tasks/" + a + "/annotation", incomplete.dump());
  EXPECT_EQ(refused.status, 422);
  EXPECT_NE(refused.body.find("required evaluation (LRCAT"), std::string::npos) << refused.body;
  EXPECT_EQ(as(*node, ann1, "PUT", "/api/v1/tasks/" + a + "/annotation", "{").status, 422);
  json first = noduleAnnotation(slice, "Ann^One");
  ASSERT_EQ(as(*node, ann1, "PUT", "/api/v1/tasks/" + a + "/annotation", first.dump()).status, 201);
  json second = first;
  second["findings"][0]["comment"] = "second look";
  const auto saved = as(*node, ann1, "PUT", "/api/v1/tasks/" + a + "/annotation", second.dump());
  ASSERT_EQ(saved.status, 201) << saved.body;
  EXPECT_EQ(json::parse(saved.body)["revision"], 2);
  EXPECT_EQ(json::parse(as(*node, ann1, "GET", "/api/v1/tasks/" + a + "/annotation?revision=1").body)["annotation"]["findings"][0].count("comment"), 0u);
  EXPECT_EQ(json::parse(as(*node, ann1, "GET", "/api/v1/tasks/" + a + "/annotation").body)["annotation"]["findings"][0]["comment"], "second look");

  // Independent readers: reader 1 cannot take the other slot; reader 2 cannot see reader 1's work.
  EXPECT_EQ(as(*node, ann1, "POST", "/api/v1/tasks/" + b + "/claim").status, 409);
  EXPECT_EQ(as(*node, ann2, "GET", "/api/v1/tasks/" + a + "/annotation").status, 403);
  EXPECT_EQ(as(*node, ann2, "GET", "/api/v1/tasks/" + a).status, 403);
  EXPECT_EQ(as(*node, ann2, "PUT", "/api/v1/tasks/" + a + "/annotation", first.dump()).status, 409) << "not the holder";
  ASSERT_EQ(as(*node, ann2, "POST", "/api/v1/tasks/" + b + "/claim").status, 200);
  EXPECT_EQ(as(*node, ann2, "POST", "/api/v1/tasks/" + b + "/submit").status, 409) << "nothing saved yet";
  ASSERT_EQ(as(*node, ann2, "PUT", "/api/v1/tasks/" + b + "/annotation", noduleAnnotation(slice, "Ann^Two").dump()).status, 201);
  ASSERT_EQ(as(*node, ann2, "POST", "/api/v1/tasks/" + b + "/submit").status, 200);

  // A restart in the middle loses nothing.
  EXPECT_EQ(node->terminate(), 0);
  node = std::make_unique<RunningNode>(tmp / "data", settings);
  ASSERT_EQ(as(*node, ann1, "POST", "/api/v1/tasks/" + a + "/claim").status, 200) << "the holder renews the claim";
  EXPECT_EQ(json::parse(as(*node, ann1, "GET", "/api/v1/tasks/" + a).body)["revisions"], 2);
  ASSERT_EQ(as(*node, ann1, "POST", "/api/v1/tasks/" + a + "/submit").status, 200);

  // Both readers done and the protocol wants a reviewer: a review task appears.
  tasks = tasksOf(*node, study);
  ASSERT_EQ(tasks.size(), 3u);
  const json& review = tasks[2];
  EXPECT_EQ(review["step"], "review");
  const std::string r = std::to_string(review["id"].get<int>());
  EXPECT_EQ(as(*node, ann1, "POST", "/api/v1/tasks/" + r + "/claim").status, 403) << "annotators do not review";
  // Nor see a review: it names the case's readers and how far they agree.
  EXPECT_EQ(as(*node, ann1, "GET", "/api/v1/tasks/" + r).status, 403) << "blinded to the review";
  const json seenByReviewer = json::parse(as(*node, rev, "GET", "/api/v1/tasks/" + r).body);
  ASSERT_EQ(seenByReviewer["readers"].size(), 2u) << seenByReviewer.dump();
  EXPECT_TRUE(seenByReviewer["agreement"].is_object()) << "computed before the decision, once every reader submitted";
  ASSERT_EQ(as(*node, rev, "POST", "/api/v1/tasks/" + r + "/claim").status, 200);
  EXPECT_EQ(as(*node, rev2, "POST", "/api/v1/tasks/" + r + "/claim").status, 409) << "claimed";
  EXPECT_EQ(as(*node, rev, "GET", "/api/v1/tasks/" + a + "/annotation").status, 200) << "reviewers see every reader";

  // Leases lapse when a holder disappears; the pool takes the task back. Time passes: the
  // lease's end is moved into the past in the node's own database.
  stateSql(node->stateDatabase(), "UPDATE tasks SET lease_expires_ms = 1000 WHERE id = " + r + ";");
  EXPECT_EQ(as(*node, rev2, "POST", "/api/v1/tasks/" + r + "/claim").status, 200);
  EXPECT_EQ(as(*node, rev, "POST", "/api/v1/tasks/" + r + "/submit").status, 409);

  // The reviewer sends reader 1 back; the work returns to that reader, claimed for them.
  const auto rejected = as(*node, rev2, "POST", "/api/v1/tasks/" + r + "/review",
                           json{{"decision", "reject"}, {"comment", "measure the long axis again"}, {"task", std::stoi(a)}}.dump());
  ASSERT_EQ(rejected.status, 200) << rejected.body;
  EXPECT_EQ(json::parse(rejected.body)["state"], "SCHEDULED");
  const json sentBack = json::parse(as(*node, ann1, "GET", "/api/v1/tasks/" + a).body);
  EXPECT_EQ(sentBack["state"], "IN PROGRESS");
  EXPECT_EQ(sentBack["assignee"], "ann1");
  json third = noduleAnnotation(slice, "Ann^One");
  third["findings"][0]["comment"] = "remeasured";
  ASSERT_EQ(as(*node, ann1, "PUT", "/api/v1/tasks/" + a + "/annotation", third.dump()).status, 201);
  ASSERT_EQ(as(*node, ann1, "POST", "/api/v1/tasks/" + a + "/submit").status, 200);
  // Approval writes one verified SR per reader into the study.
  ASSERT_EQ(as(*node, rev2, "POST", "/api/v1/tasks/" + r + "/claim").status, 200);
  EXPECT_EQ(as(*node, rev2, "POST", "/api/v1/tasks/" + r + "/review", R"({"decision": "maybe"})").status, 422);
  EXPECT_EQ(as(*node, rev2, "POST", "/api/v1/tasks/" + r + "/review", R"({"decision": "adjudicate"})").status, 422)
      << "adjudication needs the consensus";
  json consensus = noduleAnnotation(slice, "Rev^Two");
  consensus["findings"][0]["comment"] = "consensus";
  const auto approved = as(*node, rev2, "POST", "/api/v1/tasks/" + r + "/review",
                           json{{"decision", "adjudicate"}, {"comment", "readers agree"}, {"annotation", consensus}}.dump());
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(json::parse(approved.body)["state"], "COMPLETED");
  const json withOutputs = json::parse(as(*node, rev, "GET", "/api/v1/tasks/" + a).body);
  ASSERT_EQ(withOutputs["outputs"].size(), 1u);
  EXPECT_EQ(withOutputs["outputs"][0]["revision"], 3);
  const std::string srUid = withOutputs["outputs"][0]["sopInstanceUid"];
  const json studyNow = node->getJson("/api/v1/studies/" + study);
  int srSeries = 0;
  for (const auto& s : studyNow["Series"]) srSeries += s["Modality"] == "SR";
  EXPECT_EQ(srSeries, 3) << "one SR series per reader and one for the consensus, in the source study";
  const json reviewTask = json::parse(as(*node, rev, "GET", "/api/v1/tasks/" + r).body);
  ASSERT_EQ(reviewTask["outputs"].size(), 1u);
  ASSERT_TRUE(reviewTask["agreement"].is_object()) << "agreement is recorded with the decision";
  EXPECT_EQ(reviewTask["agreement"]["regionIoUs"], json({1.0}));
  const std::string consensusPath =
      node->dataDir() + "/instances/" + annot::FileInstanceStore::keyFor(reviewTask["outputs"][0]["sopInstanceUid"]);
  const json consensusSr = json::parse(runCommand({nodeBinary(), "read-sr", consensusPath}).output);
  EXPECT_EQ(consensusSr["annotation"]["findings"][0]["comment"], "consensus");
  EXPECT_EQ(consensusSr["sr"]["verifyingObserver"], "rev2");
  const std::string srPath = node->dataDir() + "/instances/" + annot::FileInstanceStore::keyFor(srUid);
  EXPECT_TRUE(passesDciodvfy(srPath, "EnhancedSR"));
  const json sr = json::parse(runCommand({nodeBinary(), "read-sr", srPath}).output);
  EXPECT_EQ(sr["sr"]["verificationFlag"], "VERIFIED");
  EXPECT_EQ(sr["sr"]["verifyingObserver"], "rev2");
  EXPECT_EQ(sr["annotation"]["observer"]["name"], "Ann^One");
  EXPECT_EQ(sr["annotation"]["findings"][0]["comment"], "remeasured");
  EXPECT_EQ(sr["annotation"]["protocol"]["id"], "chest-ct-lung-nodules");

  // Agreement and cohort balance over the approved case: both readers drew the same nodule
  // and gave the same answer.
  const json agreement = json::parse(as(*node, rev, "GET", "/api/v1/reports/agreement?protocol=chest-ct-lung-nodules").body);
  EXPECT_EQ(agreement["casesCompared"], 1);
  EXPECT_GE(agreement["regions"]["pairs"].get<int>(), 1);
  EXPECT_DOUBLE_EQ(agreement["regions"]["meanIoU"].get<double>(), 1.0);
  ASSERT_EQ(agreement["classifications"].size(), 1u);
  EXPECT_EQ(agreement["classifications"][0]["meaning"], "Pulmonary emphysema");
  EXPECT_DOUBLE_EQ(agreement["classifications"][0]["kappa"].get<double>(), 1.0);
  const json balance = json::parse(as(*node, rev, "GET", "/api/v1/reports/balance?protocol=chest-ct-lung-nodules").body);
  EXPECT_EQ(balance["labeled"], 1);
  EXPECT_EQ(balance["pending"], 0);
  EXPECT_EQ(balance["by"]["sex"]["F"]["labeled"], 1);
  EXPECT_EQ(balance["by"]["ageBand"]["50-59"]["labeled"], 1);
  EXPECT_EQ(balance["by"]["modality"]["CT"]["labeled"], 1);
  EXPECT_EQ(balance["by"]["manufacturer"]["ACME Imaging"]["labeled"], 1);
  EXPECT_EQ(as(*node, ann1, "GET", "/api/v1/reports/balance?protocol=chest-ct-lung-nodules").status, 403);
  EXPECT_EQ(as(*node, rev, "GET", "/api/v1/reports/balance?protocol=nope").status, 400);

  // Every step is in the audit trail.
  const json trail = node->getJson("/api/v1/audit?user=ann1&limit=1000");
  std::set<std::string> actions;
  for (const auto& e : trail["entries"]) actions.insert(e["action"].get<std::string>() + ":" + e["outcome"].get<std::string>());
  for (const char* expected : {"claim:success", "save-annotation:failure", "save-annotation:success", "view-annotation:success",
                               "submit:success", "claim:failure"}) {
    EXPECT_TRUE(actions.count(expected)) << expected;
  }
}

// An approval commits with the results it owes. When they cannot be stored (here the storage is
// "full": below MinFreeDiskSpaceMB) the decision still stands and is answered as such; the
// results are written once storage is back, under the UID recorded for the first attempt, and
// exactly once. The crash campaign (bench/crash) found approvals whose results never came.
TEST(Worklist, AnApprovalWhoseResultsCannotBeStoredOwesThemAndWritesThemOnceStorageIsBack) {
  TempDir tmp;
  writeCtProtocol(tmp / "protocols", "owed", true);
  const std::string study = generateStudy(tmp / "ct", {"--slices", "2", "--rows", "64", "--columns", "64"});
  const std::string slice = sopInstanceUidOf(listFiles(tmp / "ct", ".dcm").at(0));
  const json protocols = {{"ProtocolsDirectory", tmp / "protocols"}};
  auto node = std::make_unique<RunningNode>(tmp / "data", NodeSettings{1, protocols});
  const std::string reader = node->addUser("reader", "annotator"), reviewer = node->addUser("rev", "reviewer");
  ASSERT_EQ(storescu(node->dicomPort(), {tmp / "ct"}).exitCode, 0);
  const std::string label = firstTaskOf(*node, study);
  ASSERT_EQ(as(*node, reader, "POST", "/api/v1/tasks/" + label + "/claim").status, 200);
  const json point = {{"observer", {{"name", "Reader^One"}}},
                      {"findings", {{{"label", "nodule"}, {"geometry", {{"type", "point"}, {"image", {{"sopInstanceUid", slice}}}, {"points", {{20, 30}}}}}}}}};
  ASSERT_EQ(as(*node, reader, "PUT", "/api/v1/tasks/" + label + "/annotation", point.dump()).status, 201);
  ASSERT_EQ(as(*node, reader, "POST", "/api/v1/tasks/" + label + "/submit").status, 200);
  std::string review;
  ASSERT_TRUE(eventually([&] {
    for (const auto& t : tasksOf(*node, study)) {
      if (t["step"] == "review") review = std::to_string(t["id"].get<int>());
    }
    return !review.empty();
  }));
  ASSERT_EQ(as(*node, reviewer, "POST", "/api/v1/tasks/" + review + "/claim").status, 200);

  // Storage full: the approval stands, the results are owed.
  EXPECT_EQ(node->terminate(), 0);
  json full = protocols;
  full["MinFreeDiskSpaceMB"] = 1ull << 40;
  node = std::make_unique<RunningNode>(tmp / "data", NodeSettings{1, full});
  const HttpResult approved = as(*node, reviewer, "POST", "/api/v1/tasks/" + review + "/review", R"({"decision": "approve"})");
  EXPECT_EQ(approved.status, 200) << "the decision is committed: " << approved.body;
  EXPECT_EQ(node->getJson("/api/v1/tasks/" + review)["state"], "COMPLETED");
  const json owed = node->getJson("/api/v1/tasks/" + label)["outputs"];
  ASSERT_EQ(owed.size(), 1u) << "the result's identity is recorded before it is stored: " << owed;
  EXPECT_FALSE(owed[0]["stored"].get<bool>());
  const std::string uid = owed[0]["sopInstanceUid"];
  EXPECT_NE(node->process().log().find("could not be written"), std::string::npos) << node->process().log();

  // Storage back: written at the start, under the recorded UID, once.
  EXPECT_EQ(node->terminate(), 0);
  node = std::make_unique<RunningNode>(tmp / "data", NodeSettings{1, protocols});
  ASSERT_TRUE(eventually([&] { return node->getJson("/api/v1/tasks/" + label)["outputs"][0]["stored"] == true; }))
      << node->getJson("/api/v1/tasks/" + label) << node->process().log();
  const json outputs = node->getJson("/api/v1/tasks/" + label)["outputs"];
  ASSERT_EQ(outputs.size(), 1u) << outputs;
  EXPECT_EQ(outputs[0]["sopInstanceUid"], uid);
  const HttpResult srs = node->get("/dicomweb/studies/" + study + "/instances?Modality=SR");
  ASSERT_EQ(srs.status, 200) << srs.body;
  const json found = json::parse(srs.body);
  ASSERT_EQ(found.size(), 1u) << "one SR in the study, the owed one: " << srs.body;
  EXPECT_EQ(found[0]["00080018"]["Value"][0], uid);
}

// The worklist's routes with real bodies, each role: the ones allowed succeed, the others get
// 403. (Every route of the table, generated, is the access matrix: access_matrix_test.cpp.)
TEST(Worklist, EachRoleMayUseTheWorklistRoutesItsRoleAllowsAndNoOther) {
  TempDir tmp;
  const std::string study = generateStudy(tmp / "ct", {"--slices", "1", "--rows", "32", "--columns", "32"});
  RunningNode node(tmp / "data");
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "ct"}).exitCode, 0);
  const std::map<std::string, std::string> tokens = {{"annotator", node.addUser("a", "annotator")},
                                                     {"reviewer", node.addUser("r", "reviewer")},
                                                     {"admin", node.adminToken()},
                                                     {"researcher", node.addUser("s", "researcher")}};
  struct Case {
    std::string method, target, body;
    std::set<std::string> allowed;
  };
  int userCount = 0;
  const std::vector<Case> cases = {
      {"GET", "/api/v1/studies", "", {"annotator", "reviewer", "admin"}},
      {"GET", "/api/v1/studies/" + study, "", {"annotator", "reviewer", "admin"}},
      {"GET", "/api/v1/protocols", "", {"annotator", "reviewer", "admin", "researcher"}},
      {"GET", "/api/v1/tasks", "", {"annotator", "reviewer", "admin"}},
      {"POST", "/api/v1/tasks", json{{"study", study}, {"protocol", "chest-ct-lung-nodules"}}.dump(), {"reviewer", "admin"}},
      {"GET", "/api/v1/users", "", {"admin"}},
      {"POST", "/api/v1/users", "", {"admin"}},
      {"GET", "/api/v1/audit", "", {"admin"}},
      {"GET", "/api/v1/reports/agreement?protocol=chest-ct-lung-nodules", "", {"reviewer", "admin", "researcher"}},
      {"GET", "/api/v1/reports/balance?protocol=chest-ct-lung-nodules", "", {"reviewer", "admin", "researcher"}},
  };
  for (const auto& c : cases) {
    for (const auto& [role, token] : tokens) {
      std::string body = c.body;
      if (c.target == "/api/v1/users" && c.method == "POST") body = json{{"name", "u" + std::to_string(++userCount)}, {"role", "annotator"}}.dump();
      const int status = as(node, token, c.method, c.target, body).status;
      if (c.allowed.count(role)) EXPECT_TRUE(status == 200 || status == 201) << role << " " << c.method << " " << c.target << " -> " << status;
      else EXPECT_EQ(status, 403) << role << " " << c.method << " " << c.target;
    }
    EXPECT_EQ(httpRequest(node.httpPort(), c.method, c.target, c.body).status, 401) << "anonymous " << c.target;
  }
  // Scheduling through the API is idempotent too.
  const auto again = node.request("POST", "/api/v1/tasks", json{{"study", study}, {"protocol", "chest-ct-lung-nodules"}}.dump());
  EXPECT_EQ(json::parse(again.body)["tasks"].size(), 2u);
  EXPECT_EQ(node.getJson("/api/v1/tasks?study=" + study)["tasks"].size(), 2u);
  EXPECT_EQ(node.request("POST", "/api/v1/tasks", json{{"study", study}, {"protocol", "nope"}}.dump()).status, 422);
  // A protocol can also be scheduled for one series of a study.
  const json detail = node.getJson("/api/v1/studies/" + study);
  const std::string series = detail["Series"][0]["SeriesInstanceUID"];
  const auto bySeries = node.request("POST", "/api/v1/tasks",
                                     json{{"study", study}, {"series", series}, {"protocol", "chest-ct-lung-nodules"}, {"priority", "HIGH"}}.dump());
  ASSERT_EQ(bySeries.status, 201) << bySeries.body;
  const json seriesTasks = json::parse(bySeries.body)["tasks"];
  ASSERT_EQ(seriesTasks.size(), 2u);
  EXPECT_EQ(seriesTasks[0]["seriesInstanceUid"], series);
  EXPECT_EQ(seriesTasks[0]["priority"], "HIGH");
  EXPECT_EQ(node.getJson("/api/v1/tasks?study=" + study)["tasks"][0]["priority"], "HIGH") << "high priority first";
  EXPECT_EQ(node.request("POST", "/api/v1/tasks", json{{"study", study}, {"series", "1.2.3.4"}, {"protocol", "chest-ct-lung-nodules"}}.dump()).status, 404);
  EXPECT_EQ(node.request("POST", "/api/v1/tasks", json{{"study", "1.2.3"}, {"protocol", "chest-ct-lung-nodules"}}.dump()).status, 404);
}

TEST(Worklist, MaskLabelsBecomeASegNextToTheSr) {
  TempDir tmp;
  const std::string study = generateStudy(tmp / "mr", {"--modality", "MR", "--slices", "3", "--rows", "40", "--columns", "40"});
  const std::string slice = sopInstanceUidOf(listFiles(tmp / "mr", ".dcm").at(1));
  RunningNode node(tmp / "data", NodeSettings{1, {}});
  const std::string reader = node.addUser("reader", "annotator"), reviewer = node.addUser("reviewer", "reviewer");
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "mr"}).exitCode, 0);
  std::string task;
  ASSERT_TRUE(eventually([&] {
    const json tasks = node.getJson("/api/v1/tasks?study=" + study)["tasks"];
    if (tasks.empty()) return false;
    task = std::to_string(tasks[0]["id"].get<int>());
    return tasks[0]["protocol"]["id"] == "brain-mr-lesions";
  }));
  ASSERT_EQ(as(node, reader, "POST", "/api/v1/tasks/" + task + "/claim").status, 200);
  const json lesion = {{"label", "Lesion"}, {"category", code("49755003", "SCT", "Morphologically Abnormal Structure")},
                       {"type", code("52988006", "SCT", "Lesion")}, {"color", {230, 60, 60}}};
  json doc = {{"observer", {{"name", "Reader^Rita"}}},
              {"findings", {{{"label", "lesion"},
                             {"geometry", {{"type", "polygon"}, {"image", {{"sopInstanceUid", slice}}}, {"points", {{10, 10}, {20, 10}, {15, 20}}}}},
                             {"evaluations", {{{"concept", code("ENHANCE", "99ANNOT", "Contrast enhancement")}, {"value", code("52101004", "SCT", "Present")}}}}}}},
              {"segmentation", {{"segments", {lesion}}, {"masks", {{{"segment", 1}, {"image", {{"sopInstanceUid", slice}}}, {"runs", {{410, 10}, {450, 10}, {490, 10}}}}}}}}};
  // A mask of something the protocol does not segment is refused, with the reason.
  json liver = doc;
  liver["segmentation"]["segments"][0]["type"] = code("10200004", "SCT", "Liver");
  const auto refused = as(node, reader, "PUT", "/api/v1/tasks/" + task + "/annotation", liver.dump());
  EXPECT_EQ(refused.status, 422);
  EXPECT_NE(refused.body.find("segmentation.segments[0].type"), std::string::npos) << refused.body;
  json outside = doc;
  outside["segmentation"]["masks"][0]["runs"] = {{1590, 20}};
  EXPECT_EQ(as(node, reader, "PUT", "/api/v1/tasks/" + task + "/annotation", outside.dump()).status, 422) << "mask past the image";
  ASSERT_EQ(as(node, reader, "PUT", "/api/v1/tasks/" + task + "/annotation", doc.dump()).status, 201);
  ASSERT_EQ(as(node, reader, "POST", "/api/v1/tasks/" + task + "/submit").status, 200);
  std::string review;
  const json all = node.getJson("/api/v1/tasks?study=" + study);
  for (const auto& t : all["tasks"]) {
    if (t["step"] == "review") review = std::to_string(t["id"].get<int>());
  }
  ASSERT_FALSE(review.empty()) << node.getJson("/api/v1/tasks?study=" + study).dump();
  ASSERT_EQ(as(node, reviewer, "POST", "/api/v1/tasks/" + review + "/claim").status, 200);
  ASSERT_EQ(as(node, reviewer, "POST", "/api/v1/tasks/" + review + "/review", R"({"decision": "approve"})").status, 200);

  const json outputs = node.getJson("/api/v1/tasks/" + task)["outputs"];
  ASSERT_EQ(outputs.size(), 2u);
  std::string segUid;
  for (const auto& o : outputs) {
    if (o["kind"] == "SEG") segUid = o["sopInstanceUid"];
  }
  ASSERT_FALSE(segUid.empty());
  const std::string segPath = node.dataDir() + "/instances/" + annot::FileInstanceStore::keyFor(segUid);
  EXPECT_TRUE(passesDciodvfy(segPath, "Segmentation"));
  const json seg = json::parse(runCommand({nodeBinary(), "read-seg", segPath, "--runs"}).output);
  EXPECT_EQ(seg["studyInstanceUid"], study);
  EXPECT_EQ(seg["segments"][0]["label"], "Lesion");
  EXPECT_EQ(seg["masks"][0]["image"]["sopInstanceUid"], slice);
  EXPECT_EQ(seg["masks"][0]["runs"], json({{410, 10}, {450, 10}, {490, 10}}));
  int segSeries = 0;
  const json studyNow = node.getJson("/api/v1/studies/" + study);
  for (const auto& s : studyNow["Series"]) segSeries += s["Modality"] == "SEG";
  EXPECT_EQ(segSeries, 1);
}

TEST_F(ClaimedChestTask, ADraftMayLackWhatTheProtocolRequiresButSubmittingNeedsItAll) {
  const std::string path = "/api/v1/tasks/" + task + "/annotation";

  // A nodule drawn, nothing answered: kept as a draft that lists what is missing.
  json draft = noduleAnnotation(slice, "Reader^Rita");
  draft["findings"][0].erase("evaluations");
  draft.erase("classifications");
  auto saved = as(node, reader, "PUT", path + "?draft=true", draft.dump());
  ASSERT_EQ(saved.status, 201) << saved.body;
  json body = json::parse(saved.body);
  EXPECT_EQ(body["revision"], 1);
  EXPECT_EQ(body["complete"], false);
  ASSERT_EQ(body["missing"].size(), 3u) << body["missing"].dump();
  EXPECT_NE(body["missing"].dump().find("findings[0].evaluations: required evaluation (NODCOMP"), std::string::npos);
  EXPECT_NE(body["missing"].dump().find("required classification 'emphysema'"), std::string::npos);
  // The same document is refused when saved as complete, naming every missing item.
  auto refused = as(node, reader, "PUT", path, draft.dump());
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(json::parse(refused.body)["error"]["problems"].size(), 3u);
  // Submitting a draft is refused with the same list; nothing is lost.
  refused = as(node, reader, "POST", "/api/v1/tasks/" + task + "/submit");
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("revision 1 is a draft"), std::string::npos);
  EXPECT_EQ(json::parse(refused.body)["error"]["problems"].size(), 3u);
  EXPECT_EQ(node.getJson("/api/v1/tasks/" + task)["state"], "IN PROGRESS");
  // What is present must be right, even in a draft: a wrong answer is refused there too.
  json wrong = noduleAnnotation(slice, "Reader^Rita");
  wrong["findings"][0]["evaluations"][0]["value"] = {{"code", "X"}, {"scheme", "99ANNOT"}, {"meaning", "made up"}};
  refused = as(node, reader, "PUT", path + "?draft=true", wrong.dump());
  EXPECT_EQ(refused.status, 422);
  EXPECT_NE(refused.body.find("findings[0].evaluations[0].value"), std::string::npos) << refused.body;
  // Completed, the draft becomes a complete revision that can be submitted.
  saved = as(node, reader, "PUT", path + "?draft=true&basedOn=1", noduleAnnotation(slice, "Reader^Rita").dump());
  ASSERT_EQ(saved.status, 201) << saved.body;
  EXPECT_EQ(json::parse(saved.body)["complete"], true);
  EXPECT_EQ(json::parse(saved.body)["missing"], json::array());
  const json history = node.getJson("/api/v1/tasks/" + task)["revisionHistory"];
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0]["complete"], false);
  EXPECT_EQ(history[1]["complete"], true);
  EXPECT_EQ(as(node, reader, "POST", "/api/v1/tasks/" + task + "/submit").status, 200);
}

TEST_F(ClaimedChestTask, ASaveFromAStaleEditorIsRefusedInsteadOfWinning) {
  const std::string path = "/api/v1/tasks/" + task + "/annotation?draft=true&basedOn=";
  const std::string doc = noduleAnnotation(slice, "Reader^Rita").dump();
  // Two tabs open the task with nothing saved; the first saves revision 1.
  ASSERT_EQ(as(node, reader, "PUT", path + "0", doc).status, 201);
  // The second tab still edits from "nothing saved": its save is refused and says why.
  const auto stale = as(node, reader, "PUT", path + "0", doc);
  EXPECT_EQ(stale.status, 409);
  EXPECT_NE(stale.body.find("revision 1 was saved after revision 0"), std::string::npos) << stale.body;
  EXPECT_EQ(node.getJson("/api/v1/tasks/" + task)["revisions"], 1);
  EXPECT_EQ(as(node, reader, "PUT", path + "1", doc).status, 201);
}
