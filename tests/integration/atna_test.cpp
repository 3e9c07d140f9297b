// ATNA: every audit entry also reaches the hospital's audit record repository as a DICOM audit
// message (PS3.15 A.5) in an RFC 5424 syslog record, over UDP and over TLS with node
// authentication. A throwaway repository receives them; jing checks each against the standard's
// schema and xmllint reads the fields a repository files them under.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "AuditRepositoryHarness.h"
#include "NodeHarness.h"
#include "OrthancHarness.h"

using namespace annot::test;
using nlohmann::json;

namespace {
const char* kPatientId = "ATNA-7";
const char* kPatientName = "Audit^Anna";

// The messages with this event ID (and, when given, this action code).
std::vector<std::string> withEvent(const std::vector<std::string>& messages, const std::string& eventId, const std::string& action,
                                   const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& m : messages) {
    if (xpath(m, "string(/AuditMessage/EventIdentification/EventID/@csd-code)", dir) != eventId) continue;
    if (!action.empty() && xpath(m, "string(/AuditMessage/EventIdentification/@EventActionCode)", dir) != action) continue;
    out.push_back(m);
  }
  return out;
}

// The requesting user's ID (the ActiveParticipant that asked).
std::string requestor(const std::string& m, const std::string& dir) {
  return xpath(m, "string(/AuditMessage/ActiveParticipant[@UserIsRequestor='true']/@UserID)", dir);
}

// Whether the message names the patient (by ID and name) and the study.
bool namesPatientAndStudy(const std::string& m, const std::string& study, const std::string& dir) {
  const std::string patient = "/AuditMessage/ParticipantObjectIdentification[@ParticipantObjectTypeCode='1' and @ParticipantObjectTypeCodeRole='1'"
                              " and ParticipantObjectIDTypeCode/@csd-code='2']";
  return xpath(m, "string(" + patient + "/@ParticipantObjectID)", dir) == kPatientId &&
         xpath(m, "string(" + patient + "/ParticipantObjectName)", dir) == kPatientName &&
         xpath(m, "count(/AuditMessage/ParticipantObjectIdentification[@ParticipantObjectID='" + study +
                      "' and ParticipantObjectIDTypeCode/@csd-code='110180'])", dir) == "1";
}

size_t auditEntries(uint16_t port, const std::string& root, const std::string& token) {
  const HttpResult r = httpRequest(port, "GET", root + "/api/v1/audit?limit=1000", "", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(r.status, 200) << r.body;
  return json::parse(r.body)["entries"].size();
}
}  // namespace

TEST(Atna, EveryAuditEntryOfTheNodeReachesTheRepositoryOverUdpAsASchemaValidAuditMessage) {
  TempDir tmp;
  writeCtProtocol(tmp / "protocols", "ct-quick", false);
  RunningOrthanc pacs(tmp / "pacs");
  AuditRepository repository;
  RunningNode node(tmp / "data", NodeSettings{1,
                                              {{"ProtocolsDirectory", tmp / "protocols"},
                                               {"Pacs", {"ORTHANC@127.0.0.1:" + std::to_string(pacs.dicomPort())}},
                                               {"AuditRepository", {{"Url", repository.url()}, {"EnterpriseSiteId", "Radiology"}}}}});
  const std::string admin = node.adminToken();
  // Entries before this one predate the repository's configuration and stay in the trail only.
  const size_t before = auditEntries(node.httpPort(), "", admin);
  const std::string reader = node.addUser("rita", "annotator");
  const std::string researcher = node.addUser("rex", "researcher");
  auto as = [&](const std::string& token, const std::string& method, const std::string& target, const std::string& body = "") {
    return httpRequest(node.httpPort(), method, target, body, {{"Authorization", "Bearer " + token}, {"Accept", "application/dicom+json"}});
  };

  const std::string study = generateStudy(tmp / "ct", {"--slices", "2", "--rows", "32", "--columns", "32", "--patient-id", kPatientId,
                                                       "--patient-name", kPatientName});
  const std::string slice = sopInstanceUidOf(listFiles(tmp / "ct", ".dcm").at(0));
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "ct"}).exitCode, 0);
  const std::string task = firstTaskOf(node, study);

  // Sign-in (a browser session), a query, a view, an annotation created and changed, the
  // task's procedure steps, the export to the PACS, and the researcher's de-identified view.
  const HttpResult signIn = httpRequest(node.httpPort(), "POST", "/api/v1/session", json{{"name", "rita"}, {"token", reader}}.dump(),
                                        {{"Content-Type", "application/json"}});
  ASSERT_EQ(signIn.status, 201) << signIn.body;
  ASSERT_EQ(as(reader, "GET", std::string("/api/v1/studies?PatientID=") + kPatientId).status, 200);
  ASSERT_EQ(as(reader, "POST", "/api/v1/tasks/" + task + "/claim").status, 200);
  json doc = {{"observer", {{"name", "Reader^Rita"}}},
              {"findings", {{{"label", "nodule"}, {"geometry", {{"type", "point"}, {"image", {{"sopInstanceUid", slice}}}, {"points", {{9, 9}}}}}}}}};
  ASSERT_EQ(as(reader, "PUT", "/api/v1/tasks/" + task + "/annotation", doc.dump()).status, 201);
  doc["findings"][0]["geometry"]["points"] = {{12, 10}};
  ASSERT_EQ(as(reader, "PUT", "/api/v1/tasks/" + task + "/annotation", doc.dump()).status, 201);
  ASSERT_EQ(as(reader, "POST", "/api/v1/tasks/" + task + "/submit").status, 200);
  ASSERT_TRUE(eventually([&] {
    const json t = node.getJson("/api/v1/tasks/" + task);
    return !t["outputs"].empty() && !t["outputs"][0]["exports"].empty() && t["outputs"][0]["exports"][0]["state"] == "sent";
  })) << "the SR reaches the PACS";
  const HttpResult found = as(researcher, "GET", "/dicomweb/studies");
  ASSERT_EQ(found.status, 200) << found.body;
  const std::string shownStudy = json::parse(found.body).at(0).at("0020000D").at("Value").at(0);
  const HttpResult retrieved = httpRequest(node.httpPort(), "GET", "/dicomweb/studies/" + shownStudy,  "",
                                           {{"Authorization", "Bearer " + researcher}, {"Accept", "multipart/related; type=\"application/dicom\""}});
  ASSERT_EQ(retrieved.status, 200);
  ASSERT_EQ(as(reader, "GET", "/api/v1/audit").status, 403) << "a refusal is audited too";

  // Every entry recorded since the repository was configured arrives once (the count below
  // includes the first audit query; the last one is recorded after it answers).
  const size_t after = auditEntries(node.httpPort(), "", admin);
  ASSERT_TRUE(eventually([&] { return repository.count() >= after - before + 1; })) << repository.count() << " of " << after - before + 1;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(repository.count(), after - before + 1) << "one message per audit entry, none twice";

  const auto messages = repository.messages();
  EXPECT_TRUE(repository.malformedHeaders().empty()) << repository.malformedHeaders().at(0);
  EXPECT_EQ(schemaErrors(messages, tmp.path()), "");

  const std::string dir = tmp.path();
  // Login (User Authentication / Login) by rita from the loopback address.
  const auto logins = withEvent(messages, "110114", "E", dir);
  ASSERT_FALSE(logins.empty());
  EXPECT_EQ(xpath(logins.back(), "string(//EventTypeCode/@csd-code)", dir), "110122");
  EXPECT_EQ(requestor(logins.back(), dir), "rita");
  EXPECT_EQ(xpath(logins.back(), "string(//ActiveParticipant[@UserID='rita']/@NetworkAccessPointID)", dir), "127.0.0.1");
  // The study list query: the query's text, the study shown and its patient.
  bool queried = false;
  for (const auto& m : withEvent(messages, "110112", "E", dir)) {
    if (requestor(m, dir) != "rita") continue;
    queried = true;
    EXPECT_TRUE(namesPatientAndStudy(m, study, dir)) << m;
    EXPECT_NE(xpath(m, "string(//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='24']/ParticipantObjectQuery)", dir), "");
  }
  EXPECT_TRUE(queried) << "the study list query";
  // The annotation: created by the first save, changed by the second.
  for (const char* action : {"C", "U"}) {
    const auto saves = withEvent(messages, "110103", action, dir);
    ASSERT_EQ(saves.size(), 1u) << action;
    EXPECT_EQ(requestor(saves[0], dir), "rita");
    EXPECT_TRUE(namesPatientAndStudy(saves[0], study, dir)) << saves[0];
    EXPECT_EQ(xpath(saves[0], "string(//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='20']/@ParticipantObjectID)", dir),
              "tasks/" + task);
  }
  // Claim and submit: the labeling procedure step changed.
  EXPECT_EQ(withEvent(messages, "110111", "U", dir).size(), 2u);
  // The export: the node sends to the PACS (source), the PACS receives (destination), the SR
  // instance is listed under its study and patient.
  std::string exported;
  for (const auto& m : withEvent(messages, "110104", "R", dir)) {
    if (xpath(m, "count(//ActiveParticipant[starts-with(@UserID, 'ORTHANC@')]/RoleIDCode[@csd-code='110152'])", dir) == "1") exported = m;
  }
  ASSERT_FALSE(exported.empty()) << "the export to the PACS";
  EXPECT_EQ(xpath(exported, "string(//ActiveParticipant[@UserIsRequestor='true']/RoleIDCode/@csd-code)", dir), "110153");
  EXPECT_TRUE(namesPatientAndStudy(exported, study, dir)) << exported;
  const std::string sr = node.getJson("/api/v1/tasks/" + task)["outputs"][0]["sopInstanceUid"];
  EXPECT_EQ(xpath(exported, "count(//SOPClass/Instance[@UID='" + sr + "'])", dir), "1");
  // The researcher's retrieve: transferred to the researcher, marked de-identified, filed
  // under the real study and patient for the repository.
  std::string deidRetrieve;
  for (const auto& m : withEvent(messages, "110104", "R", dir)) {
    if (requestor(m, dir) == "rex") deidRetrieve = m;
  }
  ASSERT_FALSE(deidRetrieve.empty());
  EXPECT_TRUE(namesPatientAndStudy(deidRetrieve, study, dir)) << deidRetrieve;
  EXPECT_EQ(xpath(deidRetrieve, "string(//ParticipantObjectIdentification[@ParticipantObjectID='" + study + "']/@ParticipantObjectDataLifeCycle)", dir), "7");
  EXPECT_EQ(xpath(deidRetrieve, "string(//Anonymized)", dir), "true");
  // The refused audit query: a security alert (use of a restricted function), a minor failure.
  const auto alerts = withEvent(messages, "110113", "E", dir);
  bool refused = false;
  for (const auto& m : alerts) {
    if (requestor(m, dir) == "rita" && xpath(m, "string(//EventTypeCode/@csd-code)", dir) == "110132") {
      refused = xpath(m, "string(//EventIdentification/@EventOutcomeIndicator)", dir) == "4";
    }
  }
  EXPECT_TRUE(refused);
  // Users created by the admin: security attributes changed, naming the user.
  bool created = false;
  for (const auto& m : alerts) {
    if (xpath(m, "string(//EventTypeCode/@csd-code)", dir) == "110137" &&
        xpath(m, "string(//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='11']/@ParticipantObjectID)", dir) == "rex") {
      created = true;
    }
  }
  EXPECT_TRUE(created);
  // The source: the node's AE title, the configured site.
  EXPECT_EQ(xpath(messages.at(0), "string(//AuditSourceIdentification/@AuditSourceID)", dir), "ANNOTNODE");
  EXPECT_EQ(xpath(messages.at(0), "string(//AuditSourceIdentification/@AuditEnterpriseSiteID)", dir), "Radiology");
}

TEST(Atna, ThePluginSendsOverMutualTlsAndWhatTheRepositoryMissedWhileDownFollowsWhenItIsBack) {
  TempDir tmp;
  writeCtProtocol(tmp / "protocols", "ct-quick", false);
  const TlsIdentity server = makeTlsIdentity(tmp.path(), "repository", "DNS:localhost");
  const TlsIdentity client = makeTlsIdentity(tmp.path(), "orthanc-node", "DNS:orthanc-node");
  const TlsIdentity stranger = makeTlsIdentity(tmp.path(), "stranger", "DNS:localhost");
  const uint16_t port = freePort();
  RunningOrthanc orthanc(tmp / "orthanc",
                         OrthancSettings{true, 1,
                                         {{"ProtocolsDirectory", tmp / "protocols"},
                                          {"AuditRepository",
                                           {{"Url", "tls://localhost:" + std::to_string(port)},
                                            {"TrustedCertificates", server.certificate},
                                            {"Certificate", client.certificate},
                                            {"PrivateKey", client.key}}}}});
  const std::string admin = orthanc.adminToken();
  auto call = [&](const std::string& token, const std::string& method, const std::string& path, const std::string& body = "") {
    return httpRequest(orthanc.httpPort(), method, "/annotation" + path, body, {{"Authorization", "Bearer " + token}});
  };
  const size_t before = auditEntries(orthanc.httpPort(), "/annotation", admin);

  // 1. A repository whose certificate is not the trusted one gets nothing.
  {
    AuditRepository impostor(RepositoryTls{stranger.certificate, stranger.key, client.certificate}, port);
    ASSERT_EQ(call(admin, "GET", "/api/v1/tasks").status, 200);
    std::this_thread::sleep_for(std::chrono::seconds(3));
    EXPECT_EQ(impostor.count(), 0u) << "the node checks the repository's certificate";
  }

  // 2. Work goes on while no repository listens.
  const std::string study = generateStudy(tmp / "ct", {"--slices", "2", "--rows", "32", "--columns", "32", "--patient-id", kPatientId,
                                                       "--patient-name", kPatientName});
  const std::string slice = sopInstanceUidOf(listFiles(tmp / "ct", ".dcm").at(0));
  ASSERT_EQ(storescu(orthanc.dicomPort(), {tmp / "ct"}).exitCode, 0);
  const HttpResult user = call(admin, "POST", "/api/v1/users", json{{"name", "rita"}, {"role", "annotator"}}.dump());
  ASSERT_EQ(user.status, 201);
  const std::string reader = json::parse(user.body)["token"];
  json tasks;
  ASSERT_TRUE(eventually([&] {
    const HttpResult r = call(admin, "GET", "/api/v1/tasks?study=" + study);
    tasks = r.status == 200 ? json::parse(r.body)["tasks"] : json::array();
    return tasks.size() == 1;
  }, std::chrono::seconds(60)));
  const std::string task = std::to_string(tasks[0]["id"].get<int>());
  ASSERT_EQ(call(reader, "POST", "/api/v1/tasks/" + task + "/claim").status, 200);
  const json doc = {{"observer", {{"name", "Reader^Rita"}}},
                    {"findings", {{{"label", "nodule"}, {"geometry", {{"type", "point"}, {"image", {{"sopInstanceUid", slice}}}, {"points", {{9, 9}}}}}}}}};
  ASSERT_EQ(call(reader, "PUT", "/api/v1/tasks/" + task + "/annotation", doc.dump()).status, 201);

  // 3. The trusted repository comes up: everything since the start arrives, in order.
  AuditRepository repository(RepositoryTls{server.certificate, server.key, client.certificate}, port);
  const size_t missed = auditEntries(orthanc.httpPort(), "/annotation", admin) - before + 1;
  ASSERT_TRUE(eventually([&] { return repository.count() >= missed; }, std::chrono::seconds(30))) << repository.count() << " of " << missed;
  const std::string dir = tmp.path();
  auto saveOf = [&](const std::vector<std::string>& messages) {
    const auto saves = withEvent(messages, "110103", "C", dir);
    return saves.empty() ? std::string() : saves[0];
  };
  const std::string save = saveOf(repository.messages());
  ASSERT_FALSE(save.empty()) << "the save made while the repository was down";
  EXPECT_TRUE(namesPatientAndStudy(save, study, dir)) << save;
  EXPECT_EQ(xpath(save, "string(//AuditSourceIdentification/@AuditSourceID)", dir), "ORTHANC");

  // 4. The repository restarts (its connections drop); the next entries reach it again.
  repository.stop();
  ASSERT_EQ(call(reader, "POST", "/api/v1/tasks/" + task + "/submit").status, 200);
  repository.start();
  ASSERT_TRUE(eventually([&] { return withEvent(repository.messages(), "110111", "U", dir).size() == 2; }, std::chrono::seconds(30)))
      << "claim and, after the restart, submit";
  const auto messages = repository.messages();
  EXPECT_TRUE(repository.malformedHeaders().empty());
  EXPECT_EQ(schemaErrors(messages, tmp.path()), "");
  std::set<std::string> distinct(messages.begin(), messages.end());
  EXPECT_EQ(distinct.size(), messages.size()) << "no message twice";
}
