#pragma once
// The product's own state beside the image catalog: users and API tokens, the audit trail and
// (with the worklist) tasks, revisions and the outbox. One SQLite file in WAL mode with
// synchronous=FULL (a saved annotation or an audit entry survives power loss), one connection
// serialised by a mutex. Both deployments use it: the node beside its catalog, the plugin in
// its own data folder.
#include <memory>
#include <mutex>
#include <string>

#include "catalog/SqliteDb.h"

namespace annot {

class StateDatabase {
 public:
  explicit StateDatabase(const std::string& path);
  // Runs `work` with the connection, holding the lock.
  template <typename Work>
  auto with(Work&& work) {
    std::lock_guard<std::mutex> lock(mutex_);
    return work(*db_);
  }
  int schemaVersion();

 private:
  std::mutex mutex_;
  std::unique_ptr<sqlite::Database> db_;
};

}  // namespace annot
