#pragma once
// Reads the indexable attributes of a stored Part 10 file without loading bulk data, and says
// precisely why a file cannot be accepted.
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/Records.h"

class DcmFileFormat;

namespace annot {

class InstanceHeaderError : public std::runtime_error {
 public:
  enum class Kind {
    Unreadable,        // not parseable as DICOM (malformed, truncated)
    MissingAttribute,  // a required UID is absent or invalid
    Mismatch,          // dataset disagrees with the C-STORE command
  };
  InstanceHeaderError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }
 private:
  Kind kind_;
};

// Parses `path` and fills every attribute of InstanceRecord except storage fields and
// receivedAtMs/callingAet. Throws InstanceHeaderError.
InstanceRecord readInstanceHeader(const std::string& path);
// The same from a whole Part 10 file held in memory as consecutive pieces.
InstanceRecord readInstanceHeader(const std::vector<std::string_view>& pieces);
// The same from a parsed file (names are converted to UTF-8 in place).
InstanceRecord instanceRecordFrom(DcmFileFormat& file);

// Checks the dataset's SOP Class/Instance against the command's Affected SOP Class/Instance.
void checkMatchesCommand(const InstanceRecord& record, const std::string& affectedSopClassUid,
                         const std::string& affectedSopInstanceUid);

}  // namespace annot
