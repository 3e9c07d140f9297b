#include "ingest/IngestRecovery.h"

#include <sys/stat.h>

#include "common/Log.h"
#include "dicom/InstanceHeader.h"

namespace annot {
namespace {
// Why the stored file cannot stand for the row, or empty when it can.
std::string problemWith(const UnconfirmedInstance& row, const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return "file missing";
  if (static_cast<uint64_t>(st.st_size) != row.fileSize) {
    return "file has " + std::to_string(st.st_size) + " of " + std::to_string(row.fileSize) + " bytes";
  }
  try {
    const InstanceRecord header = readInstanceHeader(path);
    if (header.instance.sopInstanceUid != row.sopInstanceUid) return "file holds another instance";
  } catch (const std::exception& e) {
    return std::string("file unreadable: ") + e.what();
  }
  return {};
}
}  // namespace

RecoveryReport recoverUnconfirmedInstances(Catalog& catalog, InstanceStore& store) {
  RecoveryReport report;
  const auto rows = catalog.instancesPastDurableMark();
  if (rows.empty()) return report;
  // After a crash of the process alone, what it wrote is still in the page cache: make it
  // durable first, so that what is checked below is what the disk holds from now on.
  store.syncFilesystem();
  std::vector<std::string> keysToDiscard;
  for (const auto& row : rows) {
    ++report.checked;
    const std::string problem = problemWith(row, store.absolutePath(row.storageKey));
    if (problem.empty()) continue;
    LOG_WARN("ingest", "withdrawing unacknowledged instance " << row.sopInstanceUid << " (" << problem
                                                              << "); its sender will send it again");
    report.withdrawn.push_back(row.sopInstanceUid);
    keysToDiscard.push_back(row.storageKey);
  }
  catalog.removeInstances(report.withdrawn);
  for (const auto& key : keysToDiscard) store.discardStored(key);
  // Every row that remains has been checked against the disk: record them as durable, even
  // when nothing was withdrawn, so that the next start has nothing to check.
  catalog.markDurable(catalog.commitMark());
  catalog.writeDurableMark();
  store.syncFilesystem();
  LOG_INFO("ingest", "checked " << report.checked << " instance(s) committed before an interrupted barrier; "
                                << report.withdrawn.size() << " withdrawn");
  return report;
}

Catalog::Durability catalogDurabilityFor(InstanceStore& store, const std::string& catalogPath) {
  struct stat st{};
  const auto slash = catalogPath.find_last_of('/');
  // A database that does not exist yet will be created in its folder.
  const std::string probe = ::stat(catalogPath.c_str(), &st) == 0 ? catalogPath
                            : slash == std::string::npos      ? std::string(".")
                                                              : catalogPath.substr(0, slash);
  if (!store.coversPath(probe)) return Catalog::Durability::EachCommit;
  // syncfs is Linux-only and some sandboxes refuse it: without it the ingest path could not
  // make a single group durable, so every commit flushes itself instead.
  return store.syncFilesystem() ? Catalog::Durability::ByStorageBarrier : Catalog::Durability::EachCommit;
}

}  // namespace annot
