#pragma once
// A real Orthanc (Debian's package) on free ports with its own storage, as the hospital PACS.
#include <memory>
#include <string>

#include "support/TestSupport.h"

namespace annot::test {

class RunningOrthanc {
 public:
  explicit RunningOrthanc(const std::string& dir);  // keeps storage and ports across restarts
  ~RunningOrthanc();
  void start();
  void stop();
  uint16_t dicomPort() const { return dicomPort_; }
  uint16_t httpPort() const { return httpPort_; }
  // Orthanc's id of the instance with this SOP Instance UID, or "" when it has none.
  std::string findInstance(const std::string& sopInstanceUid) const;
  std::string instanceFile(const std::string& orthancId) const;  // the stored Part 10 bytes

 private:
  std::string dir_;
  uint16_t dicomPort_ = 0, httpPort_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace annot::test
