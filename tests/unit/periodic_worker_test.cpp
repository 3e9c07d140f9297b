// The background loop behind the outbox sender, study stability and Orthanc's change feed.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "common/PeriodicWorker.h"
#include "support/TestSupport.h"

using namespace annot;
using namespace std::chrono_literals;

TEST(PeriodicWorker, RunsItsFirstStepThenRoundsWhenWokenAndSurvivesAFailingRound) {
  std::atomic<int> rounds{0};
  std::atomic<bool> firstDone{false}, firstBeforeRounds{true};
  // A period far longer than the test: every round seen here came from wake().
  PeriodicWorker worker("test", 1h, [&] {
    if (!firstDone) firstBeforeRounds = false;
    if (++rounds == 1) throw std::runtime_error("transient trouble");
  });
  worker.start([&] { firstDone = true; });
  worker.wake();
  ASSERT_TRUE(test::eventually([&] { return rounds == 1; }, std::chrono::seconds(5)));
  worker.wake();  // the failed round did not end the loop
  ASSERT_TRUE(test::eventually([&] { return rounds == 2; }, std::chrono::seconds(5)));
  EXPECT_TRUE(firstDone);
  EXPECT_TRUE(firstBeforeRounds);
  EXPECT_FALSE(worker.stopping());
  worker.stop();  // returns without waiting out the hour
  EXPECT_TRUE(worker.stopping());
}

TEST(PeriodicWorker, RunsOnItsOwnEveryPeriod) {
  std::atomic<int> rounds{0};
  PeriodicWorker worker("test", 20ms, [&] { ++rounds; });
  worker.start();
  EXPECT_TRUE(test::eventually([&] { return rounds >= 3; }, std::chrono::seconds(5)));
}
