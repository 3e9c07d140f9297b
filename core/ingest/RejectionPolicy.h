#pragma once
// What a received IOCM rejection note may take away, decided once for both deployments: only a
// trusted sender's note, and of what it names only instances held here that belong to the
// note's own study and patient (a rejection note is not a way to remove another patient's
// images). The node applies the plan to its catalog and files, the plugin to Orthanc.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sr/RejectionNote.h"

class DcmItem;

namespace annot {

// Who may reject: senders by calling AE title (empty: any DICOM peer). A note the product wrote
// itself is always trusted; one stored over STOW-RS or a REST API never is.
struct RejectionTrust {
  std::vector<std::string> senders;
  // Whether an empty list trusts every DICOM peer (the node's default) or none (the plugin's:
  // Orthanc accepts C-STORE from any caller by default, and honouring there deletes).
  bool emptyTrustsAll = true;
  bool trusts(const std::string& callingAet) const;
};

struct RejectionPlan {
  RejectionNote note;
  std::vector<std::string> reject;  // SOP Instance UIDs to take out; empty: nothing held (or refused)
};

// `heldStudyOf(sop)`: the Study Instance UID of an instance held here (nothing when it is not);
// `patientOf(study)`: the Patient ID of a study held here. Nothing when `note` is no rejection
// note; reasons to reject less than it names are logged.
std::optional<RejectionPlan> planRejection(DcmItem& note, const std::string& noteUid,
                                           const std::function<std::optional<std::string>(const std::string&)>& heldStudyOf,
                                           const std::function<std::optional<std::string>(const std::string&)>& patientOf);

}  // namespace annot
