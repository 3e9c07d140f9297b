#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "catalog/SqliteCatalog.h"
#include "ingest/GroupCommitter.h"
#include "storage/FileInstanceStore.h"
#include "support/DicomFixtures.h"
#include "support/TestSupport.h"

using namespace annot;
using namespace std::chrono_literals;
using annot::test::makeRecord;

namespace {
// One storage barrier per group, the node's default. The sibling wait is long enough that only
// an announced commit's arrival (or withdrawal) can end it within the test.
class GroupCommitterTest : public ::testing::Test {
 protected:
  annot::test::TempDir dir;
  FileInstanceStore store{dir.path()};
  SqliteCatalog catalog{dir / "index.sqlite", Catalog::Durability::ByStorageBarrier};
  Metrics metrics;
  GroupCommitter committer{catalog, store, metrics, 512, std::chrono::seconds(60)};

  InstanceRecord record(const std::string& sop) {
    return makeRecord(annot::test::instanceIn("1.2.3.1", "1.2.3.1.1", sop));
  }
  // Long enough for a lone commit to finish many times over (a few milliseconds), so a commit
  // still running afterwards is one whose leader waits.
  static void settle() { std::this_thread::sleep_for(50ms); }
};
}  // namespace

TEST_F(GroupCommitterTest, AnAnnouncedCommitJoinsTheBarrierALeaderIsAboutToRun) {
  auto announced = committer.announce();
  auto first = std::async(std::launch::async, [&] { return committer.commit(record("1.2.3.1.1.1")); });
  settle();
  EXPECT_EQ(first.wait_for(0s), std::future_status::timeout) << "the leader waits for the announced sibling";
  EXPECT_EQ(metrics.commitBatches, 0u);

  EXPECT_EQ(committer.commit(record("1.2.3.1.1.2"), std::move(announced)), CommitOutcome::Inserted);
  EXPECT_EQ(first.get(), CommitOutcome::Inserted);
  EXPECT_EQ(metrics.commitBatches, 1u) << "both rows went through one barrier";
  EXPECT_TRUE(catalog.hasInstance("1.2.3.1.1.1"));
  EXPECT_TRUE(catalog.hasInstance("1.2.3.1.1.2"));
}

TEST_F(GroupCommitterTest, AWithdrawnAnnouncementReleasesTheWaitingLeader) {
  std::future<CommitOutcome> first;
  {
    auto announced = committer.announce();
    first = std::async(std::launch::async, [&] { return committer.commit(record("1.2.3.1.1.1")); });
    settle();
    EXPECT_EQ(first.wait_for(0s), std::future_status::timeout);
  }  // dropped unused, as when the object is refused after all
  ASSERT_EQ(first.wait_for(30s), std::future_status::ready) << "the leader did not give up waiting";
  EXPECT_EQ(first.get(), CommitOutcome::Inserted);
  EXPECT_EQ(metrics.commitBatches, 1u);
}

TEST_F(GroupCommitterTest, WithoutAnnouncementsALeaderDoesNotWait) {
  auto first = std::async(std::launch::async, [&] { return committer.commit(record("1.2.3.1.1.1")); });
  ASSERT_EQ(first.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(first.get(), CommitOutcome::Inserted);
  EXPECT_EQ(committer.commit(record("1.2.3.1.1.2")), CommitOutcome::Inserted);
  EXPECT_EQ(metrics.commitBatches, 2u);
}
