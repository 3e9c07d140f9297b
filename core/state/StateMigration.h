#pragma once
// Moves a node's (or plugin's) embedded state to PostgreSQL: every user and token, the whole
// audit chain, tasks, revisions, reviews, results and the outbox, and (for a node) its index of
// studies, row for row with their ids, so that audit hashes, workitem UIDs and results'
// references stay what they were. The target must hold no product data yet; it all goes in one
// transaction, so a failure leaves it empty.
#include <map>
#include <string>

#include "state/StateDatabase.h"

namespace annot {

struct StateMigrationReport {
  std::map<std::string, int64_t> rows;  // table -> rows copied
  int64_t auditEntries = 0;             // the chain on PostgreSQL, verified after the copy
};

class StateMigrationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `from`: an SQLite state database; `to`: a PostgreSQL one (both opened, so both schemas are
// current). `catalog`: the node's SQLite index (its schema current, checked against its files),
// copied into the PostgreSQL catalog's tables (made beforehand by PostgresCatalog), or nullptr
// (the plugin: Orthanc keeps the index). Throws StateMigrationError when the target is not
// empty, the schemas disagree or the copied audit chain does not verify.
StateMigrationReport migrateState(StateDatabase& from, sqlite::Database* catalog, StateDatabase& to);

}  // namespace annot
