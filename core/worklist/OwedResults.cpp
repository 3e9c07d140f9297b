#include "worklist/OwedResults.h"

#include "common/Clock.h"

namespace annot {
namespace {
constexpr int64_t kRetryAfterMs = 60 * 1000;
}

OwedResults::OwedResults(Worklist& worklist)
    : worklist_(worklist),
      worker_("results-owed", std::chrono::milliseconds(kRetryAfterMs),
              [this] { worklist_.writeResultsOwed(nowMillis() - kRetryAfterMs, [this] { return worker_.stopping(); }); }) {}

void OwedResults::start() {
  const int64_t startedMs = nowMillis();
  // Everything owed before this start belongs to a process that is gone.
  worker_.start([this, startedMs] { worklist_.writeResultsOwed(startedMs, [this] { return worker_.stopping(); }); });
}

}  // namespace annot
