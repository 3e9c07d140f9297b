// UPS-RS (PS3.18 §11) on the node and on the plugin inside Orthanc, driven by a small UPS client
// written from the standard: search, retrieve, claim under the client's own Transaction UID,
// complete, cancel, create, cancel request; blinding and roles hold as on the JSON API.
#include <gtest/gtest.h>

#include "NodeHarness.h"
#include "OrthancHarness.h"
#include "SiteHarness.h"

using namespace annot::test;
using nlohmann::json;

namespace {
const char* kPatientId = "UPS-1";
const char* kPatientName = "Worklist^Wanda";

// A UPS-RS user agent: what a hospital's workflow manager sends, nothing product-specific
// beyond the base URL and a bearer token.
struct UpsClient {
  const Site& site;
  std::string token;

  HttpResult send(const std::string& method, const std::string& path, const std::string& body = "") const {
    return httpRequest(site.httpPort, method, site.root + "/dicomweb" + path, body,
                       {{"Authorization", "Bearer " + token}, {"Accept", "application/dicom+json"}, {"Content-Type", "application/dicom+json"}});
  }
  json search(const std::string& query) const {
    const HttpResult r = send("GET", "/workitems" + query);
    if (r.status == 204) return json::array();
    EXPECT_EQ(r.status, 200) << site.name << " " << query << ": " << r.body;
    return r.status == 200 ? json::parse(r.body) : json::array();
  }
  HttpResult changeState(const std::string& uid, const std::string& state, const std::string& transaction) const {
    const json dataset = {{"00741000", {{"vr", "CS"}, {"Value", {state}}}}, {"00081195", {{"vr", "UI"}, {"Value", {transaction}}}}};
    return send("PUT", "/workitems/" + uid + "/state", dataset.dump());
  }
};

std::string attribute(const json& dataset, const char* tag) {
  if (!dataset.contains(tag) || !dataset[tag].contains("Value")) return "";
  const json& v = dataset[tag]["Value"][0];
  return v.is_object() ? v.value("Alphabetic", "") : v.get<std::string>();
}
std::string nested(const json& dataset, const char* sequence, const char* tag) {
  if (!dataset.contains(sequence) || !dataset[sequence].contains("Value") || dataset[sequence]["Value"].empty()) return "";
  return attribute(dataset[sequence]["Value"][0], tag);
}
// The product's task behind a workitem: the UID's last component.
std::string taskOf(const std::string& workitemUid) { return workitemUid.substr(workitemUid.rfind('.') + 1); }

void writeProtocols(const std::string& dir) {
  runCommand({"mkdir", "-p", dir});
  auto protocol = [&](const std::string& id, unsigned readers, bool review, const char* modality) {
    writeFile(dir + "/" + id + ".json",
              json{{"id", id}, {"version", "1"}, {"title", "Pair reading " + id}, {"appliesTo", {{"modalities", {modality}}}},
                   {"procedure", codedConcept("25045-6", "LN", "CT unspecified body region")}, {"readers", readers}, {"review", review},
                   {"labels", {{{"key", "nodule"}, {"finding", codedConcept("27925004", "SCT", "Nodule")}, {"geometries", {"point"}}}}}}
                  .dump());
  };
  protocol("ups-pair", 2, true, "CT");
  protocol("ups-extra", 1, false, "MR");  // never scheduled by itself for CT: created over UPS-RS
}

void runUps(const Site& site, uint16_t dicomPort, const std::string& dir) {
  const std::string study = generateStudy(dir + "/ct", {"--slices", "2", "--rows", "32", "--columns", "32", "--patient-id", kPatientId,
                                                        "--patient-name", kPatientName});
  const std::string slice = sopInstanceUidOf(listFiles(dir + "/ct", ".dcm").at(0));
  ASSERT_EQ(storescu(dicomPort, {dir + "/ct"}).exitCode, 0);
  const UpsClient ann1{site, site.addUser("ann1", "annotator")}, ann2{site, site.addUser("ann2", "annotator")};
  const UpsClient rev{site, site.addUser("rev", "reviewer")}, admin{site, site.adminToken}, res{site, site.addUser("res", "researcher")};

  // Search: the two readers' workitems, as UPS Push instances with what a client needs.
  json scheduled;
  ASSERT_TRUE(eventually([&] {
    scheduled = ann1.search("?ProcedureStepState=SCHEDULED&PatientID=" + std::string(kPatientId));
    return scheduled.size() == 2;
  }, std::chrono::seconds(60))) << site.name << ": " << scheduled.dump();
  for (const auto& w : scheduled) {
    EXPECT_EQ(attribute(w, "00080016"), "1.2.840.10008.5.1.4.34.6.1");
    EXPECT_EQ(attribute(w, "00100020"), kPatientId);
    EXPECT_EQ(attribute(w, "00100010"), kPatientName);
    EXPECT_EQ(attribute(w, "00741000"), "SCHEDULED");
    EXPECT_EQ(nested(w, "00404021", "0020000D"), study);
    EXPECT_EQ(nested(w, "00404018", "00080100"), "ups-pair");
    EXPECT_EQ(nested(w, "00404018", "00080102"), "99ANNOTNODE");
    EXPECT_FALSE(w.contains("00081195")) << "a Transaction UID is never returned";
    EXPECT_LE(attribute(w, "00080018").size(), 64u);
  }
  EXPECT_TRUE(ann1.search("?ProcedureStepState=SCHEDULED&PatientID=nobody").empty()) << "204 when nothing matches";
  EXPECT_EQ(ann1.send("GET", "/workitems?ProcedureStepState=DONE").status, 400);
  const HttpResult ignored = ann1.send("GET", "/workitems?ScheduledStationName=CT1");
  EXPECT_NE(ignored.headers.find("warning"), ignored.headers.end()) << "unsupported keys are reported, not refused";
  EXPECT_EQ(res.send("GET", "/workitems").status, 403) << "researchers have no worklist";

  const std::string a = attribute(scheduled[0], "00080018"), b = attribute(scheduled[1], "00080018");
  const std::string t1 = "2.25.1001", t2 = "2.25.2002";
  // Claim under the client's Transaction UID; a second claim of the same workitem conflicts.
  const HttpResult claimed = ann1.changeState(a, "IN PROGRESS", t1);
  ASSERT_EQ(claimed.status, 200) << site.name << ": " << claimed.body << " " << a;
  EXPECT_EQ(attribute(json::parse(claimed.body)[0], "00741000"), "IN PROGRESS");
  EXPECT_EQ(nested(json::parse(claimed.body)[0], "00404034", "00404037"), "ann1");
  EXPECT_EQ(claimed.body.find(t1), std::string::npos) << "the Transaction UID stays the claimer's secret";
  EXPECT_EQ(ann2.changeState(a, "IN PROGRESS", t2).status, 404) << "another reader's workitem does not exist for an annotator";
  EXPECT_EQ(admin.changeState(a, "IN PROGRESS", t2).status, 409) << "claimed already";
  ASSERT_EQ(ann2.changeState(b, "IN PROGRESS", t2).status, 200);
  // Blinding: another reader's workitem does not exist for an annotator.
  EXPECT_EQ(ann1.send("GET", "/workitems/" + b).status, 404);
  EXPECT_EQ(ann1.search("?ProcedureStepState=IN%20PROGRESS").size(), 1u);
  EXPECT_EQ(admin.search("?ProcedureStepState=IN%20PROGRESS&PatientID=" + std::string(kPatientId)).size(), 2u);
  EXPECT_EQ(ann1.changeState(a, "IN PROGRESS", "not-a-uid").status, 400);

  // Complete: only under the claim's Transaction UID, and only with an annotation saved.
  EXPECT_EQ(ann1.changeState(a, "COMPLETED", t2).status, 409) << "another Transaction UID";
  EXPECT_EQ(ann1.changeState(a, "COMPLETED", t1).status, 409) << "nothing saved yet";
  const json doc = {{"observer", {{"name", "Reader^One"}}},
                    {"findings", {{{"label", "nodule"}, {"geometry", {{"type", "point"}, {"image", {{"sopInstanceUid", slice}}}, {"points", {{9, 9}}}}}}}}};
  ASSERT_EQ(site.call(ann1.token, "PUT", "/api/v1/tasks/" + taskOf(a) + "/annotation", doc.dump()).status, 201);
  const HttpResult completed = ann1.changeState(a, "COMPLETED", t1);
  ASSERT_EQ(completed.status, 200) << completed.body;
  EXPECT_EQ(attribute(json::parse(completed.body)[0], "00741000"), "COMPLETED");
  EXPECT_EQ(json::parse(site.call(site.adminToken, "GET", "/api/v1/tasks/" + taskOf(a)).body)["state"], "COMPLETED")
      << "the JSON API shows the same task";
  EXPECT_EQ(ann1.changeState(a, "CANCELED", t1).status, 409) << "COMPLETED is final";

  // A reader cannot drop a reading: canceling is an admin's decision. The admin takes the
  // workitem (after the reader releases it) and cancels it: CANCELED is final, and the case
  // goes to review with the one reading it has.
  EXPECT_EQ(ann2.changeState(b, "CANCELED", t2).status, 403);
  ASSERT_EQ(site.call(ann2.token, "POST", "/api/v1/tasks/" + taskOf(b) + "/release").status, 200);
  const std::string t3 = "2.25.3003";
  ASSERT_EQ(admin.changeState(b, "IN PROGRESS", t3).status, 200);
  ASSERT_EQ(admin.changeState(b, "CANCELED", t3).status, 200);
  EXPECT_EQ(attribute(json::parse(admin.send("GET", "/workitems/" + b).body)[0], "00741000"), "CANCELED");
  json reviews;
  ASSERT_TRUE(eventually([&] {
    reviews = rev.search("?ProcedureStepState=SCHEDULED&StudyInstanceUID=" + study);
    return reviews.size() == 1;
  })) << reviews.dump();
  EXPECT_EQ(attribute(reviews[0], "00741204").rfind("Review: ", 0), 0u);
  EXPECT_EQ(ann1.send("GET", "/workitems/" + attribute(reviews[0], "00080018")).status, 404) << "annotators see no review";
  const std::string reviewUid = attribute(reviews[0], "00080018");
  ASSERT_EQ(rev.changeState(reviewUid, "IN PROGRESS", "2.25.4004").status, 200);
  EXPECT_EQ(rev.changeState(reviewUid, "COMPLETED", "2.25.4004").status, 409) << "a review ends in a decision, not a state";

  // Create: a workitem for another protocol on the same study; the same again conflicts.
  const json create = {{"00741000", {{"vr", "CS"}, {"Value", {"SCHEDULED"}}}},
                       {"00741200", {{"vr", "CS"}, {"Value", {"HIGH"}}}},
                       {"00404021", {{"vr", "SQ"}, {"Value", {{{"0020000D", {{"vr", "UI"}, {"Value", {study}}}}}}}}},
                       {"00404018", {{"vr", "SQ"}, {"Value", {{{"00080100", {{"vr", "SH"}, {"Value", {"ups-extra"}}}},
                                                               {"00080102", {{"vr", "SH"}, {"Value", {"99ANNOTNODE"}}}}}}}}}};
  EXPECT_EQ(ann1.send("POST", "/workitems", json::array({create}).dump()).status, 403);
  const HttpResult made = admin.send("POST", "/workitems", json::array({create}).dump());
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string location = made.headers.count("location") ? made.headers.at("location") : "";
  ASSERT_NE(location.find("/dicomweb/workitems/"), std::string::npos) << site.name << ": " << location;
  const std::string createdUid = location.substr(location.rfind('/') + 1);
  const HttpResult fetched = admin.send("GET", "/workitems/" + createdUid);
  ASSERT_EQ(fetched.status, 200) << location;
  EXPECT_EQ(attribute(json::parse(fetched.body)[0], "00741200"), "HIGH");
  EXPECT_EQ(nested(json::parse(fetched.body)[0], "00404018", "00080100"), "ups-extra");
  EXPECT_EQ(admin.send("POST", "/workitems", json::array({create}).dump()).status, 409);
  json unknown = create;
  unknown["00404018"]["Value"][0]["00080100"]["Value"][0] = "no-such-protocol";
  EXPECT_EQ(admin.send("POST", "/workitems", unknown.dump()).status, 422);
  EXPECT_EQ(admin.send("POST", "/workitems", "{\"00741000\": 1}").status, 400);

  // Cancel request: refused to an annotator, granted to an admin for a SCHEDULED workitem.
  EXPECT_EQ(ann1.send("POST", "/workitems/" + createdUid + "/cancelrequest").status, 403);
  EXPECT_EQ(admin.send("POST", "/workitems/" + createdUid + "/cancelrequest").status, 202);
  EXPECT_EQ(attribute(json::parse(admin.send("GET", "/workitems/" + createdUid).body)[0], "00741000"), "CANCELED");
  EXPECT_EQ(admin.send("GET", "/workitems/1.2.3.4").status, 404) << "a UID that is no workitem of ours";
}
}  // namespace

TEST(UpsRs, AClientClaimsCompletesCancelsAndCreatesWorkitemsOnTheNode) {
  TempDir tmp;
  writeProtocols(tmp / "protocols");
  RunningNode node(tmp / "data", NodeSettings{1, {{"ProtocolsDirectory", tmp / "protocols"}}});
  const Site site{"node", node.httpPort(), "", node.adminToken(), node.stateDatabase()};
  runUps(site, node.dicomPort(), tmp.path());
}

TEST(UpsRs, AClientClaimsCompletesCancelsAndCreatesWorkitemsInsideOrthanc) {
  TempDir tmp;
  writeProtocols(tmp / "protocols");
  RunningOrthanc orthanc(tmp / "orthanc", OrthancSettings{true, 1, {{"ProtocolsDirectory", tmp / "protocols"}}});
  const Site site{"plugin", orthanc.httpPort(), "/annotation", orthanc.adminToken(), orthanc.stateDatabase()};
  runUps(site, orthanc.dicomPort(), tmp.path());
}
