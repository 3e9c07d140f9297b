#pragma once
// A throwaway hospital directory for the sign-in tests: Debian's slapd on a free port, with
// radiologists, a reviewer, an administrator and someone in no labeling group.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "support/TestSupport.h"

namespace annot::test {

class RunningDirectory {
 public:
  explicit RunningDirectory(const std::string& dir);
  void start();
  void stop();
  std::string url() const { return "ldap://127.0.0.1:" + std::to_string(port_); }
  // Users: rad1 (radiologists: annotator), rev1 (radiologists and QA reviewers: reviewer),
  // adm1 (labeling admins: admin), visitor (a group that grants nothing).
  static std::string password(const std::string& user) { return "pw-" + user + "-Xk29"; }
  // The "Ldap" configuration object for this directory.
  nlohmann::json settings() const;

 private:
  std::string dir_;
  uint16_t port_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace annot::test
