// The Orthanc plugin, black-box: Debian's Orthanc loads the plugin and the DICOMweb plugin, gets
// studies over DICOM, and the labeling loop runs through the plugin's routes. One scenario runs
// against the standalone node and against the plugin, and their answers must agree.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <set>
#include <thread>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include "NodeHarness.h"
#include "OrthancHarness.h"
#include "Validators.h"
#include "orthanc/OrthancDicomwebSource.h"
#include "orthanc/OrthancStudyIndex.h"
#include "support/DicomFixtures.h"

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

// A QIDO-RS answer as both deployments must give it: the node answers from its index, the plugin
// through Orthanc's DICOMweb plugin, so only what PS3.18 fixes is compared (not which optional
// attributes each adds, nor the character set each declares), plus the product's label summary.
json qidoView(const HttpResult& r) {
  json view = {{"status", r.status}};
  const json body = json::parse(r.body, nullptr, false);
  if (r.status != 200 || !body.is_array()) return view;
  auto values = [](const json& item, const char* tag) {
    json out = json::array();
    if (item.contains(tag) && item[tag].contains("Value")) {
      for (const auto& v : item[tag]["Value"]) out.push_back(v.is_object() ? json(v.value("Alphabetic", "")) : v);
    }
    return out;
  };
  json items = json::array();
  for (const auto& item : body) {
    json modalities = values(item, "00080061");
    std::sort(modalities.begin(), modalities.end());
    const std::string url = values(item, "00081190").at(0);
    json entry = {{"StudyInstanceUID", values(item, "0020000D")}, {"PatientID", values(item, "00100020")},
                  {"PatientName", values(item, "00100010")}, {"Modality", values(item, "00080060")},
                  {"ModalitiesInStudy", modalities}, {"NumberOfStudyRelatedInstances", values(item, "00201208")},
                  {"RetrieveURL", url.substr(url.find("/dicomweb/"))}};
    if (item.contains("0020000E")) {
      // Series level: Orthanc repeats patient attributes there, the node does not (neither must);
      // result series have UIDs new in each run.
      entry.erase("PatientID");
      entry.erase("PatientName");
      entry["RetrieveURL"] = entry["RetrieveURL"].get<std::string>().substr(0, entry["RetrieveURL"].get<std::string>().find("/series/"));
    }
    if (item.contains("annotation")) entry["annotation"] = item["annotation"];
    items.push_back(entry);
  }
  std::sort(items.begin(), items.end(), [](const json& a, const json& b) { return a.dump() < b.dump(); });
  view["items"] = items;
  return view;
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
  // Label-aware DICOMweb search: the product's keys, the same answers from both deployments.
  auto qido = [&](const std::string& step, const std::string& token, const std::string& path) {
    transcript.push_back({{"step", step}, {"answer", qidoView(d.call(token, "GET", path))}});
  };
  qido("QIDO approved, with label summary", reader, "/dicomweb/studies?annotation.status=approved&includefield=annotation.summary");
  qido("QIDO by finding and protocol", reader, "/dicomweb/studies?annotation.finding=SCT:27925004&annotation.protocol=ct-review");
  qido("QIDO by finding and a standard key", reader, "/dicomweb/studies?annotation.finding=27925004&PatientID=SHARED-1");
  qido("QIDO by finding, other patient", reader, "/dicomweb/studies?annotation.finding=27925004&PatientID=OTHER");
  qido("QIDO by reader count", reader, "/dicomweb/studies?annotation.readers=2");
  qido("QIDO starting with '&'", reader, "/dicomweb/studies?&PatientID=SHARED-1");
  qido("QIDO series of labeled studies", reader, "/dicomweb/studies/" + study + "/series?annotation.status=approved");
  qido("QIDO unknown label key", reader, "/dicomweb/studies?annotation.colour=red");
  // OHIF v3's series query names attributes neither index holds: answered, not refused.
  qido("QIDO series as OHIF asks", reader, "/dicomweb/studies/" + study + "/series?includefield=00080021,00080031,0008103E,00200011");
  qido("QIDO with a key the index cannot match", reader, "/dicomweb/studies?PatientID=SHARED-1&OtherPatientIDs=X");
  qido("QIDO without a token", "", "/dicomweb/studies?annotation.status=approved");
  // The researcher's view is de-identified in both: pseudonym, remapped UIDs, no name.
  const HttpResult deid = d.call(researcher, "GET", "/dicomweb/studies?annotation.status=approved&includefield=annotation.summary");
  const json deidBody = json::parse(deid.body, nullptr, false);
  if (deid.status != 200 || !deidBody.is_array() || deidBody.size() != 1) throw std::runtime_error(d.name + ": researcher search: " + deid.body);
  const json seen = deidBody[0];
  const std::string shownStudy = seen["0020000D"]["Value"][0], shownId = seen["00100020"]["Value"][0];
  const HttpResult deidMetadata = d.call(researcher, "GET", "/dicomweb/studies/" + shownStudy + "/metadata");
  transcript.push_back({{"step", "QIDO researcher view"},
                        {"status", deid.status},
                        {"pseudonym", shownId.rfind("ANON-", 0) == 0},
                        {"study UID remapped", shownStudy.rfind("2.25.", 0) == 0 && shownStudy != study},
                        {"deidentified flag", seen["00120062"]["Value"][0]},
                        {"annotation", seen["annotation"]},
                        {"metadata status", deidMetadata.status},
                        {"identity in metadata", deidMetadata.body.find("SHARED-1") != std::string::npos ||
                                                     deidMetadata.body.find(study) != std::string::npos},
                        {"instances in metadata", json::parse(deidMetadata.body, nullptr, false).size()}});
  const HttpResult retrieved = d.call(reader, "GET", "/dicomweb/studies/" + study + "/series/" + seriesInstanceUidOf(listFiles(studyDir, ".dcm").at(0)) + "/instances/" + slice);
  transcript.push_back({{"step", "WADO-RS instance"},
                        {"status", retrieved.status},
                        {"multipart", retrieved.body.find("Content-Type: application/dicom") != std::string::npos},
                        {"Part 10", retrieved.body.find("DICM") != std::string::npos}});
  // A path segment that is not a UID names nothing in either deployment (Orthanc's find would
  // take "*" as a pattern matching every study).
  const HttpResult wildcard = d.call(reader, "GET", "/dicomweb/studies/*/series/*/instances/*");
  const HttpResult wildcardSearch = d.call(reader, "GET", "/dicomweb/studies/*/series");
  transcript.push_back({{"step", "paths with wildcards"},
                        {"retrieve status", wildcard.status},
                        {"search status", wildcardSearch.status},
                        {"search answer", json::parse(wildcardSearch.body, nullptr, false)}});
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
  // A failed query has no items: it must not pass for "no results".
  auto results = [&](const std::string& name) -> size_t {
    const json answer = step(name)["answer"];
    EXPECT_EQ(answer["status"], 200) << name;
    return answer.contains("items") ? answer["items"].size() : SIZE_MAX;
  };
  const json approved = step("QIDO approved, with label summary")["answer"];
  ASSERT_EQ(results("QIDO approved, with label summary"), 1u);
  EXPECT_EQ(approved["items"][0]["StudyInstanceUID"][0], study);
  EXPECT_EQ(approved["items"][0]["ModalitiesInStudy"], json({"CT", "SR"}));
  EXPECT_EQ(approved["items"][0]["annotation"]["approved"], true);
  EXPECT_EQ(approved["items"][0]["annotation"]["findings"], json({"SCT:27925004"}));
  EXPECT_EQ(results("QIDO by finding and protocol"), 1u);
  EXPECT_EQ(results("QIDO by finding and a standard key"), 1u);
  EXPECT_EQ(results("QIDO by finding, other patient"), 0u);
  EXPECT_EQ(results("QIDO by reader count"), 0u);
  EXPECT_EQ(results("QIDO starting with '&'"), 1u);
  EXPECT_EQ(results("QIDO series of labeled studies"), 2u);
  EXPECT_EQ(step("QIDO unknown label key")["answer"]["status"], 400);
  EXPECT_EQ(step("QIDO without a token")["answer"]["status"], 401);
  EXPECT_EQ(step("QIDO researcher view")["pseudonym"], true);
  EXPECT_EQ(step("QIDO researcher view")["study UID remapped"], true);
  EXPECT_EQ(step("QIDO researcher view")["metadata status"], 200);
  EXPECT_EQ(step("QIDO researcher view")["identity in metadata"], false);
  EXPECT_EQ(step("QIDO researcher view")["instances in metadata"], 4);
  EXPECT_EQ(step("WADO-RS instance")["status"], 200);
  EXPECT_EQ(step("WADO-RS instance")["Part 10"], true);
  EXPECT_EQ(step("paths with wildcards")["retrieve status"], 404);
  EXPECT_EQ(step("paths with wildcards")["search status"], 200);
  EXPECT_EQ(step("paths with wildcards")["search answer"], json::array());
  expectSameTranscripts(fromNode, fromPlugin);
}

TEST(Plugin, TheLabelingLoopRunsInsideOrthancAndSurvivesItsRestart) {
  TempDir tmp;
  writeCtProtocol(tmp / "protocols", "ct-review", true);
  RunningOrthanc pacs(tmp / "pacs");
  RunningOrthanc research(tmp / "research");  // reached over HTTP as an Orthanc peer
  const json modalities = {{"PACS", {"ORTHANC", "127.0.0.1", pacs.dicomPort()}}};
  const json peers = {{"research", {{"Url", "http://127.0.0.1:" + std::to_string(research.httpPort()) + "/"}}}};
  auto orthanc = std::make_unique<RunningOrthanc>(
      tmp / "orthanc", OrthancSettings{true, 1,
                                       {{"ProtocolsDirectory", tmp / "protocols"}, {"Destinations", {"modality:PACS", "peer:research"}},
                                        {"OutboxMaxBackoffSeconds", 1}},
                                       {{"DicomModalities", modalities}, {"OrthancPeers", peers}}});
  const Deployment d{"plugin", orthanc->httpPort(), "/annotation", orthanc->dicomPort(), orthanc->adminToken()};
  const std::string reader = d.addUser("reader", "annotator"), reviewer = d.addUser("reviewer", "reviewer");
  // Orthanc Explorer links to the worklist page, which the plugin serves.
  EXPECT_NE(httpGet(orthanc->httpPort(), "/plugins/explorer.js").body.find("Labeling worklist"), std::string::npos);
  const auto entry = httpGet(orthanc->httpPort(), "/annotation/ui");
  EXPECT_EQ(entry.status, 302);
  EXPECT_EQ(entry.headers.count("location") ? entry.headers.at("location") : "", "/annotation/ui/index.html");
  const auto page = httpGet(orthanc->httpPort(), "/annotation/ui/index.html");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Labeling workstation"), std::string::npos);
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
  EXPECT_TRUE(passesDciodvfy(tmp / "sr.dcm", "EnhancedSR"));

  // Orthanc's own DICOMweb sees it: QIDO-RS lists the SR series of the study.
  const auto qido = httpGet(orthanc->httpPort(), "/dicom-web/studies/" + study + "/series");
  ASSERT_EQ(qido.status, 200) << qido.body;
  bool srSeen = false;
  for (const auto& series : json::parse(qido.body)) {
    if (series["00080060"]["Value"][0] == "SR" && series["0020000E"]["Value"][0] == done["outputs"][0]["seriesInstanceUid"]) srSeen = true;
  }
  EXPECT_TRUE(srSeen) << qido.body;

  // Forwarded once to each destination through the outbox: the modality by C-STORE (Orthanc's
  // /modalities), the peer over HTTP (Orthanc's /peers).
  ASSERT_TRUE(eventually([&] { return !pacs.findInstance(sr).empty(); })) << d.get(reviewer, "/api/v1/tasks/" + task).dump();
  ASSERT_TRUE(eventually([&] { return !research.findInstance(sr).empty(); })) << d.get(reviewer, "/api/v1/tasks/" + task).dump();
  ASSERT_TRUE(eventually([&] {
    const json exports = d.get(reviewer, "/api/v1/tasks/" + task)["outputs"][0]["exports"];
    return exports.size() == 2 && exports[0]["state"] == "sent" && exports[1]["state"] == "sent";
  })) << d.get(reviewer, "/api/v1/tasks/" + task).dump();

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
  const json doc = maskedLesionAnnotation(slice);
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
    EXPECT_TRUE(passesDciodvfy(file, o["kind"] == "SR" ? "EnhancedSR" : "Segmentation")) << o["kind"];
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

// A modality that does not take every result class, asked by association negotiation before
// Orthanc is told to send (storescp limited to MR and Comprehensive SR, as an older PACS): the SEG
// is held with the reason, then skipped once ResultFallback says so; the Enhanced SR is held,
// because Orthanc sends only what it stores and the plugin makes no Comprehensive SR copy.
TEST(Plugin, AModalityThatLacksSegAndEnhancedSrGetsThemHeldOrSkipped) {
  TempDir tmp;
  const uint16_t oldPort = freePort();
  const auto oldPacs = startLimitedPacs(tmp / "old", "OLDPACS", oldPort);
  const json modalities = {{"DicomModalities", {{"old", {"OLDPACS", "127.0.0.1", oldPort}}}}};
  auto orthanc = std::make_unique<RunningOrthanc>(
      tmp / "orthanc", OrthancSettings{true, 1, {{"Destinations", {"modality:old"}}, {"OutboxMaxBackoffSeconds", 1}}, modalities});
  Deployment d{"plugin", orthanc->httpPort(), "/annotation", orthanc->dicomPort(), orthanc->adminToken()};
  const std::string reader = d.addUser("reader", "annotator"), reviewer = d.addUser("reviewer", "reviewer");
  const std::string study = generateStudy(tmp / "mr", {"--modality", "MR", "--slices", "3", "--rows", "40", "--columns", "40"});
  const std::string slice = sopInstanceUidOf(listFiles(tmp / "mr", ".dcm").at(1));
  ASSERT_EQ(storescu(orthanc->dicomPort(), {tmp / "mr"}).exitCode, 0);
  ASSERT_TRUE(eventually([&] { return d.get(reader, "/api/v1/tasks?study=" + study)["tasks"].size() == 1; })) << orthanc->log();
  const std::string task = std::to_string(d.get(reader, "/api/v1/tasks?study=" + study)["tasks"][0]["id"].get<int>());
  ASSERT_EQ(d.call(reader, "POST", "/api/v1/tasks/" + task + "/claim").status, 200);
  ASSERT_EQ(d.call(reader, "PUT", "/api/v1/tasks/" + task + "/annotation", maskedLesionAnnotation(slice).dump()).status, 201);
  ASSERT_EQ(d.call(reader, "POST", "/api/v1/tasks/" + task + "/submit").status, 200);
  const json all = d.get(reviewer, "/api/v1/tasks?study=" + study)["tasks"];
  const std::string review = std::to_string(all.back()["id"].get<int>());
  ASSERT_EQ(d.call(reviewer, "POST", "/api/v1/tasks/" + review + "/claim").status, 200);
  ASSERT_EQ(d.call(reviewer, "POST", "/api/v1/tasks/" + review + "/review", R"({"decision": "approve"})").status, 200);
  std::map<std::string, std::string> uidOf;  // kind -> SOP Instance UID
  const json outputs = d.get(reviewer, "/api/v1/tasks/" + task)["outputs"];
  for (const auto& o : outputs) uidOf[o["kind"]] = o["sopInstanceUid"];
  ASSERT_EQ(uidOf.size(), 2u) << outputs;
  auto itemOf = [&](const std::string& kind) {
    const json items = d.get(d.adminToken, "/api/v1/outbox?limit=100")["items"];
    for (const auto& item : items) {
      if (item["sopInstanceUid"] == uidOf[kind]) return item;
    }
    return json();
  };
  ASSERT_TRUE(eventually([&] { return itemOf("SEG").value("attempts", 0) >= 1 && itemOf("SR").value("attempts", 0) >= 1; }))
      << d.get(d.adminToken, "/api/v1/outbox");
  EXPECT_EQ(itemOf("SEG")["state"], "failed");
  EXPECT_NE(itemOf("SEG")["lastError"].get<std::string>().find("does not accept SegmentationStorage"), std::string::npos) << itemOf("SEG");
  EXPECT_EQ(itemOf("SR")["state"], "failed");
  EXPECT_NE(itemOf("SR")["lastError"].get<std::string>().find("cannot send a Comprehensive SR copy"), std::string::npos) << itemOf("SR");
  EXPECT_TRUE(listFiles(tmp / "old", "").empty()) << "nothing the old PACS refuses was sent to it";

  orthanc.reset();
  orthanc = std::make_unique<RunningOrthanc>(
      tmp / "orthanc", OrthancSettings{true, 1,
                                       {{"Destinations", {"modality:old"}}, {"OutboxMaxBackoffSeconds", 1},
                                        {"ResultFallback", {{"Segmentation", "skip"}}}},
                                       modalities});
  d.httpPort = orthanc->httpPort();  // a new configuration, new ports; the same storage and users
  ASSERT_TRUE(eventually([&] { return itemOf("SEG").value("state", "") == "skipped"; })) << d.get(d.adminToken, "/api/v1/outbox");
  const json counts = d.get(d.adminToken, "/api/v1/outbox")["destinations"]["modality:old"];
  EXPECT_EQ(counts["skipped"], 1) << counts;
  EXPECT_EQ(counts["sent"], 0) << counts;
}

// What OHIF does against the plugin's DICOMweb root: search, read metadata, and save measurements
// as an SR with STOW-RS, which becomes the reader's next revision inside Orthanc.
TEST(Plugin, DicomwebClientSearchesRetrievesAndStoresAnSrRevisionInsideOrthanc) {
  TempDir tmp;
  writeCtProtocol(tmp / "protocols", "ct-quick", false);
  RunningOrthanc orthanc(tmp / "orthanc", OrthancSettings{true, 1, {{"ProtocolsDirectory", tmp / "protocols"}}});
  const Deployment d{"plugin", orthanc.httpPort(), "/annotation", orthanc.dicomPort(), orthanc.adminToken()};
  const std::string reader = d.addUser("reader", "annotator");
  const std::string study = generateStudy(tmp / "ct", {"--slices", "2", "--rows", "32", "--columns", "32", "--patient-id", "OHIF-1"});
  const std::string slice = sopInstanceUidOf(listFiles(tmp / "ct", ".dcm").at(0));
  ASSERT_EQ(storescu(orthanc.dicomPort(), {tmp / "ct"}).exitCode, 0);
  ASSERT_TRUE(eventually([&] { return d.get(reader, "/api/v1/tasks?study=" + study)["tasks"].size() == 1; })) << orthanc.log();
  const std::string task = std::to_string(d.get(reader, "/api/v1/tasks?study=" + study)["tasks"][0]["id"].get<int>());
  const std::string url = "http://127.0.0.1:" + std::to_string(orthanc.httpPort()) + "/annotation/dicomweb";

  const json found = dicomwebClient(url, reader, "searchForStudies", {{"queryParams", {{"PatientID", "OHIF-1"}}}});
  ASSERT_EQ(found.size(), 1u) << found.dump();
  EXPECT_EQ(found[0]["0020000D"]["Value"][0], study);
  EXPECT_EQ(found[0]["00081190"]["Value"][0], url + "/studies/" + study);
  const json inProgress = dicomwebClient(url, reader, "searchForStudies", {{"queryParams", {{"annotation.status", "in-progress"}}}});
  EXPECT_EQ(inProgress.size(), 1u) << inProgress.dump();
  const json metadata = dicomwebClient(url, reader, "retrieveStudyMetadata", {{"studyInstanceUID", study}});
  ASSERT_EQ(metadata.size(), 2u) << metadata.dump().substr(0, 500);
  EXPECT_EQ(metadata[0]["00100020"]["Value"][0], "OHIF-1");

  // Measurements saved by the reader holding the claim: stored in Orthanc, and revision 1.
  ASSERT_EQ(d.call(reader, "POST", "/api/v1/tasks/" + task + "/claim").status, 200);
  const json point = {{"observer", {{"name", "Reader^Rita"}}},
                      {"findings", {{{"finding", codedConcept("27925004", "SCT", "Nodule")},
                                     {"geometry", {{"type", "point"}, {"image", {{"sopInstanceUid", slice}}}, {"points", {{8, 9}}}}}}}}};
  writeFile(tmp / "doc.json", point.dump());
  const auto made = runCommand({nodeBinary(), "make-sr", "--annotation", tmp / "doc.json", "--images", tmp / "ct", "--out", tmp / "sr.dcm"});
  ASSERT_EQ(made.exitCode, 0) << made.output;
  const json stored = dicomwebClient(url, reader, "storeInstances", json::object(), {tmp / "sr.dcm"});
  ASSERT_TRUE(stored.contains("00081199")) << stored.dump();
  ASSERT_TRUE(stored.contains("annotation")) << stored.dump();
  EXPECT_EQ(stored["annotation"][0]["revision"], 1);
  EXPECT_FALSE(orthanc.findInstance(sopInstanceUidOf(tmp / "sr.dcm")).empty());
  EXPECT_EQ(d.get(reader, "/api/v1/tasks/" + task)["revisions"], 1);
  EXPECT_EQ(d.get(reader, "/api/v1/tasks/" + task + "/annotation")["annotation"]["findings"][0]["geometry"]["points"], json({{8, 9}}));
  // Not DICOM: refused per part, nothing stored, Orthanc still answering.
  const auto refused = httpRequest(orthanc.httpPort(), "POST", "/annotation/dicomweb/studies",
                                   "--b\r\nContent-Type: application/dicom\r\n\r\nnot dicom\r\n--b--\r\n",
                                   {{"Authorization", "Bearer " + reader}, {"Content-Type", "multipart/related; type=\"application/dicom\"; boundary=b"}});
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("00081198"), std::string::npos) << refused.body;  // Failed SOP Sequence
  // DICOM without a Study Instance UID: refused as the node refuses it (A900, the data set does
  // not match its SOP class), before Orthanc sees it.
  TestInstance noStudy = instanceIn(study, "1.2.826.0.1.3680043.10.77.1", "1.2.826.0.1.3680043.10.77.1.1");
  noStudy.omitStudyUid = true;
  writeTestInstance(tmp / "nostudy.dcm", noStudy);
  const auto incomplete = httpRequest(orthanc.httpPort(), "POST", "/annotation/dicomweb/studies",
                                      "--b\r\nContent-Type: application/dicom\r\n\r\n" + readFile(tmp / "nostudy.dcm") + "\r\n--b--\r\n",
                                      {{"Authorization", "Bearer " + reader}, {"Content-Type", "multipart/related; type=\"application/dicom\"; boundary=b"}});
  EXPECT_EQ(incomplete.status, 409) << incomplete.body;
  const json failed = json::parse(incomplete.body, nullptr, false);
  ASSERT_TRUE(failed.is_object() && failed.contains("00081198")) << incomplete.body;
  EXPECT_EQ(failed["00081198"]["Value"][0]["00081197"]["Value"][0], 0xA900) << incomplete.body;
  EXPECT_TRUE(orthanc.findInstance("1.2.826.0.1.3680043.10.77.1.1").empty());
  EXPECT_EQ(d.get(reader, "/api/v1/studies/" + study)["Series"].size(), 2u) << "CT and the stored SR, nothing else";
}

TEST(Plugin, SearchesWithoutOrthancsDicomwebPluginAreRefusedClearly) {
  TempDir tmp;
  RunningOrthanc orthanc(tmp / "orthanc", OrthancSettings{true, 1, json::object(), {{"Plugins", {ANNOT_PLUGIN_PATH}}}});
  const Deployment d{"plugin", orthanc.httpPort(), "/annotation", orthanc.dicomPort(), orthanc.adminToken()};
  const HttpResult r = d.call(d.adminToken, "GET", "/dicomweb/studies?PatientID=X");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.body.find("orthanc-dicomweb"), std::string::npos) << r.body;
  EXPECT_EQ(d.call(d.adminToken, "GET", "/api/v1/studies").status, 200) << "the rest of the API is unaffected";
}

namespace {
// Orthanc's REST API over HTTP, counting the per-instance metadata reads.
class CountingRest : public annot::OrthancRest {
 public:
  explicit CountingRest(uint16_t port) : port_(port) {}
  annot::RestAnswer call(const std::string& method, const std::string& uri, const std::string& body) override {
    if (uri.find("/metadata") != std::string::npos) ++metadataReads;
    if (method == "GET" && (uri.rfind("/series/", 0) == 0 || uri.rfind("/studies/", 0) == 0)) ++parentLookups;
    const HttpResult r = httpRequest(port_, method, uri, body);
    return annot::RestAnswer{r.status, r.body};
  }
  int metadataReads = 0;
  int parentLookups = 0;  // series and studies fetched to learn an instance's UIDs

 private:
  uint16_t port_;
};

void storeInto(const RunningOrthanc& orthanc, const std::string& path) {
  const HttpResult r = httpRequest(orthanc.httpPort(), "POST", "/instances", readFile(path));
  ASSERT_EQ(r.status, 200) << r.body;
}
}  // namespace

TEST(Plugin, InstanceListsReadEachStoredFilesMetadataOnceAndFollowARestoredCopy) {
  TempDir tmp;
  RunningOrthanc orthanc(tmp / "orthanc");
  std::vector<TestInstance> specs;
  for (int i = 1; i <= 3; ++i) {
    TestInstance spec = instanceIn("1.2.826.0.1.3680043.10.9", "1.2.826.0.1.3680043.10.9.1", "1.2.826.0.1.3680043.10.9.1." + std::to_string(i));
    spec.instanceNumber = std::to_string(i);
    writeTestInstance(tmp / ("i" + std::to_string(i) + ".dcm"), spec);
    storeInto(orthanc, tmp / ("i" + std::to_string(i) + ".dcm"));
    specs.push_back(spec);
  }
  CountingRest rest(orthanc.httpPort());
  annot::OrthancDicomwebSource source(rest, "/dicom-web/");
  annot::OrthancImageHeaders headers(rest);
  const std::string secondId = orthanc.findInstance(specs[1].sopUid);
  EXPECT_EQ(headers.get(secondId).transferSyntaxUid, "1.2.840.10008.1.2.1");
  rest.metadataReads = 0;  // from here on, the DICOMweb source's reads only

  const auto first = source.instances(specs[0].studyUid, "", "");
  ASSERT_EQ(first.size(), 3u);
  for (const auto& i : first) {
    EXPECT_EQ(i.sopClassUid, specs[0].sopClassUid);
    EXPECT_EQ(i.transferSyntaxUid, "1.2.840.10008.1.2.1");
  }
  EXPECT_EQ(rest.metadataReads, 3);
  EXPECT_EQ(source.instances(specs[0].studyUid, "", "").size(), 3u);
  EXPECT_EQ(rest.metadataReads, 3) << "a second listing reads no metadata again";
  // The study's UID is in the query: only the series' UID is looked up, once per series and
  // listing; with the series in the query too, nothing is.
  EXPECT_EQ(rest.parentLookups, 2);
  const auto inSeries = source.instances(specs[0].studyUid, specs[0].seriesUid, "");
  ASSERT_EQ(inSeries.size(), 3u);
  EXPECT_EQ(inSeries[0].studyUid, specs[0].studyUid);
  EXPECT_EQ(inSeries[0].seriesUid, specs[0].seriesUid);
  EXPECT_EQ(rest.parentLookups, 2);
  EXPECT_EQ(first[2].seriesUid, specs[0].seriesUid);
  EXPECT_EQ(first[2].studyUid, specs[0].studyUid);

  // The same instance deleted and stored again in another transfer syntax is a new file.
  ASSERT_EQ(httpRequest(orthanc.httpPort(), "DELETE", "/instances/" + orthanc.findInstance(specs[1].sopUid)).status, 200);
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile((tmp / "i2.dcm").c_str()).good());
  ASSERT_TRUE(file.saveFile((tmp / "i2-implicit.dcm").c_str(), EXS_LittleEndianImplicit).good());
  storeInto(orthanc, tmp / "i2-implicit.dcm");
  const auto again = source.find(specs[1].sopUid);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->transferSyntaxUid, "1.2.840.10008.1.2");
  EXPECT_EQ(again->studyUid, specs[1].studyUid);
  EXPECT_EQ(rest.parentLookups, 4) << "found by its SOP Instance UID alone: its series and study are looked up";
  EXPECT_EQ(rest.metadataReads, 4);
  ASSERT_EQ(orthanc.findInstance(specs[1].sopUid), secondId) << "Orthanc's ID stays; only the file changed";
  EXPECT_EQ(headers.get(secondId).transferSyntaxUid, "1.2.840.10008.1.2") << "the image header of the replaced file";
}

namespace {
std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}
}  // namespace

// The configuration the product ships (orthanc-config/, started as an operator would): Orthanc
// asks every HTTP client for credentials, the password is generated and private, and the
// plugin's token travels beside them in X-Annotation-Token.
TEST(Plugin, TheShippedConfigurationAuthenticatesEveryRequest) {
  TempDir tmp;
  const std::string source = std::string(ANNOT_COMPAT_DIR) + "/../..";
  const std::string plugin = ANNOT_PLUGIN_PATH;
  const std::string build = plugin.substr(0, plugin.rfind("/plugin/"));
  const uint16_t http = freePort(), dicom = freePort();
  ChildProcess orthanc({source + "/orthanc-config/start.sh", "--data-dir", tmp / "orthanc", "--http-port", std::to_string(http),
                        "--dicom-port", std::to_string(dicom), "--build-dir", build},
                       tmp / "orthanc.log");
  ASSERT_TRUE(eventually([&] {
    try {
      return httpGet(http, "/system").status == 401;
    } catch (...) {
      return false;
    }
  })) << orthanc.log();
  const std::string passwordFile = tmp / "orthanc/orthanc-admin.password";
  const std::string password = readFile(passwordFile);
  ASSERT_GE(password.size(), 32u);
  struct stat st{};
  ASSERT_EQ(::stat(passwordFile.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u) << "the password file is the operator's only";
  ASSERT_EQ(::stat((tmp / "orthanc/orthanc.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u) << "so is the configuration that holds it";
  const std::string basic = "Basic " + base64("admin:" + password);
  ASSERT_TRUE(eventually([&] { return httpRequest(http, "GET", "/annotation/healthz", "", {{"Authorization", basic}}).status == 200; }))
      << orthanc.log();
  EXPECT_EQ(httpRequest(http, "GET", "/system", "", {{"Authorization", basic}}).status, 200);
  EXPECT_EQ(httpRequest(http, "GET", "/system", "", {{"Authorization", "Basic " + base64("admin:wrong")}}).status, 401);
  EXPECT_EQ(httpGet(http, "/instances").status, 401) << "Orthanc's own API is closed without credentials";
  EXPECT_EQ(httpGet(http, "/annotation/api/v1/tasks").status, 401);
  EXPECT_EQ(httpGet(http, "/dicom-web/studies").status, 401);
  std::string token = readFile(tmp / "orthanc/annotation/initial-admin.token");
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  EXPECT_EQ(httpRequest(http, "GET", "/annotation/api/v1/tasks", "", {{"Authorization", basic}, {"X-Annotation-Token", token}}).status, 200);
  EXPECT_EQ(httpRequest(http, "GET", "/annotation/api/v1/tasks", "", {{"Authorization", basic}}).status, 401) << "and the plugin's token";
  EXPECT_EQ(httpRequest(http, "GET", "/annotation/dicomweb/studies", "", {{"Authorization", basic}, {"X-Annotation-Token", token}}).status, 200);
  orthanc.signal(SIGTERM);
  EXPECT_EQ(orthanc.wait(std::chrono::seconds(30)), 0) << orthanc.log();
}
