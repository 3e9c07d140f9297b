// AI pre-labels end to end: SRs and SEGs written by the product and by dcmjs (the way a model
// run elsewhere writes them) are imported for a study, over HTTP or from what the node received
// over C-STORE; the reader starts from them; what the reader keeps, changes and adds is told apart
// in the saved revision and in the results (TID 4019 in the SR's groups, Segment Algorithm Type
// in the SEG), which pass dciodvfy and DicomSRValidator.
#include <gtest/gtest.h>

#include "NodeHarness.h"
#include "OrthancHarness.h"
#include "Validators.h"
#include "sr/MeasurementReportReader.h"

using namespace annot::test;
using nlohmann::json;

namespace {
HttpResult as(const RunningNode& node, const std::string& token, const std::string& method, const std::string& target,
              const std::string& body = "", const std::string& type = "application/json") {
  return httpRequest(node.httpPort(), method, target, body, {{"Authorization", "Bearer " + token}, {"Content-Type", type}});
}

CommandResult nodeJs(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"node"};
  argv.insert(argv.end(), args.begin(), args.end());
  return runCommand(argv);
}
std::string compatScript(const std::string& name) { return std::string(ANNOT_COMPAT_DIR) + "/" + name; }

json box(const std::string& image, double c0, double r0, double c1, double r1) { return bboxOn(image, c0, r0, c1, r1); }

const json* findingWith(const json& doc, const std::string& trackingUid) {
  for (const auto& f : doc["findings"]) {
    if (f.value("trackingUid", "") == trackingUid) return &f;
  }
  return nullptr;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}
}  // namespace

TEST(Prelabels, AnAlgorithmsSrAndSegBecomeTheReadersDraftAndTheResultsSayWhatIsTheAlgorithmsPerItem) {
  TempDir tmp;
  writeAiNoduleProtocol(tmp / "protocols");
  RunningNode node(tmp / "data", NodeSettings{1, {{"ProtocolsDirectory", tmp / "protocols"}}});
  const std::string admin = node.addUser("ada", "admin");
  const std::string reader = node.addUser("rita", "annotator");
  const std::string study = generateStudy(tmp / "ct", {"--slices", "2", "--rows", "64", "--columns", "64", "--patient-id", "AI-1"});
  const std::vector<std::string> slices = listFiles(tmp / "ct", ".dcm");
  const std::string s0 = sopInstanceUidOf(slices.at(0)), s1 = sopInstanceUidOf(slices.at(1));
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "ct"}).exitCode, 0);
  const std::string task = firstTaskOf(node, study);
  const std::string prelabels = "/api/v1/studies/" + study + "/prelabels";

  // 1. The product's own SR as a model's output: a device observer, TID 4019 in its groups.
  const std::string keptUid = "2.25.1111", movedUid = "2.25.2222";
  const json model = noduleNetPrelabel(box(s0, 4, 6, 14, 9), s1, keptUid, movedUid);
  writeFile(tmp / "model.json", model.dump());
  const CommandResult made = runCommand({nodeBinary(), "make-sr", "--annotation", tmp / "model.json", "--images", tmp / "ct", "--out", tmp / "model-sr.dcm"});
  ASSERT_EQ(made.exitCode, 0) << made.output;
  EXPECT_EQ(as(node, reader, "POST", prelabels, readFile(tmp / "model-sr.dcm"), "application/dicom").status, 403) << "readers do not import";
  const HttpResult imported = as(node, admin, "POST", prelabels, readFile(tmp / "model-sr.dcm"), "application/dicom");
  ASSERT_EQ(imported.status, 201) << imported.body;
  const json sr = json::parse(imported.body);
  EXPECT_EQ(sr["kind"], "SR");
  EXPECT_EQ(sr["algorithm"]["name"], "NoduleNet");
  EXPECT_EQ(sr["algorithm"]["version"], "3.1") << "from the SR's TID 4019";
  EXPECT_EQ(sr["algorithm"]["uid"], "2.25.77") << "the SR's device observer";
  EXPECT_EQ(sr["findings"], 2);
  EXPECT_EQ(as(node, admin, "POST", prelabels, readFile(tmp / "model-sr.dcm"), "application/dicom").status, 409) << "once";

  // 2. dcmjs (OHIF's writer): a person observer; the algorithm must be named.
  const CommandResult dcmjsSr = nodeJs({compatScript("make-sr.mjs"), tmp / "dcmjs-sr.dcm", "--image", slices.at(0), "--tools", "Length"});
  ASSERT_EQ(dcmjsSr.exitCode, 0) << dcmjsSr.output;
  const HttpResult unnamed = as(node, admin, "POST", prelabels, readFile(tmp / "dcmjs-sr.dcm"), "application/dicom");
  EXPECT_EQ(unnamed.status, 422) << unnamed.body;
  EXPECT_NE(unnamed.body.find("algorithm"), std::string::npos) << unnamed.body;
  const HttpResult named = as(node, admin, "POST", prelabels + "?algorithm=TumorSeg&algorithmVersion=0.9", readFile(tmp / "dcmjs-sr.dcm"),
                              "application/dicom");
  ASSERT_EQ(named.status, 201) << named.body;
  EXPECT_EQ(json::parse(named.body)["algorithm"]["name"], "TumorSeg");

  // 3. A SEG written by dcmjs, sent to the node over C-STORE, imported by reference.
  const CommandResult seg = nodeJs({compatScript("make-seg.mjs"), tmp / "ai-seg.dcm", "--box", "4,6,14,9", "--algorithm", "NoduleNet",
                                    "--version", "3.1", "--label", "Nodule", "--type", "27925004,SCT,Nodule", slices.at(0), slices.at(1)});
  ASSERT_EQ(seg.exitCode, 0) << seg.output;
  const std::string segUid = json::parse(seg.output)["sopInstanceUid"];
  ASSERT_EQ(storescuUncompressedClassesOfFiles(node.dicomPort(), {tmp / "ai-seg.dcm"}).exitCode, 0);
  const HttpResult bySop = as(node, admin, "POST", prelabels, json{{"sopInstanceUid", segUid}}.dump());
  ASSERT_EQ(bySop.status, 201) << bySop.body;
  EXPECT_EQ(json::parse(bySop.body)["kind"], "SEG");
  EXPECT_EQ(json::parse(bySop.body)["maskFrames"], 2);

  // Bad input: a CT image, another study's SR, no study, not DICOM, not held, wrong type.
  const HttpResult ct = as(node, admin, "POST", prelabels, readFile(slices.at(0)), "application/dicom");
  EXPECT_EQ(ct.status, 422) << ct.body;
  EXPECT_NE(ct.body.find("not a pre-label"), std::string::npos) << ct.body;
  const std::string other = generateStudy(tmp / "other", {"--slices", "1", "--rows", "32", "--columns", "32"});
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "other"}).exitCode, 0);
  EXPECT_EQ(as(node, admin, "POST", "/api/v1/studies/" + other + "/prelabels", readFile(tmp / "model-sr.dcm"), "application/dicom").status, 422);
  EXPECT_EQ(as(node, admin, "POST", "/api/v1/studies/1.2.3.999/prelabels", readFile(tmp / "model-sr.dcm"), "application/dicom").status, 404);
  EXPECT_EQ(as(node, admin, "POST", prelabels, "not dicom at all", "application/dicom").status, 400);
  EXPECT_EQ(as(node, admin, "POST", prelabels, R"({"sopInstanceUid": "1.2.3.4"})").status, 404);
  EXPECT_EQ(as(node, admin, "POST", prelabels, "x", "text/plain").status, 415);
  EXPECT_EQ(json::parse(as(node, admin, "GET", prelabels).body)["prelabels"].size(), 3u);

  // The reader's draft: the protocol's labels, masks on the task's images, each item marked.
  ASSERT_EQ(as(node, reader, "POST", "/api/v1/tasks/" + task + "/claim").status, 200);
  const HttpResult draftAnswer = as(node, reader, "GET", "/api/v1/tasks/" + task + "/prelabel");
  ASSERT_EQ(draftAnswer.status, 200) << draftAnswer.body;
  json draft = json::parse(draftAnswer.body)["annotation"];
  ASSERT_EQ(draft["findings"].size(), 3u) << draft.dump();
  ASSERT_NE(findingWith(draft, keptUid), nullptr);
  EXPECT_EQ((*findingWith(draft, keptUid))["label"], "nodule");
  EXPECT_EQ((*findingWith(draft, keptUid))["provenance"]["source"], "algorithm");
  EXPECT_EQ(draft["findings"][2]["label"], "neoplasm") << "dcmjs's Neoplasm finding maps to the protocol's label";
  ASSERT_TRUE(draft.contains("segmentation"));
  EXPECT_EQ(draft["segmentation"]["masks"].size(), 2u);

  // The reader keeps the first nodule, moves the second, drops dcmjs's, adds one of their own
  // (claiming, wrongly, that it is the algorithm's) and keeps the masks as they are.
  json work = draft;
  work["observer"] = {{"name", "Reader^Rita"}};
  work["findings"].erase(2);
  work["findings"][1]["geometry"]["points"] = {{22, 18}};
  work["findings"].push_back({{"label", "nodule"}, {"geometry", box(s1, 2, 2, 8, 8)},
                              {"provenance", {{"source", "algorithm"}, {"algorithm", {{"name", "NoduleNet"}}}}}});
  const HttpResult saved = as(node, reader, "PUT", "/api/v1/tasks/" + task + "/annotation", work.dump());
  ASSERT_EQ(saved.status, 201) << saved.body;
  const json savedDoc = json::parse(saved.body)["annotation"];
  EXPECT_EQ((*findingWith(savedDoc, keptUid))["provenance"]["source"], "algorithm");
  EXPECT_EQ((*findingWith(savedDoc, keptUid))["provenance"]["prelabel"], sr["sopInstanceUid"]);
  EXPECT_EQ((*findingWith(savedDoc, movedUid))["provenance"]["source"], "algorithm-edited");
  EXPECT_FALSE(savedDoc["findings"][2].contains("provenance")) << "the reader's own, whatever the client said";
  EXPECT_EQ(savedDoc["segmentation"]["segments"][0]["algorithm"]["type"], "AUTOMATIC");
  EXPECT_EQ(savedDoc["segmentation"]["segments"][0]["algorithm"]["name"], "NoduleNet");

  // Painting over the algorithm's mask makes the segment the reader's work on it.
  json painted = work;
  painted["segmentation"]["masks"][0]["runs"].push_back({0, 3});
  const HttpResult repainted = as(node, reader, "PUT", "/api/v1/tasks/" + task + "/annotation", painted.dump());
  ASSERT_EQ(repainted.status, 201) << repainted.body;
  EXPECT_EQ(json::parse(repainted.body)["annotation"]["segmentation"]["segments"][0]["algorithm"]["type"], "SEMIAUTOMATIC");
  ASSERT_EQ(as(node, reader, "PUT", "/api/v1/tasks/" + task + "/annotation", work.dump()).status, 201);

  const json taskView = json::parse(as(node, reader, "GET", "/api/v1/tasks/" + task).body);
  EXPECT_EQ(taskView["prelabelUse"]["findings"], json({{"kept", 1}, {"edited", 1}, {"removed", 1}, {"added", 1}})) << taskView.dump();
  EXPECT_EQ(taskView["prelabelUse"]["segments"]["kept"], 1);

  // The results: TID 4019 on the kept nodule only; the SEG's segment is the algorithm's.
  ASSERT_EQ(as(node, reader, "POST", "/api/v1/tasks/" + task + "/submit").status, 200);
  ASSERT_TRUE(eventually([&] { return node.getJson("/api/v1/tasks/" + task)["outputs"].size() == 2; }));
  const json outputs = node.getJson("/api/v1/tasks/" + task)["outputs"];
  for (const auto& o : outputs) {
    const std::string path = tmp / (o["kind"].get<std::string>() + ".dcm");
    const HttpResult got = httpRequest(node.httpPort(), "GET",
                                       "/dicomweb/studies/" + study + "/series/" + o["seriesInstanceUid"].get<std::string>() + "/instances/" +
                                           o["sopInstanceUid"].get<std::string>(),
                                       "", {{"Authorization", "Bearer " + admin}, {"Accept", "multipart/related; type=\"application/dicom\""}});
    ASSERT_EQ(got.status, 200) << got.body;
    writeFile(path, firstMultipartPart(got.body));
    const std::string dump = runCommand({"dcmdump", "+U8", path}).output;
    if (o["kind"] == "SR") {
      EXPECT_TRUE(passesDciodvfy(path, "EnhancedSR"));
      const ValidatorResult pixelmed = pixelmedSrValidator(path);
      EXPECT_TRUE(pixelmed.completed && pixelmed.errors == 0) << pixelmed.output;
      EXPECT_EQ(count(dump, "Algorithm Name"), 1u) << dump;
      const annot::MeasurementReportContent read = annot::readMeasurementReportFile(path);
      int algorithmFindings = 0;
      for (const auto& f : read.document.findings) {
        if (!f.provenance) continue;
        ++algorithmFindings;
        EXPECT_EQ(f.trackingUid, keptUid);
        EXPECT_EQ(f.provenance->algorithmName, "NoduleNet");
        EXPECT_EQ(f.provenance->algorithmVersion, "3.1");
      }
      EXPECT_EQ(algorithmFindings, 1);
      EXPECT_NE(dump.find("AI-1"), std::string::npos) << "the patient copied from the images";
    } else {
      EXPECT_TRUE(passesDciodvfy(path, "Segmentation"));
      EXPECT_NE(dump.find("AUTOMATIC"), std::string::npos) << dump;
      EXPECT_NE(dump.find("NoduleNet"), std::string::npos) << dump;
    }
  }
}

// The same inside Orthanc: the plugin imports the algorithm's SR (its study is Orthanc's), the
// reader's draft comes from it, and the saved revision says which finding is the algorithm's.
TEST(Prelabels, InsideOrthancTheReaderStartsFromTheAlgorithmsSr) {
  TempDir tmp;
  writeAiNoduleProtocol(tmp / "protocols");
  RunningOrthanc orthanc(tmp / "orthanc", OrthancSettings{true, 1, {{"ProtocolsDirectory", tmp / "protocols"}}});
  auto call = [&](const std::string& token, const std::string& method, const std::string& path, const std::string& body = "",
                  const std::string& type = "application/json") {
    return httpRequest(orthanc.httpPort(), method, "/annotation" + path, body, {{"Authorization", "Bearer " + token}, {"Content-Type", type}});
  };
  const std::string admin = orthanc.adminToken();
  const HttpResult created = call(admin, "POST", "/api/v1/users", json{{"name", "rita"}, {"role", "annotator"}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string reader = json::parse(created.body)["token"];
  const std::string study = generateStudy(tmp / "ct", {"--slices", "2", "--rows", "64", "--columns", "64", "--patient-id", "AI-2"});
  const std::vector<std::string> slices = listFiles(tmp / "ct", ".dcm");
  const std::string s0 = sopInstanceUidOf(slices.at(0)), s1 = sopInstanceUidOf(slices.at(1));
  ASSERT_EQ(storescu(orthanc.dicomPort(), {tmp / "ct"}).exitCode, 0);
  json tasks;
  ASSERT_TRUE(eventually([&] {
    const HttpResult r = call(admin, "GET", "/api/v1/tasks?study=" + study);
    return r.status == 200 && !(tasks = json::parse(r.body)["tasks"]).empty();
  }, std::chrono::seconds(60)));
  const std::string task = std::to_string(tasks[0]["id"].get<int>());

  writeFile(tmp / "model.json", noduleNetPrelabel(bboxOn(s0, 4, 6, 14, 9), s1, "2.25.1111", "2.25.2222").dump());
  ASSERT_EQ(runCommand({nodeBinary(), "make-sr", "--annotation", tmp / "model.json", "--images", tmp / "ct", "--out", tmp / "ai-sr.dcm"}).exitCode, 0);
  const HttpResult imported = call(admin, "POST", "/api/v1/studies/" + study + "/prelabels", readFile(tmp / "ai-sr.dcm"), "application/dicom");
  ASSERT_EQ(imported.status, 201) << imported.body;
  EXPECT_EQ(json::parse(imported.body)["algorithm"]["version"], "3.1");

  ASSERT_EQ(call(reader, "POST", "/api/v1/tasks/" + task + "/claim").status, 200);
  const HttpResult draft = call(reader, "GET", "/api/v1/tasks/" + task + "/prelabel");
  ASSERT_EQ(draft.status, 200) << draft.body;
  json work = json::parse(draft.body)["annotation"];
  ASSERT_EQ(work["findings"].size(), 2u);
  work["observer"] = {{"name", "Reader^Rita"}};
  work["findings"][1]["geometry"]["points"] = {{30, 30}};
  const HttpResult saved = call(reader, "PUT", "/api/v1/tasks/" + task + "/annotation", work.dump());
  ASSERT_EQ(saved.status, 201) << saved.body;
  const json doc = json::parse(saved.body)["annotation"];
  EXPECT_EQ(doc["findings"][0]["provenance"]["source"], "algorithm");
  EXPECT_EQ(doc["findings"][1]["provenance"]["source"], "algorithm-edited");
}
