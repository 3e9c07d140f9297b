// The access matrix, generated from each deployment's own route table (GET /api/v1/routes),
// on the node and on the plugin inside Orthanc, over real HTTP. For every route that needs
// credentials and every role:
//   - a role the route does not allow gets 403, and one it allows is not refused (GET routes);
//   - an annotator on another reader's claimed task (every /api/v1/tasks/{id}… route, every
//     method) gets no success and never that reader's work (blinding), nor sees the task listed;
//   - a researcher (de-identified view) on every route their role allows, with the study's
//     real UIDs and with the de-identified ones, never receives the patient's name or ID, nor
//     the real UIDs in the de-identified view.
// Expired, revoked and disabled credentials on every route are in access_test.cpp.
// Each check that should refuse and did not is an unauthorized success; there must be none.
#include <gtest/gtest.h>

#include <functional>
#include <iostream>
#include <map>
#include <set>

#include "NodeHarness.h"
#include "OrthancHarness.h"
#include "SiteHarness.h"

using namespace annot::test;
using nlohmann::json;

namespace {

const char* kPatientName = "Matrix^Secret";
const char* kPatientId = "MATRIX-SECRET-ID";
const char* kNoteOfB = "note-only-reader-b-wrote";

void writeTwoReaderProtocol(const std::string& dir) {
  runCommand({"mkdir", "-p", dir});
  writeFile(dir + "/matrix.json",
            json{{"id", "matrix"}, {"version", "1"}, {"title", "Access matrix: two readers and a reviewer"},
                 {"appliesTo", {{"modalities", {"CT"}}}}, {"procedure", codedConcept("25045-6", "LN", "CT unspecified body region")},
                 {"readers", 2}, {"review", true},
                 {"labels", {{{"key", "nodule"}, {"finding", codedConcept("27925004", "SCT", "Nodule")}, {"geometries", {"point"}}}}}}
                .dump());
}

// The study's UIDs, as stored and as the researcher's view names them.
struct Uids {
  std::string study, series, instance;
  std::string workitem;  // reader B's task as a UPS workitem
};

// What one deployment holds once set up: users of every role, two readers' claimed tasks with
// saved work, a study whose identity is known.
struct MatrixCase {
  Site site;
  std::map<std::string, std::string> tokenOf;  // identity -> token
  std::map<std::string, std::string> roleOf;   // identity -> role
  std::string taskOfA, taskOfB;
  Uids real, deidentified;
};

std::string firstValue(const json& dataset, const char* tag) { return dataset.at(tag).at("Value").at(0).get<std::string>(); }

void setUp(MatrixCase& m, uint16_t dicomPort, const std::string& dir) {
  Site& site = m.site;
  m.real.study = generateStudy(dir + "/ct", {"--slices", "2", "--rows", "64", "--columns", "64", "--patient-id", kPatientId,
                                             "--patient-name", kPatientName});
  const std::string file = listFiles(dir + "/ct", ".dcm").at(0);
  m.real.instance = sopInstanceUidOf(file);
  ASSERT_EQ(storescu(dicomPort, {dir + "/ct"}).exitCode, 0);
  for (const auto& [who, role] : std::map<std::string, std::string>{
           {"annA", "annotator"}, {"annB", "annotator"}, {"rev", "reviewer"}, {"res", "researcher"}}) {
    m.tokenOf[who] = site.addUser(who, role);
    m.roleOf[who] = role;
  }
  m.tokenOf["admin"] = site.adminToken;
  m.roleOf["admin"] = "admin";
  json tasks;
  ASSERT_TRUE(eventually([&] {
    const HttpResult r = site.call(site.adminToken, "GET", "/api/v1/tasks?study=" + m.real.study);
    tasks = r.status == 200 ? json::parse(r.body)["tasks"] : json::array();
    return tasks.size() == 2;
  }, std::chrono::seconds(60))) << site.name << ": the study's two label tasks";
  m.taskOfA = std::to_string(tasks[0]["id"].get<int>());
  m.taskOfB = std::to_string(tasks[1]["id"].get<int>());
  const HttpResult workitems = site.call(site.adminToken, "GET", "/dicomweb/workitems?StudyInstanceUID=" + m.real.study);
  ASSERT_EQ(workitems.status, 200) << workitems.body;
  for (const auto& w : json::parse(workitems.body)) {
    const std::string uid = firstValue(w, "00080018");
    if (uid.size() > m.taskOfB.size() && uid.compare(uid.size() - m.taskOfB.size() - 1, std::string::npos, "." + m.taskOfB) == 0) {
      m.real.workitem = m.deidentified.workitem = uid;
    }
  }
  ASSERT_FALSE(m.real.workitem.empty()) << "reader B's task is a workitem";
  const HttpResult study = site.call(site.adminToken, "GET", "/api/v1/studies/" + m.real.study);
  ASSERT_EQ(study.status, 200) << study.body;
  m.real.series = json::parse(study.body)["Series"][0]["SeriesInstanceUID"];
  for (const auto& [who, task, note] : {std::tuple{"annA", m.taskOfA, "a's note"}, std::tuple{"annB", m.taskOfB, kNoteOfB}}) {
    ASSERT_EQ(site.call(m.tokenOf[who], "POST", "/api/v1/tasks/" + task + "/claim").status, 200) << site.name;
    const json doc = {{"observer", {{"name", who}}},
                      {"findings", {{{"label", "nodule"}, {"comment", note},
                                     {"geometry", {{"type", "point"}, {"image", {{"sopInstanceUid", m.real.instance}}}, {"points", {{9, 9}}}}}}}}};
    const HttpResult saved = site.call(m.tokenOf[who], "PUT", "/api/v1/tasks/" + task + "/annotation", doc.dump());
    ASSERT_EQ(saved.status, 201) << site.name << ": " << saved.body;
  }
  // The researcher's names for the same study, series and instance.
  const HttpResult studies = site.call(m.tokenOf["res"], "GET", "/dicomweb/studies");
  ASSERT_EQ(studies.status, 200) << site.name << ": " << studies.body;
  ASSERT_EQ(json::parse(studies.body).size(), 1u) << studies.body;
  m.deidentified.study = firstValue(json::parse(studies.body)[0], "0020000D");
  const HttpResult instances = site.call(m.tokenOf["res"], "GET", "/dicomweb/studies/" + m.deidentified.study + "/instances");
  ASSERT_EQ(instances.status, 200) << instances.body;
  m.deidentified.series = firstValue(json::parse(instances.body)[0], "0020000E");
  m.deidentified.instance = firstValue(json::parse(instances.body)[0], "00080018");
  ASSERT_NE(m.deidentified.study, m.real.study) << "the researcher's view remaps UIDs";
}

// A path for a route pattern: "{}" filled in order with what that segment names.
std::string pathFor(const std::string& pattern, const std::string& task, const Uids& uids) {
  std::string path;
  std::string previous;
  size_t at = 0;
  while (at < pattern.size()) {
    const size_t next = pattern.find('/', at + 1);
    std::string segment = pattern.substr(at, next == std::string::npos ? std::string::npos : next - at);
    if (segment == "/{}") {
      const std::map<std::string, std::string> byParent = {
          {"/tasks", task}, {"/users", "annB"}, {"/tokens", "1"}, {"/studies", uids.study}, {"/series", uids.series},
          {"/instances", uids.instance}, {"/frames", "1"}, {"/bulkdata", "7FE00010"}, {"/workitems", uids.workitem}};
      const auto found = byParent.find(previous);
      segment = "/" + (found == byParent.end() ? std::string("1") : found->second);
    } else if (segment == "/*") {
      segment = "/x";
    }
    path += segment;
    previous = segment;
    at = next == std::string::npos ? pattern.size() : next;
  }
  // Reports need their protocol; without it they answer 400 and would show nothing.
  if (pattern.rfind("/api/v1/reports/", 0) == 0) path += "?protocol=matrix";
  return path;
}

bool succeeded(int status) { return status >= 200 && status < 300; }

// The matrix on one deployment in its current state; returns the number of checks made.
size_t runMatrix(const MatrixCase& m) {
  const Site& site = m.site;
  const json routes = site.routes();
  std::vector<std::string> unauthorized;
  size_t checks = 0;
  auto refuse = [&](bool wrong, const std::string& what) {
    ++checks;
    if (wrong) unauthorized.push_back(what);
  };
  const std::vector<std::string> secrets = {kPatientName, kPatientId};
  for (const auto& route : routes) {
    if (route["roles"].empty()) continue;
    const std::string method = route["method"], pattern = route["pattern"];
    const std::set<std::string> allowed(route["roles"].begin(), route["roles"].end());
    const std::string real = pathFor(pattern, m.taskOfB, m.real);
    for (const auto& [who, token] : m.tokenOf) {
      const std::string& role = m.roleOf.at(who);
      const std::string label = site.name + ": " + method + ' ' + real + " as " + who + " (" + role + ")";
      if (!allowed.count(role)) {
        const HttpResult r = site.call(token, method, real, "{}");
        refuse(r.status != 403, label + " answered " + std::to_string(r.status) + " where the role is not allowed");
        continue;
      }
      // Another reader's claimed task, by every method its routes take: blinded and untouched.
      if (who == "annA" && (pattern.rfind("/api/v1/tasks/{}", 0) == 0 || pattern.rfind("/dicomweb/workitems/{}", 0) == 0)) {
        const HttpResult r = site.call(token, method, real, "{}");
        refuse(succeeded(r.status), label + " succeeded on reader B's task: " + r.body.substr(0, 200));
        refuse(r.body.find(kNoteOfB) != std::string::npos, label + " showed reader B's work");
        continue;
      }
      // The researcher's view: nothing that names the patient, whichever UIDs the path uses.
      if (role == "researcher" && method == "GET") {
        const HttpResult withReal = site.call(token, method, real);
        refuse(withReal.status == 401 || withReal.status == 403, label + " was refused (" + std::to_string(withReal.status) + ") though the role is allowed");
        for (const auto& secret : secrets) {
          refuse(withReal.body.find(secret) != std::string::npos, label + " with the real UIDs revealed " + secret);
        }
        const std::string deid = pathFor(pattern, m.taskOfB, m.deidentified);
        const HttpResult r = site.call(token, method, deid);
        const std::string deidLabel = site.name + ": GET " + deid + " as the researcher";
        for (const auto& secret : secrets) refuse(r.body.find(secret) != std::string::npos, deidLabel + " revealed " + secret);
        for (const auto& uid : {m.real.study, m.real.series, m.real.instance}) {
          refuse(r.body.find(uid) != std::string::npos, deidLabel + " revealed the real UID " + uid);
        }
        if (pattern.find("{}") != std::string::npos && pattern.rfind("/dicomweb/", 0) == 0 && pattern.find("bulkdata") == std::string::npos) {
          // The de-identified names resolve: the view is usable, not merely empty.
          refuse(!succeeded(r.status), deidLabel + " did not resolve the researcher's own UIDs: " + std::to_string(r.status));
        }
        continue;
      }
      // The other side of the table: a role the route allows is served, not refused.
      if (method == "GET") {
        const HttpResult r = site.call(token, method, real);
        refuse(r.status == 401 || r.status == 403, label + " was refused (" + std::to_string(r.status) + ") though the role is allowed");
      }
    }
  }
  // Blinding in lists: reader A is never shown reader B's claimed task.
  for (const std::string& query : std::vector<std::string>{"", "?assignee=annB", "?state=IN%20PROGRESS", "?study=" + m.real.study}) {
    const HttpResult r = site.call(m.tokenOf.at("annA"), "GET", "/api/v1/tasks" + query);
    refuse(r.status != 200, site.name + ": reader A's task list " + query + " answered " + std::to_string(r.status));
    bool listed = false;
    if (r.status == 200) {
      for (const auto& t : json::parse(r.body)["tasks"]) listed |= std::to_string(t["id"].get<int>()) == m.taskOfB;
    }
    refuse(listed, site.name + ": reader A's task list " + query + " shows reader B's task");
  }
  // Nor in the UPS-RS worklist.
  const HttpResult searched = site.call(m.tokenOf.at("annA"), "GET", "/dicomweb/workitems?StudyInstanceUID=" + m.real.study);
  refuse(searched.status != 200 && searched.status != 204, site.name + ": reader A's workitem search answered " + std::to_string(searched.status));
  refuse(searched.body.find(m.real.workitem) != std::string::npos, site.name + ": reader A's workitem search shows reader B's workitem");
  // The researcher may not search by identity.
  const HttpResult byName = site.call(m.tokenOf.at("res"), "GET", std::string("/dicomweb/studies?PatientID=") + kPatientId);
  refuse(byName.status != 400, site.name + ": a researcher's search by Patient ID answered " + std::to_string(byName.status));
  std::cout << site.name << ": " << checks << " checks, " << unauthorized.size() << " unauthorized successes\n";
  for (const auto& u : unauthorized) ADD_FAILURE() << u;
  EXPECT_EQ(unauthorized.size(), 0u) << site.name << ": unauthorized successes";
  return checks;
}

// The matrix while reader B holds the task, then again once both readers submitted and the
// case waits for review (blinded until then; the agreement and balance reports have data).
void runMatrixInBothStates(const MatrixCase& m) {
  EXPECT_GT(runMatrix(m), 200u) << m.site.name << ": the route table was read and every role tried";
  for (const auto& [who, task] : {std::pair{"annA", m.taskOfA}, std::pair{"annB", m.taskOfB}}) {
    const HttpResult r = m.site.call(m.tokenOf.at(who), "POST", "/api/v1/tasks/" + task + "/submit");
    ASSERT_EQ(r.status, 200) << m.site.name << ": " << r.body;
  }
  const HttpResult agreement = m.site.call(m.tokenOf.at("res"), "GET", "/api/v1/reports/agreement?protocol=matrix");
  ASSERT_EQ(agreement.status, 200) << agreement.body;
  EXPECT_EQ(json::parse(agreement.body).value("casesCompared", json(0)), 1) << "the report covers the case: " << agreement.body;
  EXPECT_GT(runMatrix(m), 200u) << m.site.name << ": submitted, awaiting review";
}

}  // namespace

TEST(AccessMatrix, EveryRouteRoleBlindingAndDeidentifiedViewOnTheNode) {
  TempDir tmp;
  writeTwoReaderProtocol(tmp / "protocols");
  RunningNode node(tmp / "data", NodeSettings{1, {{"ProtocolsDirectory", tmp / "protocols"}}});
  MatrixCase m{Site{"node", node.httpPort(), "", node.adminToken(), node.stateDatabase()}, {}, {}, "", "", {}, {}};
  setUp(m, node.dicomPort(), tmp / "case");
  if (HasFatalFailure()) return;
  runMatrixInBothStates(m);
}

TEST(AccessMatrix, EveryRouteRoleBlindingAndDeidentifiedViewOfThePluginInsideOrthanc) {
  TempDir tmp;
  writeTwoReaderProtocol(tmp / "protocols");
  RunningOrthanc orthanc(tmp / "orthanc", OrthancSettings{true, 1, {{"ProtocolsDirectory", tmp / "protocols"}}});
  MatrixCase m{Site{"plugin", orthanc.httpPort(), "/annotation", orthanc.adminToken(), orthanc.stateDatabase()},
               {}, {}, "", "", {}, {}};
  setUp(m, orthanc.dicomPort(), tmp / "case");
  if (HasFatalFailure()) return;
  try {
    runMatrixInBothStates(m);
  } catch (const std::exception& e) {
    const std::string log = orthanc.log();
    FAIL() << e.what() << "\nOrthanc's log ends:\n" << log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
  }
}
