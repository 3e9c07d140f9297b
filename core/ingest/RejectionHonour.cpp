#include "ingest/RejectionHonour.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <algorithm>
#include <cstdio>

#include "common/Log.h"
#include "dicom/DatasetAccess.h"
#include "common/TextLists.h"
#include "ingest/RejectionPolicy.h"
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
  const std::string& sender = stored->callingAet;
  // The node's own notes, and DICOM peers it trusts; never a STOW-RS client.
  const bool trusted = sender == trust_.ownAet || (sender.rfind("STOW:", 0) != 0 && trust_.senders.trusts(sender));
  if (!trusted) {
    if (readRejectionNote(*file.getDataset())) {
      LOG_WARN("iocm", "rejection note " << noteUid << " from " << sender << " is stored but not honoured: not a trusted sender (RejectionNoteSenders)");
    }
    return {};
  }
  const auto plan = planRejection(
      *file.getDataset(), noteUid,
      [&](const std::string& sop) -> std::optional<std::string> {
        const auto place = catalog_.placeOf(sop);
        if (!place || !catalog_.findInstance(sop)) return std::nullopt;
        return place->studyInstanceUid;
      },
      [&](const std::string& studyUid) -> std::optional<std::string> {
        const auto study = catalog_.getStudy(studyUid);
        if (!study) return std::nullopt;
        return study->summary.patient.patientId;
      });
  if (!plan || plan->reject.empty()) return {};
  const auto& note = plan->note;
  const std::vector<std::string>& held = plan->reject;
  std::vector<std::pair<std::string, std::string>> files;  // uid, path
  for (const auto& uid : held) files.emplace_back(uid, pathOf_(catalog_.findInstance(uid)->storageKey));
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
               std::string(rejectionCode(note.reason).meaning) + " by note " + noteUid, "iocm"};
  e.study = note.instances.front().studyInstanceUid;
  audit_.record(e);
  LOG_INFO("iocm", "rejection note " << noteUid << " (" << rejectionCode(note.reason).meaning << "): " << held.size()
                                     << " instance(s) removed from the index, files in " << folder);
  return held;
}

}  // namespace annot
