#pragma once
// Honours IOCM rejection notes (KOS titled with a CID 7011 reason) that arrive like any other
// instance: the instances a note rejects that this node holds leave the index, and with it
// QIDO-RS, WADO-RS and the images the worklist offers; their files move to the quarantine
// folder (<data>/rejected/<note UID>/), kept for an administrator rather than deleted. The note
// itself stays stored (it is part of the study's record). Audited as `reject-instances`.
// A note is honoured only from a trusted sender, and only for instances of its own study and
// patient: a rejection note is not a way to delete another patient's images.
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "audit/AuditLog.h"
#include "catalog/Catalog.h"
#include "common/PeriodicWorker.h"
#include "events/EventBus.h"
#include "ingest/RejectionPolicy.h"

namespace annot {

class RejectionHonour {
 public:
  // `pathOf`: where a stored instance's file is (by its storage key).
  // Who is trusted: notes whose sender (the calling AE title the catalog recorded) is `ownAet`
  // or in `senders` (empty: any DICOM peer); a note stored over STOW-RS is never honoured.
  struct Trust {
    std::string ownAet;
    RejectionTrust senders;
  };
  RejectionHonour(Catalog& catalog, std::function<std::string(const std::string& key)> pathOf, AuditLog& audit,
                  std::string quarantineDirectory, Trust trust);
  // Subscribes to stored instances (only enqueues: bus listeners must not block ingest).
  void listen(EventBus& bus);
  void start() { worker_.start(); }
  void stop() { worker_.stop(); }
  // Applies one stored note now; returns the SOP Instance UIDs it removed (none when the
  // instance is no rejection note, or rejects nothing held here).
  std::vector<std::string> honour(const std::string& noteSopInstanceUid);

 private:
  void round();

  Catalog& catalog_;
  const std::function<std::string(const std::string&)> pathOf_;
  AuditLog& audit_;
  const std::string quarantine_;
  const Trust trust_;
  std::mutex mutex_;
  std::deque<std::string> notes_;
  PeriodicWorker worker_;
};

}  // namespace annot
