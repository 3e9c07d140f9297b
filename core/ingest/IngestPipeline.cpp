#include "ingest/IngestPipeline.h"

#include <sys/stat.h>

#include <optional>

#include "catalog/SqliteDb.h"
#include "sql/PostgresDb.h"
#include "common/Log.h"
#include "dicom/InstanceHeader.h"
#include "ingest/StabilityMonitor.h"
#include "storage/FileSync.h"

namespace annot {
namespace {
IngestResult failure(uint16_t status, std::string message) {
  IngestResult r;
  r.status = status;
  r.message = std::move(message);
  return r;
}

uint64_t fileSize(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}
}  // namespace

IngestPipeline::IngestPipeline(Catalog& catalog, InstanceStore& store, EventBus& bus, Metrics& metrics,
                               IngestOptions options)
    : catalog_(catalog), store_(store), bus_(bus), metrics_(metrics), options_(options),
      committer_(catalog, store, metrics) {}

IngestPipeline::~IngestPipeline() { stop(); }

void IngestPipeline::stop() { committer_.stop(); }

IngestResult IngestPipeline::ingest(const ReceivedObject& received) { return complete(received, examine(received)); }

ExaminedObject IngestPipeline::examine(const ReceivedObject& received, const InstanceRecord* checked) {
  ExaminedObject examined;
  if (store_.availableBytes() < options_.minFreeBytes) {
    examined.verdict = failure(store_status::OutOfResources, "storage is almost full (below the configured free-space reserve)");
    return examined;
  }
  try {
    examined.record = checked                     ? *checked
                      : received.contents.empty() ? readInstanceHeader(received.incomingPath)
                                                  : readInstanceHeader(received.contents);
    if (!received.affectedSopClassUid.empty() || !received.affectedSopInstanceUid.empty()) {
      checkMatchesCommand(examined.record, received.affectedSopClassUid, received.affectedSopInstanceUid);
    }
    examined.claim = claims_.tryClaim(examined.record.instance.sopInstanceUid);
    // A copy that another association is storing right now: complete() waits for its outcome
    // and looks again. Otherwise nobody can index this instance before our complete() does.
    if (examined.claim.contended()) {
      ++metrics_.copiesWaited;
      return examined;
    }
    examined.seenInCatalog = catalog_.hasInstance(examined.record.instance.sopInstanceUid);
    if (!examined.seenInCatalog) examined.announced = committer_.announce();
  } catch (const InstanceHeaderError& e) {
    examined.verdict = failure(store_status::forHeaderError(e), e.what());
  } catch (const std::exception& e) {
    examined.verdict = failure(store_status::ProcessingFailure, std::string("index lookup failed: ") + e.what());
  }
  return examined;
}

IngestResult IngestPipeline::complete(const ReceivedObject& received, ExaminedObject examined) {
  const std::string& scratch = received.incomingPath;
  if (examined.verdict.status != store_status::Success) {
    store_.discardIncoming(scratch);
    switch (examined.verdict.status) {
      case store_status::OutOfResources: ++metrics_.failuresOutOfResources; break;
      case store_status::CannotUnderstand: ++metrics_.failuresMalformed; break;
      case store_status::DataSetDoesNotMatchSopClass:
      case store_status::SopClassNotSupported: ++metrics_.failuresMismatch; break;
      default: ++metrics_.failuresProcessing; break;
    }
    return std::move(examined.verdict);
  }

  InstanceRecord& record = examined.record;
  IngestResult result;
  result.sopInstanceUid = record.instance.sopInstanceUid;
  result.studyInstanceUid = record.study.studyInstanceUid;
  try {
    if (examined.claim.contended()) {
      // The other copy is done: its row, if it has one, is found below; else this one is stored.
      examined.claim.await();
      examined.seenInCatalog = true;
    }
    if (examined.seenInCatalog) {
      // Idempotent re-send: the first copy stays, as in a PACS that does not overwrite. It is
      // visible once committed but may still be waiting for its group's barrier, and a failed
      // barrier withdraws it again: keep this copy until the row is known to be durable. (The
      // claim makes that rare: a copy holds its claim until its row is durable.)
      committer_.awaitDurable();
      if (const auto place = catalog_.placeOf(record.instance.sopInstanceUid)) {
        store_.discardIncoming(scratch);
        if (auto refused = refuseConflict(*place, record)) return std::move(*refused);
        ++metrics_.instancesDuplicate;
        result.duplicate = true;
        return result;
      }
    }
    record.fileSize = received.size ? received.size : fileSize(scratch);
    record.receivedAtMs = nowMillis();
    record.callingAet = received.callingAet;
    record.storageKey = store_.promote(scratch, record.instance.sopInstanceUid);
    const CommitOutcome outcome = committer_.commit(record, std::move(examined.announced));
    if (outcome == CommitOutcome::AlreadyPresent) {
      // The claim keeps every other copy out between the lookup and here, so a row that
      // appeared meanwhile was not written by this pipeline, and the file just moved into
      // place may have replaced its file. Said loudly rather than acknowledged.
      LOG_ERROR("ingest", "SOP Instance " << record.instance.sopInstanceUid
                                          << " was indexed by someone else while this copy was being stored");
      ++metrics_.failuresProcessing;
      return failure(store_status::ProcessingFailure, "SOP Instance " + record.instance.sopInstanceUid +
                                                          " was indexed concurrently by another writer");
    }
  } catch (const StorageError& e) {
    store_.discardIncoming(scratch);
    const bool full = e.kind() == StorageError::Kind::OutOfSpace;
    ++(full ? metrics_.failuresOutOfResources : metrics_.failuresProcessing);
    return failure(full ? store_status::OutOfResources : store_status::ProcessingFailure, e.what());
  } catch (const pg::PgError& e) {
    store_.discardIncoming(scratch);
    // 53100: the database server's disk is full; the modality should retry later.
    const bool full = e.sqlState() == "53100";
    ++(full ? metrics_.failuresOutOfResources : metrics_.failuresProcessing);
    return failure(full ? store_status::OutOfResources : store_status::ProcessingFailure, std::string("index update failed: ") + e.what());
  } catch (const sqlite::SqliteError& e) {
    store_.discardIncoming(scratch);
    const bool full = (e.code() & 0xff) == SQLITE_FULL;
    ++(full ? metrics_.failuresOutOfResources : metrics_.failuresProcessing);
    return failure(full ? store_status::OutOfResources : store_status::ProcessingFailure,
                   std::string("index update failed: ") + e.what());
  } catch (const std::exception& e) {
    store_.discardIncoming(scratch);
    ++metrics_.failuresProcessing;
    return failure(store_status::ProcessingFailure, e.what());
  }

  ++metrics_.instancesReceived;
  metrics_.bytesReceived += record.fileSize;
  bus_.publish(InstanceStoredEvent{record.study.studyInstanceUid, record.series.seriesInstanceUid,
                                   record.instance.sopInstanceUid, record.receivedAtMs, record.instance.sopClassUid});
  return result;
}

std::optional<IngestResult> IngestPipeline::refuseConflict(const InstancePlace& stored, const InstanceRecord& received) {
  // A re-sent SOP Instance must be the object already stored: the same UID under another study
  // or series is a different object claiming its identity (a sender's UID collision or a
  // mis-edited copy), and taking it as an idempotent re-send would report success for data
  // that is not where the sender put it.
  if (stored.studyInstanceUid == received.study.studyInstanceUid && stored.seriesInstanceUid == received.series.seriesInstanceUid) {
    return std::nullopt;
  }
  ++metrics_.failuresMismatch;
  return failure(store_status::DuplicateSopInstance,
                 "SOP Instance " + received.instance.sopInstanceUid + " is already stored in study " + stored.studyInstanceUid +
                     ", series " + stored.seriesInstanceUid + "; this copy names study " + received.study.studyInstanceUid +
                     ", series " + received.series.seriesInstanceUid + " and is refused");
}

IngestResult IngestPipeline::refuse(const ReceivedObject& received, uint16_t status, std::string message) {
  ExaminedObject refused;
  refused.verdict = failure(status, std::move(message));
  return complete(received, std::move(refused));
}

IngestResult IngestPipeline::ingestBytes(const std::string& bytes, const std::string& source, const InstanceRecord* checked) {
  const std::string scratch = newIncomingPath();
  try {
    filesync::writeFile(scratch, bytes);
  } catch (const StorageError& e) {
    store_.discardIncoming(scratch);
    IngestResult failed;
    failed.status = store_status::OutOfResources;
    failed.message = std::string("cannot write the received object to the scratch area: ") + e.what();
    return failed;
  }
  // The header is parsed from the bytes in hand (or was already), not read back from the
  // scratch file.
  const ReceivedObject received{scratch, "", "", source, {std::string_view(bytes)}, bytes.size()};
  return complete(received, examine(received, checked));
}

}  // namespace annot
