#include "OrthancHarness.h"

#include <signal.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace annot::test {

RunningOrthanc::RunningOrthanc(const std::string& dir) : dir_(dir) {
  dicomPort_ = freePort();
  httpPort_ = freePort();
  runCommand({"mkdir", "-p", dir_ + "/storage"});
  writeFile(dir_ + "/orthanc.json", nlohmann::json{{"Name", "PACS"},
                                                   {"StorageDirectory", dir_ + "/storage"},
                                                   {"IndexDirectory", dir_ + "/storage"},
                                                   {"DicomAet", "ORTHANC"},
                                                   {"DicomPort", dicomPort_},
                                                   {"HttpPort", httpPort_},
                                                   {"RemoteAccessAllowed", false},
                                                   {"AuthenticationEnabled", false},
                                                   {"DicomCheckCalledAet", false},
                                                   {"StorageCompression", false},
                                                   {"Plugins", nlohmann::json::array()}}
                                                    .dump(2));
  start();
}

RunningOrthanc::~RunningOrthanc() { stop(); }

void RunningOrthanc::start() {
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{"Orthanc", dir_ + "/orthanc.json"}, dir_ + "/orthanc.log");
  const bool up = eventually([&] {
    try {
      return httpGet(httpPort_, "/system").status == 200;
    } catch (...) {
      return false;
    }
  });
  if (!up) throw std::runtime_error("Orthanc did not start:\n" + readFile(dir_ + "/orthanc.log"));
}

void RunningOrthanc::stop() {
  if (!process_) return;
  process_->signal(SIGTERM);
  process_->wait(std::chrono::seconds(30));
  process_.reset();
}

std::string RunningOrthanc::findInstance(const std::string& sop) const {
  const auto r = httpRequest(httpPort_, "POST", "/tools/lookup", sop);
  if (r.status != 200) return "";
  for (const auto& hit : nlohmann::json::parse(r.body)) {
    if (hit["Type"] == "Instance") return hit["ID"];
  }
  return "";
}

std::string RunningOrthanc::instanceFile(const std::string& id) const { return httpGet(httpPort_, "/instances/" + id + "/file").body; }

}  // namespace annot::test
