#include "ingest/RejectionHonour.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <algorithm>
#include <cstdio>

#include "common/Log.h"
#include "dicom/DatasetAccess.h"
#include "common/TextLists.h"
#include "sr/RejectionNote.h"
#include "storage/FileSync.h"

namespace annot {

RejectionHonour::RejectionHonour(Catalog& catalog, std::function<std::string(const std::string&)> pathOf, AuditLog& audit,
                                 std::string quarantineDirectory, Trust trust)
    : catalog_(catalog),
      pathOf_(std::move(pathOf)),
      audit_(audit),
      quarantine_(std::move(quarantineDirectory)),
      trust_(std::move(trust)),
      worker_("rejections", std::chrono::seconds(5), [this] { round(); }) {}

void RejectionHonour::listen(EventBus& bus) {
  bus.onInstanceStored([this](const InstanceStoredEvent& e) {
    if (e.sopClassUid != UID_KeyObjectSelectionDocumentStorage) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      notes_.push_back(e.sopInstanceUid);
    }
    worker_.wake();
  });
}

void RejectionHonour::round() {
  for (;;) {
    std::string note;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (notes_.empty() || worker_.stopping()) return;
      note = notes_.front();
      notes_.pop_front();
    }
    try {
      honour(note);
    } catch (const std::exception& e) {
      LOG_ERROR("iocm", "rejection note " << note << " could not be applied: " << e.what());
    }
  }
}

std::vector<std::string> RejectionHonour::honour(const std::string& noteUid) {
  const auto stored = catalog_.findInstance(noteUid);
  if (!stored) return {};
  DcmFileFormat file;
  const OFCondition loaded = file.loadFile(pathOf_(stored->storageKey).c_str());
  if (loaded.bad()) throw std::runtime_error(std::string("cannot read it: ") + loaded.text());
  const auto note = readRejectionNote(*file.getDataset());
  if (!note) return {};  // an ordinary key object selection
  const std::string& sender = stored->callingAet;
  const bool trusted = sender == trust_.ownAet ||
                       (sender.rfind("STOW:", 0) != 0 &&
                        (trust_.senders.empty() || std::find(trust_.senders.begin(), trust_.senders.end(), sender) != trust_.senders.end()));
  if (!trusted) {
    LOG_WARN("iocm", "rejection note " << noteUid << " from " << sender << " is stored but not honoured: not a trusted sender (RejectionNoteSenders)");
    return {};
  }
  DcmDataset& ds = *file.getDataset();
  const std::string noteStudy = getString(ds, DCM_StudyInstanceUID), notePatient = getString(ds, DCM_PatientID);
  std::vector<std::string> held;
  std::vector<std::pair<std::string, std::string>> files;  // uid, path
  for (const auto& i : note->instances) {
    if (i.sopInstanceUid == noteUid) continue;
    const auto place = catalog_.placeOf(i.sopInstanceUid);
    const auto found = catalog_.findInstance(i.sopInstanceUid);
    if (!place || !found) continue;
    if (place->studyInstanceUid != noteStudy || i.studyInstanceUid != noteStudy) {
      LOG_WARN("iocm", "rejection note " << noteUid << " names " << i.sopInstanceUid << " of another study: ignored");
      continue;
    }
    held.push_back(i.sopInstanceUid);
    files.emplace_back(i.sopInstanceUid, pathOf_(found->storageKey));
  }
  if (!held.empty()) {
    const auto study = catalog_.getStudy(noteStudy);
    if (!study || study->summary.patient.patientId != notePatient) {
      LOG_WARN("iocm", "rejection note " << noteUid << " names patient '" << notePatient << "', not the study's: not honoured");
      return {};
    }
  }
  if (held.empty()) {
    LOG_INFO("iocm", "rejection note " << noteUid << " rejects nothing held here");
    return {};
  }
  // Out of the index first: from here on nothing serves them, whatever happens to the files.
  catalog_.removeInstances(held);
  const std::string folder = quarantine_ + "/" + noteUid;
  filesync::ensureDirectory(quarantine_);
  filesync::ensureDirectory(folder);
  for (const auto& [uid, path] : files) {
    if (std::rename(path.c_str(), (folder + "/" + uid + ".dcm").c_str()) != 0) {
      LOG_WARN("iocm", "rejected instance " << uid << " left the index, but its file " << path << " could not be moved to " << folder);
    }
  }
  AuditEvent e{"", "", "reject-instances", "instance", joinList(held), "success",
               std::string(rejectionCode(note->reason).meaning) + " by note " + noteUid, "iocm"};
  e.study = note->instances.front().studyInstanceUid;
  audit_.record(e);
  LOG_INFO("iocm", "rejection note " << noteUid << " (" << rejectionCode(note->reason).meaning << "): " << held.size()
                                     << " instance(s) removed from the index, files in " << folder);
  return held;
}

}  // namespace annot
