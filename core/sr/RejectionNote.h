#pragma once
// IOCM rejection notes (IHE RAD TF-3 Imaging Object Change Management, PS3.3 A.35.4): a Key
// Object Selection document whose title is a CID 7011 reason and whose references (content
// items and Current Requested Procedure Evidence) are the instances it withdraws. Written when
// the product withdraws its own results from a PACS; read when one arrives over C-STORE.
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

class DcmFileFormat;
class DcmItem;

namespace annot {

// CID 7011 "Rejected for Quality Reasons" and its siblings.
enum class RejectionReason { Quality, PatientSafety, IncorrectWorklistEntry, RetentionExpired };
const char* rejectionReasonName(RejectionReason reason);       // quality | patient-safety | worklist-entry | retention-expired
std::optional<RejectionReason> rejectionReasonFromName(const std::string& name);
struct RejectionCode {
  const char* value;
  const char* meaning;
};
RejectionCode rejectionCode(RejectionReason reason);  // (113001, DCM, "Rejected for Quality Reasons"), ...

struct RejectedInstance {
  std::string studyInstanceUid, seriesInstanceUid, sopClassUid, sopInstanceUid;
};

class RejectionNoteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RejectionNoteOptions {
  RejectionReason reason = RejectionReason::Quality;
  std::string description;         // Key Object Description (113012, DCM); empty: none
  std::string seriesNumber = "9200";
};

// Writes the note into `out`; Patient and Study come verbatim from `studySource` (an instance of
// the study the rejected instances belong to). Returns the note's SOP Instance UID. Throws
// RejectionNoteError when there is nothing to reject or the instances span studies.
std::string writeRejectionNote(DcmItem& studySource, const std::vector<RejectedInstance>& instances,
                               const RejectionNoteOptions& options, DcmFileFormat& out);

struct RejectionNote {
  RejectionReason reason;
  std::vector<RejectedInstance> instances;  // from Current Requested Procedure Evidence
};
// The rejection a dataset carries: nothing when it is not a KOS, or a KOS whose title is not a
// CID 7011 reason (an ordinary key image note).
std::optional<RejectionNote> readRejectionNote(DcmItem& dataset);

}  // namespace annot
