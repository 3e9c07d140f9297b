#include <gtest/gtest.h>

#include "catalog/SqliteCatalog.h"
#include "ingest/StabilityMonitor.h"
#include "support/DicomFixtures.h"
#include "support/TestSupport.h"

using namespace annot;
using annot::test::makeRecord;
using annot::test::TestInstance;

namespace {
InstanceRecord recordAt(const std::string& study, const std::string& sop, int64_t ms) {
  TestInstance t;
  t.studyUid = study;
  t.seriesUid = study + ".1";
  t.sopUid = sop;
  return makeRecord(t, ms);
}
}  // namespace

TEST(StabilityMonitor, PublishesOnceAfterTheStableAge) {
  annot::test::TempDir dir;
  SqliteCatalog catalog(dir / "index.sqlite");
  EventBus bus;
  Metrics metrics;
  StabilityMonitor monitor(catalog, bus, metrics, std::chrono::seconds(60));
  std::vector<std::string> stable;
  bus.onStudyStable([&](const StudyStableEvent& e) { stable.push_back(e.studyInstanceUid); });

  catalog.addInstances({recordAt("5.1", "5.1.1.1", 1'000'000)});
  bus.publish(InstanceStoredEvent{"5.1", "5.1.1", "5.1.1.1", 1'000'000});
  monitor.checkNow(1'000'000 + 59'000);
  EXPECT_TRUE(stable.empty());
  monitor.checkNow(1'000'000 + 60'000);
  EXPECT_EQ(stable, std::vector<std::string>{"5.1"});
  monitor.checkNow(1'000'000 + 120'000);
  EXPECT_EQ(stable.size(), 1u) << "published twice";
  EXPECT_TRUE(catalog.getStudy("5.1")->summary.stable);
  EXPECT_EQ(metrics.studiesStable, 1u);
}

TEST(StabilityMonitor, NewInstancesRestartTheClock) {
  annot::test::TempDir dir;
  SqliteCatalog catalog(dir / "index.sqlite");
  EventBus bus;
  Metrics metrics;
  StabilityMonitor monitor(catalog, bus, metrics, std::chrono::seconds(10));
  int published = 0;
  bus.onStudyStable([&](const StudyStableEvent&) { ++published; });
  catalog.addInstances({recordAt("6.1", "6.1.1.1", 0)});
  bus.publish(InstanceStoredEvent{"6.1", "6.1.1", "6.1.1.1", 0});
  catalog.addInstances({recordAt("6.1", "6.1.1.2", 8'000)});
  bus.publish(InstanceStoredEvent{"6.1", "6.1.1", "6.1.1.2", 8'000});
  monitor.checkNow(12'000);
  EXPECT_EQ(published, 0);
  monitor.checkNow(18'000);
  EXPECT_EQ(published, 1);
}

TEST(StabilityMonitor, PicksUpStudiesLeftUnstableByARestart) {
  annot::test::TempDir dir;
  SqliteCatalog catalog(dir / "index.sqlite");
  catalog.addInstances({recordAt("7.1", "7.1.1.1", 1'000)});
  EventBus bus;
  Metrics metrics;
  StabilityMonitor monitor(catalog, bus, metrics, std::chrono::hours(1000));
  std::vector<std::string> stable;
  bus.onStudyStable([&](const StudyStableEvent& e) { stable.push_back(e.studyInstanceUid); });
  monitor.start();  // loads pending studies from the catalog
  monitor.checkNow(1'000 + 3'600'000'000LL);
  monitor.stop();
  EXPECT_EQ(stable, std::vector<std::string>{"7.1"});
}
