#pragma once
// The plugin's side of IOCM: a rejection note Orthanc stores (sent by a trusted DICOM peer, or
// written by the product when results are withdrawn) takes the instances it rejects out of
// Orthanc. Orthanc cannot hide an instance, so each is copied to the quarantine folder
// (<DataDirectory>/rejected/<note UID>/) and then deleted from Orthanc: nothing is lost, and
// no viewer or search serves it any more. The decision is core's (RejectionPolicy), the same as
// the node's. Runs on the change feed's thread; audited as `reject-instances`.
#include <functional>
#include <string>
#include <vector>

#include "audit/AuditLog.h"
#include "ingest/RejectionPolicy.h"
#include "orthanc/OrthancRest.h"
#include "orthanc/OrthancStudyIndex.h"

namespace annot {

class OrthancRejectionHonour {
 public:
  // `isOwnNote(sop)`: a rejection note the product wrote (always trusted). Notes from DICOM
  // peers follow `trust`; any other origin (REST, STOW-RS through a plugin) is never honoured.
  OrthancRejectionHonour(OrthancRest& rest, OrthancStudyIndex& index, AuditLog& audit, std::string quarantineDirectory,
                         RejectionTrust trust, std::function<bool(const std::string&)> isOwnNote);
  // A new instance (Orthanc ID): when it is a rejection note to honour, applies it and returns
  // the SOP Instance UIDs taken out.
  std::vector<std::string> consider(const std::string& instanceId);

 private:
  std::string metadata(const std::string& instanceId, const std::string& name);

  OrthancRest& rest_;
  OrthancStudyIndex& index_;
  AuditLog& audit_;
  const std::string quarantine_;
  const RejectionTrust trust_;
  const std::function<bool(const std::string&)> isOwnNote_;
};

}  // namespace annot
