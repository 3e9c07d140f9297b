#include "ingest/RejectionPolicy.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <algorithm>

#include "common/Log.h"
#include "dicom/DatasetAccess.h"
#include "dicom/Uid.h"

namespace annot {

bool RejectionTrust::trusts(const std::string& callingAet) const {
  if (callingAet.empty()) return false;
  if (senders.empty()) return emptyTrustsAll;
  return std::find(senders.begin(), senders.end(), callingAet) != senders.end();
}

std::optional<RejectionPlan> planRejection(DcmItem& ds, const std::string& noteUid,
                                           const std::function<std::optional<std::string>(const std::string&)>& heldStudyOf,
                                           const std::function<std::optional<std::string>(const std::string&)>& patientOf) {
  auto note = readRejectionNote(ds);
  if (!note) return std::nullopt;  // an ordinary key object selection
  if (!isValidUid(noteUid)) {
    LOG_WARN("iocm", "a rejection note whose SOP Instance UID is not a UID is not honoured");
    return RejectionPlan{*note, {}};
  }
  RejectionPlan plan{*note, {}};
  const std::string noteStudy = getString(ds, DCM_StudyInstanceUID), notePatient = getString(ds, DCM_PatientID);
  for (const auto& i : note->instances) {
    // UIDs become file names in the quarantine folder: nothing but a UID is taken.
    if (i.sopInstanceUid == noteUid || !isValidUid(i.sopInstanceUid)) continue;
    const auto study = heldStudyOf(i.sopInstanceUid);
    if (!study) continue;
    if (*study != noteStudy || i.studyInstanceUid != noteStudy) {
      LOG_WARN("iocm", "rejection note " << noteUid << " names " << i.sopInstanceUid << " of another study: ignored");
      continue;
    }
    plan.reject.push_back(i.sopInstanceUid);
  }
  if (!plan.reject.empty() && patientOf(noteStudy).value_or("\x01") != notePatient) {
    LOG_WARN("iocm", "rejection note " << noteUid << " names patient '" << notePatient << "', not the study's: not honoured");
    plan.reject.clear();
  } else if (plan.reject.empty()) {
    LOG_INFO("iocm", "rejection note " << noteUid << " rejects nothing held here");
  }
  return plan;
}

}  // namespace annot
