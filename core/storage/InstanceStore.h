#pragma once
// Where received DICOM files live. The filesystem store is the embedded implementation; the
// Orthanc plugin reads images from Orthanc instead, behind the same seam.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace annot {

class StorageError : public std::runtime_error {
 public:
  enum class Kind { OutOfSpace, Io };
  StorageError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }
 private:
  Kind kind_;
};

class InstanceStore {
 public:
  virtual ~InstanceStore() = default;

  // A fresh scratch path on the store's filesystem for one incoming object. Its name never
  // contains peer-supplied text.
  virtual std::string newIncomingPath() = 0;
  // Moves the incoming file to its permanent place, named from a digest of the SOP Instance
  // UID (never the UID text itself). Returns the storage key. The file's data and name are
  // durable only after syncPromoted() for that key.
  virtual std::string promote(const std::string& incomingPath, const std::string& sopInstanceUid) = 0;
  // Makes the promoted files' data and directory entries durable (grouped: one barrier for all).
  virtual void syncPromoted(const std::vector<std::string>& keys) = 0;
  // One barrier for the whole filesystem holding the store (syncfs): promoted files, their
  // names and everything else written there (the catalog, when it lives there) become durable.
  // Returns false where the platform has no such call.
  virtual bool syncFilesystem() = 0;
  // Whether `path` is on the filesystem syncFilesystem() covers.
  virtual bool coversPath(const std::string& path) const = 0;
  // Removes a stored file whose catalog row was withdrawn (a crash cut it short).
  virtual void discardStored(const std::string& key) noexcept = 0;
  // Removes a scratch file that will not be kept.
  virtual void discardIncoming(const std::string& incomingPath) noexcept = 0;
  virtual std::string absolutePath(const std::string& key) const = 0;
  // Bytes available to new objects (for the out-of-space guard).
  virtual uint64_t availableBytes() const = 0;
};

}  // namespace annot
