#pragma once
// A real Orthanc (Debian's package) on free ports with its own storage, as the hospital PACS.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "support/TestSupport.h"

namespace annot::test {

struct OrthancSettings {
  bool labelingPlugin = false;  // load our plugin (and the DICOMweb plugin)
  unsigned stableAge = 60;
  nlohmann::json annotation = nlohmann::json::object();  // extra keys of the plugin's section
  nlohmann::json extra = nlohmann::json::object();       // extra top-level keys
};

class RunningOrthanc {
 public:
  // Keeps storage and ports across restarts.
  explicit RunningOrthanc(const std::string& dir, OrthancSettings settings = {});
  ~RunningOrthanc();
  void start();
  void stop();
  uint16_t dicomPort() const { return dicomPort_; }
  uint16_t httpPort() const { return httpPort_; }
  // Orthanc's id of the instance with this SOP Instance UID, or "" when it has none.
  std::string findInstance(const std::string& sopInstanceUid) const;
  std::string instanceFile(const std::string& orthancId) const;  // the stored Part 10 bytes
  // With the plugin: the token of the admin it created on first start.
  std::string adminToken() const;
  std::string pluginDataDir() const { return dir_ + "/annotation"; }
  // The plugin's state database: state.sqlite in its data folder, or the PostgreSQL URI it was given.
  const std::string& stateDatabase() const { return stateDatabase_; }
  std::string log() const;

 private:
  std::string dir_;
  bool plugin_ = false;
  std::string stateDatabase_;
  uint16_t dicomPort_ = 0, httpPort_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace annot::test
