#pragma once
// Pays the worklist's debts: results that an approval (or a submit without review) committed
// but that were not written, because the process stopped in between or storing failed. One
// pass at start, then one a minute for debts older than a minute (a fresh one is being paid by
// the request that made it). The node and the plugin each run one.
#include "common/PeriodicWorker.h"
#include "worklist/Worklist.h"

namespace annot {

class OwedResults {
 public:
  explicit OwedResults(Worklist& worklist);
  // Call once results can be stored (the plugin: once Orthanc serves REST).
  void start();
  void stop() { worker_.stop(); }

 private:
  Worklist& worklist_;
  PeriodicWorker worker_;  // last: stopped before the members its rounds use go
};

}  // namespace annot
