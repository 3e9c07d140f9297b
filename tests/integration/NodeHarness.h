#pragma once
// Starts the real dicom-node binary on free ports with a temporary data folder, and drives it
// with the real DCMTK tools. Paths of our binaries come from CMake.
#include <nlohmann/json.hpp>
#include <memory>
#include <string>
#include <vector>

#include "support/TestSupport.h"

namespace annot::test {

struct NodeSettings {
  unsigned stableAgeSeconds = 60;
  nlohmann::json extraConfig = nlohmann::json::object();
};

class RunningNode {
 public:
  RunningNode(const std::string& dataDir, NodeSettings settings = {});
  ~RunningNode();

  uint16_t dicomPort() const { return dicomPort_; }
  uint16_t httpPort() const { return httpPort_; }
  const std::string& dataDir() const { return dataDir_; }
  // Its state database: the SQLite file in its data folder, or the PostgreSQL URI it was given.
  const std::string& stateDatabase() const { return stateDatabase_; }
  // Where it receives files before storing them (its own folder when nodes share storage).
  std::string incomingDir() const;
  // Authenticated as the admin user the harness creates before starting the node.
  nlohmann::json getJson(const std::string& target) const;
  HttpResult get(const std::string& target) const;
  HttpResult request(const std::string& method, const std::string& target, const std::string& body = "") const;
  const std::string& adminToken() const { return adminToken_; }
  // Creates a user with the command line; returns its token.
  std::string addUser(const std::string& name, const std::string& role) const;
  // `dicom-node user ARGS...` with this node's configuration (its data folder or database).
  CommandResult userCommand(const std::vector<std::string>& args) const;
  ChildProcess& process() { return *process_; }
  // Stops with SIGTERM and returns the exit code.
  int terminate();
  void kill9();

 private:
  std::string dataDir_;
  std::string configPath_;
  std::string stateDatabase_;
  uint16_t dicomPort_ = 0;
  uint16_t httpPort_ = 0;
  std::string adminToken_;
  std::unique_ptr<ChildProcess> process_;
};

// {"code", "scheme", "meaning"} as the annotation and protocol JSON write a coded concept.
nlohmann::json codedConcept(const char* value, const char* scheme, const char* meaning);
// A one-label CT protocol for tests: one reader, a nodule drawn as a box or a point, with or
// without a reviewer. Written as DIR/ID.json.
void writeCtProtocol(const std::string& dir, const std::string& id, bool review);
// A reader's work for the shipped brain MR protocol on `slice` (40x40): a lesion outlined, its
// enhancement, and its mask (two runs) as a SEG segment.
nlohmann::json maskedLesionAnnotation(const std::string& slice);
// A CT protocol for AI pre-labels: 'nodule' (Nodule; box or point; may be painted) and
// 'neoplasm' (Neoplasm; line, as dcmjs's Length writes it); one reader, no review.
void writeAiNoduleProtocol(const std::string& dir);
nlohmann::json bboxOn(const std::string& image, double c0, double r0, double c1, double r1);
// An algorithm's output as an annotation document (device observer NoduleNet, version 3.1 in
// each finding's TID 4019): a nodule boxed by `region`, another as a point at (20, 20) on
// `pointImage`, with the given Tracking UIDs.
nlohmann::json noduleNetPrelabel(const nlohmann::json& region, const std::string& pointImage, const std::string& firstUid,
                                 const std::string& secondUid);
// DCMTK's storescp as an older PACS: it accepts Verification, MR images and Comprehensive SR
// only (no Enhanced SR, no Segmentation), storing into `dir`; its log is `dir`.log.
std::unique_ptr<ChildProcess> startLimitedPacs(const std::string& dir, const std::string& aeTitle, uint16_t port);
// The id of the first task scheduled for a study, waiting for it; throws when none comes.
std::string firstTaskOf(const RunningNode& node, const std::string& study);

// Runs annot-testdata; returns the Study Instance UID it printed.
std::string generateStudy(const std::string& outDir, const std::vector<std::string>& args);
// storescu over one association, TCP_NODELAY on, recursing into folders.
CommandResult storescu(uint16_t port, const std::vector<std::string>& paths, const std::string& callingAet = "STORESCU");
// storescu proposing only the SOP classes of the given files, uncompressed: for classes its
// default list lacks (Segmentation among them); compressed files need storescu() instead.
CommandResult storescuUncompressedClassesOfFiles(uint16_t port, const std::vector<std::string>& paths);
// Our raw sender (see raw_store_scu.cpp); returns its output ("status 0x....").
CommandResult rawStore(uint16_t port, const std::vector<std::string>& args);

std::string nodeBinary();
// The body of the first part of a multipart answer (a WADO-RS retrieve).
std::string firstMultipartPart(const std::string& body);
// A self-signed certificate (common name `name`, for 127.0.0.1 unless other subject alternative
// names are given) and its unencrypted RSA key of `rsaBits`, made with the openssl command line as DIR/NAME.crt
// and DIR/NAME.key; throws when openssl fails.
struct TlsIdentity {
  std::string certificate;
  std::string key;
};
TlsIdentity makeTlsIdentity(const std::string& dir, const std::string& name,
                            const std::string& subjectAltNames = "IP:127.0.0.1", int rsaBits = 2048);
// One TLS handshake with `openssl s_client` against 127.0.0.1:port, extra arguments appended
// (e.g. {"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"}); exit code 0 when it succeeded.
CommandResult tlsHandshake(uint16_t port, const std::vector<std::string>& args);
std::string sopInstanceUidOf(const std::string& dicomFile);
std::string seriesInstanceUidOf(const std::string& dicomFile);
// The bytes after the Part 10 meta header: what crossed the network as the dataset.
std::string datasetBytes(const std::string& dicomFile);

// One dicomweb-client (npm, what OHIF uses) operation against a DICOMweb root; its JSON answer.
// Throws when the operation fails (or, with `failureExpected`, when it does not fail; the
// answer is then {"error", "status"}).
nlohmann::json dicomwebClient(const std::string& url, const std::string& token, const std::string& operation,
                              const nlohmann::json& options, const std::vector<std::string>& files = {}, bool failureExpected = false);

}  // namespace annot::test
