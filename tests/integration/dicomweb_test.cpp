// DICOMweb on the node, driven by dicomweb-client (what OHIF uses) and cross-checked attribute
// by attribute against Orthanc's DICOMweb plugin answering the same queries over the same studies.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "NodeHarness.h"
#include "OrthancHarness.h"
#include "Validators.h"
#include "support/DicomFixtures.h"

using namespace annot::test;
using nlohmann::json;

namespace {
json client(const std::string& url, const std::string& token, const std::string& operation, const json& options,
            const std::vector<std::string>& files = {}, bool failureExpected = false) {
  return dicomwebClient(url, token, operation, options, files, failureExpected);
}

// The JSON array a successful search answered. A failure (an error object is JSON too) fails
// the test here and gives null, which no check on the answer's items can mistake for results.
json searchAnswer(const HttpResult& r) {
  EXPECT_EQ(r.status, 200) << r.body;
  const json body = json::parse(r.body, nullptr, false);
  EXPECT_TRUE(body.is_array()) << r.body;
  return r.status == 200 && body.is_array() ? body : json();
}

// How many results a search answered; SIZE_MAX (never a count a test expects) when it failed.
size_t resultsIn(const HttpResult& r) {
  const json answer = searchAnswer(r);
  return answer.is_array() ? answer.size() : SIZE_MAX;
}

std::string valueOf(const json& item, const std::string& tag) {
  if (!item.contains(tag) || !item[tag].contains("Value") || item[tag]["Value"].empty()) return "";
  const json& v = item[tag]["Value"];
  std::string out;
  for (const auto& one : v) {
    std::string text = one.is_object() ? one.value("Alphabetic", "") : one.is_string() ? one.get<std::string>() : one.dump();
    out += (out.empty() ? "" : "\\") + text;
  }
  return out;
}

// Answers keyed by a UID attribute, each as tag → value text.
std::map<std::string, std::map<std::string, std::string>> byUid(const json& answer, const std::string& uidTag) {
  std::map<std::string, std::map<std::string, std::string>> out;
  for (const auto& item : answer) {
    auto& row = out[valueOf(item, uidTag)];
    for (const auto& [tag, attribute] : item.items()) row[tag] = valueOf(item, tag);
  }
  return out;
}

// Both servers must return every tag in `required`, with equal values, for the same UIDs.
void expectSameAnswers(const json& node, const json& orthanc, const std::string& uidTag, const std::vector<std::string>& required,
                       const std::string& what) {
  ASSERT_TRUE(node.is_array()) << what << ": " << node.dump();
  ASSERT_TRUE(orthanc.is_array()) << what << ": " << orthanc.dump();
  const auto a = byUid(node, uidTag), b = byUid(orthanc, uidTag);
  std::set<std::string> uidsA, uidsB;
  for (const auto& [uid, row] : a) uidsA.insert(uid);
  for (const auto& [uid, row] : b) uidsB.insert(uid);
  ASSERT_EQ(uidsA, uidsB) << what;
  ASSERT_FALSE(uidsA.empty()) << what << ": the query should find something";
  for (const auto& [uid, row] : a) {
    for (const auto& tag : required) {
      ASSERT_TRUE(row.count(tag)) << what << ": the node did not return " << tag;
      ASSERT_TRUE(b.at(uid).count(tag)) << what << ": Orthanc did not return " << tag;
      EXPECT_EQ(row.at(tag), b.at(uid).at(tag)) << what << ": " << tag << " of " << uid;
    }
  }
}

// Claims a task, saves one box on `slice` and submits: the shortest complete labeling.
void labelWithBox(const RunningNode& node, const std::string& token, const std::string& task, const std::string& slice) {
  auto call = [&](const std::string& method, const std::string& target, const std::string& body = "") {
    const auto r = httpRequest(node.httpPort(), method, target, body, {{"Authorization", "Bearer " + token}});
    if (r.status >= 300) throw std::runtime_error(method + " " + target + " answered " + std::to_string(r.status) + ": " + r.body);
  };
  call("POST", "/api/v1/tasks/" + task + "/claim");
  const json box = {{"observer", {{"name", "Reader^Rita"}}},
                    {"findings", {{{"label", "nodule"}, {"geometry", {{"type", "bbox"}, {"image", {{"sopInstanceUid", slice}}}, {"points", {{4, 4}, {12, 10}}}}}}}}};
  call("PUT", "/api/v1/tasks/" + task + "/annotation", box.dump());
  call("POST", "/api/v1/tasks/" + task + "/submit");
}

const std::vector<std::string> kStudyTags = {"0020000D", "00100020", "00100010", "00080020", "00080030", "00080050", "00080061",
                                             "00201206", "00201208", "00100030", "00100040", "00200010", "00080090"};
const std::vector<std::string> kSeriesTags = {"0020000E", "00080060", "00200011", "00201209", "0008103E"};
const std::vector<std::string> kInstanceTags = {"00080018", "00080016", "00200013"};
}  // namespace

TEST(Dicomweb, SearchesAgreeWithOrthancAndRetrieveStoreWorkThroughDicomwebClient) {
  TempDir tmp;
  const std::string ct = generateStudy(tmp / "ct", {"--slices", "3", "--rows", "32", "--columns", "32", "--series", "2", "--patient-id", "DW-1",
                                                     "--patient-name", "Doe^Jane", "--study-date", "20240115", "--accession", "A1"});
  const std::string mr = generateStudy(tmp / "mr", {"--modality", "MR", "--slices", "2", "--rows", "32", "--columns", "32", "--patient-id", "DW-2",
                                                     "--patient-name", "Roe^Richard", "--study-date", "20230301", "--accession", "A2"});
  RunningNode node(tmp / "node", NodeSettings{60, {{"MaxHttpBodySize", 400000}}});
  RunningOrthanc orthanc(tmp / "orthanc", OrthancSettings{true, 60});
  for (const auto& dir : {tmp / "ct", tmp / "mr"}) {
    ASSERT_EQ(storescu(node.dicomPort(), {dir}).exitCode, 0);
    ASSERT_EQ(storescu(orthanc.dicomPort(), {dir}).exitCode, 0);
  }
  const std::string nodeUrl = "http://127.0.0.1:" + std::to_string(node.httpPort()) + "/dicomweb";
  const std::string orthancUrl = "http://127.0.0.1:" + std::to_string(orthanc.httpPort()) + "/dicom-web";
  const std::string token = node.adminToken();

  // QIDO-RS, the same queries to both.
  const std::vector<json> studyQueries = {json::object(), {{"PatientID", "DW-1"}}, {{"PatientName", "Doe*"}}, {{"StudyDate", "20240101-"}},
                                          {{"StudyDate", "-20240115"}}, {{"StudyDate", "20230301-20240114"}}, {{"StudyTime", "0900-1016"}},
                                          {{"ModalitiesInStudy", "MR"}}, {{"StudyInstanceUID", ct + "," + mr}}, {{"AccessionNumber", "A*"}}};
  for (const auto& q : studyQueries) {
    const json options = {{"queryParams", q}};
    expectSameAnswers(client(nodeUrl, token, "searchForStudies", options), client(orthancUrl, "", "searchForStudies", options), "0020000D",
                      kStudyTags, "studies " + q.dump());
  }
  expectSameAnswers(client(nodeUrl, token, "searchForSeries", {{"studyInstanceUID", ct}}),
                    client(orthancUrl, "", "searchForSeries", {{"studyInstanceUID", ct}}), "0020000E", kSeriesTags, "series of the CT");
  expectSameAnswers(client(nodeUrl, token, "searchForSeries", {{"queryParams", {{"Modality", "MR"}}}}),
                    client(orthancUrl, "", "searchForSeries", {{"queryParams", {{"Modality", "MR"}}}}), "0020000E", kSeriesTags, "MR series");
  const json ctSeries = client(nodeUrl, token, "searchForSeries", {{"studyInstanceUID", ct}});
  ASSERT_EQ(ctSeries.size(), 2u);
  const std::string series = valueOf(ctSeries[0], "0020000E");
  expectSameAnswers(client(nodeUrl, token, "searchForInstances", {{"studyInstanceUID", ct}, {"seriesInstanceUID", series}}),
                    client(orthancUrl, "", "searchForInstances", {{"studyInstanceUID", ct}, {"seriesInstanceUID", series}}), "00080018",
                    kInstanceTags, "instances of a series");
  expectSameAnswers(client(nodeUrl, token, "searchForInstances", {{"studyInstanceUID", mr}}),
                    client(orthancUrl, "", "searchForInstances", {{"studyInstanceUID", mr}}), "00080018", kInstanceTags, "instances of the MR");
  // What Orthanc 1.10's plugin does not do, checked on the node alone: '\' UID lists, '?' wildcards.
  EXPECT_EQ(client(nodeUrl, token, "searchForStudies", {{"queryParams", {{"StudyInstanceUID", ct + "\\" + mr}}}}).size(), 2u);
  EXPECT_EQ(client(nodeUrl, token, "searchForStudies", {{"queryParams", {{"AccessionNumber", "A?"}}}}).size(), 2u);
  EXPECT_EQ(client(nodeUrl, token, "searchForStudies", {{"queryParams", {{"AccessionNumber", "?1"}}}}).size(), 1u);
  // Paging, and nothing found.
  EXPECT_EQ(client(nodeUrl, token, "searchForStudies", {{"queryParams", {{"limit", 1}, {"offset", 1}}}}).size(), 1u);
  EXPECT_EQ(client(nodeUrl, token, "searchForStudies", {{"queryParams", {{"PatientID", "nobody"}}}}).size(), 0u);

  // WADO-RS: metadata, instances, frames; the instance comes back as it was sent.
  const json instances = client(nodeUrl, token, "searchForInstances", {{"studyInstanceUID", ct}, {"seriesInstanceUID", series}});
  const std::string sop = valueOf(instances[0], "00080018");
  const json ids = {{"studyInstanceUID", ct}, {"seriesInstanceUID", series}, {"sopInstanceUID", sop}};
  const json metadata = client(nodeUrl, token, "retrieveSeriesMetadata", {{"studyInstanceUID", ct}, {"seriesInstanceUID", series}});
  ASSERT_EQ(metadata.size(), 3u) << metadata.dump().substr(0, 500);
  EXPECT_EQ(valueOf(metadata[0], "00100020"), "DW-1");
  ASSERT_TRUE(metadata[0]["7FE00010"].contains("BulkDataURI")) << "pixel data is referenced, not inlined";
  EXPECT_EQ(client(nodeUrl, token, "retrieveStudyMetadata", {{"studyInstanceUID", ct}}).size(), 6u);
  const json retrieved = client(nodeUrl, token, "retrieveInstance", ids);
  EXPECT_EQ(retrieved["SOPInstanceUID"], sop);
  std::string sentFile;
  for (const auto& f : listFiles(tmp / "ct", ".dcm")) {
    if (sopInstanceUidOf(f) == sop) sentFile = f;
  }
  // Served as received: the dataset that crossed the network, byte for byte.
  const auto raw = httpRequest(node.httpPort(), "GET", "/dicomweb/studies/" + ct + "/series/" + series + "/instances/" + sop, "",
                               {{"Authorization", "Bearer " + token}});
  EXPECT_NE(raw.body.find(datasetBytes(sentFile)), std::string::npos);
  const json frames = client(nodeUrl, token, "retrieveInstanceFrames", {{"studyInstanceUID", ct}, {"seriesInstanceUID", series}, {"sopInstanceUID", sop}, {"frameNumbers", {1}}});
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0]["bytes"], 32 * 32 * 2);
  EXPECT_EQ(client(nodeUrl, token, "retrieveSeries", {{"studyInstanceUID", ct}, {"seriesInstanceUID", series}}).size(), 3u);
  const auto png = httpRequest(node.httpPort(), "GET", "/dicomweb/studies/" + ct + "/series/" + series + "/instances/" + sop + "/rendered", "",
                               {{"Authorization", "Bearer " + token}, {"Accept", "image/png"}});
  ASSERT_EQ(png.status, 200) << png.body;
  EXPECT_EQ(png.body.substr(1, 3), "PNG");
  EXPECT_EQ(png.headers.at("content-type"), "image/png");
  // IHDR: width and height, big-endian, right after the signature and chunk header.
  auto be32 = [&](size_t at) {
    return (static_cast<unsigned char>(png.body[at]) << 24) | (static_cast<unsigned char>(png.body[at + 1]) << 16) |
           (static_cast<unsigned char>(png.body[at + 2]) << 8) | static_cast<unsigned char>(png.body[at + 3]);
  };
  EXPECT_EQ(be32(16), 32u);
  EXPECT_EQ(be32(20), 32u);
  const auto bulk = httpRequest(node.httpPort(), "GET", metadata[0]["7FE00010"]["BulkDataURI"].get<std::string>().substr(nodeUrl.size() - 9), "",
                                {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(bulk.status, 200);
  EXPECT_NE(bulk.body.find("application/octet-stream"), std::string::npos);

  // STOW-RS through dicomweb-client: a new study arrives and can be found.
  const std::string third = generateStudy(tmp / "stow", {"--slices", "2", "--rows", "32", "--columns", "32", "--patient-id", "DW-3"});
  const auto stowFiles = listFiles(tmp / "stow", ".dcm");
  const json stored = client(nodeUrl, token, "storeInstances", json::object(), stowFiles);
  ASSERT_TRUE(stored.contains("00081199")) << stored.dump();
  EXPECT_EQ(stored["00081199"]["Value"].size(), 2u);
  EXPECT_EQ(client(nodeUrl, token, "searchForStudies", {{"queryParams", {{"PatientID", "DW-3"}}}}).size(), 1u);
  // Into the wrong study: refused per instance, nothing stored.
  generateStudy(tmp / "elsewhere", {"--slices", "1", "--rows", "32", "--columns", "32", "--patient-id", "DW-4"});
  const json wrong = client(nodeUrl, token, "storeInstances", {{"studyInstanceUID", ct}}, listFiles(tmp / "elsewhere", ".dcm"), true);
  EXPECT_EQ(wrong["status"], 409) << wrong.dump();
  EXPECT_TRUE(client(nodeUrl, token, "searchForStudies", {{"queryParams", {{"PatientID", "DW-4"}}}}).empty());

  // Refusals with the right status, and the node keeps serving.
  auto as = [&](const std::string& method, const std::string& target, const std::string& body = "",
                std::map<std::string, std::string> headers = {}) {
    headers["Authorization"] = "Bearer " + token;
    return httpRequest(node.httpPort(), method, target, body, headers);
  };
  EXPECT_EQ(as("GET", "/dicomweb/studies?StudyDate=2024*").status, 400) << "no wildcards on dates";
  EXPECT_EQ(as("GET", "/dicomweb/studies?SOPInstanceUID=1.2").status, 400) << "an instance key in a study search";
  EXPECT_EQ(as("GET", "/dicomweb/studies?NoSuchKey=1").status, 400);
  EXPECT_EQ(as("GET", "/dicomweb/studies?StudyDate=2024").status, 400);
  EXPECT_EQ(as("GET", "/dicomweb/studies?limit=x").status, 400);
  EXPECT_EQ(as("GET", "/dicomweb/studies/1.2.3/metadata").status, 404);
  EXPECT_EQ(as("GET", "/dicomweb/studies/" + ct, "", {{"Accept", "application/json"}}).status, 406) << "instances are multipart only";
  EXPECT_EQ(as("GET", "/dicomweb/studies/" + ct + "/series/" + series + "/instances/" + sop + "/frames/9").status, 404);
  EXPECT_EQ(as("POST", "/dicomweb/studies", "garbage", {{"Content-Type", "application/dicom"}}).status, 415);
  EXPECT_EQ(as("POST", "/dicomweb/studies", "garbage", {{"Content-Type", "multipart/related; type=\"application/dicom\"; boundary=b"}}).status, 400);
  const std::string big(450000, 'x');
  EXPECT_EQ(as("POST", "/dicomweb/studies", big, {{"Content-Type", "multipart/related; type=\"application/dicom\"; boundary=b"}}).status, 413);
  const std::string notDicom = "--b\r\nContent-Type: application/dicom\r\n\r\nnot dicom\r\n--b--\r\n";
  const auto refused = as("POST", "/dicomweb/studies", notDicom, {{"Content-Type", "multipart/related; type=\"application/dicom\"; boundary=b"}});
  EXPECT_EQ(refused.status, 409);
  EXPECT_NE(refused.body.find("00081198"), std::string::npos) << refused.body;
  EXPECT_EQ(httpGet(node.httpPort(), "/dicomweb/studies").status, 401);
  // Every retrieve is in the audit trail.
  const json audit = node.getJson("/api/v1/audit?action=dicomweb-retrieve");
  EXPECT_GE(audit["entries"].size(), 2u);
}

TEST(Dicomweb, LabeledStudiesAreFoundByTheirLabels) {
  TempDir tmp;
  writeCtProtocol(tmp / "protocols", "ct-quick", false);
  RunningNode node(tmp / "node", NodeSettings{1, {{"ProtocolsDirectory", tmp / "protocols"}}});
  const std::string reader = node.addUser("reader", "annotator");
  const std::string labeled = generateStudy(tmp / "a", {"--slices", "2", "--rows", "32", "--columns", "32", "--patient-id", "L-1"});
  const std::string waiting = generateStudy(tmp / "b", {"--slices", "2", "--rows", "32", "--columns", "32", "--patient-id", "L-2"});
  const std::string slice = sopInstanceUidOf(listFiles(tmp / "a", ".dcm").at(0));
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "a"}).exitCode, 0);
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "b"}).exitCode, 0);
  auto as = [&](const std::string& token, const std::string& method, const std::string& target, const std::string& body = "") {
    return httpRequest(node.httpPort(), method, target, body, {{"Authorization", "Bearer " + token}});
  };
  std::string task;
  ASSERT_TRUE(eventually([&] {
    const json tasks = node.getJson("/api/v1/tasks?study=" + labeled)["tasks"];
    if (tasks.empty()) return false;
    task = std::to_string(tasks[0]["id"].get<int>());
    return node.getJson("/api/v1/tasks?study=" + waiting)["tasks"].size() == 1;
  }));
  ASSERT_NO_THROW(labelWithBox(node, reader, task, slice));

  auto studiesFor = [&](const std::string& query) {
    const auto r = as(node.adminToken(), "GET", "/dicomweb/studies?" + query);
    if (r.status != 200) throw std::runtime_error(query + " answered " + std::to_string(r.status) + ": " + r.body);
    std::set<std::string> uids;
    for (const auto& item : json::parse(r.body)) uids.insert(valueOf(item, "0020000D"));
    return uids;
  };
  EXPECT_EQ(studiesFor("annotation.status=approved"), std::set<std::string>{labeled});
  EXPECT_EQ(studiesFor("annotation.status=in-progress"), std::set<std::string>{waiting});
  EXPECT_EQ(studiesFor("annotation.finding=SCT:27925004"), std::set<std::string>{labeled});
  EXPECT_EQ(studiesFor("annotation.finding=27925004&PatientID=L-2"), std::set<std::string>{});
  EXPECT_EQ(studiesFor("annotation.protocol=ct-quick"), (std::set<std::string>{labeled, waiting}));
  EXPECT_EQ(studiesFor("annotation.readers=1"), std::set<std::string>{labeled});
  const json withSummary = searchAnswer(as(node.adminToken(), "GET", "/dicomweb/studies?PatientID=L-1&includefield=annotation.summary"));
  ASSERT_EQ(withSummary.size(), 1u);
  EXPECT_EQ(withSummary[0]["annotation"]["approved"], true);
  EXPECT_EQ(withSummary[0]["annotation"]["findings"], json({"SCT:27925004"}));
  EXPECT_EQ(withSummary[0]["annotation"]["protocols"], json({"ct-quick"}));
  EXPECT_EQ(as(node.adminToken(), "GET", "/dicomweb/studies?annotation.status=maybe").status, 400);
  EXPECT_EQ(as(node.adminToken(), "GET", "/dicomweb/studies?annotation.colour=red").status, 400);
  // The SR written back is a series of the labeled study for DICOMweb clients too.
  const auto srSeries = as(node.adminToken(), "GET", "/dicomweb/studies/" + labeled + "/series?Modality=SR");
  EXPECT_EQ(resultsIn(srSeries), 1u) << srSeries.body;
}

namespace {
std::string dumpValue(const std::string& file, const char* tag) {
  const auto out = runCommand({"dcmdump", "+P", tag, "-s", file}).output;
  const auto open = out.find('['), close = out.find(']');
  return open == std::string::npos || close == std::string::npos ? "" : out.substr(open + 1, close - open - 1);
}
}  // namespace

TEST(Dicomweb, ResearchersGetADeidentifiedViewWhoseReferencesResolve) {
  TempDir tmp;
  writeCtProtocol(tmp / "protocols", "ct-quick", false);
  RunningNode node(tmp / "node", NodeSettings{1, {{"ProtocolsDirectory", tmp / "protocols"}}});
  const std::string reader = node.addUser("reader", "annotator"), researcher = node.addUser("research", "researcher");
  const std::string study = generateStudy(tmp / "ct", {"--slices", "2", "--rows", "32", "--columns", "32", "--patient-id", "SECRET-ID-77",
                                                        "--patient-name", "Secretname^Sally", "--birth-date", "19510203", "--accession", "ACC-SECRET",
                                                        "--age", "073Y", "--sex", "F"});
  const std::string original = listFiles(tmp / "ct", ".dcm").at(0);
  const std::string slice = sopInstanceUidOf(original);
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "ct"}).exitCode, 0);
  auto as = [&](const std::string& token, const std::string& method, const std::string& target, const std::string& body = "") {
    return httpRequest(node.httpPort(), method, target, body, {{"Authorization", "Bearer " + token}});
  };
  const std::string task = firstTaskOf(node, study);
  ASSERT_NO_THROW(labelWithBox(node, reader, task, slice));
  const std::string srUid = node.getJson("/api/v1/tasks/" + task)["outputs"][0]["sopInstanceUid"];

  // What must never reach a researcher: identifying values and original UIDs.
  const std::vector<std::string> secrets = {"SECRET-ID-77", "Secretname", "19510203", "ACC-SECRET", "Referrer", study, slice, srUid,
                                            dumpValue(original, "0020,000e"), dumpValue(original, "0020,0052")};
  auto expectClean = [&](const std::string& text, const std::string& what) {
    for (const auto& secret : secrets) {
      ASSERT_FALSE(secret.empty());
      EXPECT_EQ(text.find(secret), std::string::npos) << what << " leaks '" << secret << "'";
    }
  };

  const auto studies = as(researcher, "GET", "/dicomweb/studies?includefield=all");
  ASSERT_EQ(studies.status, 200) << studies.body;
  expectClean(studies.body, "the study search");
  const json found = json::parse(studies.body);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(valueOf(found[0], "00120062"), "YES");
  EXPECT_EQ(valueOf(found[0], "00100040"), "F") << "patient characteristics are retained";
  EXPECT_EQ(valueOf(found[0], "00101010"), "073Y");
  const std::string deidStudy = valueOf(found[0], "0020000D");
  EXPECT_EQ(deidStudy.rfind("2.25.", 0), 0u);
  EXPECT_EQ(as(researcher, "GET", "/dicomweb/studies?PatientID=SECRET-ID-77").status, 400) << "no probing by identity";
  EXPECT_EQ(resultsIn(as(researcher, "GET", "/dicomweb/studies?StudyInstanceUID=" + study)), 0u) << "original UIDs mean nothing here";
  EXPECT_EQ(resultsIn(as(researcher, "GET", "/dicomweb/studies?StudyInstanceUID=" + deidStudy)), 1u);
  EXPECT_EQ(resultsIn(as(researcher, "GET", "/dicomweb/studies?annotation.status=approved")), 1u) << "label search works de-identified";

  // Series and instances under the remapped UIDs; the mapping is stable across requests.
  const auto seriesAnswer = as(researcher, "GET", "/dicomweb/studies/" + deidStudy + "/series");
  expectClean(seriesAnswer.body, "the series search");
  std::string ctSeries, srSeries;
  for (const auto& s : json::parse(seriesAnswer.body)) (valueOf(s, "00080060") == "SR" ? srSeries : ctSeries) = valueOf(s, "0020000E");
  ASSERT_FALSE(ctSeries.empty());
  ASSERT_FALSE(srSeries.empty());
  std::set<std::string> deidImages;
  for (const auto& i : json::parse(as(researcher, "GET", "/dicomweb/studies/" + deidStudy + "/series/" + ctSeries + "/instances").body)) {
    deidImages.insert(valueOf(i, "00080018"));
  }
  ASSERT_EQ(deidImages.size(), 2u);

  // Retrieved instances: de-identified files; the SR's references point at the remapped images.
  const json srInstances = searchAnswer(as(researcher, "GET", "/dicomweb/studies/" + deidStudy + "/series/" + srSeries + "/instances"));
  ASSERT_EQ(srInstances.size(), 1u);
  const std::string deidSr = valueOf(srInstances[0], "00080018");
  const auto srAnswer = as(researcher, "GET", "/dicomweb/studies/" + deidStudy + "/series/" + srSeries + "/instances/" + deidSr);
  ASSERT_EQ(srAnswer.status, 200) << srAnswer.body;
  const std::string srFile = tmp / "deid-sr.dcm";
  writeFile(srFile, firstMultipartPart(srAnswer.body));
  expectClean(readFile(srFile), "the retrieved SR");
  const json read = json::parse(runCommand({nodeBinary(), "read-sr", srFile}).output);
  EXPECT_EQ(read["sr"]["studyInstanceUid"], deidStudy);
  const std::string referenced = read["annotation"]["findings"][0]["geometry"]["image"]["sopInstanceUid"];
  EXPECT_TRUE(deidImages.count(referenced)) << "the SR's image reference resolves in the de-identified study: " << referenced;
  EXPECT_EQ(dumpValue(srFile, "0012,0062"), "YES");
  EXPECT_TRUE(passesDciodvfy(srFile, "EnhancedSR"));
  const auto pixelmed = pixelmedSrValidator(srFile);
  EXPECT_TRUE(pixelmed.completed) << pixelmed.output;
  EXPECT_EQ(pixelmed.errors, 0) << pixelmed.output;

  const std::string deidImage = *deidImages.begin();
  const auto imageAnswer = as(researcher, "GET", "/dicomweb/studies/" + deidStudy + "/series/" + ctSeries + "/instances/" + deidImage);
  ASSERT_EQ(imageAnswer.status, 200);
  const std::string imageFile = tmp / "deid-ct.dcm";
  writeFile(imageFile, firstMultipartPart(imageAnswer.body));
  expectClean(readFile(imageFile), "the retrieved image");
  EXPECT_EQ(dumpValue(imageFile, "0008,0018"), deidImage);
  EXPECT_EQ(dumpValue(imageFile, "0010,0040"), "F");
  EXPECT_EQ(dumpValue(imageFile, "0010,0010"), dumpValue(imageFile, "0010,0020")) << "name and ID carry the same pseudonym";
  EXPECT_EQ(dumpValue(imageFile, "0010,0020"), valueOf(found[0], "00100020")) << "the same pseudonym in searches and files";
  const auto metadata = as(researcher, "GET", "/dicomweb/studies/" + deidStudy + "/series/" + ctSeries + "/metadata");
  ASSERT_EQ(metadata.status, 200);
  expectClean(metadata.body, "the series metadata");
  const auto frames = as(researcher, "GET", "/dicomweb/studies/" + deidStudy + "/series/" + ctSeries + "/instances/" + deidImage + "/frames/1");
  EXPECT_EQ(frames.status, 200);
  // Errors name the instance too, and only as the view knows it.
  const auto missingFrame = as(researcher, "GET", "/dicomweb/studies/" + deidStudy + "/series/" + ctSeries + "/instances/" + deidImage + "/frames/9");
  EXPECT_EQ(missingFrame.status, 404);
  expectClean(missingFrame.body, "the error for a missing frame");
  EXPECT_NE(missingFrame.body.find(deidImage), std::string::npos) << missingFrame.body;
  EXPECT_EQ(as(researcher, "POST", "/dicomweb/studies", "x").status, 403) << "researchers do not store";

  // An admin may grant identified access; then the same researcher sees the originals.
  EXPECT_EQ(as(node.adminToken(), "PUT", "/api/v1/users/research/identified-access", R"({"granted": true})").status, 200);
  EXPECT_EQ(as(node.adminToken(), "PUT", "/api/v1/users/reader/identified-access", R"({"granted": true})").status, 409);
  EXPECT_EQ(as(researcher, "PUT", "/api/v1/users/research/identified-access", R"({"granted": true})").status, 403);
  const json identified = json::parse(as(researcher, "GET", "/dicomweb/studies").body);
  EXPECT_EQ(valueOf(identified[0], "00100020"), "SECRET-ID-77");
  EXPECT_FALSE(node.getJson("/api/v1/audit?action=grant-identified-access")["entries"].empty());
}

TEST(Dicomweb, AnSrStoredByItsReaderBecomesTheNextRevisionOfTheirTask) {
  TempDir tmp;
  writeCtProtocol(tmp / "protocols", "ct-quick", false);
  RunningNode node(tmp / "node", NodeSettings{1, {{"ProtocolsDirectory", tmp / "protocols"}}});
  const std::string reader = node.addUser("reader", "annotator"), other = node.addUser("other", "annotator");
  const std::string study = generateStudy(tmp / "ct", {"--slices", "2", "--rows", "32", "--columns", "32"});
  const std::string slice = sopInstanceUidOf(listFiles(tmp / "ct", ".dcm").at(0));
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "ct"}).exitCode, 0);
  const std::string task = firstTaskOf(node, study);
  const std::string url = "http://127.0.0.1:" + std::to_string(node.httpPort()) + "/dicomweb";
  auto makeSr = [&](const json& doc, const std::string& out) {
    writeFile(tmp / "doc.json", doc.dump());
    const auto made = runCommand({nodeBinary(), "make-sr", "--annotation", tmp / "doc.json", "--images", tmp / "ct", "--out", out});
    if (made.exitCode != 0) throw std::runtime_error(made.output);
  };
  const json point = {{"observer", {{"name", "Reader^Rita"}}},
                      {"findings", {{{"finding", codedConcept("27925004", "SCT", "Nodule")},
                                     {"geometry", {{"type", "point"}, {"image", {{"sopInstanceUid", slice}}}, {"points", {{8, 9}}}}}}}}};
  makeSr(point, tmp / "sr.dcm");
  // Stored by someone without the claim: stored, attached to nothing.
  const json byOther = client(url, other, "storeInstances", json::object(), {tmp / "sr.dcm"});
  ASSERT_TRUE(byOther.contains("00081199")) << byOther.dump();
  EXPECT_FALSE(byOther.contains("annotation"));
  EXPECT_EQ(node.getJson("/api/v1/tasks/" + task)["revisions"], 0);
  // Stored by the reader holding the claim: the SR becomes revision 1 of the task.
  ASSERT_EQ(httpRequest(node.httpPort(), "POST", "/api/v1/tasks/" + task + "/claim", "", {{"Authorization", "Bearer " + reader}}).status, 200);
  makeSr(point, tmp / "sr2.dcm");
  const json byReader = client(url, reader, "storeInstances", json::object(), {tmp / "sr2.dcm"});
  ASSERT_TRUE(byReader.contains("annotation")) << byReader.dump();
  EXPECT_EQ(byReader["annotation"][0]["revision"], 1);
  const json saved = json::parse(httpRequest(node.httpPort(), "GET", "/api/v1/tasks/" + task + "/annotation", "",
                                             {{"Authorization", "Bearer " + reader}}).body);
  EXPECT_EQ(saved["annotation"]["findings"][0]["geometry"]["points"], json({{8, 9}}));
  // An SR that does not fit the protocol is stored but refused as a revision, with the reasons.
  json liver = point;
  liver["findings"][0]["finding"] = codedConcept("10200004", "SCT", "Liver");
  makeSr(liver, tmp / "sr3.dcm");
  const json refused = client(url, reader, "storeInstances", json::object(), {tmp / "sr3.dcm"});
  ASSERT_TRUE(refused.contains("annotation")) << refused.dump();
  EXPECT_FALSE(refused["annotation"][0].contains("revision"));
  EXPECT_FALSE(refused["annotation"][0]["problems"].empty());
  EXPECT_EQ(node.getJson("/api/v1/tasks/" + task)["revisions"], 1);
}

// Patient ID is Type 2: an empty one still gets the pseudonym in searches, as in files, and the
// name never shows through.
TEST(Dicomweb, TheResearcherViewHidesTheNameOfAPatientWithoutAnId) {
  TempDir tmp;
  RunningNode node(tmp / "node");
  const std::string researcher = node.addUser("research", "researcher");
  generateStudy(tmp / "ct", {"--slices", "1", "--rows", "16", "--columns", "16", "--patient-id", "", "--patient-name", "Hidden^Harry"});
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "ct"}).exitCode, 0);
  for (const std::string level : {"/dicomweb/studies", "/dicomweb/series", "/dicomweb/instances"}) {
    const auto r = httpRequest(node.httpPort(), "GET", level, "", {{"Authorization", "Bearer " + researcher}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body.find("Hidden"), std::string::npos) << level << ": " << r.body;
    const json found = json::parse(r.body);
    ASSERT_EQ(found.size(), 1u) << level;
    EXPECT_EQ(valueOf(found[0], "00100020").rfind("ANON-", 0), 0u) << level;
    EXPECT_EQ(valueOf(found[0], "00100010"), valueOf(found[0], "00100020")) << level;
  }
}

// PS3.18 framing: DICOM JSON is UTF-8 whatever the file's character set; Accept that admits no
// JSON gets 406; STOW-RS takes Part 10 parts only (415) and names the study it stored into.
TEST(Dicomweb, MetadataIsUtf8AndAcceptAndContentTypesAreHonoured) {
  TempDir tmp;
  RunningNode node(tmp / "node");
  generateStudy(tmp / "ct", {"--slices", "1", "--rows", "16", "--columns", "16"});
  const std::string file = listFiles(tmp / "ct", ".dcm").at(0);
  ASSERT_EQ(runCommand({"dcmodify", "-nb", "-i", "(0008,0005)=ISO_IR 100", "-i", "(0010,0010)=M\xfcller^J\xfcrgen", file}).exitCode, 0);
  const std::string study = dumpValue(file, "0020,000d"), series = dumpValue(file, "0020,000e"), sop = dumpValue(file, "0008,0018");
  const std::string boundary = "b0undary";
  const std::string body = "--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n" + readFile(file) + "\r\n--" + boundary + "--\r\n";
  const std::string admin = node.adminToken();
  auto post = [&](const std::string& contentType, const std::string& accept) {
    std::map<std::string, std::string> headers{{"Authorization", "Bearer " + admin}, {"Content-Type", contentType}};
    if (!accept.empty()) headers["Accept"] = accept;
    return httpRequest(node.httpPort(), "POST", "/dicomweb/studies", body, headers);
  };
  EXPECT_EQ(post("multipart/related; type=\"application/dicom+json\"; boundary=" + boundary, "").status, 415);
  EXPECT_EQ(post("multipart/related; type=\"application/dicom\"; boundary=" + boundary, "application/dicom+xml").status, 406);
  const auto stored = post("multipart/related; type=\"application/dicom\"; boundary=" + boundary, "application/dicom+json");
  ASSERT_EQ(stored.status, 200) << stored.body;
  const json answer = json::parse(stored.body);
  ASSERT_TRUE(answer.contains("00081190")) << "Retrieve URL is Type 2 in the STOW-RS answer: " << stored.body;
  EXPECT_NE(answer["00081190"]["Value"][0].get<std::string>().find("/studies/" + study), std::string::npos) << stored.body;

  auto get = [&](const std::string& target, const std::string& accept) {
    std::map<std::string, std::string> headers{{"Authorization", "Bearer " + admin}};
    if (!accept.empty()) headers["Accept"] = accept;
    return httpRequest(node.httpPort(), "GET", target, "", headers);
  };
  EXPECT_EQ(get("/dicomweb/studies", "multipart/related; type=\"application/dicom+xml\"").status, 406);
  EXPECT_EQ(get("/dicomweb/studies", "application/dicom+json, */*;q=0.1").status, 200);
  const auto weasis = get("/dicomweb/studies?&includefield=00080020&limit=10", "");
  EXPECT_EQ(weasis.status, 200) << "an empty key (a query starting with '&') is ignored: " << weasis.body;
  const auto metadata = get("/dicomweb/studies/" + study + "/series/" + series + "/instances/" + sop + "/metadata", "application/dicom+json");
  ASSERT_EQ(metadata.status, 200) << metadata.body;
  EXPECT_EQ(get("/dicomweb/studies/" + study + "/metadata", "application/dicom+xml").status, 406);
  EXPECT_EQ(get("/dicomweb/studies/" + study, "multipart/*").status, 200) << "a range with any subtype";
  EXPECT_EQ(get("/dicomweb/studies/" + study, "application/dicom+json").status, 406);
  const json parsed = json::parse(metadata.body);  // throws on bytes that are not UTF-8
  EXPECT_EQ(parsed[0]["00100010"]["Value"][0]["Alphabetic"], "M\xc3\xbcller^J\xc3\xbcrgen");
  EXPECT_EQ(parsed[0]["00080005"]["Value"][0], "ISO_IR 192");

  // Instances of two studies in one request: no single study to name, so the URL is empty.
  generateStudy(tmp / "two", {"--slices", "1", "--rows", "16", "--columns", "16"});
  generateStudy(tmp / "three", {"--slices", "1", "--rows", "16", "--columns", "16"});
  std::string mixed;
  for (const auto& dir : {tmp / "two", tmp / "three"}) {
    mixed += "--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n" + readFile(listFiles(dir, ".dcm").at(0)) + "\r\n";
  }
  mixed += "--" + boundary + "--\r\n";
  const auto both = httpRequest(node.httpPort(), "POST", "/dicomweb/studies", mixed,
                                {{"Authorization", "Bearer " + admin},
                                 {"Content-Type", "multipart/related; type=\"application/dicom\"; boundary=" + boundary}});
  ASSERT_EQ(both.status, 200) << both.body;
  const json bothAnswer = json::parse(both.body);
  ASSERT_TRUE(bothAnswer.contains("00081190")) << both.body;
  EXPECT_FALSE(bothAnswer["00081190"].contains("Value")) << both.body;
  EXPECT_EQ(bothAnswer["00081199"]["Value"].size(), 2u);
}

namespace {
struct AnswerPart {
  std::string contentType, body;
};
// The parts of a multipart/related answer, read by their Content-Length.
std::vector<AnswerPart> answerParts(const std::string& body) {
  std::vector<AnswerPart> parts;
  size_t pos = 0;
  while ((pos = body.find("Content-Type: ", pos)) != std::string::npos) {
    AnswerPart part;
    const size_t typeEnd = body.find("\r\n", pos);
    part.contentType = body.substr(pos + 14, typeEnd - pos - 14);
    const size_t length = body.find("Content-Length: ", typeEnd);
    const size_t headersEnd = body.find("\r\n\r\n", typeEnd);
    const size_t size = std::stoul(body.substr(length + 16, body.find("\r\n", length) - length - 16));
    part.body = body.substr(headersEnd + 4, size);
    pos = headersEnd + 4 + size;
    parts.push_back(std::move(part));
  }
  return parts;
}

// The uncompressed pixel data of a file, decoded by DCMTK's command line tools (not the node).
std::string transferSyntaxOf(const std::string& part10, const std::string& scratch);

std::string nativePixels(const std::string& file, const std::string& scratch) {
  const std::string syntax = transferSyntaxOf(readFile(file), scratch + ".probe");
  const std::string tool = syntax == "1.2.840.10008.1.2.4.80"   ? "dcmdjpls"
                           : syntax == "1.2.840.10008.1.2.5"    ? "dcmdrle"
                           : syntax == "1.2.840.10008.1.2.4.70" ? "dcmdjpeg"
                                                                : "dcmconv";
  const auto decoded = runCommand({tool, "+te", file, scratch});
  EXPECT_EQ(decoded.exitCode, 0) << tool << ": " << decoded.output;
  DcmFileFormat native;
  if (native.loadFile(scratch.c_str()).bad()) return "unreadable";
  DcmElement* pixels = nullptr;
  Uint8* data = nullptr;
  if (native.getDataset()->findAndGetElement(DCM_PixelData, pixels).bad() || pixels->getUint8Array(data).bad()) return "";
  return std::string(reinterpret_cast<const char*>(data), pixels->getLength());
}

// `file` with its pixel data replaced by `frames` (compressed in `syntaxUid`), one fragment
// each and an empty offset table, written to `out`: what a client does with frames served as
// stored when it hands them to a decoder.
void withFrames(const std::string& file, const std::vector<std::string>& frames, const std::string& syntaxUid, const std::string& out) {
  DcmFileFormat ff;
  ASSERT_TRUE(ff.loadFile(file.c_str()).good());
  const E_TransferSyntax xfer = DcmXfer(syntaxUid.c_str()).getXfer();
  ff.getDataset()->insert(annot::test::encapsulatedPixelData(frames, {}, xfer), /*replaceOld=*/true);
  ASSERT_TRUE(ff.saveFile(out.c_str(), xfer).good());
}

std::string transferSyntaxOf(const std::string& part10, const std::string& scratch) {
  writeFile(scratch, part10);
  DcmFileFormat file;
  if (file.loadFile(scratch.c_str()).bad()) return "unreadable";
  OFString ts;
  file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, ts);
  return ts.c_str();
}
}  // namespace

// WADO-RS answers in the transfer syntax Accept asks for (PS3.18 8.7.3): the stored file when
// it fits, Explicit VR Little Endian by default or on request (decoding JPEG, JPEG-LS and RLE),
// and 406 when neither is possible (a compression with no decoder here). Frames come as stored
// for transfer-syntax=* (OHIF's Accept) or the compression's image type, found in fragments
// with or without an offset table, and decoded otherwise; bulk data comes uncompressed; every
// BulkDataURI the metadata gives opens.
TEST(Dicomweb, RetrieveAnswersInTheTransferSyntaxAcceptAsksFor) {
  TempDir tmp;
  RunningNode node(tmp / "node");
  // 64x64: large enough for 1 KiB fragments to split a losslessly compressed frame.
  const std::string study = generateStudy(tmp / "mf", {"--enhanced", "--slices", "3", "--rows", "64", "--columns", "64"});
  const std::string original = listFiles(tmp / "mf", ".dcm").at(0);
  const std::string series = dumpValue(original, "0020,000e"), sop = dumpValue(original, "0008,0018");
  // Variants of the same multi-frame object, each its own instance in the series.
  struct Variant {
    std::string name, sop, file;
  };
  std::vector<Variant> variants;
  auto variant = [&](const std::string& name, const std::vector<std::string>& convert) {
    const std::string file = tmp / (name + ".dcm");
    std::vector<std::string> argv = convert;
    argv.push_back(original);
    argv.push_back(file);
    EXPECT_EQ(runCommand(argv).exitCode, 0) << name;
    const std::string uid = sop + "." + std::to_string(variants.size() + 1);
    EXPECT_EQ(runCommand({"dcmodify", "-nb", "-m", "(0008,0018)=" + uid, file}).exitCode, 0);
    variants.push_back({name, uid, file});
  };
  variant("implicit", {"dcmconv", "+ti"});
  variant("jpegls", {"dcmcjpls", "-ot"});  // one fragment per frame, no offset table
  variant("rle", {"dcmcrle"});
  variant("jpeg-fragments", {"dcmcjpeg", "+e1", "+fs", "1"});           // frames found by the offset table
  variant("jpeg-fragments-no-table", {"dcmcjpeg", "+e1", "+fs", "1", "-ot"});  // by their SOI markers
  for (size_t i = variants.size() - 2; i < variants.size(); ++i) {
    const std::string dump = runCommand({"dcmdump", variants[i].file}).output;
    size_t items = 0;
    for (size_t at = dump.find("(fffe,e000)"); at != std::string::npos; at = dump.find("(fffe,e000)", at + 1)) ++items;
    EXPECT_GT(items, 1u + 3u) << variants[i].name << ": frames must span several fragments";
  }
  variant("j2k", {"dcmcjpls"});
  {
    // JPEG 2000 has no decoder in DCMTK: the same bytes under its transfer syntax UID (both
    // UIDs are 22 characters long, so the meta header keeps its length).
    std::string bytes = readFile(variants.back().file);
    const size_t at = bytes.find("1.2.840.10008.1.2.4.80");
    ASSERT_NE(at, std::string::npos);
    bytes.replace(at, 22, "1.2.840.10008.1.2.4.90");
    writeFile(variants.back().file, bytes);
  }
  const std::string pdf = tmp / "report.pdf";
  writeFile(pdf, "%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n");
  ASSERT_EQ(runCommand({"pdf2dcm", "--study-from", original, "--title", "Report", pdf, tmp / "pdf.dcm"}).exitCode, 0);
  const std::string pdfSop = dumpValue(tmp / "pdf.dcm", "0008,0018"), pdfSeries = dumpValue(tmp / "pdf.dcm", "0020,000e");

  // Float pixel data (as a parametric map has) is bulk data too.
  const std::string floats = tmp / "float.dcm";
  ASSERT_EQ(runCommand({"cp", original, floats}).exitCode, 0);
  ASSERT_EQ(runCommand({"dcmodify", "-nb", "-m", "(0008,0018)=" + sop + ".9", "-i", "(7fe0,0008)=1.5\\2.5", floats}).exitCode, 0);

  const std::string boundary = "v4riants";
  std::string body = "--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n" + readFile(floats) + "\r\n";
  for (const auto& v : variants) body += "--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n" + readFile(v.file) + "\r\n";
  body += "--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n" + readFile(tmp / "pdf.dcm") + "\r\n--" + boundary + "--\r\n";
  const std::string admin = node.adminToken();
  const auto stored = httpRequest(node.httpPort(), "POST", "/dicomweb/studies", body,
                                  {{"Authorization", "Bearer " + admin},
                                   {"Content-Type", "multipart/related; type=\"application/dicom\"; boundary=" + boundary}});
  ASSERT_EQ(stored.status, 200) << stored.body;

  auto get = [&](const std::string& target, const std::string& accept) {
    return httpRequest(node.httpPort(), "GET", "/dicomweb/studies/" + study + target, "",
                       {{"Authorization", "Bearer " + admin}, {"Accept", accept}});
  };
  const std::string dicomDefault = "multipart/related; type=\"application/dicom\"";
  const std::string asStored = dicomDefault + "; transfer-syntax=*";
  const std::string pixels = nativePixels(original, tmp / "original");
  const size_t one = 64 * 64 * 2;
  ASSERT_EQ(pixels.size(), 3 * one);

  for (const auto& v : variants) {
    SCOPED_TRACE(v.name);
    const std::string instance = "/series/" + series + "/instances/" + v.sop;
    const std::string storedSyntax = transferSyntaxOf(readFile(v.file), tmp / "probe.dcm");
    // transfer-syntax=*: the stored file, byte for byte.
    const auto raw = get(instance, asStored);
    ASSERT_EQ(raw.status, 200) << raw.body;
    auto parts = answerParts(raw.body);
    ASSERT_EQ(parts.size(), 1u);
    EXPECT_EQ(parts[0].contentType, "application/dicom; transfer-syntax=" + storedSyntax);
    EXPECT_EQ(parts[0].body, readFile(v.file));
    // No syntax named: Explicit VR Little Endian, with the same pixels, where it can be decoded.
    const auto converted = get(instance, dicomDefault);
    if (v.name == "j2k") {
      EXPECT_EQ(converted.status, 406) << converted.body;
      EXPECT_NE(converted.body.find("transfer-syntax=*"), std::string::npos) << converted.body;
    } else {
      ASSERT_EQ(converted.status, 200) << converted.body;
      parts = answerParts(converted.body);
      ASSERT_EQ(parts.size(), 1u);
      EXPECT_EQ(parts[0].contentType, "application/dicom; transfer-syntax=1.2.840.10008.1.2.1");
      EXPECT_EQ(transferSyntaxOf(parts[0].body, tmp / "converted.dcm"), "1.2.840.10008.1.2.1");
      EXPECT_EQ(nativePixels(tmp / "converted.dcm", tmp / "converted-pixels"), pixels);
    }
    // Asking for the stored syntax by name gets it; another compression gets 406.
    EXPECT_EQ(get(instance, dicomDefault + "; transfer-syntax=" + storedSyntax).status, 200);
    EXPECT_EQ(get(instance, dicomDefault + "; transfer-syntax=1.2.840.10008.1.2.4.50").status, 406);

    // Frames as OHIF asks for them (transfer-syntax=*), out of order: compressed ones as
    // stored, labelled with their syntax, and decoding to the original pixels.
    const bool compressed = v.name != "implicit";
    const auto frames = get(instance + "/frames/3,1,2", "multipart/related; type=\"application/octet-stream\"; transfer-syntax=*");
    ASSERT_EQ(frames.status, 200) << frames.body;
    parts = answerParts(frames.body);
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(parts[0].contentType, "application/octet-stream; transfer-syntax=" + (compressed ? storedSyntax : "1.2.840.10008.1.2.1"));
    if (compressed) {
      // The j2k variant holds JPEG-LS code streams: decoded as what they are.
      const std::string decodeAs = v.name == "j2k" ? "1.2.840.10008.1.2.4.80" : storedSyntax;
      withFrames(v.file, {parts[1].body, parts[2].body, parts[0].body}, decodeAs, tmp / "reassembled.dcm");
      EXPECT_TRUE(nativePixels(tmp / "reassembled.dcm", tmp / "reassembled-pixels") == pixels) << "frames decode to the original pixels";
    } else {
      EXPECT_EQ(parts[0].body, pixels.substr(2 * one, one)) << "frame 3";
      EXPECT_EQ(parts[1].body, pixels.substr(0, one)) << "frame 1";
    }
    // The compression's own image type takes the stored frames too: without a syntax only when
    // the stored one is the type's default (image/jpeg means baseline, not lossless JPEG).
    const std::string imageType = v.name == "jpegls" ? "image/jls" : v.name == "rle" ? "image/dicom-rle" : v.name == "j2k" ? "image/jp2" : "image/jpeg";
    const bool lossless = v.name.rfind("jpeg-", 0) == 0;
    if (lossless) {
      EXPECT_EQ(get(instance + "/frames/2", "multipart/related; type=\"image/jpeg\"").status, 406);
    }
    const auto typed = get(instance + "/frames/2", "multipart/related; type=\"" + imageType + "\"" + (lossless ? "; transfer-syntax=*" : ""));
    if (compressed) {
      ASSERT_EQ(typed.status, 200) << typed.body;
      EXPECT_EQ(answerParts(typed.body).at(0).contentType, imageType + "; transfer-syntax=" + storedSyntax);
      EXPECT_EQ(answerParts(typed.body).at(0).body, parts[2].body);
    } else {
      EXPECT_EQ(typed.status, 406) << typed.body;
    }
    EXPECT_EQ(get(instance + "/frames/1", "multipart/related; type=\"image/jpx\"").status, 406) << "not the stored compression";

    // Frames asked for uncompressed (no syntax: Explicit VR Little Endian), and the bulk data
    // the metadata names: decoded where a decoder exists.
    const auto decoded = get(instance + "/frames/3,1", "multipart/related; type=\"application/octet-stream\"");
    const auto bulk = get(instance + "/bulkdata/7FE00010", "multipart/related; type=\"application/octet-stream\"");
    if (v.name == "j2k") {
      EXPECT_EQ(decoded.status, 406) << instance << ": " << decoded.body;
      EXPECT_NE(decoded.body.find("transfer-syntax=*"), std::string::npos) << decoded.body;
      EXPECT_EQ(bulk.status, 406) << bulk.body;
      continue;
    }
    ASSERT_EQ(decoded.status, 200) << decoded.body;
    parts = answerParts(decoded.body);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].body, pixels.substr(2 * one, one)) << "frame 3";
    EXPECT_EQ(parts[1].body, pixels.substr(0, one)) << "frame 1";
    EXPECT_EQ(parts[0].contentType, "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1");
    ASSERT_EQ(bulk.status, 200) << bulk.body;
    EXPECT_EQ(answerParts(bulk.body).at(0).body, pixels);
    const auto png = get(instance + "/frames/2/rendered", "image/png");
    EXPECT_EQ(png.status, 200) << png.body;
    EXPECT_EQ(png.body.substr(1, 3), "PNG");
  }

  const auto floatMetadata = get("/series/" + series + "/instances/" + sop + ".9/metadata", "application/dicom+json");
  ASSERT_EQ(floatMetadata.status, 200) << floatMetadata.body;
  const std::string floatUri = json::parse(floatMetadata.body)[0]["7FE00008"]["BulkDataURI"];
  const auto floatBulk = httpRequest(node.httpPort(), "GET", floatUri.substr(floatUri.find("/dicomweb/")), "", {{"Authorization", "Bearer " + admin}});
  ASSERT_EQ(floatBulk.status, 200) << floatBulk.body;
  const float expectedFloats[] = {1.5f, 2.5f};  // little endian, as x86 holds them
  EXPECT_EQ(answerParts(floatBulk.body).at(0).body, std::string(reinterpret_cast<const char*>(expectedFloats), sizeof expectedFloats));

  // The encapsulated document: its metadata names it as bulk data, and that URI opens it.
  const auto pdfMetadata = get("/series/" + pdfSeries + "/instances/" + pdfSop + "/metadata", "application/dicom+json");
  ASSERT_EQ(pdfMetadata.status, 200) << pdfMetadata.body;
  const std::string uri = json::parse(pdfMetadata.body)[0]["00420011"]["BulkDataURI"];
  const auto document = httpRequest(node.httpPort(), "GET", uri.substr(uri.find("/dicomweb/")), "",
                                    {{"Authorization", "Bearer " + admin}, {"Accept", "multipart/related; type=\"application/octet-stream\""}});
  ASSERT_EQ(document.status, 200) << document.body;
  EXPECT_EQ(answerParts(document.body).at(0).body.substr(0, 8), "%PDF-1.4");
  EXPECT_EQ(get("/series/" + pdfSeries + "/instances/" + pdfSop + "/bulkdata/00100010", "").status, 404) << "not bulk data";
  // The researcher view withholds the document: a PDF names its patient.
  const std::string researcher = node.addUser("research", "researcher");
  const auto shown = httpRequest(node.httpPort(), "GET", "/dicomweb/instances?SOPClassUID=1.2.840.10008.5.1.4.1.1.104.1", "",
                                 {{"Authorization", "Bearer " + researcher}});
  ASSERT_EQ(shown.status, 200) << shown.body;
  const std::string shownUrl = json::parse(shown.body).at(0)["00081190"]["Value"][0];
  const auto deidMetadata = httpRequest(node.httpPort(), "GET", shownUrl.substr(shownUrl.find("/dicomweb/")) + "/metadata", "",
                                        {{"Authorization", "Bearer " + researcher}});
  ASSERT_EQ(deidMetadata.status, 200) << deidMetadata.body;
  EXPECT_FALSE(json::parse(deidMetadata.body)[0].contains("00420011")) << deidMetadata.body;
  const auto deidDocument = httpRequest(node.httpPort(), "GET", shownUrl.substr(shownUrl.find("/dicomweb/")) + "/bulkdata/00420011", "",
                                        {{"Authorization", "Bearer " + researcher}});
  EXPECT_EQ(deidDocument.status, 404) << deidDocument.body;
  const auto deidInstance = httpRequest(node.httpPort(), "GET", shownUrl.substr(shownUrl.find("/dicomweb/")), "",
                                        {{"Authorization", "Bearer " + researcher}});
  ASSERT_EQ(deidInstance.status, 200);
  EXPECT_EQ(deidInstance.body.find("%PDF"), std::string::npos);
}

// A colour JPEG (YBR_FULL_422) decodes to RGB: its frames as uncompressed bytes would not match
// the Photometric Interpretation the metadata names, so uncompressed frames are refused (406)
// rather than sent for a viewer to convert a second time. OHIF's Accept (transfer-syntax=*)
// gets the JPEG stream as stored, which it decodes itself; the whole instance converts correctly.
TEST(Dicomweb, ColourJpegFramesComeAsStoredNotDecodedToAnotherColourModel) {
  TempDir tmp;
  RunningNode node(tmp / "node");
  char study[100], series[100], sop[100];
  dcmGenerateUniqueIdentifier(study, SITE_STUDY_UID_ROOT);
  dcmGenerateUniqueIdentifier(series, SITE_SERIES_UID_ROOT);
  dcmGenerateUniqueIdentifier(sop, SITE_INSTANCE_UID_ROOT);
  writeRgbCapture(tmp / "rgb.dcm", RgbCapture{study, series, sop},
                  [](unsigned x, unsigned y) {
                    const size_t i = (size_t{y} * 16 + x) * 3;
                    return std::array<Uint8, 3>{static_cast<Uint8>((i * 7) % 251), static_cast<Uint8>(((i + 1) * 7) % 251),
                                                static_cast<Uint8>(((i + 2) * 7) % 251)};
                  });
  ASSERT_EQ(runCommand({"dcmcjpeg", "+eb", "+un", tmp / "rgb.dcm", tmp / "jpeg.dcm"}).exitCode, 0);
  ASSERT_EQ(dumpValue(tmp / "jpeg.dcm", "0028,0004"), "YBR_FULL_422");

  const std::string boundary = "c0lour";
  const std::string body = "--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n" + readFile(tmp / "jpeg.dcm") + "\r\n--" + boundary + "--\r\n";
  const std::string auth = "Bearer " + node.adminToken();
  ASSERT_EQ(httpRequest(node.httpPort(), "POST", "/dicomweb/studies", body,
                        {{"Authorization", auth}, {"Content-Type", "multipart/related; type=\"application/dicom\"; boundary=" + boundary}})
                .status,
            200);
  const std::string instance = std::string("/dicomweb/studies/") + study + "/series/" + series + "/instances/" + sop;
  const auto asStored = httpRequest(node.httpPort(), "GET", instance + "/frames/1", "",
                                    {{"Authorization", auth}, {"Accept", "multipart/related; type=\"application/octet-stream\"; transfer-syntax=*"}});
  ASSERT_EQ(asStored.status, 200) << instance << ": " << asStored.body;
  const auto stream = answerParts(asStored.body).at(0);
  EXPECT_EQ(stream.contentType, "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.4.50");
  EXPECT_EQ(stream.body.substr(0, 2), "\xFF\xD8") << "a JPEG stream from its SOI marker";
  EXPECT_NE(stream.body.find("\xFF\xD9"), std::string::npos) << "to its EOI marker";
  const auto frames = httpRequest(node.httpPort(), "GET", instance + "/frames/1", "",
                                  {{"Authorization", auth}, {"Accept", "multipart/related; type=\"application/octet-stream\""}});
  EXPECT_EQ(frames.status, 406) << instance << ": " << frames.body;
  EXPECT_NE(frames.body.find("decodes to RGB while its Photometric Interpretation is YBR_FULL_422"), std::string::npos) << frames.body;
  const auto whole = httpRequest(node.httpPort(), "GET", instance, "", {{"Authorization", auth}, {"Accept", "multipart/related; type=\"application/dicom\""}});
  ASSERT_EQ(whole.status, 200) << whole.body;
  const auto parts = answerParts(whole.body);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(transferSyntaxOf(parts[0].body, tmp / "converted.dcm"), "1.2.840.10008.1.2.1");
  EXPECT_EQ(dumpValue(tmp / "converted.dcm", "0028,0004"), "RGB") << "decoded pixels are labelled with their colour model";
}

// What real DICOMweb clients send, answered as PS3.18 intends: requested attributes the index
// has are returned, the others are left out (never a 400 for a well-formed tag or keyword);
// matching keys the index cannot match on are ignored with a Warning; `accept` as a query
// parameter stands for the Accept header. Only what is malformed is refused.
TEST(Dicomweb, QueriesAsRealClientsSendThemAreAnswered) {
  TempDir tmp;
  RunningNode node(tmp / "node");
  const std::string study = generateStudy(tmp / "ct", {"--slices", "2", "--rows", "16", "--columns", "16", "--series", "2",
                                                       "--description", "Chest routine"});
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "ct"}).exitCode, 0);
  auto get = [&](const std::string& target, const std::string& accept = "application/dicom+json") {
    std::map<std::string, std::string> headers{{"Authorization", "Bearer " + node.adminToken()}};
    if (!accept.empty()) headers["Accept"] = accept;
    return httpRequest(node.httpPort(), "GET", target, "", headers);
  };
  // OHIF v3's series query: SeriesDate and SeriesTime are not in the index, the others are.
  auto r = get("/dicomweb/studies/" + study + "/series?includefield=00080021,00080031,0008103E,00200011");
  ASSERT_EQ(r.status, 200) << r.body;
  json series = json::parse(r.body);
  ASSERT_EQ(series.size(), 2u);
  EXPECT_TRUE(series[0].contains("0008103E"));
  EXPECT_TRUE(series[0].contains("00200011"));
  EXPECT_FALSE(series[0].contains("00080021")) << "left out, not invented";
  // OHIF's study list, dicomweb-client's defaults: paging, fuzzy matching off, a tag list.
  r = get("/dicomweb/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(valueOf(json::parse(r.body)[0], "00081030"), "Chest routine");
  // Keywords, repeated includefield, all.
  r = get("/dicomweb/studies?includefield=StudyDescription&includefield=SeriesDate,PatientAge");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json::parse(r.body)[0].contains("00081030"));
  EXPECT_EQ(get("/dicomweb/studies?includefield=all").status, 200);
  // A matching key the index cannot match on is ignored, and said so.
  r = get("/dicomweb/studies/" + study + "/series?SeriesDate=20240101&Modality=CT");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).size(), 2u);
  ASSERT_TRUE(r.headers.count("warning")) << "a Warning names what was ignored";
  EXPECT_NE(r.headers["warning"].find("299"), std::string::npos);
  EXPECT_NE(r.headers["warning"].find("SeriesDate"), std::string::npos) << r.headers["warning"];
  EXPECT_EQ(get("/dicomweb/studies?Modality=CT").headers.count("warning"), 0u);
  // accept as a query parameter (PS3.18 8.3.3.1) stands for the header, charset is UTF-8 anyway.
  EXPECT_EQ(get("/dicomweb/studies?accept=application/dicom%2Bjson&charset=utf-8", "application/dicom+xml").status, 200);
  EXPECT_EQ(get("/dicomweb/studies?accept=application/dicom%2Bxml", "").status, 406);
  // Wildcards and ranges as the viewers send them.
  EXPECT_EQ(get("/dicomweb/studies?PatientName=*&StudyDate=19000101-").status, 200);
  // Malformed requests are still refused, saying why.
  r = get("/dicomweb/studies?includefield=NotAnAttribute");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("neither a DICOM keyword nor a tag"), std::string::npos) << r.body;
  r = get("/dicomweb/studies?colour=red");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("'colour'"), std::string::npos) << r.body;
  EXPECT_EQ(get("/dicomweb/studies?StudyDate=yesterday").status, 400);
  EXPECT_EQ(get("/dicomweb/studies?limit=-1").status, 400);
}
