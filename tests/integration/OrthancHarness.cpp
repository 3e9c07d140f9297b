#include "OrthancHarness.h"

#include "support/PostgresCluster.h"

#include <signal.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace annot::test {

RunningOrthanc::RunningOrthanc(const std::string& dir, OrthancSettings settings) : dir_(dir), plugin_(settings.labelingPlugin) {
  dicomPort_ = freePort();
  httpPort_ = freePort();
  runCommand({"mkdir", "-p", dir_ + "/storage"});
  nlohmann::json config{{"Name", "PACS"},
                        {"StorageDirectory", dir_ + "/storage"},
                        {"IndexDirectory", dir_ + "/storage"},
                        {"DicomAet", "ORTHANC"},
                        {"DicomPort", dicomPort_},
                        {"HttpPort", httpPort_},
                        {"RemoteAccessAllowed", false},
                        {"AuthenticationEnabled", false},
                        {"DicomCheckCalledAet", false},
                        {"StorageCompression", false},
                        {"StableAge", settings.stableAge},
                        {"Plugins", nlohmann::json::array()}};
  if (plugin_) {
    config["Plugins"] = {ANNOT_PLUGIN_PATH, "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"};
    config["DicomWeb"] = {{"Enable", true}, {"Root", "/dicom-web/"}};
    nlohmann::json section{{"DataDirectory", pluginDataDir()}, {"InitialAdmin", "admin"}};
    const std::string database = testDatabaseFor(dir_);
    if (!database.empty()) section["Database"] = database;
    section.update(settings.annotation);
    stateDatabase_ = section.value("Database", "").empty() ? pluginDataDir() + "/state.sqlite" : section["Database"].get<std::string>();
    config["AnnotationNode"] = section;
  }
  config.update(settings.extra);
  writeFile(dir_ + "/orthanc.json", config.dump(2));
  start();
}

RunningOrthanc::~RunningOrthanc() { stop(); }

void RunningOrthanc::start() {
  process_ = std::make_unique<ChildProcess>(plugin_ ? std::vector<std::string>{"Orthanc", "--verbose", dir_ + "/orthanc.json"}
              : std::vector<std::string>{"Orthanc", dir_ + "/orthanc.json"}, dir_ + "/orthanc.log",
                                            std::map<std::string, std::string>{{"TCP_NODELAY", "1"}});
  const bool up = eventually([&] {
    if (!process_->running()) return true;  // exited: no point in waiting
    try {
      return httpGet(httpPort_, "/system").status == 200;
    } catch (...) {
      return false;
    }
  });
  if (!up || !process_->running()) throw std::runtime_error("Orthanc did not start:\n" + readFile(dir_ + "/orthanc.log"));
  // The plugin follows Orthanc's changes once Orthanc has started; its API answers before.
  if (plugin_ && !eventually([&] { return httpGet(httpPort_, "/annotation/healthz").status == 200; })) {
    throw std::runtime_error("the labeling plugin does not answer:\n" + readFile(dir_ + "/orthanc.log"));
  }
  if (plugin_) {
    // A suite meant for PostgreSQL must not pass on SQLite by mistake.
    const std::string kind = nlohmann::json::parse(httpGet(httpPort_, "/annotation/healthz").body)["stateDatabase"]["kind"];
    if (kind != (stateDatabase_.rfind("postgresql://", 0) == 0 ? "postgresql" : "sqlite")) {
      throw std::runtime_error("the plugin keeps its state in " + kind + ", not in " + stateDatabase_);
    }
  }
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

std::string RunningOrthanc::adminToken() const {
  std::string token = readFile(pluginDataDir() + "/initial-admin.token");
  while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
  return token;
}

std::string RunningOrthanc::log() const { return readFile(dir_ + "/orthanc.log"); }

std::string RunningOrthanc::instanceFile(const std::string& id) const { return httpGet(httpPort_, "/instances/" + id + "/file").body; }

}  // namespace annot::test
