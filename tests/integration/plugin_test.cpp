// The Orthanc plugin, black-box: Debian's Orthanc loads the plugin and the DICOMweb plugin, gets
// studies over DICOM, and the labeling loop runs through the plugin's routes. One scenario runs
// against the standalone node and against the plugin, and their answers must agree.
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <thread>

#include "NodeHarness.h"
#include "OrthancHarness.h"
#include "Validators.h"

using namespace annot::test;
using nlohmann::json;

namespace {
// Either deployment as the scenario sees it: an HTTP port, the prefix of its routes, a DICOM
// port to send studies to, and an admin token.
struct Deployment {
  std::string name;
  uint16_t httpPort = 0;
  std::string root;  // "" for the node, "/annotation" for the plugin
  uint16_t dicomPort = 0;
  std::string adminToken;

  HttpResult call(const std::string& token, const std::string& method, const std::string& path, const std::string& body = "") const {
    return httpRequest(httpPort, method, root + path, body, {{"Authorization", "Bearer " + token}});
  }
  json get(const std::string& token, const std::string& path) const {
    const HttpResult r = call(token, "GET", path);
    if (r.status != 200) throw std::runtime_error(name + ": GET " + path + " answered " + std::to_string(r.status) + " " + r.body);
    return json::parse(r.body);
  }
  std::string addUser(const std::string& user, const std::string& role) const {
    const HttpResult r = call(adminToken, "POST", "/api/v1/users", json{{"name", user}, {"role", role}}.dump());
    if (r.status != 201) throw std::runtime_error(name + ": cannot add user " + user + ": " + r.body);
    return json::parse(r.body)["token"];
  }
};

// What differs between two runs of the same scenario by nature: times, generated UIDs of
// results, transaction UIDs, file sizes (Orthanc rewrites the meta header).
json normalized(json value) {
  static const std::set<std::string> volatileKeys = {"leaseExpiresMs", "transactionUid", "saved", "FirstReceived", "LastUpdate",
                                                     "Received", "SizeBytes", "Stable", "time", "timeMs", "trackingUid"};
  if (value.is_object()) {
    for (auto& [key, item] : value.items()) {
      if (volatileKeys.count(key)) item = "<varies>";
      else if (key == "outputs" && item.is_array()) {
        for (auto& o : item) {
          o["sopInstanceUid"] = "<generated>";
          o["seriesInstanceUid"] = "<generated>";
        }
      } else item = normalized(item);
    }
  } else if (value.is_array()) {
    for (auto& item : value) item = normalized(item);
  }
  return value;
}

// The labeling loop through the API, recorded as (step, status, normalised body) entries.
json runScenario(const Deployment& d, const std::string& studyDir, const std::string& study, const std::string& slice) {
  json transcript = json::array();
  auto record = [&](const std::string& step, const HttpResult& r, bool withBody = true) {
    json entry = {{"step", step}, {"status", r.status}};
    if (withBody) {
      const json body = json::parse(r.body, nullptr, false);
      entry["body"] = body.is_discarded() ? json(r.body) : normalized(body);
    }
    transcript.push_back(entry);
  };
  const std::string reader = d.addUser("reader", "annotator"), other = d.addUser("other", "annotator");
  const std::string reviewer = d.addUser("reviewer", "reviewer"), researcher = d.addUser("researcher", "researcher");
  if (storescu(d.dicomPort, {studyDir}).exitCode != 0) throw std::runtime_error(d.name + ": storescu failed");
  if (!eventually([&] { return d.get(d.adminToken, "/api/v1/tasks?study=" + study)["tasks"].size() == 1; }, std::chrono::seconds(40))) {
    throw std::runtime_error(d.name + ": no task was scheduled for the study");
  }
  record("list studies", d.call(reader, "GET", "/api/v1/studies?PatientID=SHARED-1"));
  record("list studies by modality and date", d.call(reader, "GET", "/api/v1/studies?Modality=CT&StudyDate=20000101-"));
  record("no study matches", d.call(reader, "GET", "/api/v1/studies?Modality=MR"));
  record("one study", d.call(reader, "GET", "/api/v1/studies/" + study));
  record("unknown study", d.call(reader, "GET", "/api/v1/studies/1.2.3.4"));
  record("bad date", d.call(reader, "GET", "/api/v1/studies?StudyDate=yesterday"));
  record("protocols", d.call(reader, "GET", "/api/v1/protocols"));
  record("tasks", d.call(reader, "GET", "/api/v1/tasks?study=" + study));
  const std::string task = std::to_string(d.get(reader, "/api/v1/tasks?study=" + study)["tasks"][0]["id"].get<int>());
  record("no token", d.call("", "GET", "/api/v1/tasks"), false);
  record("wrong role", d.call(reader, "GET", "/api/v1/users"));
  record("claim", d.call(reader, "POST", "/api/v1/tasks/" + task + "/claim"));
  record("claimed by someone else", d.call(other, "POST", "/api/v1/tasks/" + task + "/claim"));
  const json box = {{"observer", {{"name", "Reader^Rita"}}},
                    {"findings", {{{"label", "nodule"}, {"geometry", {{"type", "bbox"}, {"image", {{"sopInstanceUid", slice}}}, {"points", {{5, 5}, {20, 18}}}}}}}}};
  json wrong = box;
  wrong["findings"][0]["geometry"]["image"]["sopInstanceUid"] = "1.2.3.4.5";
  wrong["findings"][0]["label"] = "tumour";
  record("invalid annotation", d.call(reader, "PUT", "/api/v1/tasks/" + task + "/annotation", wrong.dump()));
  record("bad JSON", d.call(reader, "PUT", "/api/v1/tasks/" + task + "/annotation", "{\"findings\": ["));
  record("save", d.call(reader, "PUT", "/api/v1/tasks/" + task + "/annotation", box.dump()));
  record("read back", d.call(reader, "GET", "/api/v1/tasks/" + task + "/annotation"));
  record("submit", d.call(reader, "POST", "/api/v1/tasks/" + task + "/submit"));
  const json tasks = d.get(reviewer, "/api/v1/tasks?study=" + study)["tasks"];
  record("review task appears", d.call(reviewer, "GET", "/api/v1/tasks?study=" + study));
  const std::string review = std::to_string(tasks.back()["id"].get<int>());
  record("claim review", d.call(reviewer, "POST", "/api/v1/tasks/" + review + "/claim"));
  record("approve", d.call(reviewer, "POST", "/api/v1/tasks/" + review + "/review",
                           json{{"decision", "approve"}, {"comment", "fine"}, {"task", std::stoi(task)}}.dump()));
  record("task with its result", d.call(reviewer, "GET", "/api/v1/tasks/" + task));
  record("agreement", d.call(researcher, "GET", "/api/v1/reports/agreement?protocol=ct-review"));
  record("balance", d.call(researcher, "GET", "/api/v1/reports/balance?protocol=ct-review"));
  // The result is in the study, as a new SR series (its UIDs are new in each deployment).
  if (!eventually([&] {
        const json now = d.get(reader, "/api/v1/studies/" + study);
        for (const auto& s : now["Series"]) {
          if (s["Modality"] == "SR") return true;
        }
        return false;
      })) {
    throw std::runtime_error(d.name + ": the SR is not in the study; transcript:\n" + transcript.dump(1));
  }
  json modalities = json::array();
  const json withResult = d.get(reader, "/api/v1/studies/" + study);
  for (const auto& s : withResult["Series"]) modalities.push_back(s["Modality"]);
  transcript.push_back({{"step", "series after write-back"}, {"modalities", modalities}});
  const json audit = d.get(d.adminToken, "/api/v1/audit?verify=true");
  transcript.push_back({{"step", "audit chain"}, {"intact", audit["verification"]["intact"]}});
  return transcript;
}

void expectSameTranscripts(const json& node, const json& plugin) {
  ASSERT_EQ(node.size(), plugin.size());
  for (size_t i = 0; i < node.size(); ++i) {
    EXPECT_EQ(node[i].dump(2), plugin[i].dump(2)) << "step '" << node[i]["step"].get<std::string>() << "' differs";
  }
}

std::string orthancSeriesOfModality(const RunningOrthanc& orthanc, const std::string& studyUid, const std::string& modality) {
  const auto found = httpRequest(orthanc.httpPort(), "POST", "/tools/find",
                                 json{{"Level", "Series"}, {"Query", {{"StudyInstanceUID", studyUid}, {"Modality", modality}}}}.dump());
  const json ids = json::parse(found.body);
  return ids.empty() ? "" : ids[0].get<std::string>();
}
}  // namespace

TEST(Plugin, NodeAndPluginGiveTheSameAnswersForTheSameScenario) {
  TempDir tmp;
  writeCtProtocol(tmp / "protocols", "ct-review", true);
  const std::string study = generateStudy(tmp / "ct", {"--slices", "3", "--rows", "32", "--columns", "32", "--patient-id", "SHARED-1"});
  const std::string slice = sopInstanceUidOf(listFiles(tmp / "ct", ".dcm").at(0));

  json fromNode, fromPlugin;
  {
    RunningNode node(tmp / "node", NodeSettings{1, {{"ProtocolsDirectory", tmp / "protocols"}}});
    fromNode = runScenario({"node", node.httpPort(), "", node.dicomPort(), node.adminToken()}, tmp / "ct", study, slice);
  }
  {
    RunningOrthanc orthanc(tmp / "orthanc", OrthancSettings{true, 1, {{"ProtocolsDirectory", tmp / "protocols"}}});
    fromPlugin = runScenario({"plugin", orthanc.httpPort(), "/annotation", orthanc.dicomPort(), orthanc.adminToken()}, tmp / "ct", study,
                             slice);
  }
  // Spot checks that the scenario did what it says (so equal transcripts mean something).
  auto step = [&](const std::string& name) {
    for (const auto& e : fromNode) {
      if (e["step"] == name) return e;
    }
    throw std::runtime_error("no step " + name);
  };
  EXPECT_EQ(step("list studies")["body"]["total"], 1);
  EXPECT_EQ(step("one study")["body"]["Series"][0]["Instances"].size(), 3u);
  EXPECT_EQ(step("one study")["body"]["Series"][0]["Instances"][0]["Rows"], 32);
  EXPECT_EQ(step("no study matches")["body"]["total"], 0);
  EXPECT_EQ(step("unknown study")["status"], 404);
  EXPECT_EQ(step("bad date")["status"], 400);
  EXPECT_EQ(step("no token")["status"], 401);
  EXPECT_EQ(step("wrong role")["status"], 403);
  EXPECT_EQ(step("claimed by someone else")["status"], 409);
  EXPECT_EQ(step("invalid annotation")["status"], 422);
  EXPECT_EQ(step("invalid annotation")["body"]["error"]["problems"].size(), 2u);
  EXPECT_EQ(step("save")["status"], 201);
  EXPECT_EQ(step("approve")["body"]["state"], "COMPLETED");
  EXPECT_EQ(step("task with its result")["body"]["outputs"].size(), 1u);
  EXPECT_EQ(step("series after write-back")["modalities"], json({"CT", "SR"}));
  EXPECT_EQ(step("audit chain")["intact"], true);
  expectSameTranscripts(fromNode, fromPlugin);
}

TEST(Plugin, TheLabelingLoopRunsInsideOrthancAndSurvivesItsRestart) {
  TempDir tmp;
  writeCtProtocol(tmp / "protocols", "ct-review", true);
  RunningOrthanc pacs(tmp / "pacs");
  const json modalities = {{"PACS", {"ORTHANC", "127.0.0.1", pacs.dicomPort()}}};
  auto orthanc = std::make_unique<RunningOrthanc>(
      tmp / "orthanc", OrthancSettings{true, 1, {{"ProtocolsDirectory", tmp / "protocols"}, {"Destinations", {"modality:PACS"}}, {"OutboxMaxBackoffSeconds", 1}},
                                       {{"DicomModalities", modalities}}});
  const Deployment d{"plugin", orthanc->httpPort(), "/annotation", orthanc->dicomPort(), orthanc->adminToken()};
  const std::string reader = d.addUser("reader", "annotator"), reviewer = d.addUser("reviewer", "reviewer");
  // Orthanc Explorer links to the worklist page, which the plugin serves.
  EXPECT_NE(httpGet(orthanc->httpPort(), "/plugins/explorer.js").body.find("Labeling worklist"), std::string::npos);
  const auto page = httpGet(orthanc->httpPort(), "/annotation/ui");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("api/v1/tasks"), std::string::npos);
  // With Orthanc's own authentication in front, the token travels in X-Annotation-Token.
  EXPECT_EQ(httpRequest(orthanc->httpPort(), "GET", "/annotation/api/v1/tasks", "", {{"X-Annotation-Token", reader}}).status, 200);
  EXPECT_EQ(httpRequest(orthanc->httpPort(), "GET", "/annotation/api/v1/tasks", "", {{"X-Annotation-Token", reader + "x"}}).status, 401);
  const std::string study = generateStudy(tmp / "ct", {"--slices", "2", "--rows", "32", "--columns", "32", "--patient-id", "ORTH-1"});
  const std::string slice = sopInstanceUidOf(listFiles(tmp / "ct", ".dcm").at(0));
  ASSERT_EQ(storescu(orthanc->dicomPort(), {tmp / "ct"}).exitCode, 0);
  ASSERT_TRUE(eventually([&] { return d.get(reader, "/api/v1/tasks?study=" + study)["tasks"].size() == 1; })) << orthanc->log();
  const std::string task = std::to_string(d.get(reader, "/api/v1/tasks?study=" + study)["tasks"][0]["id"].get<int>());
  ASSERT_EQ(d.call(reader, "POST", "/api/v1/tasks/" + task + "/claim").status, 200);
  const json box = {{"observer", {{"name", "Reader^Rita"}}},
                    {"findings", {{{"label", "nodule"}, {"geometry", {{"type", "bbox"}, {"image", {{"sopInstanceUid", slice}}}, {"points", {{4, 4}, {12, 10}}}}}}}}};
  ASSERT_EQ(d.call(reader, "PUT", "/api/v1/tasks/" + task + "/annotation", box.dump()).status, 201);

  // Orthanc restarts mid-workflow: the claim and the saved revision are still there.
  orthanc->stop();
  orthanc->start();
  const json afterRestart = d.get(reader, "/api/v1/tasks/" + task);
  EXPECT_EQ(afterRestart["state"], "IN PROGRESS");
  EXPECT_EQ(afterRestart["revisions"], 1);
  ASSERT_EQ(d.call(reader, "POST", "/api/v1/tasks/" + task + "/submit").status, 200);
  const json tasks = d.get(reviewer, "/api/v1/tasks?study=" + study)["tasks"];
  ASSERT_EQ(tasks.size(), 2u);
  const std::string review = std::to_string(tasks[1]["id"].get<int>());
  ASSERT_EQ(d.call(reviewer, "POST", "/api/v1/tasks/" + review + "/claim").status, 200);
  const auto approved = d.call(reviewer, "POST", "/api/v1/tasks/" + review + "/review",
                               json{{"decision", "approve"}, {"task", std::stoi(task)}}.dump());
  ASSERT_EQ(approved.status, 200) << approved.body;

  // The SR is in Orthanc, in the source study, under the right patient, and valid.
  const json done = d.get(reviewer, "/api/v1/tasks/" + task);
  ASSERT_EQ(done["outputs"].size(), 1u);
  const std::string sr = done["outputs"][0]["sopInstanceUid"];
  const std::string srId = orthanc->findInstance(sr);
  ASSERT_FALSE(srId.empty()) << orthanc->log();
  const json parentStudy = json::parse(httpGet(orthanc->httpPort(), "/instances/" + srId + "/study").body);
  EXPECT_EQ(parentStudy["MainDicomTags"]["StudyInstanceUID"], study);
  EXPECT_EQ(parentStudy["PatientMainDicomTags"]["PatientID"], "ORTH-1");
  writeFile(tmp / "sr.dcm", orthanc->instanceFile(srId));
  const auto check = dciodvfy(tmp / "sr.dcm");
  EXPECT_EQ(check.errors, 0) << check.output;

  // Orthanc's own DICOMweb sees it: QIDO-RS lists the SR series of the study.
  const auto qido = httpGet(orthanc->httpPort(), "/dicom-web/studies/" + study + "/series");
  ASSERT_EQ(qido.status, 200) << qido.body;
  bool srSeen = false;
  for (const auto& series : json::parse(qido.body)) {
    if (series["00080060"]["Value"][0] == "SR" && series["0020000E"]["Value"][0] == done["outputs"][0]["seriesInstanceUid"]) srSeen = true;
  }
  EXPECT_TRUE(srSeen) << qido.body;

  // Forwarded once to the configured modality through the outbox.
  ASSERT_TRUE(eventually([&] { return !pacs.findInstance(sr).empty(); })) << d.get(reviewer, "/api/v1/tasks/" + task).dump();
  ASSERT_TRUE(eventually([&] { return d.get(reviewer, "/api/v1/tasks/" + task)["outputs"][0]["exports"][0]["state"] == "sent"; }));

  // Our own SR made the study change, and it became stable again: no new tasks for it.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(d.get(reviewer, "/api/v1/tasks?study=" + study)["tasks"].size(), 2u);
  EXPECT_NE(orthanc->log().find("our own result"), std::string::npos) << "the plugin recognised its own output";
  EXPECT_FALSE(orthancSeriesOfModality(*orthanc, study, "SR").empty());
}

TEST(Plugin, AStudyThatArrivedJustBeforeARestartIsStillScheduled) {
  TempDir tmp;
  writeCtProtocol(tmp / "protocols", "ct-review", true);
  // A long stable age: Orthanc stops before it would declare the study stable.
  auto orthanc = std::make_unique<RunningOrthanc>(tmp / "orthanc", OrthancSettings{true, 30, {{"ProtocolsDirectory", tmp / "protocols"}}});
  const Deployment d{"plugin", orthanc->httpPort(), "/annotation", orthanc->dicomPort(), orthanc->adminToken()};
  const std::string study = generateStudy(tmp / "ct", {"--slices", "2", "--rows", "32", "--columns", "32"});
  ASSERT_EQ(storescu(orthanc->dicomPort(), {tmp / "ct"}).exitCode, 0);
  // The plugin reads Orthanc's changes every second; give it time to see the new instances.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_TRUE(d.get(d.adminToken, "/api/v1/tasks?study=" + study)["tasks"].empty());
  orthanc->stop();
  orthanc->start();
  ASSERT_TRUE(eventually([&] { return d.get(d.adminToken, "/api/v1/tasks?study=" + study)["tasks"].size() == 1; }))
      << orthanc->log();
}

TEST(Plugin, ARefusedConfigurationStopsOrthancWithAClearMessage) {
  TempDir tmp;
  EXPECT_THROW(RunningOrthanc(tmp / "orthanc", OrthancSettings{true, 1, {{"Destinations", {"somewhere"}}}}), std::runtime_error);
  const std::string log = readFile(tmp / "orthanc/orthanc.log");
  EXPECT_NE(log.find("Destinations entry 'somewhere'"), std::string::npos) << log;
}

TEST(Plugin, MaskLabelsBecomeAValidSegInOrthanc) {
  TempDir tmp;
  auto orthanc = std::make_unique<RunningOrthanc>(tmp / "orthanc", OrthancSettings{true, 1});  // the shipped protocols
  const Deployment d{"plugin", orthanc->httpPort(), "/annotation", orthanc->dicomPort(), orthanc->adminToken()};
  const std::string reader = d.addUser("reader", "annotator"), reviewer = d.addUser("reviewer", "reviewer");
  const std::string study = generateStudy(tmp / "mr", {"--modality", "MR", "--slices", "3", "--rows", "40", "--columns", "40"});
  const std::string slice = sopInstanceUidOf(listFiles(tmp / "mr", ".dcm").at(1));
  ASSERT_EQ(storescu(orthanc->dicomPort(), {tmp / "mr"}).exitCode, 0);
  ASSERT_TRUE(eventually([&] { return d.get(reader, "/api/v1/tasks?study=" + study)["tasks"].size() == 1; })) << orthanc->log();
  const json first = d.get(reader, "/api/v1/tasks?study=" + study)["tasks"][0];
  ASSERT_EQ(first["protocol"]["id"], "brain-mr-lesions");
  const std::string task = std::to_string(first["id"].get<int>());
  ASSERT_EQ(d.call(reader, "POST", "/api/v1/tasks/" + task + "/claim").status, 200);
  const json lesion = {{"label", "Lesion"}, {"category", codedConcept("49755003", "SCT", "Morphologically Abnormal Structure")},
                       {"type", codedConcept("52988006", "SCT", "Lesion")}, {"color", {230, 60, 60}}};
  const json doc = {{"observer", {{"name", "Reader^Rita"}}},
                    {"findings", {{{"label", "lesion"},
                                   {"geometry", {{"type", "polygon"}, {"image", {{"sopInstanceUid", slice}}}, {"points", {{10, 10}, {20, 10}, {15, 20}}}}},
                                   {"evaluations", {{{"concept", codedConcept("ENHANCE", "99ANNOT", "Contrast enhancement")}, {"value", codedConcept("52101004", "SCT", "Present")}}}}}}},
                    {"segmentation", {{"segments", {lesion}}, {"masks", {{{"segment", 1}, {"image", {{"sopInstanceUid", slice}}}, {"runs", {{410, 10}, {450, 10}}}}}}}}};
  const auto saved = d.call(reader, "PUT", "/api/v1/tasks/" + task + "/annotation", doc.dump());
  ASSERT_EQ(saved.status, 201) << saved.body;
  ASSERT_EQ(d.call(reader, "POST", "/api/v1/tasks/" + task + "/submit").status, 200);
  const json all = d.get(reviewer, "/api/v1/tasks?study=" + study)["tasks"];
  const std::string review = std::to_string(all.back()["id"].get<int>());
  ASSERT_EQ(d.call(reviewer, "POST", "/api/v1/tasks/" + review + "/claim").status, 200);
  ASSERT_EQ(d.call(reviewer, "POST", "/api/v1/tasks/" + review + "/review", R"({"decision": "approve"})").status, 200);

  const json outputs = d.get(reviewer, "/api/v1/tasks/" + task)["outputs"];
  ASSERT_EQ(outputs.size(), 2u);
  for (const auto& o : outputs) {
    const std::string id = orthanc->findInstance(o["sopInstanceUid"]);
    ASSERT_FALSE(id.empty()) << o.dump();
    const std::string file = tmp / (o["kind"].get<std::string>() + ".dcm");
    writeFile(file, orthanc->instanceFile(id));
    const auto check = dciodvfy(file);
    EXPECT_EQ(check.errors, 0) << o["kind"] << "\n" << check.output;
    const json parent = json::parse(httpGet(orthanc->httpPort(), "/instances/" + id + "/study").body);
    EXPECT_EQ(parent["MainDicomTags"]["StudyInstanceUID"], study);
  }
  const json seg = json::parse(runCommand({nodeBinary(), "read-seg", tmp / "SEG.dcm", "--runs"}).output);
  EXPECT_EQ(seg["masks"][0]["image"]["sopInstanceUid"], slice);
  EXPECT_EQ(seg["masks"][0]["runs"], json({{410, 10}, {450, 10}}));
  EXPECT_FALSE(orthancSeriesOfModality(*orthanc, study, "SEG").empty());
  // Orthanc's DICOMweb lists the SEG series.
  const auto qido = httpGet(orthanc->httpPort(), "/dicom-web/studies/" + study + "/series?Modality=SEG");
  ASSERT_EQ(qido.status, 200);
  EXPECT_EQ(json::parse(qido.body).size(), 1u) << qido.body;
}
