// Black-box tests of the dicom-node binary: real DICOM peers (DCMTK storescu/echoscu/dcmodify),
// real HTTP, real crashes.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <thread>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "NodeHarness.h"
#include "storage/FileInstanceStore.h"

using namespace annot::test;
using nlohmann::json;

namespace {

std::set<std::string> catalogSopUids(const RunningNode& node, const std::string& studyUid) {
  std::set<std::string> uids;
  const json study = node.getJson("/api/v1/studies/" + studyUid);
  for (const auto& series : study["Series"]) {
    for (const auto& instance : series["Instances"]) uids.insert(instance["SOPInstanceUID"].get<std::string>());
  }
  return uids;
}

std::string storedPath(const RunningNode& node, const std::string& sopUid) {
  return node.dataDir() + "/instances/" + annot::FileInstanceStore::keyFor(sopUid);
}

uint64_t metricValue(const RunningNode& node, const std::string& series) {
  const std::string text = httpGet(node.httpPort(), "/metrics").body;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stoull(line.substr(series.size() + 1));
  }
  throw std::runtime_error("metric " + series + " not found in:\n" + text);
}

// Files storescu reported as acknowledged with Success, in order.
std::vector<std::string> acknowledgedFiles(const std::string& storescuLog) {
  std::vector<std::string> acked;
  std::string current;
  std::istringstream in(storescuLog);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("I: Sending file: ", 0) == 0) current = line.substr(17);
    if (line.find("Received Store Response (Success)") != std::string::npos && !current.empty()) {
      acked.push_back(current);
      current.clear();
    }
  }
  return acked;
}

}  // namespace

TEST(DicomNode, StoresAStudyFromStorescuBitForBitAndIndexesIt) {
  TempDir tmp;
  const std::string studyUid = generateStudy(tmp / "ct", {"--slices", "12", "--rows", "64", "--columns", "64"});
  RunningNode node(tmp / "data");
  const auto sent = storescu(node.dicomPort(), {tmp / "ct"});
  ASSERT_EQ(sent.exitCode, 0) << sent.output;
  EXPECT_EQ(countOccurrences(sent.output, "Received Store Response (Success)"), 12u);

  const json list = node.getJson("/api/v1/studies");
  ASSERT_EQ(list["total"], 1);
  const json& study = list["studies"][0];
  EXPECT_EQ(study["StudyInstanceUID"], studyUid);
  EXPECT_EQ(study["NumberOfStudyRelatedInstances"], 12);
  EXPECT_EQ(study["NumberOfStudyRelatedSeries"], 1);
  EXPECT_EQ(study["PatientID"], "ANON0001");
  EXPECT_EQ(study["PatientSex"], "F");
  EXPECT_EQ(study["PatientAge"], "055Y");
  EXPECT_EQ(study["ModalitiesInStudy"], json::array({"CT"}));

  const json detail = node.getJson("/api/v1/studies/" + studyUid);
  ASSERT_EQ(detail["Series"].size(), 1u);
  EXPECT_EQ(detail["Series"][0]["Instances"].size(), 12u);
  EXPECT_EQ(detail["Series"][0]["Instances"][0]["SendingAET"], "STORESCU");
  EXPECT_EQ(detail["Series"][0]["Instances"][0]["TransferSyntaxUID"], "1.2.840.10008.1.2.1");

  // Stored as received: the dataset bytes on disk are those of the source file.
  for (const auto& source : listFiles(tmp / "ct", ".dcm")) {
    const std::string stored = storedPath(node, sopInstanceUidOf(source));
    EXPECT_EQ(datasetBytes(stored), datasetBytes(source)) << source;
  }
  EXPECT_EQ(metricValue(node, "annot_instances_received_total"), 12u);
  EXPECT_TRUE(listFiles(tmp / "data/incoming").empty());

  // Full-size slices span several of the receiver's write chunks and end mid-block.
  generateStudy(tmp / "big", {"--slices", "2"});
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "big"}).exitCode, 0);
  for (const auto& source : listFiles(tmp / "big", ".dcm")) {
    EXPECT_TRUE(datasetBytes(storedPath(node, sopInstanceUidOf(source))) == datasetBytes(source)) << source;
  }
}

TEST(DicomNode, ServesConcurrentAssociations) {
  TempDir tmp;
  std::vector<std::string> studies;
  for (int i = 0; i < 4; ++i) {
    studies.push_back(generateStudy(tmp / ("s" + std::to_string(i)),
                                    {"--slices", "15", "--rows", "96", "--columns", "96", "--patient-id",
                                     "PAT" + std::to_string(i), "--sex", i % 2 ? "M" : "F"}));
  }
  RunningNode node(tmp / "data");
  // One association is held open for a long time; the others must be served meanwhile (a
  // server taking one association at a time would keep them waiting until it is released).
  generateStudy(tmp / "held", {"--slices", "1", "--rows", "32", "--columns", "32", "--patient-id", "HELD"});
  const std::string heldFile = listFiles(tmp / "held", ".dcm").at(0);
  ChildProcess holder({ANNOT_RAWSCU_BIN, "--port", std::to_string(node.dicomPort()), "--sop-class", "1.2.840.10008.5.1.4.1.1.2",
                       "--sop-instance", sopInstanceUidOf(heldFile), "--hold-ms", "60000", heldFile},
                      tmp / "holder.log");
  ASSERT_TRUE(eventually([&] { return holder.log().find("holding") != std::string::npos; })) << holder.log();
  std::vector<std::unique_ptr<ChildProcess>> senders;
  for (int i = 0; i < 4; ++i) {
    senders.push_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{"storescu", "-aec", "ANNOTNODE", "+sd", "+r", "127.0.0.1",
                                 std::to_string(node.dicomPort()), tmp / ("s" + std::to_string(i))},
        tmp / ("send" + std::to_string(i) + ".log")));
  }
  for (auto& s : senders) EXPECT_EQ(s->wait(std::chrono::seconds(120)), 0) << s->log();
  EXPECT_TRUE(holder.running()) << "the four studies were stored while the first association stayed open";
  EXPECT_GE(metricValue(node, "annot_associations_active"), 1u);
  holder.signal(SIGTERM);
  holder.wait();
  const json list = node.getJson("/api/v1/studies");
  EXPECT_EQ(list["total"], 5);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(catalogSopUids(node, studies[i]).size(), 15u);
    EXPECT_EQ(node.getJson("/api/v1/studies?PatientID=PAT" + std::to_string(i))["total"], 1);
  }
  EXPECT_GE(metricValue(node, "annot_associations_total{result=\"accepted\"}"), 5u);
  EXPECT_TRUE(eventually([&] { return metricValue(node, "annot_associations_active") == 0u; })) << "the killed holder's association ends";
}

namespace {
// The memory mappings of a process (thread stacks and their guard pages among them).
size_t mappingsOf(pid_t pid) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  return static_cast<size_t>(std::count(std::istreambuf_iterator<char>(maps), std::istreambuf_iterator<char>(), '\n'));
}
}  // namespace

// Each association runs on a thread of its own; when it ends, the thread's stack must go with
// it. DCMTK's pool neither joins nor detaches its finished threads, and the node once kept a
// stack mapping per association ever served (found by bench/soak).
TEST(DicomNode, FinishedAssociationsLeaveNoThreadStackBehind) {
  TempDir tmp;
  RunningNode node(tmp / "data");
  const std::string port = std::to_string(node.dicomPort());
  ASSERT_EQ(runCommand({"echoscu", "-aec", "ANNOTNODE", "127.0.0.1", port}).exitCode, 0);
  const size_t before = mappingsOf(node.process().pid());
  constexpr int kAssociations = 150;
  for (int i = 0; i < kAssociations; ++i) {
    // What is counted is mappings, not associations: on a loaded machine the pool may still be
    // busy with finished workers and refuse one (as busy); it is asked again, as a sender would.
    CommandResult echo;
    for (int attempt = 0; attempt < 3; ++attempt) {
      echo = runCommand({"echoscu", "-v", "-aec", "ANNOTNODE", "127.0.0.1", port});
      if (echo.exitCode == 0) break;
      std::cout << "association " << i << " attempt " << attempt + 1 << " failed:\n" << echo.output << std::flush;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    ASSERT_EQ(echo.exitCode, 0) << "association " << i << ": " << echo.output << node.process().log();
  }
  // A leaked thread keeps two mappings (stack and guard page): 300 here. Allocator arenas and
  // libraries loaded late may add a few.
  const size_t after = mappingsOf(node.process().pid());
  EXPECT_LT(after, before + 40) << "mappings before " << before << ", after " << kAssociations << " associations " << after;
  EXPECT_EQ(runCommand({"echoscu", "-aec", "ANNOTNODE", "127.0.0.1", port}).exitCode, 0) << "the node still serves";
}

TEST(DicomNode, ResendingAStudyIsIdempotent) {
  TempDir tmp;
  const std::string studyUid = generateStudy(tmp / "ct", {"--slices", "6", "--rows", "32", "--columns", "32"});
  RunningNode node(tmp / "data");
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "ct"}).exitCode, 0);
  const auto again = storescu(node.dicomPort(), {tmp / "ct"});
  ASSERT_EQ(again.exitCode, 0) << again.output;
  EXPECT_EQ(countOccurrences(again.output, "Received Store Response (Success)"), 6u);
  EXPECT_EQ(node.getJson("/api/v1/studies/" + studyUid)["NumberOfStudyRelatedInstances"], 6);
  EXPECT_EQ(metricValue(node, "annot_instances_duplicate_total"), 6u);
  EXPECT_EQ(listFiles(tmp / "data/instances", ".dcm").size(), 6u);

  // The same SOP Instance UID under another study is another object, not a re-send: refused
  // with Duplicate SOP Instance (0111H), and the stored copy stays where it was.
  const std::string first = listFiles(tmp / "ct", ".dcm").at(0);
  ASSERT_EQ(runCommand({"dcmodify", "-nb", "-m", "(0020,000d)=1.2.826.0.1.3680043.10.999.1", first}).exitCode, 0);
  const auto conflicting = storescu(node.dicomPort(), {first});
  EXPECT_NE(conflicting.output.find("Received Store Response (Unknown Status: 0x111)"), std::string::npos) << conflicting.output;
  EXPECT_EQ(node.getJson("/api/v1/studies/" + studyUid)["NumberOfStudyRelatedInstances"], 6);
  EXPECT_EQ(httpRequest(node.httpPort(), "GET", "/api/v1/studies/1.2.826.0.1.3680043.10.999.1", "",
                        {{"Authorization", "Bearer " + node.adminToken()}}).status, 404);
  EXPECT_NE(node.process().log().find("is already stored in study " + studyUid), std::string::npos) << node.process().log();
}

namespace {
// Sends a series while the node is killed (SIGKILL or SIGTERM) mid-way; then restarts it and
// checks that every instance storescu saw acknowledged is indexed and readable in full.
void checkAcknowledgedSurvive(int sig) {
  TempDir tmp;
  const std::string studyUid = generateStudy(tmp / "ct", {"--slices", "300", "--rows", "128", "--columns", "128"});
  std::vector<std::string> acked;
  {
    RunningNode node(tmp / "data");
    ChildProcess sender({"storescu", "-v", "-aec", "ANNOTNODE", "+sd", "+r", "127.0.0.1",
                         std::to_string(node.dicomPort()), tmp / "ct"},
                        tmp / "send.log");
    ASSERT_TRUE(eventually([&] { return countOccurrences(sender.log(), "Received Store Response (Success)") >= 40; }))
        << sender.log();
    if (sig == SIGKILL) {
      node.kill9();
    } else {
      EXPECT_EQ(node.terminate(), 0) << node.process().log();
      EXPECT_NE(node.process().log().find("stopped"), std::string::npos);
    }
    sender.wait(std::chrono::seconds(60));
    acked = acknowledgedFiles(sender.log());
  }
  ASSERT_GE(acked.size(), 40u);
  RunningNode restarted(tmp / "data");
  const std::set<std::string> indexed = catalogSopUids(restarted, studyUid);
  for (const auto& file : acked) {
    const std::string uid = sopInstanceUidOf(file);
    EXPECT_TRUE(indexed.count(uid)) << "acknowledged but not indexed: " << file;
    DcmFileFormat stored;
    ASSERT_TRUE(stored.loadFile(storedPath(restarted, uid).c_str()).good()) << "acknowledged but unreadable: " << file;
    const Uint16* pixels = nullptr;
    unsigned long n = 0;
    ASSERT_TRUE(stored.getDataset()->findAndGetUint16Array(DCM_PixelData, pixels, &n).good());
    EXPECT_EQ(n, 128u * 128u);
  }
  // Nothing half-written is left in the intake folder, and the index agrees with the disk.
  EXPECT_TRUE(listFiles(tmp / "data/incoming").empty());
  for (const auto& uid : indexed) EXPECT_EQ(sopInstanceUidOf(storedPath(restarted, uid)), uid);
  // The sender can finish the job after the restart; nothing is duplicated.
  ASSERT_EQ(storescu(restarted.dicomPort(), {tmp / "ct"}).exitCode, 0);
  EXPECT_EQ(catalogSopUids(restarted, studyUid).size(), 300u);
}
}  // namespace

TEST(DicomNode, AcknowledgedInstancesSurviveKillDashNine) { checkAcknowledgedSurvive(SIGKILL); }

TEST(DicomNode, SigtermFinishesInFlightWorkAndExitsCleanly) { checkAcknowledgedSurvive(SIGTERM); }

// SIGTERM while a C-STORE is half received: the node takes the rest, answers it, stores it and
// only then exits; after a restart the instance is there.
TEST(DicomNode, SigtermWaitsForTheStoreInFlightAndAnswersIt) {
  TempDir tmp;
  generateStudy(tmp / "ct", {"--slices", "1", "--rows", "256", "--columns", "256"});
  const std::string file = listFiles(tmp / "ct", ".dcm").at(0);
  const std::string sop = sopInstanceUidOf(file);
  {
    RunningNode node(tmp / "data");
    ChildProcess sender({ANNOT_RAWSCU_BIN, "--port", std::to_string(node.dicomPort()), "--sop-class", "1.2.840.10008.5.1.4.1.1.2",
                         "--sop-instance", sop, "--pause-mid-ms", "1500", file},
                        tmp / "sender.log");
    ASSERT_TRUE(eventually([&] { return sender.log().find("paused") != std::string::npos; })) << sender.log();
    node.process().signal(SIGTERM);
    EXPECT_EQ(sender.wait(std::chrono::seconds(30)), 0) << sender.log();
    EXPECT_NE(sender.log().find("status 0x0000"), std::string::npos) << "the store in flight was answered: " << sender.log();
    EXPECT_EQ(node.process().wait(std::chrono::seconds(30)), 0) << node.process().log();
  }
  RunningNode restarted(tmp / "data");
  DcmFileFormat stored;
  EXPECT_TRUE(stored.loadFile(storedPath(restarted, sop).c_str()).good()) << "answered and kept";
}

TEST(DicomNode, BadInputGetsDimseFailuresAndTheNodeKeepsServing) {
  TempDir tmp;
  generateStudy(tmp / "ct", {"--slices", "1", "--rows", "64", "--columns", "64"});
  const std::string good = listFiles(tmp / "ct", ".dcm").at(0);
  const std::string sop = sopInstanceUidOf(good);
  const std::string ct = "1.2.840.10008.5.1.4.1.1.2", mr = "1.2.840.10008.5.1.4.1.1.4";
  const std::string bytes = readFile(good);
  writeFile(tmp / "truncated.dcm", bytes.substr(0, bytes.size() / 2 & ~size_t{1}));
  writeFile(tmp / "oddlength.dcm", bytes.substr(0, (bytes.size() / 2) | 1));
  // A real tool removes the Study Instance UID from a copy.
  ASSERT_EQ(runCommand({"cp", good, tmp / "nostudy.dcm"}).exitCode, 0);
  ASSERT_EQ(runCommand({"dcmodify", "-nb", "-ea", "(0020,000d)", tmp / "nostudy.dcm"}).exitCode, 0);

  RunningNode node(tmp / "data");
  // An odd-length fragment breaks the DIMSE framing itself: the association is aborted (the
  // sender notices while still sending, or while waiting for the response).
  auto r = rawStore(node.dicomPort(), {"--sop-class", ct, "--sop-instance", sop, tmp / "oddlength.dcm"});
  EXPECT_TRUE(r.output.find("no C-STORE response") != std::string::npos || r.output.find("store failed") != std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("status 0x"), std::string::npos) << r.output;

  r = rawStore(node.dicomPort(), {"--sop-class", ct, "--sop-instance", sop, tmp / "truncated.dcm"});
  EXPECT_NE(r.output.find("status 0xc000"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("comment cannot parse DICOM data"), std::string::npos) << r.output;

  r = rawStore(node.dicomPort(), {"--sop-class", ct, "--sop-instance", sop, tmp / "nostudy.dcm"});
  EXPECT_NE(r.output.find("status 0xa900"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Study Instance UID"), std::string::npos) << r.output;

  r = rawStore(node.dicomPort(), {"--sop-class", mr, "--sop-instance", sop, good});
  EXPECT_NE(r.output.find("status 0xa900"), std::string::npos) << r.output;

  r = rawStore(node.dicomPort(), {"--context-sop-class", ct, "--sop-class", "1.2.3.4.5", "--sop-instance", sop, good});
  EXPECT_NE(r.output.find("status 0x0122"), std::string::npos) << r.output;

  // A SOP class that is not a storage class is refused at negotiation: with no acceptable
  // presentation context the association itself is rejected.
  r = rawStore(node.dicomPort(), {"--sop-class", "1.2.3.4.5.6", "--sop-instance", sop, good});
  EXPECT_NE(r.output.find("association failed: DUL Association Rejected"), std::string::npos) << r.output;

  // Still serving, nothing stored, nothing left behind.
  EXPECT_EQ(runCommand({"echoscu", "-aec", "ANNOTNODE", "127.0.0.1", std::to_string(node.dicomPort())}).exitCode, 0);
  EXPECT_EQ(node.getJson("/api/v1/studies")["total"], 0);
  EXPECT_TRUE(listFiles(tmp / "data/incoming").empty());
  EXPECT_TRUE(listFiles(tmp / "data/instances", ".dcm").empty());
  EXPECT_EQ(metricValue(node, "annot_store_failures_total{reason=\"malformed\"}"), 1u);
  EXPECT_EQ(metricValue(node, "annot_store_failures_total{reason=\"processing\"}"), 1u);
  EXPECT_EQ(metricValue(node, "annot_store_failures_total{reason=\"mismatch\"}"), 3u);
  // And the good file still goes in afterwards.
  r = rawStore(node.dicomPort(), {"--sop-class", ct, "--sop-instance", sop, good});
  EXPECT_NE(r.output.find("status 0x0000"), std::string::npos) << r.output;
  EXPECT_EQ(node.getJson("/api/v1/studies")["total"], 1);
}

TEST(DicomNode, OnlyAllowedCallingAndCalledAeTitlesMayAssociate) {
  TempDir tmp;
  RunningNode node(tmp / "data", NodeSettings{60, {{"AllowedCallingAets", {"GOODSCU"}}}});
  const std::string port = std::to_string(node.dicomPort());
  EXPECT_EQ(runCommand({"echoscu", "-aet", "GOODSCU", "-aec", "ANNOTNODE", "127.0.0.1", port}).exitCode, 0);
  const auto stranger = runCommand({"echoscu", "-aet", "BADSCU", "-aec", "ANNOTNODE", "127.0.0.1", port});
  EXPECT_NE(stranger.exitCode, 0);
  EXPECT_NE(stranger.output.find("Calling AE Title Not Recognized"), std::string::npos) << stranger.output;
  const auto misaddressed = runCommand({"echoscu", "-aet", "GOODSCU", "-aec", "OTHERNODE", "127.0.0.1", port});
  EXPECT_NE(misaddressed.exitCode, 0);
  EXPECT_NE(misaddressed.output.find("Called AE Title Not Recognized"), std::string::npos) << misaddressed.output;
  EXPECT_EQ(metricValue(node, "annot_associations_total{result=\"rejected\"}"), 2u);
  EXPECT_NE(node.process().log().find("refused: calling AE title not allowed"), std::string::npos);
}

TEST(DicomNode, RefusesStoresWithOutOfResourcesWhenTheDiskIsFull) {
  TempDir tmp;
  generateStudy(tmp / "ct", {"--slices", "1", "--rows", "32", "--columns", "32"});
  const std::string file = listFiles(tmp / "ct", ".dcm").at(0);
  // A reserve larger than any disk: the node behaves as on a full disk.
  RunningNode node(tmp / "data", NodeSettings{60, {{"MinFreeDiskSpaceMB", 1ull << 40}}});
  const auto r = rawStore(node.dicomPort(),
                          {"--sop-class", "1.2.840.10008.5.1.4.1.1.2", "--sop-instance", sopInstanceUidOf(file), file});
  EXPECT_NE(r.output.find("status 0xa700"), std::string::npos) << r.output;
  EXPECT_EQ(node.getJson("/api/v1/studies")["total"], 0);
  EXPECT_EQ(httpGet(node.httpPort(), "/healthz").status, 200);
}

TEST(DicomNode, AScratchFileThatCannotBeWrittenIsRefusedAndTheAssociationGoesOn) {
  TempDir tmp;
  generateStudy(tmp / "ct", {"--slices", "2", "--rows", "32", "--columns", "32"});
  const auto files = listFiles(tmp / "ct", ".dcm");
  RunningNode node(tmp / "data");
  // The scratch folder replaced by a plain file: creating the scratch file fails (ENOTDIR),
  // as it would on a broken or read-only disk, even for root.
  const std::string incoming = node.incomingDir();
  std::filesystem::remove_all(incoming);
  writeFile(incoming, "not a folder");
  // Both instances on one association: the first is drained and refused, the second is
  // still read on the same association (and refused the same way).
  const auto r = rawStore(node.dicomPort(), {"--sop-class", "1.2.840.10008.5.1.4.1.1.2", "--sop-instance",
                                             sopInstanceUidOf(files[0]), files[0]});
  EXPECT_NE(r.output.find("status 0x0110"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cannot store the received data"), std::string::npos) << r.output;
  // --no-halt: storescu stops at the first refusal otherwise.
  const auto both = storescu(node.dicomPort(), {"--no-halt", tmp / "ct"});
  EXPECT_EQ(countOccurrences(both.output, "Received Store Response"), 2u) << both.output;
  EXPECT_EQ(countOccurrences(both.output, "Success"), 0u) << both.output;
  EXPECT_EQ(metricValue(node, "annot_store_failures_total{reason=\"processing\"}"), 3u) << both.output;

  std::filesystem::remove(incoming);
  std::filesystem::create_directory(incoming);
  const auto again = storescu(node.dicomPort(), {tmp / "ct"});
  EXPECT_EQ(countOccurrences(again.output, "Received Store Response (Success)"), 2u) << again.output;
  EXPECT_EQ(node.getJson("/api/v1/studies")["total"], 1);
}

TEST(DicomNode, AStudyBecomesStableAfterTheStableAge) {
  TempDir tmp;
  const std::string studyUid = generateStudy(tmp / "ct", {"--slices", "3", "--rows", "32", "--columns", "32"});
  RunningNode node(tmp / "data", NodeSettings{1, {}});
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "ct"}).exitCode, 0);
  EXPECT_TRUE(eventually([&] { return node.getJson("/api/v1/studies/" + studyUid)["Stable"].get<bool>(); }));
  EXPECT_NE(node.process().log().find("study " + studyUid + " is stable"), std::string::npos);
  EXPECT_EQ(metricValue(node, "annot_studies_stable_total"), 1u);
}

TEST(DicomNode, HttpErrorsAreClearAndOversizedBodiesGet413) {
  TempDir tmp;
  RunningNode node(tmp / "data", NodeSettings{60, {{"MaxHttpBodySize", 100}}});
  EXPECT_EQ(node.request("POST", "/api/v1/studies", std::string(5000, 'x')).status, 413);
  const auto missing = node.get("/api/v1/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body)["error"]["status"], 404);
  EXPECT_EQ(node.get("/api/v1/studies?limit=abc").status, 400);
  EXPECT_EQ(node.get("/api/v1/studies/%zz").status, 400);
  EXPECT_EQ(node.request("POST", "/api/v1/studies").status, 405);
  EXPECT_EQ(httpRequest(node.httpPort(), "HEAD", "/healthz").status, 200);
  EXPECT_EQ(httpGet(node.httpPort(), "/healthz").status, 200) << "still serving";
}

TEST(DicomNode, CommandLineHelpAndConfigurationErrors) {
  const auto help = runCommand({nodeBinary(), "--help"});
  EXPECT_EQ(help.exitCode, 0);
  for (const char* flag : {"--config", "--data-dir", "--dicom-port", "--http-port", "--aet", "--stable-age"}) {
    EXPECT_NE(help.output.find(flag), std::string::npos) << flag;
  }
  const auto bad = runCommand({nodeBinary(), "serve", "--dicom-port", "notaport"});
  EXPECT_EQ(bad.exitCode, 2);
  EXPECT_NE(bad.output.find("--dicom-port needs a number"), std::string::npos);
  const auto effective = runCommand({nodeBinary(), "print-config", "--aet", "LABELS", "--http-port", "9999"});
  ASSERT_EQ(effective.exitCode, 0) << effective.output;
  const json config = json::parse(effective.output);
  EXPECT_EQ(config["DicomAet"], "LABELS");
  EXPECT_EQ(config["HttpPort"], 9999);
  EXPECT_EQ(config["DicomPort"], 11112);
}

TEST(DicomNode, EveryApiRouteNeedsATokenOfAnAllowedRoleAndIsAudited) {
  TempDir tmp;
  RunningNode node(tmp / "data");
  const std::string annotator = node.addUser("ann", "annotator");
  // No token, a wrong one, a forged one: 401 with a challenge; the open routes stay open.
  const auto anonymous = httpGet(node.httpPort(), "/api/v1/studies");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.headers.at("www-authenticate"), "Bearer realm=\"annotation-node\"");
  EXPECT_EQ(httpRequest(node.httpPort(), "GET", "/api/v1/studies", "", {{"Authorization", "Bearer an_1_" + std::string(64, '0')}}).status, 401);
  EXPECT_EQ(httpRequest(node.httpPort(), "GET", "/api/v1/studies", "", {{"Authorization", "Basic YWRtaW46YWRtaW4="}}).status, 401);
  EXPECT_EQ(httpGet(node.httpPort(), "/healthz").status, 200);
  EXPECT_EQ(httpGet(node.httpPort(), "/metrics").status, 200);
  // An annotator may list studies but not manage users or read the audit trail.
  const std::map<std::string, std::string> asAnnotator = {{"Authorization", "Bearer " + annotator}};
  EXPECT_EQ(httpRequest(node.httpPort(), "GET", "/api/v1/studies", "", asAnnotator).status, 200);
  EXPECT_EQ(httpRequest(node.httpPort(), "GET", "/api/v1/users", "", asAnnotator).status, 403);
  EXPECT_EQ(httpRequest(node.httpPort(), "GET", "/api/v1/audit", "", asAnnotator).status, 403);
  // The admin creates a researcher through the API; the new token works at once.
  const auto created = node.request("POST", "/api/v1/users", R"({"name": "res", "role": "researcher"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string researcher = json::parse(created.body)["token"];
  EXPECT_EQ(httpRequest(node.httpPort(), "GET", "/dicomweb/studies", "", {{"Authorization", "Bearer " + researcher}}).status, 200);
  EXPECT_EQ(httpRequest(node.httpPort(), "GET", "/api/v1/studies", "", {{"Authorization", "Bearer " + researcher}}).status, 403)
      << "the identified study list is not the researcher's";
  EXPECT_EQ(node.request("POST", "/api/v1/users", R"({"name": "res", "role": "researcher"})").status, 409);
  EXPECT_EQ(node.request("POST", "/api/v1/users", R"({"name": "x", "role": "owner"})").status, 400);
  EXPECT_EQ(node.request("POST", "/api/v1/users", "{").status, 400);
  // Every route of the table, generated: no token gets 401, a role the route does not allow 403.
  std::map<std::string, std::string> tokenOf = {{"researcher", researcher}, {"annotator", annotator}};
  tokenOf["reviewer"] = node.addUser("rev", "reviewer");
  tokenOf["admin"] = node.adminToken();
  const json routes = node.getJson("/api/v1/routes")["routes"];
  size_t checked = 0;
  for (const auto& route : routes) {
    if (route["roles"].empty()) continue;
    std::string path = route["pattern"];
    for (size_t at; (at = path.find("{}")) != std::string::npos;) path.replace(at, 2, "1");
    if (path.back() == '*') path.back() = 'x';
    const std::string method = route["method"];
    EXPECT_EQ(httpRequest(node.httpPort(), method, path, "{}").status, 401) << method << ' ' << path << " without a token";
    for (const auto& [role, token] : tokenOf) {
      const bool allowed = std::find(route["roles"].begin(), route["roles"].end(), role) != route["roles"].end();
      if (allowed) continue;
      EXPECT_EQ(httpRequest(node.httpPort(), method, path, "{}", {{"Authorization", "Bearer " + token}}).status, 403)
          << method << ' ' << path << " as " << role;
      ++checked;
    }
  }
  EXPECT_GT(checked, 40u) << "the route table was read";
  // Who did what is in the trail, and the chain verifies.
  const json trail = node.getJson("/api/v1/audit?verify=true&limit=1000");
  EXPECT_TRUE(trail["verification"]["intact"].get<bool>());
  std::set<std::string> seen;
  for (const auto& e : trail["entries"]) seen.insert(e["user"].get<std::string>() + ":" + e["action"].get<std::string>() + ":" + e["outcome"].get<std::string>());
  for (const char* expected : {":authenticate:denied", "ann:list-studies:success", "ann:access:denied", "admin:create-user:success",
                               "res:access:denied", ":create-user:success"}) {
    EXPECT_TRUE(seen.count(expected)) << expected;
  }
}

namespace {
// A connection to `port` on loopback that sends the first byte of a TLS ClientHello and no
// more; -1 when it cannot connect.
int stalledTlsClient(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::send(fd, "\x16", 1, 0) != 1) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// curl, quiet but for errors, giving up after 10 s.
CommandResult curl(std::vector<std::string> args) {
  std::vector<std::string> argv = {"curl", "-s", "-S", "-m", "10"};
  argv.insert(argv.end(), args.begin(), args.end());
  return runCommand(argv);
}
}  // namespace

TEST(DicomNode, ServesHttpsWithItsCertificateAndOnlyHttps) {
  TempDir tmp;
  const auto [cert, key] = makeTlsIdentity(tmp.path(), "annotation-node");
  const uint16_t httpPort = freePort();
  const json config = {{"DataDirectory", tmp / "data"}, {"DicomPort", freePort()}, {"HttpPort", httpPort},
                       {"HttpBindAddress", "127.0.0.1"}, {"HttpsCertificate", cert}, {"HttpsPrivateKey", key}};
  writeFile(tmp / "config.json", config.dump());
  const CommandResult user = runCommand({nodeBinary(), "user", "add", "admin", "--role", "admin", "--data-dir", tmp / "data"});
  ASSERT_EQ(user.exitCode, 0) << user.output;
  std::string token = user.output;
  while (!token.empty() && token.back() == '\n') token.pop_back();
  token = token.substr(token.rfind('\n') + 1);

  ChildProcess node({nodeBinary(), "serve", "--config", tmp / "config.json"}, tmp / "node.log");
  const std::string base = "https://127.0.0.1:" + std::to_string(httpPort);
  ASSERT_TRUE(eventually([&] { return !node.running() || curl({"--cacert", cert, base + "/healthz"}).exitCode == 0; }))
      << node.log();
  ASSERT_TRUE(node.running()) << node.log();
  EXPECT_NE(node.log().find("HTTP listening on https://127.0.0.1"), std::string::npos) << node.log();
  EXPECT_EQ(node.log().find("HTTP without TLS"), std::string::npos) << node.log();

  // The API over TLS: health, an authenticated route, and the same route without a token.
  const CommandResult health = curl({"--cacert", cert, base + "/healthz"});
  EXPECT_NE(health.output.find("\"status\":\"ok\""), std::string::npos) << health.output;
  const CommandResult studies =
      curl({"--cacert", cert, "-H", "Authorization: Bearer " + token, "-o", "/dev/null", "-w", "%{http_code}", base + "/api/v1/studies"});
  EXPECT_EQ(studies.output, "200") << studies.output;
  const CommandResult anonymous = curl({"--cacert", cert, "-o", "/dev/null", "-w", "%{http_code}", base + "/api/v1/studies"});
  EXPECT_EQ(anonymous.output, "401") << anonymous.output;

  // Nothing in clear: plain HTTP on the port gets a plain 400 saying what to use, no data.
  const CommandResult plain = curl({"-w", " %{http_code}", "http://127.0.0.1:" + std::to_string(httpPort) + "/api/v1/studies"});
  EXPECT_NE(plain.output.find("speaks HTTPS"), std::string::npos) << plain.output;
  EXPECT_NE(plain.output.find(" 400"), std::string::npos) << plain.output;
  // Also when the request carries a body the node never reads.
  writeFile(tmp / "body.bin", std::string(300000, 'x'));
  const CommandResult plainPost = curl({"-w", " %{http_code}", "-X", "POST", "--data-binary", "@" + (tmp / "body.bin"),
                                        "http://127.0.0.1:" + std::to_string(httpPort) + "/api/v1/studies"});
  EXPECT_NE(plainPost.output.find("speaks HTTPS"), std::string::npos) << plainPost.output;
  // Protocols older than TLS 1.2 are refused by the server (the client is allowed to offer them).
  const CommandResult tls11 = tlsHandshake(httpPort, {"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"});
  EXPECT_NE(tls11.exitCode, 0);
  EXPECT_NE(tls11.output.find("alert protocol version"), std::string::npos) << tls11.output;
  EXPECT_EQ(tlsHandshake(httpPort, {"-tls1_2"}).exitCode, 0);
  // A client that does not trust the certificate gets nothing either.
  EXPECT_NE(curl({base + "/healthz"}).exitCode, 0);
  // A client that stalls its handshake is dropped at the handshake deadline (10 s), well before
  // the 60 s idle timeout: waiting 30 s for the node to close tells the two apart.
  {
    const int stalled = stalledTlsClient(httpPort);
    ASSERT_GE(stalled, 0);
    const timeval limit{30, 0};
    ::setsockopt(stalled, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    char byte = 0;
    const ssize_t n = ::recv(stalled, &byte, 1, 0);
    const bool timedOut = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    EXPECT_FALSE(timedOut) << "the node kept a stalled handshake open for 30 s";
    EXPECT_LE(n, 0) << "closed without an answer";
    ::close(stalled);
  }
  EXPECT_TRUE(node.running()) << "still serving";
  node.signal(SIGTERM);
  EXPECT_EQ(node.wait(), 0) << node.log();

  // A key of another certificate, or half of the pair, is refused at start with the reason.
  const std::string otherKey = makeTlsIdentity(tmp.path(), "other").key;
  json mismatched = config;
  mismatched["HttpsPrivateKey"] = otherKey;
  writeFile(tmp / "mismatched.json", mismatched.dump());
  const CommandResult refused = runCommand({nodeBinary(), "serve", "--config", tmp / "mismatched.json"});
  EXPECT_EQ(refused.exitCode, 1) << refused.output;
  EXPECT_NE(refused.output.find("cannot use HTTPS private key '" + otherKey + "'"), std::string::npos) << refused.output;
  json half = config;
  half.erase("HttpsPrivateKey");
  writeFile(tmp / "half.json", half.dump());
  const CommandResult incomplete = runCommand({nodeBinary(), "serve", "--config", tmp / "half.json"});
  EXPECT_EQ(incomplete.exitCode, 1) << incomplete.output;
  EXPECT_NE(incomplete.output.find("HttpsCertificate and HttpsPrivateKey must be given together"), std::string::npos)
      << incomplete.output;
}

TEST(DicomNode, DicomPortSpeaksTlsOnlyAndChecksClientCertificatesWhenTrustIsConfigured) {
  TempDir tmp;
  const auto [cert, key] = makeTlsIdentity(tmp.path(), "annotation-node");
  const auto [modalityCert, modalityKey] = makeTlsIdentity(tmp.path(), "modality");
  const auto [strangerCert, strangerKey] = makeTlsIdentity(tmp.path(), "stranger");
  // Trusted, but with a 1024-bit key: below BCP 195's strength, so refused all the same.
  const auto [weakCert, weakKey] = makeTlsIdentity(tmp.path(), "weak", "IP:127.0.0.1", 1024);
  writeFile(tmp / "modalities.pem", readFile(modalityCert) + readFile(weakCert));
  const std::string study = generateStudy(tmp / "study", {"--slices", "3"});
  const uint16_t dicomPort = freePort(), httpPort = freePort();
  const std::string port = std::to_string(dicomPort);
  json config = {{"DataDirectory", tmp / "data"}, {"DicomPort", dicomPort}, {"HttpPort", httpPort},
                 {"HttpBindAddress", "127.0.0.1"}, {"DicomTlsCertificate", cert}, {"DicomTlsPrivateKey", key},
                 {"DicomTlsTrustedCertificates", tmp / "modalities.pem"}, {"AcseTimeout", 2}};
  writeFile(tmp / "config.json", config.dump());
  ChildProcess node({nodeBinary(), "serve", "--config", tmp / "config.json"}, tmp / "node.log");
  const std::vector<std::string> asModality = {"+tls", modalityKey, modalityCert, "+cf", cert};
  auto echo = [&](std::vector<std::string> tls) {
    std::vector<std::string> argv = {"echoscu"};
    argv.insert(argv.end(), tls.begin(), tls.end());
    for (const std::string& a : {std::string("-aec"), std::string("ANNOTNODE"), std::string("127.0.0.1"), port}) argv.push_back(a);
    return runCommand(argv).exitCode;
  };
  ASSERT_TRUE(eventually([&] { return !node.running() || echo(asModality) == 0; })) << node.log();
  ASSERT_TRUE(node.running()) << node.log();
  EXPECT_NE(node.log().find("DICOM listening on port " + port + " (TLS)"), std::string::npos) << node.log();

  // A peer that opens a connection and stalls its handshake holds the port for at most the
  // ACSE timeout (2 s here): DCMTK handshakes on its one listening thread.
  {
    const int stalled = stalledTlsClient(dicomPort);
    ASSERT_GE(stalled, 0);
    std::vector<std::string> patient = asModality;
    for (const char* a : {"-ta", "20"}) patient.push_back(a);  // fails without the deadline (60 s socket timeout)
    EXPECT_EQ(echo(patient), 0) << node.log();
    EXPECT_TRUE(eventually([&] { return node.log().find("TLS handshake not finished within 2 s") != std::string::npos; }))
        << node.log();
    ::close(stalled);
  }
  // TLS 1.1 is refused on the DICOM port too; TLS 1.2 with the modality's certificate passes.
  EXPECT_NE(tlsHandshake(dicomPort, {"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-cert", modalityCert, "-key", modalityKey})
                .output.find("alert protocol version"),
            std::string::npos);
  EXPECT_EQ(tlsHandshake(dicomPort, {"-tls1_2", "-cert", modalityCert, "-key", modalityKey}).exitCode, 0);

  // A modality with a trusted certificate stores over TLS, and what it sent is indexed.
  std::vector<std::string> store = {"storescu", "+r", "+sd"};
  store.insert(store.end(), asModality.begin(), asModality.end());
  for (const std::string& a : {std::string("-aec"), std::string("ANNOTNODE"), std::string("127.0.0.1"), port, std::string(tmp / "study")}) {
    store.push_back(a);
  }
  const CommandResult stored = runCommand(store);
  EXPECT_EQ(stored.exitCode, 0) << stored.output;
  EXPECT_NE(node.log().find("association accepted from STORESCU (127.0.0.1, certificate CN=modality)"), std::string::npos)
      << node.log();
  const HttpResult metrics = httpGet(httpPort, "/metrics");
  EXPECT_NE(metrics.body.find("annot_instances_received_total 3\n"), std::string::npos) << metrics.body;

  // Refused: plain DICOM, TLS without a client certificate, a certificate the node does not
  // trust, and a client that does not trust the node's certificate.
  EXPECT_NE(echo({}), 0);
  EXPECT_NE(echo({"+tla", "+cf", cert}), 0);
  EXPECT_NE(echo({"+tls", strangerKey, strangerCert, "+cf", cert}), 0);
  EXPECT_NE(echo({"+tls", weakKey, weakCert, "+cf", cert}), 0);
  EXPECT_NE(echo({"+tls", modalityKey, modalityCert, "+cf", strangerCert}), 0);
  EXPECT_EQ(echo(asModality), 0) << "still serving";
  node.signal(SIGTERM);
  EXPECT_EQ(node.wait(), 0) << node.log();

  // Without a trust list any TLS client may associate (the AE title checks still apply).
  config.erase("DicomTlsTrustedCertificates");
  config["HttpBindAddress"] = "0.0.0.0";
  writeFile(tmp / "open.json", config.dump());
  ChildProcess open({nodeBinary(), "serve", "--config", tmp / "open.json"}, tmp / "open.log");
  EXPECT_TRUE(eventually([&] { return !open.running() || echo({"+tla", "+cf", cert}) == 0; })) << open.log();
  EXPECT_NE(echo({}), 0) << "plain DICOM stays refused";
  EXPECT_NE(open.log().find("HTTP without TLS on 0.0.0.0"), std::string::npos) << open.log();
  EXPECT_EQ(node.log().find("HTTP without TLS"), std::string::npos) << "bound to 127.0.0.1: no warning";
  open.signal(SIGTERM);
  EXPECT_EQ(open.wait(), 0) << open.log();

  // A key of another certificate stops the start, naming the files.
  config["DicomTlsPrivateKey"] = strangerKey;
  writeFile(tmp / "mismatched.json", config.dump());
  const CommandResult refused = runCommand({nodeBinary(), "serve", "--config", tmp / "mismatched.json"});
  EXPECT_EQ(refused.exitCode, 1) << refused.output;
  EXPECT_NE(refused.output.find("DICOM TLS private key '" + strangerKey + "' does not match certificate '" + cert + "'"),
            std::string::npos)
      << refused.output;
}
