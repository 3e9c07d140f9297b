#include "worklist/OwedResults.h"

#include "common/Clock.h"

#include <limits>

namespace annot {
namespace {
constexpr int64_t kPassEveryMs = 60 * 1000;
}

OwedResults::OwedResults(Worklist& worklist)
    : worklist_(worklist),
      // Each pass takes every debt nobody is paying (a claimed debt's time lies in the future).
      worker_("results-owed", std::chrono::milliseconds(kPassEveryMs),
              [this] { worklist_.writeResultsOwed(nowMillis(), [this] { return worker_.stopping(); }); }) {}

void OwedResults::start() {
  // Alone on its database, this process takes every debt at start, claimed or not: whoever
  // claimed one is gone. Sharing it (PostgreSQL), other nodes may be paying theirs right now.
  const int64_t before = worklist_.database().onPostgres() ? nowMillis() : std::numeric_limits<int64_t>::max();
  worker_.start([this, before] { worklist_.writeResultsOwed(before, [this] { return worker_.stopping(); }); });
}

}  // namespace annot
