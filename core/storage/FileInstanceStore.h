#pragma once
// Files under <root>/instances/<aa>/<sha256-of-SOPInstanceUID>.dcm, received first into
// <root>/incoming/. Both are on one filesystem so promotion is an atomic rename.
#include <atomic>
#include <string>

#include "storage/InstanceStore.h"

namespace annot {

class FileInstanceStore : public InstanceStore {
 public:
  // Creates the folders when missing and clears leftovers of interrupted receptions in
  // <root>/<incoming>. Nodes sharing one root each receive into a folder of their own, so that
  // one starting does not clear what another is receiving.
  explicit FileInstanceStore(const std::string& root, const std::string& incoming = "incoming");

  std::string newIncomingPath() override;
  std::string promote(const std::string& incomingPath, const std::string& sopInstanceUid) override;
  void syncPromoted(const std::vector<std::string>& keys) override;
  bool syncFilesystem() override;
  bool coversPath(const std::string& path) const override;
  void discardStored(const std::string& key) noexcept override;
  void discardIncoming(const std::string& incomingPath) noexcept override;
  std::string absolutePath(const std::string& key) const override;
  uint64_t availableBytes() const override;

  // The storage key for a SOP Instance UID (pure function; exposed for tests).
  static std::string keyFor(const std::string& sopInstanceUid);

 private:
  std::string root_;
  std::string incomingDir_;
  std::atomic<uint64_t> counter_{0};
};

}  // namespace annot
