#pragma once
// The product's own state beside the image catalog: users and API tokens, the audit trail and
// (with the worklist) tasks, revisions and the outbox. Embedded: one SQLite file in WAL mode
// with synchronous=FULL (a saved annotation or an audit entry survives power loss). Shared: a
// PostgreSQL database several nodes or Orthancs use at once. One connection per process,
// serialised by a mutex. Both deployments use it: the node beside its catalog, the plugin in
// its own data folder (or the shared database).
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
  // store several nodes share.
  explicit StateDatabase(const std::string& location);
  bool onPostgres() const { return pg_ != nullptr; }

  // Runs `work` with the SQLite connection, holding the lock: for tests and tools that look
  // at the embedded file itself. Stores use withAny().
  template <typename Work>
  auto with(Work&& work) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!db_) throw std::logic_error("this state database is on PostgreSQL, not SQLite");
    return work(*db_);
  }
  // Runs `work` with whichever connection the database has: for stores whose SQL runs on both
  // (`work` takes `auto&`). On PostgreSQL a transaction that lost a race with another node's
  // (serialization failure, deadlock) rolls back and `work` runs again, so `work` must do
  // nothing outside the database it cannot repeat.
  template <typename Work>
  auto withAny(Work&& work) {
    if (!pg_) {
      std::lock_guard<std::mutex> lock(mutex_);
      return work(*db_);
    }
    for (int attempt = 1;; ++attempt) {
      try {
        std::lock_guard<std::mutex> lock(mutex_);
        pg_->reconnectIfBroken();
        return work(*pg_);
      } catch (const pg::PgError& e) {
        if (!e.retryable() || attempt >= kPostgresAttempts) throw;
      }
      backOff(attempt);  // without the lock: the node's other work goes on meanwhile
    }
  }
  int schemaVersion();

 private:
  static constexpr int kPostgresAttempts = 20;
  static void backOff(int attempt);  // a short random pause, longer with each attempt

  std::mutex mutex_;
  std::unique_ptr<sqlite::Database> db_;
  std::unique_ptr<pg::Connection> pg_;
};

}  // namespace annot
