#pragma once
// Pays the worklist's debts: results that an approval (or a submit without review) committed
// but that were not written, because the process stopped in between or storing failed. One
// pass at start, then one a minute for every debt nobody is paying (a debt being paid is
// claimed under a lease, Worklist::claimDebt, by this process or another node). The node and
// the plugin each run one.
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
