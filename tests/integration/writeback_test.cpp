// Write-back into a real Orthanc acting as the hospital PACS, through outages and restarts.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "NodeHarness.h"
#include "OrthancHarness.h"
#include "Validators.h"

using namespace annot::test;
using nlohmann::json;

namespace {
HttpResult as(const RunningNode& node, const std::string& token, const std::string& method, const std::string& target,
              const std::string& body = "") {
  return httpRequest(node.httpPort(), method, target, body, {{"Authorization", "Bearer " + token}});
}

// Labels a study end to end; returns the task id.
std::string labelStudy(const RunningNode& node, const std::string& token, const std::string& study, const std::string& slice) {
  const std::string id = firstTaskOf(node, study);
  EXPECT_EQ(as(node, token, "POST", "/api/v1/tasks/" + id + "/claim").status, 200);
  const json doc = {{"observer", {{"name", "Reader^Rita"}}},
                    {"findings", {{{"label", "nodule"}, {"geometry", {{"type", "bbox"}, {"image", {{"sopInstanceUid", slice}}}, {"points", {{5, 5}, {20, 18}}}}}}}}};
  EXPECT_EQ(as(node, token, "PUT", "/api/v1/tasks/" + id + "/annotation", doc.dump()).status, 201);
  EXPECT_EQ(as(node, token, "POST", "/api/v1/tasks/" + id + "/submit").status, 200);
  return id;
}

json exportsOf(const RunningNode& node, const std::string& task) {
  const json t = node.getJson("/api/v1/tasks/" + task);
  return t["outputs"].empty() ? json::array() : t["outputs"][0]["exports"];
}
}  // namespace

TEST(WriteBack, ResultsReachThePacsOnceThroughOutagesAndRestarts) {
  TempDir tmp;
  writeCtProtocol(tmp / "protocols", "ct-quick", false);
  RunningOrthanc pacs(tmp / "pacs");
  const std::string destination = "ORTHANC@127.0.0.1:" + std::to_string(pacs.dicomPort());
  NodeSettings settings{1, {{"Pacs", {destination}}, {"ProtocolsDirectory", tmp / "protocols"}, {"OutboxMaxBackoffSeconds", 2}}};
  auto node = std::make_unique<RunningNode>(tmp / "data", settings);
  const std::string reader = node->addUser("reader", "annotator");

  // 1. Normal operation: the SR goes to the PACS, once.
  const std::string study1 = generateStudy(tmp / "s1", {"--slices", "2", "--rows", "32", "--columns", "32", "--patient-id", "P1"});
  const std::string slice1 = sopInstanceUidOf(listFiles(tmp / "s1", ".dcm").at(0));
  ASSERT_EQ(storescu(node->dicomPort(), {tmp / "s1"}).exitCode, 0);
  const std::string task1 = labelStudy(*node, reader, study1, slice1);
  ASSERT_TRUE(eventually([&] { return !exportsOf(*node, task1).empty() && exportsOf(*node, task1)[0]["state"] == "sent"; }))
      << node->getJson("/api/v1/tasks/" + task1).dump();
  const std::string sr1 = node->getJson("/api/v1/tasks/" + task1)["outputs"][0]["sopInstanceUid"];
  const std::string inPacs = pacs.findInstance(sr1);
  ASSERT_FALSE(inPacs.empty());
  EXPECT_EQ(exportsOf(*node, task1)[0]["attempts"], 1);
  EXPECT_EQ(exportsOf(*node, task1)[0]["lastStatus"], "0000");
  // What the PACS holds is a valid SR in the right study, referencing the labelled image.
  writeFile(tmp / "from-pacs.dcm", pacs.instanceFile(inPacs));
  EXPECT_TRUE(passesDciodvfy(tmp / "from-pacs.dcm", "EnhancedSR"));
  const json read = json::parse(runCommand({nodeBinary(), "read-sr", tmp / "from-pacs.dcm"}).output);
  EXPECT_EQ(read["sr"]["studyInstanceUid"], study1);
  EXPECT_EQ(read["annotation"]["findings"][0]["geometry"]["image"]["sopInstanceUid"], slice1);
  const json pacsStudy = json::parse(httpGet(pacs.httpPort(), "/instances/" + inPacs + "/study").body);
  EXPECT_EQ(pacsStudy["PatientMainDicomTags"]["PatientID"], "P1") << "filed under the right patient";

  // 2. The PACS goes down; work goes on and waits in the outbox.
  pacs.stop();
  const std::string study2 = generateStudy(tmp / "s2", {"--slices", "2", "--rows", "32", "--columns", "32", "--patient-id", "P2"});
  const std::string slice2 = sopInstanceUidOf(listFiles(tmp / "s2", ".dcm").at(0));
  ASSERT_EQ(storescu(node->dicomPort(), {tmp / "s2"}).exitCode, 0);
  const std::string task2 = labelStudy(*node, reader, study2, slice2);
  ASSERT_TRUE(eventually([&] { return !exportsOf(*node, task2).empty() && exportsOf(*node, task2)[0]["attempts"].get<int>() >= 1; }));
  EXPECT_EQ(exportsOf(*node, task2)[0]["state"], "pending");
  EXPECT_FALSE(exportsOf(*node, task2)[0]["lastError"].get<std::string>().empty());

  // 3. The node restarts while the PACS is still down, then the PACS comes back.
  EXPECT_EQ(node->terminate(), 0);
  node = std::make_unique<RunningNode>(tmp / "data", settings);
  pacs.start();
  ASSERT_TRUE(eventually([&] { return exportsOf(*node, task2)[0]["state"] == "sent"; }, std::chrono::seconds(30)))
      << exportsOf(*node, task2).dump();
  const std::string sr2 = node->getJson("/api/v1/tasks/" + task2)["outputs"][0]["sopInstanceUid"];
  EXPECT_FALSE(pacs.findInstance(sr2).empty());
  // Acknowledged objects are never sent again.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(exportsOf(*node, task1)[0]["attempts"], 1);
  const json statistics = json::parse(httpGet(pacs.httpPort(), "/statistics").body);
  EXPECT_EQ(statistics["CountInstances"], 2) << "two SRs, each once";
  // The attempts are in the audit trail.
  const json failed = node->getJson("/api/v1/audit?action=export-failed");
  EXPECT_FALSE(failed["entries"].empty());
  const json exported = node->getJson("/api/v1/audit?action=export");
  EXPECT_EQ(exported["entries"].size(), 2u);
}

TEST(WriteBack, ResultsTravelOverTlsToAPacsWhoseCertificateIsTrusted) {
  TempDir tmp;
  writeCtProtocol(tmp / "protocols", "ct-quick", false);
  const auto [nodeCert, nodeKey] = makeTlsIdentity(tmp.path(), "annotation-node");
  const auto [pacsCert, pacsKey] = makeTlsIdentity(tmp.path(), "pacs");
  const auto [impostorCert, impostorKey] = makeTlsIdentity(tmp.path(), "impostor");
  // Trusted, but issued for another host: it must not pass for the PACS at 127.0.0.1 either.
  const auto [elsewhereCert, elsewhereKey] = makeTlsIdentity(tmp.path(), "elsewhere", "DNS:pacs.elsewhere.example");
  writeFile(tmp / "trusted.pem", readFile(pacsCert) + readFile(elsewhereCert));
  // DCMTK's storescp as a TLS-only PACS that requires and checks the node's client certificate.
  const uint16_t pacsPort = freePort();
  std::filesystem::create_directories(tmp / "pacs");
  auto startPacs = [&](const std::string& cert, const std::string& key) {
    return std::make_unique<ChildProcess>(std::vector<std::string>{"storescp", "+tls", key, cert, "+cf", nodeCert, "-rc", "-aet",
                                                                   "PACS", "-od", tmp / "pacs", std::to_string(pacsPort)},
                                          tmp / "pacs.log");
  };
  auto pacs = startPacs(impostorCert, impostorKey);  // first, a PACS presenting a certificate nobody trusts
  NodeSettings settings{1,
                        {{"Pacs", {"PACS@127.0.0.1:" + std::to_string(pacsPort)}},
                         {"ProtocolsDirectory", tmp / "protocols"},
                         {"OutboxMaxBackoffSeconds", 1},
                         {"PacsTlsTrustedCertificates", tmp / "trusted.pem"},
                         {"PacsTlsCertificate", nodeCert},
                         {"PacsTlsPrivateKey", nodeKey}}};
  RunningNode node(tmp / "data", settings);
  const std::string reader = node.addUser("reader", "annotator");
  const std::string study = generateStudy(tmp / "s", {"--slices", "2", "--rows", "32", "--columns", "32"});
  const std::string slice = sopInstanceUidOf(listFiles(tmp / "s", ".dcm").at(0));
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "s"}).exitCode, 0);
  const std::string task = labelStudy(node, reader, study, slice);

  // The untrusted PACS gets nothing: the handshake fails, the SR waits in the outbox.
  ASSERT_TRUE(eventually([&] { return !exportsOf(node, task).empty() && exportsOf(node, task)[0]["attempts"].get<int>() >= 1; }))
      << node.getJson("/api/v1/tasks/" + task).dump();
  EXPECT_EQ(exportsOf(node, task)[0]["state"], "pending");
  EXPECT_NE(exportsOf(node, task)[0]["lastError"].get<std::string>().find("TLS"), std::string::npos) << exportsOf(node, task);
  EXPECT_TRUE(listFiles(tmp / "pacs", "").empty()) << "nothing reached the untrusted peer";

  // Neither does a peer whose certificate the bundle trusts but which names another host.
  pacs.reset();
  pacs = startPacs(elsewhereCert, elsewhereKey);
  const int attempts = exportsOf(node, task)[0]["attempts"];
  ASSERT_TRUE(eventually([&] { return exportsOf(node, task)[0]["attempts"].get<int>() >= attempts + 2; }, std::chrono::seconds(30)))
      << exportsOf(node, task).dump();
  EXPECT_EQ(exportsOf(node, task)[0]["state"], "pending");
  EXPECT_NE(exportsOf(node, task)[0]["lastError"].get<std::string>().find("TLS"), std::string::npos) << exportsOf(node, task);
  EXPECT_TRUE(listFiles(tmp / "pacs", "").empty()) << "nothing reached the peer named for another host";

  // The real PACS, with the trusted certificate, receives the SR on the next retry.
  pacs.reset();
  pacs = startPacs(pacsCert, pacsKey);
  ASSERT_TRUE(eventually([&] { return exportsOf(node, task)[0]["state"] == "sent"; }, std::chrono::seconds(30)))
      << exportsOf(node, task).dump() << "\n" << pacs->log();
  const std::string sr = node.getJson("/api/v1/tasks/" + task)["outputs"][0]["sopInstanceUid"];
  const auto received = listFiles(tmp / "pacs", "");
  ASSERT_EQ(received.size(), 1u) << pacs->log();
  EXPECT_EQ(sopInstanceUidOf(received[0]), sr);
  EXPECT_TRUE(passesDciodvfy(received[0], "EnhancedSR"));
}

// A PACS that does not accept every result class, asked the standard way (association
// negotiation) before anything is sent: DCMTK's storescp limited to Verification, MR images and
// Comprehensive SR, beside a full Orthanc. (Debian's Orthanc 1.10 cannot be limited to some SOP
// classes; its AcceptedSopClasses came in a later release.) By default the Enhanced SR reaches it
// as a Comprehensive SR and the SEG is held with the reason; with Segmentation: skip the SEG is
// given up for that PACS alone. The full PACS gets both as written.
TEST(WriteBack, APacsThatLacksSegAndEnhancedSrGetsTheConfiguredFallback) {
  TempDir tmp;
  const std::string study = generateStudy(tmp / "mr", {"--modality", "MR", "--slices", "3", "--rows", "40", "--columns", "40"});
  const std::string slice = sopInstanceUidOf(listFiles(tmp / "mr", ".dcm").at(1));
  const uint16_t oldPort = freePort();
  const auto oldPacs = startLimitedPacs(tmp / "old", "OLDPACS", oldPort);
  RunningOrthanc pacs(tmp / "pacs");
  const std::string full = "ORTHANC@127.0.0.1:" + std::to_string(pacs.dicomPort()), old = "OLDPACS@127.0.0.1:" + std::to_string(oldPort);
  const json pacsList = {full, old};
  auto node = std::make_unique<RunningNode>(tmp / "data", NodeSettings{1, {{"Pacs", pacsList}, {"OutboxMaxBackoffSeconds", 1}}});
  const std::string reader = node->addUser("reader", "annotator"), reviewer = node->addUser("reviewer", "reviewer");
  ASSERT_EQ(storescu(node->dicomPort(), {tmp / "mr"}).exitCode, 0);
  std::string task;  // the shipped brain MR protocol: a lesion outlined and masked, then reviewed
  ASSERT_TRUE(eventually([&] {
    const json tasks = node->getJson("/api/v1/tasks?study=" + study)["tasks"];
    for (const auto& t : tasks) {
      if (t["protocol"]["id"] == "brain-mr-lesions") task = std::to_string(t["id"].get<int>());
    }
    return !task.empty();
  })) << node->getJson("/api/v1/tasks?study=" + study) << node->process().log();
  ASSERT_EQ(as(*node, reader, "POST", "/api/v1/tasks/" + task + "/claim").status, 200);
  const json doc = maskedLesionAnnotation(slice);
  const HttpResult saved = as(*node, reader, "PUT", "/api/v1/tasks/" + task + "/annotation", doc.dump());
  ASSERT_EQ(saved.status, 201) << saved.body;
  ASSERT_EQ(as(*node, reader, "POST", "/api/v1/tasks/" + task + "/submit").status, 200);
  std::string review;
  const json tasks = node->getJson("/api/v1/tasks?study=" + study)["tasks"];
  for (const auto& t : tasks) {
    if (t["step"] == "review") review = std::to_string(t["id"].get<int>());
  }
  ASSERT_FALSE(review.empty());
  ASSERT_EQ(as(*node, reviewer, "POST", "/api/v1/tasks/" + review + "/claim").status, 200);
  ASSERT_EQ(as(*node, reviewer, "POST", "/api/v1/tasks/" + review + "/review", R"({"decision": "approve"})").status, 200);
  std::string sr, seg;
  const json outputs = node->getJson("/api/v1/tasks/" + task)["outputs"];
  for (const auto& o : outputs) (o["kind"] == "SR" ? sr : seg) = o["sopInstanceUid"];
  ASSERT_FALSE(sr.empty());
  ASSERT_FALSE(seg.empty());

  // The full PACS: both, as written.
  ASSERT_TRUE(eventually([&] { return !pacs.findInstance(sr).empty() && !pacs.findInstance(seg).empty(); })) << node->process().log();
  // The limited one: a Comprehensive SR of the same document, valid; the SEG held with the reason.
  auto exportTo = [&](const std::string& sop) {
    const json items = node->getJson("/api/v1/outbox?limit=100")["items"];
    for (const auto& item : items) {
      if (item["sopInstanceUid"] == sop && item["destination"] == old) return item;
    }
    return json();
  };
  ASSERT_TRUE(eventually([&] { return exportTo(sr).value("state", "") == "sent" && exportTo(seg).value("attempts", 0) >= 1; }))
      << node->getJson("/api/v1/outbox") << readFile(tmp / "old.log");
  const std::string trail = node->get("/api/v1/audit?action=export&limit=100").body;
  EXPECT_NE(trail.find("sent as Comprehensive SR"), std::string::npos) << "the trail says what the PACS got: " << trail;
  EXPECT_EQ(exportTo(seg)["state"], "failed");
  EXPECT_NE(exportTo(seg)["lastError"].get<std::string>().find("does not accept SegmentationStorage"), std::string::npos) << exportTo(seg);
  EXPECT_NE(exportTo(seg)["lastError"].get<std::string>().find("held"), std::string::npos) << exportTo(seg);
  const auto received = listFiles(tmp / "old", "");
  ASSERT_EQ(received.size(), 1u) << "the SR only";
  const CommandResult dumped = runCommand({"dcmdump", "+P", "SOPClassUID", "+P", "SOPInstanceUID", "+P", "PatientID", received[0]});
  EXPECT_NE(dumped.output.find("=ComprehensiveSRStorage"), std::string::npos) << dumped.output;
  EXPECT_EQ(dumped.output.find(sr), std::string::npos) << "a copy in another SOP class has a UID of its own";
  EXPECT_TRUE(passesDciodvfy(received[0], "ComprehensiveSR"));
  const ValidatorResult pixelmed = pixelmedSrValidator(received[0]);
  EXPECT_TRUE(pixelmed.completed) << pixelmed.output;
  EXPECT_EQ(pixelmed.errors, 0) << pixelmed.output;

  // Segmentation: skip. The SEG is given up for the limited PACS, for good; nothing is owed.
  EXPECT_EQ(node->terminate(), 0);
  node = std::make_unique<RunningNode>(
      tmp / "data", NodeSettings{1, {{"Pacs", pacsList}, {"OutboxMaxBackoffSeconds", 1}, {"ResultFallback", {{"Segmentation", "skip"}}}}});
  ASSERT_TRUE(eventually([&] { return exportTo(seg).value("state", "") == "skipped"; })) << node->getJson("/api/v1/outbox");
  const json counts = node->getJson("/api/v1/outbox")["destinations"][old];
  EXPECT_EQ(counts["sent"], 1);
  EXPECT_EQ(counts["skipped"], 1);
  EXPECT_EQ(counts["pending"].get<int>() + counts["failed"].get<int>(), 0) << counts;
  const json skipped = node->getJson("/api/v1/outbox?state=skipped")["items"];
  ASSERT_EQ(skipped.size(), 1u) << skipped;
  EXPECT_EQ(skipped[0]["sopInstanceUid"], seg);
  EXPECT_EQ(listFiles(tmp / "old", "").size(), 1u);
}
