#pragma once
// The path of one received instance: scratch file → checks → durable file → catalog row →
// InstanceStoredEvent. Transport-neutral: the DICOM SCP (and later STOW-RS) hand files in here
// and turn the returned status into their protocol's answer.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <optional>
#include <vector>

#include "catalog/Catalog.h"
#include "dicom/InstanceHeader.h"
#include "events/EventBus.h"
#include "ingest/GroupCommitter.h"
#include "ingest/InstanceClaims.h"
#include "metrics/Metrics.h"
#include "storage/InstanceStore.h"

namespace annot {

// DIMSE C-STORE status codes (PS3.4 Table B.2-1) the pipeline answers with.
namespace store_status {
constexpr uint16_t Success = 0x0000;
constexpr uint16_t OutOfResources = 0xA700;
constexpr uint16_t DataSetDoesNotMatchSopClass = 0xA900;
constexpr uint16_t CannotUnderstand = 0xC000;
constexpr uint16_t ProcessingFailure = 0x0110;
constexpr uint16_t SopClassNotSupported = 0x0122;
// PS3.7 C.4: the SOP Instance exists already, here under another study or series.
constexpr uint16_t DuplicateSopInstance = 0x0111;

// Why an object's header failed the check, as a status: C000 when it cannot be parsed, A900
// when it lacks a UID it must carry or contradicts its command. The same in every deployment.
inline uint16_t forHeaderError(const InstanceHeaderError& error) {
  return error.kind() == InstanceHeaderError::Kind::Unreadable ? CannotUnderstand : DataSetDoesNotMatchSopClass;
}
}  // namespace store_status

struct ReceivedObject {
  std::string incomingPath;           // from InstanceStore::newIncomingPath(), fully written
  std::string affectedSopClassUid;    // from the command; empty when not received over DIMSE
  std::string affectedSopInstanceUid;
  std::string callingAet;
  // The whole file as received, when the receiver still holds it in memory: parsed from here
  // instead of being read back. Empty: read the file.
  std::vector<std::string_view> contents = {};
  uint64_t size = 0;  // bytes in the file, when the receiver knows; 0: ask the file system
};

struct IngestResult {
  uint16_t status = store_status::Success;
  std::string message;                // why, for failures; logged and returned as Error Comment
  bool duplicate = false;
  std::string sopInstanceUid;
  std::string studyInstanceUid;
};

// What IngestPipeline::examine() found out about an object before its file is complete.
struct ExaminedObject {
  IngestResult verdict;         // a failure status here refuses the object
  InstanceRecord record;        // the parsed header, on success
  bool seenInCatalog = false;   // the SOP Instance was already indexed when examined
  GroupCommitter::Announcement announced;  // the commit that complete() will make
  // Held from the index lookup until complete() is done, so that no other copy of the
  // instance is moved into place meanwhile; contended when another copy held it.
  InstanceClaims::Claim claim;
};

struct IngestOptions {
  uint64_t minFreeBytes = 64ull * 1024 * 1024;  // refuse new objects below this much free space
};

class IngestPipeline {
 public:
  IngestPipeline(Catalog& catalog, InstanceStore& store, EventBus& bus, Metrics& metrics, IngestOptions options);
  ~IngestPipeline();

  std::string newIncomingPath() { return store_.newIncomingPath(); }
  // Consumes the scratch file (kept or removed) and returns when the outcome is final: on
  // Success the instance is durable on disk and in the catalog. examine() then complete().
  IngestResult ingest(const ReceivedObject& received);
  // The part that needs only the object's bytes: parses and checks the header, the free space
  // and whether the instance is already indexed. Leaves the scratch file alone, so a receiver
  // can run it while the file's last writes are still on their way to the device, provided
  // `received.contents` holds the whole object (without contents the file is read and must
  // be complete). `checked`: the header as readInstanceHeader() already returned it for these
  // bytes (STOW-RS reads it first to check the study), so it is not parsed again.
  ExaminedObject examine(const ReceivedObject& received, const InstanceRecord* checked = nullptr);
  // The rest, once the scratch file is complete: refuses what examine() refused, or makes the
  // instance durable and indexed. Consumes the scratch file.
  IngestResult complete(const ReceivedObject& received, ExaminedObject examined);
  // Refuses an object without examining it (the receiver could not store it, or its class is
  // not one the node stores): the scratch file goes and the failure is counted as complete()
  // counts its own.
  IngestResult refuse(const ReceivedObject& received, uint16_t status, std::string message);
  // The same for a Part 10 file received in memory (STOW-RS); `source` is recorded as the
  // sender. The bytes are written to the scratch area first, exactly as C-STORE data is.
  // `checked` as for examine().
  IngestResult ingestBytes(const std::string& bytes, const std::string& source, const InstanceRecord* checked = nullptr);
  // Commits what is in flight, then refuses new work.
  void stop();

 private:
  // The Duplicate SOP Instance failure (counted) when a copy of a stored instance names another
  // study or series than the stored one; nothing when it is a true re-send.
  std::optional<IngestResult> refuseConflict(const InstancePlace& stored, const InstanceRecord& received);

  Catalog& catalog_;
  InstanceStore& store_;
  EventBus& bus_;
  Metrics& metrics_;
  IngestOptions options_;
  GroupCommitter committer_;
  InstanceClaims claims_;
};

}  // namespace annot
