// The scale-out layout: three dicom-node processes on one PostgreSQL (a private cluster) and one
// shared storage folder, a real Orthanc as the PACS. 32 readers, each a person of their own, claim,
// save and submit through whichever node they reach while one node is killed with SIGKILL and
// started again. Afterwards: no task was claimed by two readers, every acknowledged save is a
// revision, every result reached the PACS (each object once in the outbox), and the one audit
// chain the nodes wrote verifies.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "NodeHarness.h"
#include "OrthancHarness.h"
#include "support/PostgresCluster.h"

using namespace annot::test;
using nlohmann::json;

namespace {
constexpr int kStudies = 24;
constexpr int kReaders = 32;

// What one reader was told: every answer the readers got, kept for the checks at the end.
struct Ledger {
  std::mutex mutex;
  std::map<std::string, std::set<std::string>> claimedBy;  // task -> readers whose claim was acknowledged
  std::map<std::string, std::vector<std::pair<std::string, int>>> saves;  // task -> (reader, revision) acknowledged
  std::set<std::string> submitted;
  std::atomic<int> unreachable{0};
};

std::optional<HttpResult> call(const RunningNode& node, const std::string& token, const std::string& method, const std::string& target,
                               const std::string& body = "") {
  try {
    return httpRequest(node.httpPort(), method, target, body, {{"Authorization", "Bearer " + token}});
  } catch (const std::exception&) {
    return std::nullopt;  // the node is down: nothing was acknowledged
  }
}
}  // namespace

TEST(ScaleOut, ThreeNodesOnOnePostgresShareOneWorklistThroughAKillAndLoseNothing) {
  TempDir tmp;
  PostgresCluster cluster;
  const std::string database = cluster.uri("scaleout");
  RunningOrthanc pacs(tmp / "pacs");
  writeCtProtocol(tmp / "protocols", "ct-nodule", /*review=*/false);
  const json config = {{"Database", database},
                       {"DataDirectory", tmp / "shared"},
                       {"Pacs", {"ORTHANC@127.0.0.1:" + std::to_string(pacs.dicomPort())}},
                       {"ProtocolsDirectory", tmp / "protocols"},
                       {"OutboxMaxBackoffSeconds", 2},
                       // Short DIMSE timeouts: what a killed node had claimed in the outbox is
                       // another's to send once a send of it could no longer be under way.
                       {"DimseTimeout", 5},
                       {"AcseTimeout", 5}};
  std::vector<std::unique_ptr<RunningNode>> nodes;
  for (int n = 0; n < 3; ++n) nodes.push_back(std::make_unique<RunningNode>(tmp / ("node" + std::to_string(n)), NodeSettings{1, config}));

  // The modalities send to the three nodes in turn; each node indexes into the shared catalog and
  // every study's tasks are scheduled once.
  std::map<std::string, std::string> sliceOf;  // study -> an image to mark
  for (int s = 0; s < kStudies; ++s) {
    const std::string dir = tmp / ("ct" + std::to_string(s));
    const std::string study = generateStudy(dir, {"--slices", "2", "--rows", "32", "--columns", "32", "--body-part", "CHEST"});
    sliceOf[study] = sopInstanceUidOf(listFiles(dir, ".dcm").at(0));
    ASSERT_EQ(storescu(nodes[s % 3]->dicomPort(), {dir}).exitCode, 0);
  }
  // A study one node received, the others serve over DICOMweb too.
  for (const auto& node : nodes) {
    const HttpResult found = node->get("/dicomweb/studies?limit=100");
    ASSERT_EQ(found.status, 200) << found.body;
    EXPECT_EQ(json::parse(found.body).size(), static_cast<size_t>(kStudies));
  }
  ASSERT_TRUE(eventually([&] { return nodes[0]->getJson("/api/v1/tasks?limit=500")["tasks"].size() == kStudies; }, std::chrono::seconds(60)))
      << nodes[0]->getJson("/api/v1/tasks?limit=500").dump();
  for (const auto& node : nodes) {
    EXPECT_EQ(node->getJson("/api/v1/tasks?limit=500")["tasks"].size(), static_cast<size_t>(kStudies)) << "one worklist, seen by every node";
  }

  std::vector<std::string> tokens;
  for (int r = 0; r < kReaders; ++r) tokens.push_back(nodes[r % 3]->addUser("reader" + std::to_string(r), "annotator"));

  Ledger ledger;
  std::atomic<bool> killed{false};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  auto reader = [&](int r) {
    std::mt19937 random(static_cast<unsigned>(r) * 7919u + 1u);
    const std::string& token = tokens[static_cast<size_t>(r)];
    const std::string name = "reader" + std::to_string(r);
    // Each request goes to whichever node the reader reaches; one that is down is skipped.
    auto anyNode = [&](const std::string& method, const std::string& target, const std::string& body = "") -> std::optional<HttpResult> {
      for (int attempt = 0; attempt < 6; ++attempt) {
        const auto answer = call(*nodes[random() % 3], token, method, target, body);
        if (answer) return answer;
        ++ledger.unreachable;
      }
      return std::nullopt;
    };
    while (std::chrono::steady_clock::now() < deadline) {
      const auto listed = anyNode("GET", "/api/v1/tasks?state=SCHEDULED&limit=8");
      if (!listed || listed->status != 200) continue;
      const json open = json::parse(listed->body)["tasks"];
      if (open.empty()) return;  // the worklist is done
      const json task = open[random() % open.size()];
      const std::string id = std::to_string(task["id"].get<int64_t>());
      const auto claim = anyNode("POST", "/api/v1/tasks/" + id + "/claim");
      if (!claim || claim->status != 200) continue;  // another reader was faster
      {
        std::lock_guard<std::mutex> lock(ledger.mutex);
        ledger.claimedBy[id].insert(name);
      }
      const json annotation = {{"observer", {{"name", "Reader^" + name}}},
                               {"findings", {{{"label", "nodule"},
                                              {"geometry", {{"type", "point"},
                                                            {"image", {{"sopInstanceUid", sliceOf.at(task["studyInstanceUid"])}}},
                                                            {"points", {{5 + r % 20, 7}}}}}}}}};
      // A save or a submit whose answer was lost (its node killed) is tried again elsewhere.
      for (int tries = 0; tries < 5; ++tries) {
        const auto saved = anyNode("PUT", "/api/v1/tasks/" + id + "/annotation", annotation.dump());
        if (!saved) continue;
        ASSERT_EQ(saved->status, 201) << saved->body;
        std::lock_guard<std::mutex> lock(ledger.mutex);
        ledger.saves[id].emplace_back(name, json::parse(saved->body)["revision"].get<int>());
        break;
      }
      for (int tries = 0; tries < 5; ++tries) {
        const auto submitted = anyNode("POST", "/api/v1/tasks/" + id + "/submit");
        if (!submitted) continue;
        const json state = json::parse(anyNode("GET", "/api/v1/tasks/" + id).value_or(HttpResult{0, "{}", {}}).body);
        if (submitted->status == 200 || state.value("state", "") == "COMPLETED") {
          std::lock_guard<std::mutex> lock(ledger.mutex);
          ledger.submitted.insert(id);
          break;
        }
      }
    }
  };
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) readers.emplace_back(reader, r);
  // Once a third of the work is in, the second node dies without warning, and comes back.
  eventually([&] {
    std::lock_guard<std::mutex> lock(ledger.mutex);
    return ledger.submitted.size() >= kStudies / 3;
  }, std::chrono::seconds(60));
  nodes[1]->kill9();
  killed = true;
  std::this_thread::sleep_for(std::chrono::seconds(2));
  nodes[1] = std::make_unique<RunningNode>(tmp / "node1", NodeSettings{1, config});
  for (auto& t : readers) t.join();
  EXPECT_TRUE(killed);

  // Every task completed, each claimed by exactly one reader, who is its assignee.
  const json tasks = nodes[2]->getJson("/api/v1/tasks?limit=500")["tasks"];
  ASSERT_EQ(tasks.size(), static_cast<size_t>(kStudies));
  for (const auto& t : tasks) {
    const std::string id = std::to_string(t["id"].get<int64_t>());
    EXPECT_EQ(t["state"], "COMPLETED") << t.dump();
    ASSERT_EQ(ledger.claimedBy[id].size(), 1u) << "task " << id << " was claimed by more than one reader";
    EXPECT_EQ(t["assignee"], *ledger.claimedBy[id].begin());
    // Every acknowledged save is a revision of that task, by its reader.
    const json detail = nodes[0]->getJson("/api/v1/tasks/" + id);
    std::map<int, std::string> authors;
    for (const auto& rev : detail["revisionHistory"]) authors[rev["revision"].get<int>()] = rev["author"];
    ASSERT_FALSE(ledger.saves[id].empty()) << "task " << id << " completed without an acknowledged save";
    for (const auto& [who, number] : ledger.saves[id]) {
      ASSERT_TRUE(authors.count(number)) << "task " << id << " lost acknowledged revision " << number;
      EXPECT_EQ(authors[number], who);
    }
  }

  // Every result reaches the PACS: each SR in the outbox once, sent, and held by the PACS.
  std::set<std::string> results;
  for (const auto& t : tasks) {
    const json detail = nodes[0]->getJson("/api/v1/tasks/" + std::to_string(t["id"].get<int64_t>()));
    for (const auto& o : detail["outputs"]) results.insert(o["sopInstanceUid"].get<std::string>());
  }
  EXPECT_EQ(results.size(), static_cast<size_t>(kStudies)) << "one SR per completed task";
  ASSERT_TRUE(eventually([&] {
    const json destinations = nodes[0]->getJson("/api/v1/outbox")["destinations"];
    return destinations.size() == 1 && destinations.begin().value()["sent"] == results.size() &&
           destinations.begin().value()["pending"] == 0 && destinations.begin().value()["failed"] == 0;
  }, std::chrono::seconds(90))) << nodes[0]->getJson("/api/v1/outbox").dump();
  const json items = nodes[2]->getJson("/api/v1/outbox?limit=1000")["items"];
  std::multiset<std::string> queued;
  for (const auto& i : items) queued.insert(i["sopInstanceUid"].get<std::string>());
  for (const auto& sop : results) {
    EXPECT_EQ(queued.count(sop), 1u) << sop << " in the outbox " << queued.count(sop) << " times";
    EXPECT_FALSE(pacs.findInstance(sop).empty()) << sop << " did not reach the PACS";
  }
  const json pacsStats = json::parse(httpGet(pacs.httpPort(), "/statistics").body);
  EXPECT_EQ(pacsStats["CountInstances"].get<size_t>(), results.size()) << "the PACS holds the results and nothing else";

  // One audit chain, written by three nodes, verifies.
  const json verified = nodes[1]->getJson("/api/v1/audit?verify=true&limit=1");
  EXPECT_EQ(verified["verification"]["intact"], true) << verified.dump();
  EXPECT_GT(verified["verification"]["entries"].get<int64_t>(), kStudies * 3) << "claims, saves and submits of every task are in it";
  std::cout << "scale-out: " << ledger.unreachable << " requests found their node down; " << tasks.size() << " tasks, " << results.size()
            << " results sent\n";
}

// A node that grew up on SQLite moves to PostgreSQL with `dicom-node migrate`: users and their
// tokens, the worklist with a finished case and one in progress, the results already at the PACS
// and the audit chain all arrive, and the node carries on from where it stopped.
TEST(ScaleOut, ASingleNodesStateMovesToPostgresWithNothingLost) {
  TempDir tmp;
  PostgresCluster cluster;
  RunningOrthanc pacs(tmp / "pacs");
  writeCtProtocol(tmp / "protocols", "ct-nodule", /*review=*/false);
  json config = {{"Pacs", {"ORTHANC@127.0.0.1:" + std::to_string(pacs.dicomPort())}}, {"ProtocolsDirectory", tmp / "protocols"}};
  if (!testDatabaseFor(tmp / "data").empty()) config["Database"] = "";  // this one starts on SQLite whatever the pass
  auto node = std::make_unique<RunningNode>(tmp / "data", NodeSettings{1, config});
  ASSERT_EQ(node->stateDatabase(), tmp / "data/state.sqlite");
  const std::string reader = node->addUser("rita", "annotator");
  auto as = [&](const std::string& token, const std::string& method, const std::string& target, const std::string& body = "") {
    return httpRequest(node->httpPort(), method, target, body, {{"Authorization", "Bearer " + token}});
  };
  std::vector<std::string> tasks, slices;
  for (int s = 0; s < 2; ++s) {
    const std::string dir = tmp / ("ct" + std::to_string(s));
    const std::string study = generateStudy(dir, {"--slices", "2", "--rows", "32", "--columns", "32", "--body-part", "CHEST"});
    slices.push_back(sopInstanceUidOf(listFiles(dir, ".dcm").at(0)));
    ASSERT_EQ(storescu(node->dicomPort(), {dir}).exitCode, 0);
    tasks.push_back(firstTaskOf(*node, study));
  }
  auto noduleAt = [](const std::string& slice, int x) {
    return json{{"observer", {{"name", "Reader^Rita"}}},
                {"findings", {{{"label", "nodule"}, {"geometry", {{"type", "point"}, {"image", {{"sopInstanceUid", slice}}}, {"points", {{x, 9}}}}}}}}};
  };
  // One case finished (its SR at the PACS), one claimed with a saved revision.
  ASSERT_EQ(as(reader, "POST", "/api/v1/tasks/" + tasks[0] + "/claim").status, 200);
  ASSERT_EQ(as(reader, "PUT", "/api/v1/tasks/" + tasks[0] + "/annotation", noduleAt(slices[0], 11).dump()).status, 201);
  ASSERT_EQ(as(reader, "POST", "/api/v1/tasks/" + tasks[0] + "/submit").status, 200);
  ASSERT_EQ(as(reader, "POST", "/api/v1/tasks/" + tasks[1] + "/claim").status, 200);
  ASSERT_EQ(as(reader, "PUT", "/api/v1/tasks/" + tasks[1] + "/annotation", noduleAt(slices[1], 13).dump()).status, 201);
  ASSERT_TRUE(eventually([&] { return json::parse(httpGet(pacs.httpPort(), "/statistics").body)["CountInstances"] == 1; }));
  const json before = node->getJson("/api/v1/tasks?limit=100")["tasks"];
  const json auditBefore = node->getJson("/api/v1/audit?verify=true&limit=1")["verification"];
  ASSERT_EQ(auditBefore["intact"], true);
  ASSERT_EQ(node->terminate(), 0);

  const std::string database = cluster.uri("moved");
  const std::string configFile = tmp / "data.config.json";
  const CommandResult moved = runCommand({nodeBinary(), "migrate", "--to", database, "--config", configFile});
  ASSERT_EQ(moved.exitCode, 0) << moved.output;
  EXPECT_NE(moved.output.find("revisions\t2 row(s)"), std::string::npos) << moved.output;
  EXPECT_NE(moved.output.find("instances\t5 row(s)"), std::string::npos) << "the index comes along: 4 images and the SR\n" << moved.output;
  const auto verifiedAt = moved.output.find("audit chain verified on PostgreSQL: ");
  ASSERT_NE(verifiedAt, std::string::npos) << moved.output;
  // Every entry verified before the stop, and those the stop itself added (the verification's own).
  EXPECT_GT(std::stoll(moved.output.substr(verifiedAt + std::string("audit chain verified on PostgreSQL: ").size())), auditBefore["entries"].get<int64_t>()) << moved.output;
  const CommandResult again = runCommand({nodeBinary(), "migrate", "--to", database, "--config", configFile});
  EXPECT_EQ(again.exitCode, 1) << "a second copy into the same database is refused";
  EXPECT_NE(again.output.find("already holds product data"), std::string::npos) << again.output;

  config["Database"] = database;
  node = std::make_unique<RunningNode>(tmp / "data", NodeSettings{1, config});
  ASSERT_EQ(node->stateDatabase(), database);
  EXPECT_EQ(node->getJson("/api/v1/tasks?limit=100")["tasks"], before) << "the worklist as it was";
  const HttpResult studies = node->get("/dicomweb/studies");
  ASSERT_EQ(studies.status, 200) << studies.body;
  EXPECT_EQ(json::parse(studies.body).size(), 2u) << "the index as it was, served from PostgreSQL";
  const json kept = json::parse(as(reader, "GET", "/api/v1/tasks/" + tasks[1] + "/annotation").body);
  EXPECT_EQ(kept["annotation"]["findings"][0]["geometry"]["points"], json({{13, 9}})) << "the reader's token and saved work";
  ASSERT_EQ(as(reader, "POST", "/api/v1/tasks/" + tasks[1] + "/submit").status, 200) << "the claim carries on";
  ASSERT_TRUE(eventually([&] { return json::parse(httpGet(pacs.httpPort(), "/statistics").body)["CountInstances"] == 2; }));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(json::parse(httpGet(pacs.httpPort(), "/statistics").body)["CountInstances"], 2) << "what was sent before is not sent again";
  // New rows continue after the copied ones; the chain goes on and verifies.
  const std::string third = tmp / "ct2";
  const std::string study = generateStudy(third, {"--slices", "2", "--rows", "32", "--columns", "32", "--body-part", "CHEST"});
  ASSERT_EQ(storescu(node->dicomPort(), {third}).exitCode, 0);
  EXPECT_GT(std::stoll(firstTaskOf(*node, study)), std::stoll(tasks[1]));
  const json auditAfter = node->getJson("/api/v1/audit?verify=true&limit=1")["verification"];
  EXPECT_EQ(auditAfter["intact"], true) << auditAfter.dump();
  EXPECT_GT(auditAfter["entries"].get<int64_t>(), auditBefore["entries"].get<int64_t>());
}

// Two Orthancs with the labeling plugin share Orthanc's own PostgreSQL index (and one storage
// folder) and the product's PostgreSQL state: a study received by one is scheduled once, a task
// claimed through one is claimed for both, work saved through one is submitted through the other,
// and the result is in the shared archive and found by label through either.
TEST(ScaleOut, TwoOrthancsOnOrthancsPostgresIndexShareTheWorklist) {
  TempDir tmp;
  PostgresCluster cluster;
  writeCtProtocol(tmp / "protocols", "ct-nodule", /*review=*/false);
  const json orthancIndex = {{"EnableIndex", true}, {"EnableStorage", false}, {"Host", "127.0.0.1"}, {"Port", cluster.port()},
                             {"Database", "orthanc"}, {"Username", "annot"}, {"Password", ""},
                             {"Lock", false}};  // several Orthancs write the same index
  cluster.uri("orthanc");
  const std::string state = cluster.uri("labeling");
  runCommand({"mkdir", "-p", tmp / "shared-storage"});
  auto orthanc = [&](const std::string& name) {
    OrthancSettings settings{true, 1, {{"ProtocolsDirectory", tmp / "protocols"}, {"Database", state}}, {}};
    settings.extra = {{"StorageDirectory", tmp / "shared-storage"},
                      {"PostgreSQL", orthancIndex},
                      {"Plugins", {ANNOT_PLUGIN_PATH, "/usr/share/orthanc/plugins/libOrthancDicomWeb.so",
                                   "/usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so"}}};
    return std::make_unique<RunningOrthanc>(tmp / name, settings);
  };
  auto a = orthanc("orthanc-a");
  auto b = orthanc("orthanc-b");
  for (const auto* o : {a.get(), b.get()}) {
    const json system = json::parse(httpGet(o->httpPort(), "/system").body);
    ASSERT_NE(system["DatabaseBackendPlugin"].dump().find("PostgreSQLIndex"), std::string::npos) << system.dump();
  }
  const std::string admin = a->adminToken();  // made by the first plugin; the second finds users and makes none
  auto call = [&](const RunningOrthanc& o, const std::string& token, const std::string& method, const std::string& path,
                  const std::string& body = "") {
    return httpRequest(o.httpPort(), method, "/annotation" + path, body, {{"Authorization", "Bearer " + token}});
  };
  auto token = [&](const std::string& name) {
    const HttpResult r = call(*b, admin, "POST", "/api/v1/users", json{{"name", name}, {"role", "annotator"}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body).value("token", "");
  };
  const std::string rita = token("rita"), omar = token("omar");

  const std::string study = generateStudy(tmp / "ct", {"--slices", "2", "--rows", "32", "--columns", "32", "--body-part", "CHEST"});
  const std::string slice = sopInstanceUidOf(listFiles(tmp / "ct", ".dcm").at(0));
  ASSERT_EQ(storescu(a->dicomPort(), {tmp / "ct"}).exitCode, 0);
  auto tasksThrough = [&](const RunningOrthanc& o) {
    const HttpResult r = call(o, admin, "GET", "/api/v1/tasks?study=" + study);
    return r.status == 200 ? json::parse(r.body)["tasks"] : json::array();
  };
  ASSERT_TRUE(eventually([&] { return tasksThrough(*b).size() == 1; }, std::chrono::seconds(60))) << "received by A, listed by B";
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(tasksThrough(*a).size(), 1u) << "both plugins followed the change; the task exists once";
  const std::string task = std::to_string(tasksThrough(*a)[0]["id"].get<int64_t>());

  ASSERT_EQ(call(*a, rita, "POST", "/api/v1/tasks/" + task + "/claim").status, 200);
  EXPECT_EQ(call(*b, omar, "POST", "/api/v1/tasks/" + task + "/claim").status, 409) << "claimed through A is claimed for B";
  const json annotation = {{"observer", {{"name", "Reader^Rita"}}},
                           {"findings", {{{"label", "nodule"}, {"geometry", {{"type", "point"}, {"image", {{"sopInstanceUid", slice}}}, {"points", {{8, 9}}}}}}}}};
  ASSERT_EQ(call(*b, rita, "PUT", "/api/v1/tasks/" + task + "/annotation", annotation.dump()).status, 201);
  ASSERT_EQ(call(*a, rita, "POST", "/api/v1/tasks/" + task + "/submit").status, 200);

  json outputs;
  ASSERT_TRUE(eventually([&] {
    outputs = json::parse(call(*b, admin, "GET", "/api/v1/tasks/" + task).body)["outputs"];
    return outputs.size() == 1 && outputs[0]["stored"] == true;
  })) << outputs.dump();
  const std::string sr = outputs[0]["sopInstanceUid"];
  EXPECT_FALSE(a->findInstance(sr).empty());
  EXPECT_FALSE(b->findInstance(sr).empty()) << "one archive behind both";
  const HttpResult labeled = call(*b, admin, "GET", "/dicomweb/studies?annotation.status=approved");
  ASSERT_EQ(labeled.status, 200) << labeled.body;
  EXPECT_NE(labeled.body.find(study), std::string::npos) << "found by label through the other Orthanc";
  const json verified = json::parse(call(*a, admin, "GET", "/api/v1/audit?verify=true&limit=1").body)["verification"];
  EXPECT_EQ(verified["intact"], true) << verified.dump();
}

// scripts/run.sh --postgres starts its cluster with scripts/postgres-local.sh: a cluster made
// and started with no manual step, a node that keeps everything in it, and a clean stop.
TEST(ScaleOut, TheLocalClusterScriptGivesANodeItsPostgres) {
  TempDir tmp;
  // The cluster belongs to the postgres user under root: it must reach the folder.
  std::filesystem::permissions(tmp.path(), std::filesystem::perms::others_exec, std::filesystem::perm_options::add);
  const std::string script = std::string(ANNOT_TEST_SOURCE_DIR) + "/../scripts/postgres-local.sh";
  const std::map<std::string, std::string> env = {{"ANNOT_PG_DIR", tmp / "pg"}, {"ANNOT_PG_PORT", std::to_string(freePort())}};
  auto run = [&](const std::string& action) {
    std::vector<std::string> argv = {"env"};
    for (const auto& [k, v] : env) argv.push_back(k + "=" + v);
    argv.insert(argv.end(), {script, action});
    return runCommand(argv, std::chrono::seconds(120));
  };
  struct StopAtEnd {
    std::function<void()> stop;
    ~StopAtEnd() { stop(); }
  } stopAtEnd{[&] { run("stop"); }};  // a failing test leaves no server behind
  const CommandResult started = run("start");
  ASSERT_EQ(started.exitCode, 0) << started.output;
  std::string uri = started.output.substr(started.output.rfind("postgresql://"));
  while (!uri.empty() && uri.back() == '\n') uri.pop_back();
  EXPECT_EQ(run("start").exitCode, 0) << "starting again finds it running";
  {
    RunningNode node(tmp / "data", NodeSettings{1, {{"Database", uri}}});
    EXPECT_EQ(node.getJson("/healthz")["stateDatabase"]["kind"], "postgresql");
    EXPECT_EQ(node.stateDatabase(), uri);
  }
  ASSERT_EQ(run("stop").exitCode, 0);
  EXPECT_NE(runCommand({"psql", uri, "-c", "SELECT 1"}).exitCode, 0) << "stopped";
}
