#pragma once
// Start-up check for the one window Catalog::Durability::ByStorageBarrier leaves open: rows the
// catalog committed in the last group before a crash, whose group barrier never completed, may
// point at files that never reached the disk. Those rows (and only those: the catalog records
// the newest row each completed barrier covered) are checked against their files; a row whose
// file is missing, short or not the instance it names is withdrawn with its file. Nobody was
// acknowledged for them, so the senders will send them again and find no stale row in the way.
#include <string>
#include <vector>

#include "catalog/Catalog.h"
#include "storage/InstanceStore.h"

namespace annot {

struct RecoveryReport {
  size_t checked = 0;
  std::vector<std::string> withdrawn;  // SOP Instance UIDs
};

// Runs before the node accepts associations.
RecoveryReport recoverUnconfirmedInstances(Catalog& catalog, InstanceStore& store);

// The catalog discipline for a database at `catalogPath` (existing or not) beside `store`: one
// barrier per group (ByStorageBarrier) only when the store has a filesystem barrier at all and
// it also covers the database. Runs that barrier once to find out; throws StorageError when it
// fails (a disk that cannot flush).
Catalog::Durability catalogDurabilityFor(InstanceStore& store, const std::string& catalogPath);

}  // namespace annot
