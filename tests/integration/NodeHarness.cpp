#include "NodeHarness.h"

#include "support/PostgresCluster.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace annot::test {

std::string nodeBinary() {
  // ANNOT_NODE_BIN runs the suites against another build of the node (build-asan's, say).
  const char* other = std::getenv("ANNOT_NODE_BIN");
  return other && *other ? other : ANNOT_NODE_BIN;
}

std::string firstMultipartPart(const std::string& body) {
  const size_t start = body.find("\r\n\r\n");
  const std::string boundary = body.substr(0, body.find("\r\n"));
  const size_t end = body.find("\r\n" + boundary, start);
  return body.substr(start + 4, end - start - 4);
}

CommandResult tlsHandshake(uint16_t port, const std::vector<std::string>& args) {
  std::string command = "openssl s_client -connect 127.0.0.1:" + std::to_string(port);
  for (const auto& a : args) command += " '" + a + "'";
  return runCommand({"sh", "-c", command + " </dev/null"});
}

TlsIdentity makeTlsIdentity(const std::string& dir, const std::string& name, const std::string& subjectAltNames, int rsaBits) {
  const TlsIdentity id{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  const CommandResult made = runCommand({"openssl", "req", "-x509", "-newkey", "rsa:" + std::to_string(rsaBits), "-nodes", "-days", "2", "-subj",
                                         "/CN=" + name, "-addext", "subjectAltName=" + subjectAltNames, "-keyout", id.key, "-out",
                                         id.certificate});
  if (made.exitCode != 0) throw std::runtime_error("openssl could not make a certificate: " + made.output);
  return id;
}

namespace {
// The token a `dicom-node user add|token` printed (its last line); throws when it failed.
std::string lastLine(const CommandResult& r) {
  if (r.exitCode != 0) throw std::runtime_error("dicom-node user failed: " + r.output);
  std::string text = r.output;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text.substr(text.rfind('\n') + 1);
}
}  // namespace

RunningNode::RunningNode(const std::string& dataDir, NodeSettings settings) : dataDir_(dataDir) {
  dicomPort_ = freePort();
  httpPort_ = freePort();
  nlohmann::json config = {{"DataDirectory", dataDir_},
                           {"DicomPort", dicomPort_},
                           {"HttpPort", httpPort_},
                           {"HttpBindAddress", "127.0.0.1"},
                           {"StableAge", settings.stableAgeSeconds},
                           {"LogLevel", "debug"}};
  // The suites run on the embedded SQLite or, with ANNOT_TEST_DATABASE=postgres, on PostgreSQL.
  const std::string database = testDatabaseFor(dataDir_);
  if (!database.empty()) config["Database"] = database;
  for (const auto& item : settings.extraConfig.items()) config[item.key()] = item.value();
  stateDatabase_ = config.value("Database", "").empty() ? dataDir_ + "/state.sqlite" : config["Database"].get<std::string>();
  // A test that must know the address beforehand (a redirect URI registered elsewhere) gives it.
  httpPort_ = config["HttpPort"].get<uint16_t>();
  dicomPort_ = config["DicomPort"].get<uint16_t>();
  configPath_ = dataDir_ + ".config.json";
  const std::string& configPath = configPath_;
  writeFile(configPath, config.dump(2));
  if (!readFile(dataDir_ + ".admin-token").empty()) {
    adminToken_ = readFile(dataDir_ + ".admin-token");  // a restart of the same node
  } else {
    // A node joining others on one shared database finds their admin: it gets a token of its own.
    const CommandResult added = userCommand({"add", "admin", "--role", "admin"});
    adminToken_ = lastLine(added.exitCode == 0 || added.output.find("exists") == std::string::npos ? added : userCommand({"token", "admin"}));
    writeFile(dataDir_ + ".admin-token", adminToken_);
  }
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{nodeBinary(), "serve", "--config", configPath},
                                            dataDir_ + ".log");
  // The readiness probe must itself be allowed to associate.
  std::string probeAet = "ECHOSCU";
  if (config.contains("AllowedCallingAets") && !config["AllowedCallingAets"].empty()) {
    probeAet = config["AllowedCallingAets"][0].get<std::string>();
  }
  const bool up = eventually([&] {
    if (!process_->running()) return true;
    try {
      return httpGet(httpPort_, "/healthz").status == 200 &&
             runCommand({"echoscu", "-aet", probeAet, "-aec", "ANNOTNODE", "127.0.0.1", std::to_string(dicomPort_)})
                     .exitCode == 0;
    } catch (...) {
      return false;
    }
  });
  if (!up || !process_->running()) {
    throw std::runtime_error("dicom-node did not start; log:\n" + process_->log());
  }
  // A suite meant for PostgreSQL must not pass on SQLite by mistake.
  const std::string kind = nlohmann::json::parse(httpGet(httpPort_, "/healthz").body)["stateDatabase"]["kind"];
  if (kind != (stateDatabase_.rfind("postgresql://", 0) == 0 ? "postgresql" : "sqlite")) {
    throw std::runtime_error("dicom-node keeps its state in " + kind + ", not in " + stateDatabase_);
  }
}

RunningNode::~RunningNode() {
  if (process_ && process_->running()) terminate();
}

std::string RunningNode::addUser(const std::string& name, const std::string& role) const {
  return lastLine(userCommand({"add", name, "--role", role}));
}

std::string RunningNode::incomingDir() const {
  if (stateDatabase_.rfind("postgresql://", 0) != 0) return dataDir_ + "/incoming";
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return dataDir_ + "/incoming/" + host + "-" + std::to_string(dicomPort_);
}

CommandResult RunningNode::userCommand(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {nodeBinary(), "user"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--config", configPath_});
  return runCommand(argv);
}

HttpResult RunningNode::request(const std::string& method, const std::string& target, const std::string& body) const {
  return httpRequest(httpPort_, method, target, body, {{"Authorization", "Bearer " + adminToken_}});
}

HttpResult RunningNode::get(const std::string& target) const { return request("GET", target); }

nlohmann::json RunningNode::getJson(const std::string& target) const {
  const auto r = get(target);
  if (r.status != 200) throw std::runtime_error("GET " + target + " -> " + std::to_string(r.status) + ": " + r.body);
  return nlohmann::json::parse(r.body);
}

int RunningNode::terminate() {
  process_->signal(SIGTERM);
  return process_->wait(std::chrono::seconds(60));
}

void RunningNode::kill9() {
  process_->signal(SIGKILL);
  process_->wait();
}

nlohmann::json codedConcept(const char* value, const char* scheme, const char* meaning) {
  return {{"code", value}, {"scheme", scheme}, {"meaning", meaning}};
}

void writeCtProtocol(const std::string& dir, const std::string& id, bool review) {
  runCommand({"mkdir", "-p", dir});
  writeFile(dir + "/" + id + ".json",
            nlohmann::json{{"id", id}, {"version", "1"}, {"title", "CT nodules (" + id + ")"}, {"appliesTo", {{"modalities", {"CT"}}}},
                           {"procedure", codedConcept("25045-6", "LN", "CT unspecified body region")}, {"readers", 1}, {"review", review},
                           {"labels", {{{"key", "nodule"}, {"finding", codedConcept("27925004", "SCT", "Nodule")}, {"geometries", {"bbox", "point"}}}}}}
                .dump());
}

nlohmann::json maskedLesionAnnotation(const std::string& slice) {
  const nlohmann::json lesion = {{"label", "Lesion"}, {"category", codedConcept("49755003", "SCT", "Morphologically Abnormal Structure")},
                                 {"type", codedConcept("52988006", "SCT", "Lesion")}, {"color", {230, 60, 60}}};
  return {{"observer", {{"name", "Reader^Rita"}}},
          {"findings", {{{"label", "lesion"},
                         {"geometry", {{"type", "polygon"}, {"image", {{"sopInstanceUid", slice}}}, {"points", {{10, 10}, {20, 10}, {15, 20}}}}},
                         {"evaluations", {{{"concept", codedConcept("ENHANCE", "99ANNOT", "Contrast enhancement")},
                                           {"value", codedConcept("52101004", "SCT", "Present")}}}}}}},
          {"segmentation", {{"segments", {lesion}}, {"masks", {{{"segment", 1}, {"image", {{"sopInstanceUid", slice}}}, {"runs", {{410, 10}, {450, 10}}}}}}}}};
}

void writeAiNoduleProtocol(const std::string& dir) {
  runCommand({"mkdir", "-p", dir});
  writeFile(dir + "/ai-nodules.json",
            nlohmann::json{{"id", "ai-nodules"}, {"version", "1"}, {"title", "CT nodules with AI pre-labels"}, {"appliesTo", {{"modalities", {"CT"}}}},
                           {"procedure", codedConcept("25045-6", "LN", "CT unspecified body region")}, {"readers", 1}, {"review", false},
                           {"labels", {{{"key", "nodule"}, {"finding", codedConcept("27925004", "SCT", "Nodule")}, {"geometries", {"bbox", "point"}},
                                        {"segmentation", true}},
                                       {{"key", "neoplasm"}, {"finding", codedConcept("108369006", "SCT", "Neoplasm")}, {"geometries", {"polyline"}}}}}}
                .dump());
}

nlohmann::json bboxOn(const std::string& image, double c0, double r0, double c1, double r1) {
  return {{"type", "bbox"}, {"image", {{"sopInstanceUid", image}}}, {"points", {{c0, r0}, {c1, r1}}}};
}

nlohmann::json noduleNetPrelabel(const nlohmann::json& region, const std::string& pointImage, const std::string& firstUid,
                                 const std::string& secondUid) {
  const nlohmann::json provenance = {{"source", "algorithm"}, {"algorithm", {{"name", "NoduleNet"}, {"version", "3.1"}}}};
  const nlohmann::json nodule = codedConcept("27925004", "SCT", "Nodule");
  return {{"observer", {{"type", "device"}, {"name", "NoduleNet"}, {"uid", "2.25.77"}, {"manufacturer", "Lung AI Inc"}}},
          {"findings",
           {{{"finding", nodule}, {"trackingId", "AI nodule 1"}, {"trackingUid", firstUid}, {"geometry", region}, {"provenance", provenance}},
            {{"finding", nodule}, {"trackingId", "AI nodule 2"}, {"trackingUid", secondUid},
             {"geometry", {{"type", "point"}, {"image", {{"sopInstanceUid", pointImage}}}, {"points", {{20, 20}}}}},
             {"provenance", provenance}}}}};
}

std::unique_ptr<ChildProcess> startLimitedPacs(const std::string& dir, const std::string& aeTitle, uint16_t port) {
  runCommand({"mkdir", "-p", dir});
  writeFile(dir + ".cfg",
            "[[TransferSyntaxes]]\n[Uncompressed]\nTransferSyntax1 = LocalEndianExplicit\nTransferSyntax2 = LittleEndianImplicit\n"
            "[[PresentationContexts]]\n[Limited]\nPresentationContext1 = VerificationSOPClass\\Uncompressed\n"
            "PresentationContext2 = MRImageStorage\\Uncompressed\nPresentationContext3 = ComprehensiveSRStorage\\Uncompressed\n"
            "[[Profiles]]\n[Limited]\nPresentationContexts = Limited\n");
  auto pacs = std::make_unique<ChildProcess>(
      std::vector<std::string>{"storescp", "-aet", aeTitle, "-xf", dir + ".cfg", "Limited", "-od", dir, std::to_string(port)}, dir + ".log");
  if (!eventually([&] { return runCommand({"echoscu", "-aec", aeTitle, "127.0.0.1", std::to_string(port)}).exitCode == 0; })) {
    throw std::runtime_error("storescp did not start: " + readFile(dir + ".log"));
  }
  return pacs;
}

std::string firstTaskOf(const RunningNode& node, const std::string& study) {
  std::string id;
  const bool scheduled = eventually([&] {
    const nlohmann::json tasks = node.getJson("/api/v1/tasks?study=" + study)["tasks"];
    if (tasks.empty()) return false;
    id = std::to_string(tasks[0]["id"].get<int>());
    return true;
  });
  if (!scheduled) throw std::runtime_error("no task was scheduled for study " + study);
  return id;
}

std::string generateStudy(const std::string& outDir, const std::vector<std::string>& args) {
  std::vector<std::string> argv{ANNOT_TESTDATA_BIN, "--out", outDir};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = runCommand(argv);
  if (r.exitCode != 0) throw std::runtime_error("annot-testdata failed: " + r.output);
  std::string uid = r.output;
  while (!uid.empty() && (uid.back() == '\n' || uid.back() == '\r')) uid.pop_back();
  return uid;
}

CommandResult storescu(uint16_t port, const std::vector<std::string>& paths, const std::string& callingAet) {
  std::vector<std::string> argv{"storescu", "-v", "-aet", callingAet, "-aec", "ANNOTNODE", "+sd", "+r", "127.0.0.1",
                                std::to_string(port)};
  argv.insert(argv.end(), paths.begin(), paths.end());
  return runCommand(argv);
}

CommandResult storescuUncompressedClassesOfFiles(uint16_t port, const std::vector<std::string>& paths) {
  std::vector<std::string> argv{"storescu", "-v", "-aec", "ANNOTNODE", "-R", "127.0.0.1", std::to_string(port)};
  argv.insert(argv.end(), paths.begin(), paths.end());
  return runCommand(argv);
}

CommandResult rawStore(uint16_t port, const std::vector<std::string>& args) {
  std::vector<std::string> argv{ANNOT_RAWSCU_BIN, "--port", std::to_string(port)};
  argv.insert(argv.end(), args.begin(), args.end());
  return runCommand(argv);
}

namespace {
std::string uidOf(const std::string& dicomFile, const DcmTagKey& tag) {
  DcmFileFormat file;
  if (file.loadFile(dicomFile.c_str()).bad()) throw std::runtime_error("cannot read " + dicomFile);
  OFString uid;
  file.getDataset()->findAndGetOFString(tag, uid);
  return uid.c_str();
}
}  // namespace

std::string sopInstanceUidOf(const std::string& dicomFile) { return uidOf(dicomFile, DCM_SOPInstanceUID); }
std::string seriesInstanceUidOf(const std::string& dicomFile) { return uidOf(dicomFile, DCM_SeriesInstanceUID); }

std::string datasetBytes(const std::string& dicomFile) {
  const std::string bytes = readFile(dicomFile);
  // Preamble (128) + "DICM" + (0002,0000) UL element: tag 4, VR 2, length 2, value 4.
  if (bytes.size() < 144 || bytes.compare(128, 4, "DICM") != 0) throw std::runtime_error(dicomFile + " is not Part 10");
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + 140);
  const uint32_t groupLength = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
  return bytes.substr(144 + groupLength);
}

nlohmann::json dicomwebClient(const std::string& url, const std::string& token, const std::string& operation,
                              const nlohmann::json& options, const std::vector<std::string>& files, bool failureExpected) {
  std::vector<std::string> argv = {"node", std::string(ANNOT_COMPAT_DIR) + "/dicomweb.mjs", url, token.empty() ? "-" : token, operation,
                                   options.dump()};
  argv.insert(argv.end(), files.begin(), files.end());
  const CommandResult r = runCommand(argv);
  const auto lastLine = r.output.substr(r.output.rfind('\n', r.output.size() - 2) + 1);
  const nlohmann::json out = nlohmann::json::parse(lastLine, nullptr, false);
  if (out.is_discarded()) throw std::runtime_error(operation + ": no JSON from dicomweb-client:\n" + r.output);
  // The script exits 2 with {"error", "status"} when the operation failed: never an answer to
  // count or compare unless the caller expects the failure.
  if ((r.exitCode != 0) != failureExpected) {
    throw std::runtime_error(operation + (failureExpected ? " succeeded where it should fail: " : " failed: ") + r.output);
  }
  return out;
}

}  // namespace annot::test
