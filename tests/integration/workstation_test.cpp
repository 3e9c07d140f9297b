// The labeling workstation in Debian's Chromium (puppeteer-core) against the real node and the
// plugin inside a real Orthanc: readers label with the mouse, a reviewer adjudicates, and what
// reaches the PACS is checked with the validators and against what was drawn.
#include <gtest/gtest.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "DirectoryHarness.h"
#include "NodeHarness.h"
#include "OrthancHarness.h"
#include "Validators.h"
#include "support/DicomFixtures.h"

using namespace annot::test;
using nlohmann::json;

namespace {
const std::string kE2e = ANNOT_WORKSTATION_SOURCE_DIR "/test/e2e/";

// Where screenshots go: $ANNOT_SCREENSHOTS (docs/screenshots when refreshing the docs), or the
// test's own folder.
std::string screenshotDir(const TempDir& tmp) {
  const char* dir = std::getenv("ANNOT_SCREENSHOTS");
  if (dir && *dir) return dir;
  std::filesystem::create_directories(tmp / "shots");
  return tmp / "shots";
}

// Runs one end-to-end script; its last output line is its JSON report.
json runScript(const std::string& script, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"node", kE2e + script};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = runCommand(argv, std::chrono::minutes(6));
  const auto end = r.output.find_last_not_of('\n');
  const auto start = r.output.rfind('\n', end);
  const json report = json::parse(r.output.substr(start == std::string::npos ? 0 : start + 1), nullptr, false);
  if (r.exitCode != 0 || report.is_discarded()) {
    ADD_FAILURE() << script << " failed (exit " << r.exitCode << "):\n" << r.output;
    return json::object();
  }
  return report;
}

// Two geometries are the same shape on the same image when their points agree to a thousandth
// of a pixel (what the SR's 32-bit floats hold of the UI's coordinates).
::testing::AssertionResult sameGeometry(const json& drawn, const json& stored) {
  if (drawn["type"] != stored["type"]) return ::testing::AssertionFailure() << drawn["type"] << " vs " << stored["type"];
  if (drawn["image"] != stored["image"]) return ::testing::AssertionFailure() << drawn["image"] << " vs " << stored["image"];
  if (drawn["points"].size() != stored["points"].size()) {
    return ::testing::AssertionFailure() << drawn["points"].size() << " points drawn, " << stored["points"].size() << " stored";
  }
  for (size_t i = 0; i < drawn["points"].size(); ++i) {
    for (int k = 0; k < 2; ++k) {
      const double a = drawn["points"][i][k], b = stored["points"][i][k];
      if (std::abs(a - b) > 1e-9) return ::testing::AssertionFailure() << "point " << i << ": " << a << " drawn, " << b << " stored";
    }
  }
  return ::testing::AssertionSuccess();
}

// The masks of a document as {image key: runs}, for comparing a SEG read back with the drawing.
json masksByImage(const json& masks) {
  json out = json::object();
  for (const auto& m : masks) {
    const std::string key = m["image"]["sopInstanceUid"].get<std::string>() + (m["image"].contains("frame") ? ":" + m["image"]["frame"].dump() : "");
    out[key] = m["runs"];
  }
  return out;
}

// What the PACS holds of one result: the file, validated, and read back by the product's reader.
struct Delivered {
  std::string file;
  json read;
};

Delivered fetchFromPacs(const RunningOrthanc& pacs, const std::string& sop, const std::string& file, const std::string& readCommand) {
  const std::string id = pacs.findInstance(sop);
  EXPECT_FALSE(id.empty()) << sop << " is not in the PACS";
  if (id.empty()) return {};
  writeFile(file, pacs.instanceFile(id));
  EXPECT_TRUE(passesDciodvfy(file, readCommand == "read-sr" ? "EnhancedSR" : "Segmentation"));
  std::vector<std::string> argv = {nodeBinary(), readCommand, file};
  if (readCommand == "read-seg") argv.push_back("--runs");
  const CommandResult r = runCommand(argv);
  EXPECT_EQ(r.exitCode, 0) << r.output;
  return {file, json::parse(r.output, nullptr, false)};
}

// A deployment the browser talks to: the node, or Orthanc with the plugin.
struct Site {
  uint16_t httpPort;
  std::string prefix;  // "" or "/annotation"
  std::string adminToken;
  // The address users open; the server sends the browser on to the page itself.
  std::string ui() const { return "http://127.0.0.1:" + std::to_string(httpPort) + prefix + "/ui"; }
  HttpResult call(const std::string& token, const std::string& method, const std::string& target, const std::string& body = "") const {
    return httpRequest(httpPort, method, prefix + target, body, {{"X-Annotation-Token", token}, {"Content-Type", "application/json"}});
  }
  json get(const std::string& target) const { return json::parse(call(adminToken, "GET", target).body); }
  std::string addUser(const std::string& name, const std::string& role) const {
    const auto r = call(adminToken, "POST", "/api/v1/users", json{{"name", name}, {"role", role}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body).value("token", "");
  }
};

// The whole loop through the browser, then what the PACS received. Returns the script's report.
void labelReviewAndCheckThePacs(const Site& site, const RunningOrthanc& pacs, const std::string& study, const TempDir& tmp,
                                const std::string& shots) {
  const std::string rita = site.addUser("rita", "annotator"), bob = site.addUser("bob", "annotator");
  const std::string rev = site.addUser("rev", "reviewer"), admin = site.addUser("ada", "admin");
  ASSERT_TRUE(eventually([&] { return site.get("/api/v1/tasks?study=" + study)["tasks"].size() == 2; }, std::chrono::seconds(60)));

  const json report = runScript("labeling.mjs", {"--base", site.ui(), "--reader", "rita:" + rita, "--reader", "bob:" + bob,
                                                 "--reviewer", "rev:" + rev, "--admin", "ada:" + admin, "--screenshots", shots});
  ASSERT_EQ(report["readers"].size(), 2u) << report.dump();
  for (const auto& r : report["readers"]) {
    EXPECT_NE(r["flash"].get<std::string>().find("Submitted"), std::string::npos) << r["flash"];
    EXPECT_EQ(r["findings"].size(), 3u);
    // The painted mask covers a visible part of the image, before and after reopening the task.
    EXPECT_GT(r["massOnScreen"]["painted"].get<double>(), 0.005) << r["massOnScreen"];
  }
  EXPECT_NE(report["reviewFlash"].get<std::string>().find("Consensus signed off"), std::string::npos);
  EXPECT_NE(report["agreement"].get<std::string>().find("Mask Dice"), std::string::npos);
  // The admin page: users, protocols, the PACS destination and an intact audit chain.
  EXPECT_NE(report["admin"]["users"].get<std::string>().find("rita"), std::string::npos) << report["admin"].dump();
  EXPECT_NE(report["admin"]["protocols"].get<std::string>().find("chest-ct-lung-nodules"), std::string::npos);
  EXPECT_NE(report["admin"]["audit"].get<std::string>().find("Intact"), std::string::npos);

  // The review task's results: the consensus SR and SEG, at the PACS.
  json review;
  ASSERT_TRUE(eventually([&] {
    const json tasks = site.get("/api/v1/tasks?study=" + study + "&step=review")["tasks"];
    if (tasks.empty()) return false;
    review = site.get("/api/v1/tasks/" + std::to_string(tasks[0]["id"].get<int>()));
    if (review["outputs"].size() != 2) return false;
    for (const auto& o : review["outputs"]) {
      if (o["exports"].empty() || o["exports"][0]["state"] != "sent") return false;
    }
    return true;
  }, std::chrono::seconds(60))) << review.dump();
  std::string srSop, segSop;
  for (const auto& o : review["outputs"]) (o["kind"] == "SR" ? srSop : segSop) = o["sopInstanceUid"];

  const Delivered sr = fetchFromPacs(pacs, srSop, tmp / "consensus-sr.dcm", "read-sr");
  const ValidatorResult pixelmed = pixelmedSrValidator(sr.file);
  EXPECT_TRUE(pixelmed.completed) << pixelmed.output;
  EXPECT_EQ(pixelmed.errors, 0) << pixelmed.output;
  const json consensus = report["consensus"];
  const json stored = sr.read["annotation"];
  ASSERT_EQ(stored["findings"].size(), consensus["findings"].size()) << stored.dump();
  const json codes = {{"nodule", "27925004"}, {"mass", "4147007"}};
  for (size_t i = 0; i < consensus["findings"].size(); ++i) {
    const json& drawn = consensus["findings"][i];
    EXPECT_TRUE(sameGeometry(drawn["geometry"], stored["findings"][i]["geometry"])) << "finding " << i;
    EXPECT_EQ(stored["findings"][i]["finding"]["code"], codes[drawn["label"].get<std::string>()]);
  }
  // Reader 1's answers went into the consensus: the box's evaluations, typed and coded.
  const std::string first = stored["findings"][0].dump();
  EXPECT_NE(first.find("\"SOLID\""), std::string::npos) << first;
  EXPECT_NE(first.find("\"LR3\""), std::string::npos) << first;
  EXPECT_NE(first.find("smooth, well defined"), std::string::npos) << first;
  EXPECT_NE(first.find("14.5"), std::string::npos) << "the typed long axis" << first;
  EXPECT_NE(stored["classifications"].dump().find("\"2667000\""), std::string::npos) << "emphysema absent, as reader 1 said";
  EXPECT_EQ(sr.read["sr"]["studyInstanceUid"], study);

  const Delivered seg = fetchFromPacs(pacs, segSop, tmp / "consensus-seg.dcm", "read-seg");
  ASSERT_EQ(seg.read["segments"].size(), 1u) << seg.read.dump();
  EXPECT_EQ(seg.read["segments"][0]["type"]["code"], "4147007") << "the mass label's segment";
  EXPECT_EQ(masksByImage(seg.read["masks"]), masksByImage(consensus["masks"])) << "every painted pixel, on its slice";
  EXPECT_EQ(consensus["masks"].size(), 2u) << "painted on two slices";

  // Each reader's own SR reached the PACS too, with what that reader drew.
  for (const auto& reader : report["readers"]) {
    const json task = site.get("/api/v1/tasks/" + std::to_string(reader["task"].get<int>()));
    std::string readerSr;
    for (const auto& o : task["outputs"]) {
      if (o["kind"] == "SR") readerSr = o["sopInstanceUid"];
    }
    ASSERT_TRUE(eventually([&] { return !pacs.findInstance(readerSr).empty(); }, std::chrono::seconds(30))) << task.dump();
    const Delivered r = fetchFromPacs(pacs, readerSr, tmp / ("reader-" + reader["name"].get<std::string>() + ".dcm"), "read-sr");
    ASSERT_EQ(r.read["annotation"]["findings"].size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_TRUE(sameGeometry(reader["findings"][i]["geometry"], r.read["annotation"]["findings"][i]["geometry"]))
          << reader["name"] << " finding " << i;
    }
  }
}
}  // namespace

TEST(Workstation, ReadersLabelAndAReviewerAdjudicatesInTheBrowser) {
  TempDir tmp;
  RunningOrthanc pacs(tmp / "pacs");
  NodeSettings settings{1, {{"Pacs", {"ORTHANC@127.0.0.1:" + std::to_string(pacs.dicomPort())}}, {"OutboxMaxBackoffSeconds", 1}}};
  RunningNode node(tmp / "data", settings);
  const std::string study = generateStudy(tmp / "ct", {"--slices", "12", "--rows", "128", "--columns", "128", "--body-part", "CHEST",
                                                       "--patient-id", "WS-1", "--patient-name", "Doe^Jane"});
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "ct"}).exitCode, 0);
  labelReviewAndCheckThePacs(Site{node.httpPort(), "", node.adminToken()}, pacs, study, tmp, screenshotDir(tmp));
}

TEST(Workstation, TheSameWorkstationLabelsInsideOrthanc) {
  TempDir tmp;
  RunningOrthanc pacs(tmp / "pacs");
  const json modalities = {{"PACS", {"ORTHANC", "127.0.0.1", pacs.dicomPort()}}};
  RunningOrthanc orthanc(tmp / "orthanc", OrthancSettings{true, 1, {{"Destinations", {"modality:PACS"}}, {"OutboxMaxBackoffSeconds", 1}},
                                                           {{"DicomModalities", modalities}}});
  const Site site{orthanc.httpPort(), "/annotation", orthanc.adminToken()};
  // Without credentials: the product's Bearer challenge and its JSON message, never a Basic
  // challenge that would make browsers ask for Orthanc credentials when a session ends.
  const auto anonymous = httpGet(orthanc.httpPort(), "/annotation/api/v1/tasks");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.headers.count("www-authenticate") ? anonymous.headers.at("www-authenticate") : "", "Bearer realm=\"annotation-node\"");
  EXPECT_NE(anonymous.body.find("a valid token is required"), std::string::npos) << anonymous.body;
  // What Orthanc hands over for "tasks?" (an empty query) means no filter, as on the node.
  const auto empty = site.call(site.adminToken, "GET", "/api/v1/tasks?");
  EXPECT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(site.call(site.adminToken, "GET", "/api/v1/tasks?&state=").status, 200);
  // Orthanc hands query arguments over still percent-encoded; the plugin decodes them as the node does.
  EXPECT_EQ(site.call(site.adminToken, "GET", "/api/v1/tasks?state=IN%20PROGRESS").status, 200);
  EXPECT_EQ(site.call(site.adminToken, "GET", "/api/v1/tasks?state=IN+PROGRESS").status, 200);
  EXPECT_EQ(site.call(site.adminToken, "GET", "/dicomweb/studies?includefield=00081030%2C00080060").status, 200);
  // The workstation's files, from the same build as the node's.
  const auto page = httpGet(orthanc.httpPort(), "/annotation/ui/index.html");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("app-"), std::string::npos);
  const std::string csp = page.headers.count("content-security-policy") ? page.headers.at("content-security-policy") : "";
  EXPECT_NE(csp.find("script-src 'self' 'wasm-unsafe-eval';"), std::string::npos) << csp;
  const std::string study = generateStudy(tmp / "ct", {"--slices", "12", "--rows", "128", "--columns", "128", "--body-part", "CHEST",
                                                       "--patient-id", "WS+2"});
  ASSERT_EQ(storescu(orthanc.dicomPort(), {tmp / "ct"}).exitCode, 0);
  // A '+' sent as %2B is decoded once (not to a space) and reaches Orthanc's DICOMweb plugin as '+'.
  ASSERT_TRUE(eventually([&] {
    const auto found = site.call(site.adminToken, "GET", "/dicomweb/studies?PatientID=WS%2B2");
    return found.status == 200 && json::parse(found.body).size() == 1;
  })) << site.call(site.adminToken, "GET", "/dicomweb/studies?PatientID=WS%2B2").body;
  EXPECT_EQ(json::parse(site.call(site.adminToken, "GET", "/dicomweb/studies?PatientID=WS%202").body).size(), 0u);
  labelReviewAndCheckThePacs(site, pacs, study, tmp, tmp.path());
}

// A chest radiograph has no plane geometry: the reader still boxes and paints it on the stack,
// and the SEG at the PACS has every painted pixel on the DX, by reference.
TEST(Workstation, ARadiographIsBoxedAndPaintedAndItsMasksReachThePacs) {
  TempDir tmp;
  json protocol = json::parse(readFile(std::string(ANNOT_WORKSTATION_SOURCE_DIR) + "/../sr-templates/protocols/chest-xray-findings.json"));
  protocol["readers"] = 1;  // results go to the PACS on submission
  std::filesystem::create_directories(tmp / "protocols");
  writeFile(tmp / "protocols/chest-xray-findings.json", protocol.dump());
  RunningOrthanc pacs(tmp / "pacs");
  RunningNode node(tmp / "data", NodeSettings{1, {{"Pacs", {"ORTHANC@127.0.0.1:" + std::to_string(pacs.dicomPort())}},
                                                  {"ProtocolsDirectory", tmp / "protocols"}}});
  const std::string reader = node.addUser("rita", "annotator");
  const std::string study = generateStudy(tmp / "dx", {"--modality", "DX", "--rows", "180", "--columns", "240", "--body-part", "CHEST"});
  const std::string dx = sopInstanceUidOf(listFiles(tmp / "dx", ".dcm").at(0));
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "dx"}).exitCode, 0);
  firstTaskOf(node, study);

  const json report = runScript("radiograph.mjs", {"--base", Site{node.httpPort(), "", ""}.ui(), "--reader", "rita:" + reader,
                                                   "--screenshots", screenshotDir(tmp)});
  ASSERT_EQ(report["masks"].size(), 2u) << report.dump();
  EXPECT_NE(report["flash"].get<std::string>().find("Submitted"), std::string::npos) << report["flash"];
  for (const auto& m : report["masks"]) EXPECT_EQ(m["image"], json({{"sopInstanceUid", dx}})) << "no frame on a DX";

  json outputs;
  ASSERT_TRUE(eventually([&] {
    outputs = node.getJson("/api/v1/tasks/" + std::to_string(report["task"].get<int>()))["outputs"];
    if (outputs.size() != 2) return false;
    for (const auto& o : outputs) {
      if (o["exports"].empty() || o["exports"][0]["state"] != "sent") return false;
    }
    return true;
  }, std::chrono::seconds(60))) << outputs.dump();
  for (const auto& o : outputs) {
    if (o["kind"] == "SR") {
      const Delivered sr = fetchFromPacs(pacs, o["sopInstanceUid"], tmp / "sr.dcm", "read-sr");
      ASSERT_EQ(sr.read["annotation"]["findings"].size(), 1u);
      EXPECT_TRUE(sameGeometry(report["findings"][0]["geometry"], sr.read["annotation"]["findings"][0]["geometry"]));
      continue;
    }
    const Delivered seg = fetchFromPacs(pacs, o["sopInstanceUid"], tmp / "seg.dcm", "read-seg");
    ASSERT_EQ(seg.read["segments"].size(), 2u) << seg.read.dump();
    // The runs painted in the browser are the runs in the PACS's SEG, each under its label: the
    // pneumothorax was painted right of the image's middle (x 160-190), the lung field left.
    std::set<json> painted, stored;
    for (const auto& m : report["masks"]) painted.insert(m["runs"]);
    for (const auto& m : seg.read["masks"]) {
      stored.insert(m["runs"]);
      EXPECT_EQ(m["image"], json({{"sopInstanceUid", dx}}));
      const std::string type = seg.read["segments"][m["segment"].get<int>() - 1]["type"]["code"];
      const uint64_t x = m["runs"][0][0].get<uint64_t>() % 240;
      if (type == "36118008") EXPECT_GT(x, 140u) << "pneumothorax";
      else if (type == "39607008") EXPECT_LT(x, 100u) << "lung field";
      else ADD_FAILURE() << "unexpected segment type " << type;
    }
    EXPECT_EQ(stored, painted);
  }
}

// A radiologist signs in with the hospital password. An administrator disables a reader on
// the admin page while the reader's browser is signed in: the reader's next action signs the page out with the reason, and the same token cannot
// sign in again.
TEST(Workstation, StaffSignInWithTheHospitalPasswordAndAnAdminEndsAReadersOpenSession) {
  TempDir tmp;
  RunningDirectory directory(tmp / "ldap");
  RunningNode node(tmp / "data", NodeSettings{1, {{"Ldap", directory.settings()}}});
  const std::string reader = node.addUser("rita", "annotator");
  const std::string admin = node.addUser("ada", "admin");
  const std::string study = generateStudy(tmp / "ct", {"--slices", "2", "--rows", "64", "--columns", "64", "--body-part", "CHEST"});
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "ct"}).exitCode, 0);
  firstTaskOf(node, study);

  const json report = runScript("access.mjs", {"--base", Site{node.httpPort(), "", ""}.ui(), "--reader", "rita:" + reader,
                                               "--admin", "ada:" + admin, "--hospital", "rev1:" + RunningDirectory::password("rev1"),
                                               "--screenshots", screenshotDir(tmp)});
  // A radiologist signs in with the hospital password through the same form.
  EXPECT_NE(report["passwordLabel"].get<std::string>().find("Hospital password"), std::string::npos) << report.dump();
  EXPECT_NE(report["hospitalUser"].get<std::string>().find("rev1"), std::string::npos) << report.dump();
  EXPECT_NE(report["hospitalUser"].get<std::string>().find("reviewer"), std::string::npos) << report.dump();
  EXPECT_EQ(report["adminSees"], "disabled") << report.dump();
  EXPECT_NE(report["signedOutMessage"].get<std::string>().find("signed out"), std::string::npos) << report.dump();
  EXPECT_NE(report["signInAgain"].get<std::string>().find("user 'rita' is disabled"), std::string::npos) << report.dump();
  const json trail = node.getJson("/api/v1/audit?action=disable-user");
  ASSERT_EQ(trail["entries"].size(), 1u);
  EXPECT_EQ(trail["entries"][0]["user"], "ada") << "the admin who did it";
  EXPECT_EQ(trail["entries"][0]["objectId"], "rita");
}

// Hospital sign-in through a real OpenID provider (oidc-provider from npm, with its own login
// form): authorization code with PKCE, the ID token's signature checked against the provider's
// published key, the groups claim mapped to a role; an outsider is refused with the reason; a
// forged answer is refused and audited.
TEST(Workstation, StaffSignInThroughTheHospitalsOpenIdProvider) {
  TempDir tmp;
  const uint16_t providerPort = freePort(), nodePort = freePort();
  const std::string secret = "client-secret-" + std::to_string(providerPort) + "-Qm81";
  writeFile(tmp / "users.json", json{{"rad1", {{"password", "pw-rad1-Zt4"}, {"groups", {"radiologists", "qa-reviewers"}}, {"name", "Rita Ray"}}},
                                     {"visitor", {{"password", "pw-visitor-Zt4"}, {"groups", {"cafeteria"}}, {"name", "Vic Visitor"}}}}
                                    .dump());
  const std::string callback = "http://127.0.0.1:" + std::to_string(nodePort) + "/api/v1/session/oidc/callback";
  ChildProcess provider({"node", std::string(ANNOT_COMPAT_DIR) + "/oidc-provider.mjs", "--port", std::to_string(providerPort),
                         "--client-id", "annotation-node", "--client-secret", secret, "--redirect-uri", callback, "--users", tmp / "users.json"},
                        tmp / "provider.log");
  ASSERT_TRUE(eventually([&] { return provider.log().find("\"ready\":true") != std::string::npos; })) << provider.log();
  const std::string issuer = "http://127.0.0.1:" + std::to_string(providerPort);
  RunningNode node(tmp / "data", NodeSettings{1, {{"HttpPort", nodePort},
                                                  {"OpenIdConnect", {{"Issuer", issuer}, {"ClientId", "annotation-node"}, {"ClientSecret", secret},
                                                                     {"RedirectUri", callback}, {"Scopes", "openid profile groups"},
                                                                     {"Roles", {{"radiologists", "annotator"}, {"qa-reviewers", "reviewer"}}}}}}});

  const json report = runScript("oidc.mjs", {"--base", Site{node.httpPort(), "", ""}.ui(), "--user", "rad1:pw-rad1-Zt4",
                                             "--outsider", "visitor:pw-visitor-Zt4", "--screenshots", screenshotDir(tmp)});
  EXPECT_EQ(report["providerPage"], std::to_string(providerPort)) << "the password was typed at the provider, not here";
  EXPECT_NE(report["who"].get<std::string>().find("rad1"), std::string::npos) << report.dump();
  EXPECT_EQ(report["session"]["role"], "reviewer") << "the most powerful role of the groups: " << report.dump();
  EXPECT_EQ(report["session"]["via"], "session");
  EXPECT_EQ(report["landedOn"], "/ui/index.html");
  EXPECT_NE(report["outsiderMessage"].get<std::string>().find("not in a group"), std::string::npos) << report.dump();
  EXPECT_EQ(report["outsiderSession"]["signedIn"], false);

  // An answer the node did not ask for (a forged or replayed state) is refused.
  HttpResult forged = httpGet(node.httpPort(), "/api/v1/session/oidc/callback?code=abc&state=forged");
  EXPECT_EQ(forged.status, 302);
  EXPECT_NE(forged.headers["location"].find("signin_error="), std::string::npos) << forged.headers["location"];
  EXPECT_TRUE(forged.headers["set-cookie"].empty()) << "no session for a forged answer";

  const std::string trail = node.get("/api/v1/audit?action=sign-in&limit=100").body;
  EXPECT_NE(trail.find("oidc: role reviewer"), std::string::npos) << trail;
  EXPECT_NE(trail.find("none of which grants a role"), std::string::npos) << trail;
  EXPECT_NE(trail.find("unknown or already used state"), std::string::npos) << trail;
  for (const std::string& text : {trail, node.process().log()}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << "the client secret leaked";
    EXPECT_EQ(text.find("pw-rad1-Zt4"), std::string::npos) << "a password leaked";
  }
}

// An algorithm's SR and SEG (the product's SR writer and dcmjs's SEG, as a model run elsewhere
// writes them) imported for a study: the reader opens the task in the browser and starts from
// them, marked "AI"; deletes one finding, draws one; the SR written on submission carries the
// algorithm's identification on the kept finding only, and the SEG's segment is AUTOMATIC.
TEST(Workstation, AReaderStartsFromAnAlgorithmsPrelabelAndTheResultsTellItsItemsFromTheReaders) {
  TempDir tmp;
  writeAiNoduleProtocol(tmp / "protocols");
  RunningNode node(tmp / "data", NodeSettings{1, {{"ProtocolsDirectory", tmp / "protocols"}}});
  const std::string admin = node.addUser("ada", "admin");
  const std::string reader = node.addUser("rita", "annotator");
  const std::string study = generateStudy(tmp / "ct", {"--slices", "2", "--rows", "64", "--columns", "64", "--body-part", "CHEST"});
  const std::vector<std::string> slices = listFiles(tmp / "ct", ".dcm");
  const std::string s0 = sopInstanceUidOf(slices.at(0)), s1 = sopInstanceUidOf(slices.at(1));
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "ct"}).exitCode, 0);
  const std::string task = firstTaskOf(node, study);
  writeFile(tmp / "model.json", noduleNetPrelabel(bboxOn(s0, 4, 6, 14, 9), s0, "2.25.1111", "2.25.2222").dump());
  ASSERT_EQ(runCommand({nodeBinary(), "make-sr", "--annotation", tmp / "model.json", "--images", tmp / "ct", "--out", tmp / "ai-sr.dcm"}).exitCode, 0);
  const CommandResult seg = runCommand({"node", std::string(ANNOT_COMPAT_DIR) + "/make-seg.mjs", tmp / "ai-seg.dcm", "--box", "4,6,14,9",
                                        "--algorithm", "NoduleNet", "--version", "3.1", "--type", "27925004,SCT,Nodule", slices.at(0), slices.at(1)});
  ASSERT_EQ(seg.exitCode, 0) << seg.output;
  const std::map<std::string, std::string> asAdmin = {{"Authorization", "Bearer " + admin}, {"Content-Type", "application/dicom"}};
  for (const char* file : {"ai-sr.dcm", "ai-seg.dcm"}) {
    const HttpResult r = httpRequest(node.httpPort(), "POST", "/api/v1/studies/" + study + "/prelabels", readFile(tmp / file), asAdmin);
    ASSERT_EQ(r.status, 201) << file << ": " << r.body;
  }

  const json report = runScript("prelabel.mjs", {"--base", Site{node.httpPort(), "", ""}.ui(), "--reader", "rita:" + reader,
                                                 "--screenshots", screenshotDir(tmp)});
  ASSERT_TRUE(report.contains("saved")) << report.dump();
  EXPECT_GT(report["maskOnScreen"].get<double>(), 0.001) << "the algorithm's mask is painted";
  EXPECT_NE(report["flash"].get<std::string>().find("Submitted"), std::string::npos) << report["flash"];

  json outputs;
  ASSERT_TRUE(eventually([&] { return (outputs = node.getJson("/api/v1/tasks/" + task)["outputs"]).size() == 2; })) << outputs.dump();
  EXPECT_EQ(node.getJson("/api/v1/tasks/" + task)["prelabelUse"]["findings"], json({{"kept", 1}, {"edited", 0}, {"removed", 1}, {"added", 1}}));
  for (const auto& o : outputs) {
    const std::string file = tmp / (o["kind"].get<std::string>() + ".dcm");
    const HttpResult got = httpRequest(node.httpPort(), "GET",
                                       "/dicomweb/studies/" + study + "/series/" + o["seriesInstanceUid"].get<std::string>() + "/instances/" +
                                           o["sopInstanceUid"].get<std::string>(),
                                       "", {{"Authorization", "Bearer " + admin}});
    ASSERT_EQ(got.status, 200) << got.body;
    writeFile(file, firstMultipartPart(got.body));
    if (o["kind"] == "SR") {
      EXPECT_TRUE(passesDciodvfy(file, "EnhancedSR"));
      const json read = json::parse(runCommand({nodeBinary(), "read-sr", file}).output);
      ASSERT_EQ(read["annotation"]["findings"].size(), 2u) << read.dump();
      for (const auto& f : read["annotation"]["findings"]) {
        if (f["trackingUid"] == "2.25.1111") EXPECT_EQ(f["provenance"]["algorithm"]["name"], "NoduleNet") << f.dump();
        else EXPECT_FALSE(f.contains("provenance")) << "drawn by the reader: " << f.dump();
      }
    } else {
      EXPECT_TRUE(passesDciodvfy(file, "Segmentation"));
      const json read = json::parse(runCommand({nodeBinary(), "read-seg", file}).output);
      EXPECT_EQ(read["segments"][0]["algorithm"]["type"], "AUTOMATIC") << read.dump();
      EXPECT_EQ(read["segments"][0]["algorithm"]["name"], "NoduleNet");
    }
  }
}

TEST(Workstation, BadInputIsShownNextToItsItemAndNothingSavedIsLost) {
  TempDir tmp;
  RunningNode node(tmp / "data", NodeSettings{1});
  const std::string reader = node.addUser("rita", "annotator");
  const std::string study = generateStudy(tmp / "ct", {"--slices", "4", "--rows", "128", "--columns", "128", "--body-part", "CHEST"});
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "ct"}).exitCode, 0);
  ASSERT_TRUE(eventually([&] { return node.getJson("/api/v1/tasks?study=" + study)["tasks"].size() == 2; }));
  const json report = runScript("bad-input.mjs", {"--base", Site{node.httpPort(), "", ""}.ui(), "--reader", "rita:" + reader});
  ASSERT_TRUE(report.contains("shown")) << report.dump();
  EXPECT_NE(report["shown"]["twoPointPolygon"].get<std::string>().find("a polygon needs at least 3 points"), std::string::npos);
  EXPECT_NE(report["shown"]["maskOffTheImage"].get<std::string>().find("goes past the 16384 pixels of the frame"), std::string::npos)
      << report["shown"].dump();
  EXPECT_NE(report["shown"]["labelNotInProtocol"].get<std::string>().find("'tumour' is not a label of protocol"), std::string::npos);
  EXPECT_EQ(report["revisionBefore"], report["revisionAfter"]);
  EXPECT_EQ(report["sameOnServer"], true);
  EXPECT_EQ(report["sameAfterReload"], true);
  EXPECT_EQ(report["errors"], json::array());
  EXPECT_NE(report["wrongToken"].get<std::string>().find("do not match an active user"), std::string::npos) << report.dump();
}

namespace {
// A colour secondary capture in a given study, compressed as JPEG baseline (YBR_FULL_422): red
// on the left half, blue on the right, plainly colour on the screen.
void writeColourJpeg(const TempDir& tmp, const std::string& study, const std::string& patientId, const std::string& out) {
  char series[100], sop[100];
  dcmGenerateUniqueIdentifier(series, SITE_SERIES_UID_ROOT);
  dcmGenerateUniqueIdentifier(sop, SITE_INSTANCE_UID_ROOT);
  RgbCapture spec{study, series, sop, patientId, 64, 64};
  writeRgbCapture(tmp / "rgb.dcm", spec, [](unsigned x, unsigned) {
    return x < 32 ? std::array<Uint8, 3>{220, 40, 30} : std::array<Uint8, 3>{30, 40, 220};
  });
  ASSERT_EQ(runCommand({"dcmcjpeg", "+eb", "+un", tmp / "rgb.dcm", out}).exitCode, 0);
}
}  // namespace

TEST(Workstation, ShowsCompressedMultiFrameAndColourImages) {
  TempDir tmp;
  RunningNode node(tmp / "data");
  const std::string reader = node.addUser("rita", "annotator");
  // One study, three series as a PACS holds them: JPEG-LS slices, a multi-frame Enhanced CT and
  // a colour JPEG capture.
  const std::string study = generateStudy(tmp / "ct", {"--slices", "3", "--rows", "64", "--columns", "64", "--patient-id", "VIEW-1"});
  std::filesystem::create_directories(tmp / "send");
  int n = 0;
  for (const auto& f : listFiles(tmp / "ct", ".dcm")) {
    ASSERT_EQ(runCommand({"dcmcjpls", f, tmp / ("send/jls" + std::to_string(n++) + ".dcm")}).exitCode, 0);
  }
  generateStudy(tmp / "enhanced", {"--enhanced", "--slices", "5", "--rows", "64", "--columns", "64", "--patient-id", "VIEW-1",
                                   "--study-uid", study});
  writeColourJpeg(tmp, study, "VIEW-1", tmp / "send/colour.dcm");
  // storescu proposes one compressed transfer syntax at a time: JPEG-LS, then JPEG baseline.
  const std::string port = std::to_string(node.dicomPort());
  std::filesystem::create_directories(tmp / "jpeg");
  std::filesystem::rename(tmp / "send/colour.dcm", tmp / "jpeg/colour.dcm");
  for (const auto& [flag, folder] : {std::pair<std::string, std::string>{"-xt", "send"}, {"-xy", "jpeg"}}) {
    const CommandResult sent = runCommand({"storescu", flag, "-aec", "ANNOTNODE", "+sd", "+r", "127.0.0.1", port, tmp / folder});
    ASSERT_EQ(sent.exitCode, 0) << sent.output;
  }
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "enhanced"}).exitCode, 0);
  const auto scheduled = httpRequest(node.httpPort(), "POST", "/api/v1/tasks", json{{"study", study}, {"protocol", "chest-ct-lung-nodules"}}.dump(),
                                     {{"Authorization", "Bearer " + node.adminToken()}});
  ASSERT_EQ(scheduled.status, 201) << scheduled.body;
  const int task = json::parse(scheduled.body)["tasks"][0]["id"];

  const json report = runScript("viewing.mjs", {"--base", Site{node.httpPort(), "", ""}.ui(), "--reader", "rita:" + reader,
                                                "--task", std::to_string(task), "--screenshots", screenshotDir(tmp)});
  ASSERT_EQ(report["series"].size(), 3u) << report.dump();
  EXPECT_EQ(report["httpErrors"], json::array()) << "every image came from the node's own WADO-RS";
  int grey = 0, colour = 0, multiFrame = 0;
  for (const auto& s : report["series"]) {
    ASSERT_TRUE(s["image"].is_object()) << s.dump();
    EXPECT_EQ(s["image"]["rows"], 64);
    // Drawn: the screen is not one flat colour.
    EXPECT_GT(s["screen"]["spread"].get<double>(), 10.0) << s.dump();
    if (s["image"]["color"] == true) {
      ++colour;
      EXPECT_GT(s["screen"]["chroma"].get<double>(), 40.0) << "red and blue on the screen: " << s.dump();
    } else {
      ++grey;
      EXPECT_LT(s["screen"]["chroma"].get<double>(), 8.0) << s.dump();
    }
    if (s["frames"].get<int>() == 5) {
      ++multiFrame;
      EXPECT_GE(s["image"]["frame"].get<int>(), 1);
      EXPECT_NE(s["frameAfterScroll"], s["image"]["frame"]) << "scrolling walks through the frames";
      EXPECT_EQ(s["drawn"]["geometry"]["image"]["frame"], s["frameAfterScroll"]) << s.dump();
      EXPECT_NE(s["overlay"].get<std::string>().find("Frame"), std::string::npos);
    }
  }
  EXPECT_EQ(grey, 2);
  EXPECT_EQ(colour, 1);
  EXPECT_EQ(multiFrame, 1);
}

namespace {
// A one-reader protocol whose lesion is a box with a long axis and may be painted, in magenta.
void writeLesionProtocol(const std::string& dir) {
  std::filesystem::create_directories(dir);
  const json code = {{"code", "52988006"}, {"scheme", "SCT"}, {"meaning", "Lesion"}};
  const json protocol = {
      {"id", "ct-lesion"}, {"version", "1"}, {"title", "CT lesion"}, {"appliesTo", {{"modalities", {"CT"}}}},
      {"procedure", {{"code", "25045-6"}, {"scheme", "LN"}, {"meaning", "CT unspecified body region"}}},
      {"readers", 1}, {"review", false},
      // OHIF 3.13 draws an SR measurement only when its group names a finding site.
      {"labels", {{{"key", "lesion"}, {"finding", code}, {"findingSite", {{"code", "39607008"}, {"scheme", "SCT"}, {"meaning", "Lung structure"}}},
                   {"geometries", {"bbox"}}, {"segmentation", true}, {"color", {230, 0, 230}},
                   {"measurements", {{{"concept", {{"code", "103339001"}, {"scheme", "SCT"}, {"meaning", "Long Axis"}}},
                                      {"unit", {{"code", "mm"}, {"scheme", "UCUM"}, {"meaning", "millimeter"}}}}}}}}}};
  writeFile(dir + "/ct-lesion.json", protocol.dump(2));
}

// One reader labels a box and a mask through the API; the SR and SEG are written on submit.
// Returns the study.
std::string labelThroughTheApi(const Site& site, const TempDir& tmp, uint16_t dicomPort) {
  const std::string study = generateStudy(tmp / "ct", {"--slices", "6", "--rows", "128", "--columns", "128", "--patient-id", "OHIF-1"});
  const auto slices = listFiles(tmp / "ct", ".dcm");
  EXPECT_EQ(storescu(dicomPort, {tmp / "ct"}).exitCode, 0);
  const std::string reader = site.addUser("rita", "annotator");
  json tasks;
  EXPECT_TRUE(eventually([&] { tasks = site.get("/api/v1/tasks?study=" + study)["tasks"]; return tasks.size() == 1; }, std::chrono::seconds(60)));
  if (tasks.empty()) return study;
  const std::string task = std::to_string(tasks[0]["id"].get<int>());
  EXPECT_EQ(site.call(reader, "POST", "/api/v1/tasks/" + task + "/claim").status, 200);
  const std::string slice = sopInstanceUidOf(slices.at(3));
  // The phantom's dense disc sits near (82, 77) on the first slices: the box and the mask cover it.
  json runs = json::array();
  for (int row = 68; row <= 86; ++row) {
    const int half = static_cast<int>(std::sqrt(81.0 - (row - 77) * (row - 77)));
    runs.push_back({row * 128 + 82 - half, 2 * half + 1});
  }
  const json doc = {
      {"observer", {{"name", "Reader^Rita"}}},
      {"findings", {{{"label", "lesion"},
                     {"geometry", {{"type", "bbox"}, {"image", {{"sopInstanceUid", slice}}}, {"points", {{72, 67}, {92, 87}}}}},
                     {"measurements", {{{"concept", {{"code", "103339001"}, {"scheme", "SCT"}, {"meaning", "Long Axis"}}}, {"value", 14.5},
                                        {"unit", {{"code", "mm"}, {"scheme", "UCUM"}, {"meaning", "millimeter"}}}}}}}}},
      {"segmentation", {{"segments", {{{"label", "Lesion"},
                                       {"category", {{"code", "49755003"}, {"scheme", "SCT"}, {"meaning", "Morphologically Abnormal Structure"}}},
                                       {"type", {{"code", "52988006"}, {"scheme", "SCT"}, {"meaning", "Lesion"}}},
                                       {"algorithm", {{"type", "MANUAL"}}}, {"color", {230, 0, 230}}}}},
                        {"masks", {{{"segment", 1}, {"image", {{"sopInstanceUid", slice}}}, {"runs", runs}}}}}}};
  const auto saved = site.call(reader, "PUT", "/api/v1/tasks/" + task + "/annotation", doc.dump());
  EXPECT_EQ(saved.status, 201) << saved.body;
  EXPECT_EQ(site.call(reader, "POST", "/api/v1/tasks/" + task + "/submit").status, 200);
  EXPECT_TRUE(eventually([&] { return site.get("/api/v1/tasks/" + task)["outputs"].size() == 2; }, std::chrono::seconds(30)));
  return study;
}

void expectOhifShowsTheResults(const Site& site, const std::string& study, const std::string& shots) {
  const json report = runScript("ohif.mjs", {"--base", site.ui(), "--user", "admin:" + site.adminToken, "--study", study,
                                             "--sr", "Labels", "--seg", "Masks", "--expect", "14.50 mm", "--color", "230,0,230",
                                             "--screenshots", shots});
  ASSERT_TRUE(report.contains("ct")) << report.dump();
  EXPECT_EQ(report["signInAsked"], "Sign in to open the viewer.");
  EXPECT_NE(report["backAt"].get<std::string>().find("/viewer/viewer?StudyInstanceUIDs=" + study), std::string::npos);
  EXPECT_GT(report["ct"]["spread"].get<double>(), 20.0) << "the CT is drawn";
  EXPECT_NE(report["srText"].get<std::string>().find("14.50 mm"), std::string::npos) << "the SR's measurement, with its value: " << report["srText"];
  EXPECT_GT(report["seg"]["segmentColourFraction"].get<double>() - report["ct"]["segmentColourFraction"].get<double>(), 0.003)
      << "the SEG's segment is painted in its colour: " << report.dump();
  EXPECT_EQ(report["httpErrors"], json::array()) << "no request of the viewer failed";
  EXPECT_EQ(report["errors"], json::array());
}
}  // namespace

TEST(Ohif, ThePublishedViewerOpensTheNodesStudyWithItsSrAndSeg) {
  TempDir tmp;
  writeLesionProtocol(tmp / "protocols");
  RunningNode node(tmp / "data", NodeSettings{1, {{"ProtocolsDirectory", tmp / "protocols"}}});
  const Site site{node.httpPort(), "", node.adminToken()};
  const std::string study = labelThroughTheApi(site, tmp, node.dicomPort());
  expectOhifShowsTheResults(site, study, screenshotDir(tmp));
}

TEST(Ohif, ThePublishedViewerOpensTheStudyInsideOrthanc) {
  TempDir tmp;
  writeLesionProtocol(tmp / "protocols");
  RunningOrthanc orthanc(tmp / "orthanc", OrthancSettings{true, 1, {{"ProtocolsDirectory", tmp / "protocols"}}});
  const Site site{orthanc.httpPort(), "/annotation", orthanc.adminToken()};
  const std::string study = labelThroughTheApi(site, tmp, orthanc.dicomPort());
  expectOhifShowsTheResults(site, study, tmp.path());
}
