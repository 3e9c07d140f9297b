#pragma once
// The product's own state beside the image catalog: users and API tokens, the audit trail and
// (with the worklist) tasks, revisions and the outbox. One SQLite file in WAL mode with
// synchronous=FULL (a saved annotation or an audit entry survives power loss), one connection
// serialised by a mutex. Both deployments use it: the node beside its catalog, the plugin in
// its own data folder.
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "catalog/SqliteDb.h"
#include "sql/PostgresDb.h"

namespace annot {

// The transaction type of a connection, for store code written for both back ends.
template <typename Connection>
using TransactionOf = typename std::decay_t<Connection>::Transaction;

// Whether generic store code runs on PostgreSQL (for the few statements that differ).
template <typename Connection>
constexpr bool isPostgres = std::is_same_v<std::decay_t<Connection>, pg::Connection>;

class StateDatabase {
 public:
  // A file path (SQLite, the embedded default), or a PostgreSQL URI ("postgresql://..."): the
  // store several nodes share. Stores move to PostgreSQL one at a time (docs/architecture.md);
  // those that have not refuse to run on it.
  explicit StateDatabase(const std::string& location);
  bool onPostgres() const { return pg_ != nullptr; }

  // Runs `work` with the SQLite connection, holding the lock (stores not yet on PostgreSQL).
  template <typename Work>
  auto with(Work&& work) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!db_) throw std::logic_error("this store does not run on PostgreSQL yet");
    return work(*db_);
  }
  // Runs `work` with whichever connection the database has: for stores whose SQL runs on both
  // (`work` takes `auto&`).
  template <typename Work>
  auto withAny(Work&& work) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pg_) return work(*pg_);
    return work(*db_);
  }
  int schemaVersion();

 private:
  std::mutex mutex_;
  std::unique_ptr<sqlite::Database> db_;
  std::unique_ptr<pg::Connection> pg_;
};

}  // namespace annot
