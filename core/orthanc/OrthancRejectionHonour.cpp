#include "orthanc/OrthancRejectionHonour.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <map>

#include "common/Log.h"
#include "common/TextLists.h"
#include "dicom/SourceImages.h"
#include "storage/FileSync.h"

namespace annot {

OrthancRejectionHonour::OrthancRejectionHonour(OrthancRest& rest, OrthancStudyIndex& index, AuditLog& audit,
                                               std::string quarantineDirectory, RejectionTrust trust,
                                               std::function<bool(const std::string&)> isOwnNote)
    : rest_(rest),
      index_(index),
      audit_(audit),
      quarantine_(std::move(quarantineDirectory)),
      trust_(std::move(trust)),
      isOwnNote_(std::move(isOwnNote)) {}

std::string OrthancRejectionHonour::metadata(const std::string& instanceId, const std::string& name) {
  const RestAnswer a = rest_.call("GET", "/instances/" + instanceId + "/metadata/" + name);
  return a.status == 200 ? a.body : "";
}

std::vector<std::string> OrthancRejectionHonour::consider(const std::string& instanceId) {
  if (metadata(instanceId, "SopClassUid") != UID_KeyObjectSelectionDocumentStorage) return {};
  DcmFileFormat file;
  parsePart10(rest_.getBytes("/instances/" + instanceId + "/file"), "instance " + instanceId, file);
  DcmDataset& ds = *file.getDataset();
  OFString uid;
  ds.findAndGetOFString(DCM_SOPInstanceUID, uid);
  const std::string noteUid = uid.c_str();
  const std::string origin = metadata(instanceId, "Origin"), sender = metadata(instanceId, "RemoteAET");
  const bool trusted = isOwnNote_(noteUid) || (origin == "DicomProtocol" && trust_.trusts(sender));
  if (!trusted) {
    if (readRejectionNote(ds)) {
      LOG_WARN("iocm", "rejection note " << noteUid << " (" << origin << (sender.empty() ? "" : " from " + sender)
                                         << ") is stored but not honoured: not a trusted sender (RejectionNoteSenders)");
    }
    return {};
  }
  std::map<std::string, std::string> orthancIds;  // SOP Instance UID -> Orthanc ID of what is held
  const auto plan = planRejection(
      ds, noteUid,
      [&](const std::string& sop) -> std::optional<std::string> {
        const std::string id = index_.orthancId(sop, "Instance");
        if (id.empty()) return std::nullopt;
        const auto study = rest_.findJson("/instances/" + id + "/study");
        if (!study) return std::nullopt;
        orthancIds[sop] = id;
        return (*study)["MainDicomTags"].value("StudyInstanceUID", "");
      },
      [&](const std::string& studyUid) -> std::optional<std::string> {
        const std::string id = index_.orthancId(studyUid, "Study");
        const auto study = id.empty() ? std::nullopt : rest_.findJson("/studies/" + id);
        if (!study) return std::nullopt;
        return (*study)["PatientMainDicomTags"].value("PatientID", "");
      });
  if (!plan || plan->reject.empty()) return {};
  const std::string folder = quarantine_ + "/" + noteUid;
  filesync::ensureDirectory(quarantine_);
  filesync::ensureDirectory(folder);
  std::vector<std::string> removed;
  for (const auto& sop : plan->reject) {
    const std::string& id = orthancIds.at(sop);
    // Kept before it goes: a copy that failed leaves the instance in Orthanc.
    const std::string path = folder + "/" + sop + ".dcm";
    try {
      filesync::writeFile(path, rest_.getBytes("/instances/" + id + "/file"));
      filesync::fsyncFile(path);
      filesync::fsyncDirectory(folder);
    } catch (const std::exception& e) {
      LOG_ERROR("iocm", "rejected instance " << sop << " could not be kept in " << folder << " and stays in Orthanc: " << e.what());
      continue;
    }
    const RestAnswer deleted = rest_.call("DELETE", "/instances/" + id);
    if (deleted.status != 200) {
      LOG_ERROR("iocm", "rejected instance " << sop << " could not be deleted from Orthanc (" << deleted.status << "): " << deleted.body);
      continue;
    }
    removed.push_back(sop);
  }
  if (removed.empty()) return {};
  AuditEvent e{"", "", "reject-instances", "instance", joinList(removed), "success",
               std::string(rejectionCode(plan->note.reason).meaning) + " by note " + noteUid, "iocm"};
  e.study = plan->note.instances.front().studyInstanceUid;
  audit_.record(e);
  LOG_INFO("iocm", "rejection note " << noteUid << " (" << rejectionCode(plan->note.reason).meaning << "): " << removed.size()
                                     << " instance(s) deleted from Orthanc, copies in " << folder);
  return removed;
}

}  // namespace annot
