// Start-up check after a crash between a group's catalog commit and its storage barrier
// (Catalog::Durability::ByStorageBarrier): rows past the durable mark are checked against
// their files; the ones a crash cut short are withdrawn so their senders can store them again.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>

#include "catalog/SqliteCatalog.h"
#include "ingest/IngestPipeline.h"
#include "ingest/IngestRecovery.h"
#include "storage/FileInstanceStore.h"
#include "support/DicomFixtures.h"
#include "support/TestSupport.h"

using namespace annot;
using annot::test::TestInstance;

namespace {
constexpr auto kBarrier = Catalog::Durability::ByStorageBarrier;

TestInstance instance(const std::string& study, const std::string& series, const std::string& sop) {
  return annot::test::instanceIn(study, series, sop);
}

std::vector<std::string> uidsOf(const std::vector<UnconfirmedInstance>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.sopInstanceUid);
  return out;
}

bool exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

class IngestRecoveryTest : public ::testing::Test {
 protected:
  annot::test::TempDir dir;
  Metrics metrics;
  EventBus bus;

  IngestResult ingest(IngestPipeline& pipeline, const TestInstance& spec) {
    const std::string path = pipeline.newIncomingPath();
    annot::test::writeTestInstance(path, spec);
    return pipeline.ingest({path, spec.sopClassUid, spec.sopUid, "CT01"});
  }

  // The node's ingest path over `dir`, one barrier per group.
  struct Node {
    FileInstanceStore store;
    SqliteCatalog catalog;
    IngestPipeline pipeline;
    explicit Node(IngestRecoveryTest& t)
        : store(t.dir.path()), catalog(t.dir / "index.sqlite", kBarrier),
          pipeline(catalog, store, t.bus, t.metrics, IngestOptions{0}) {}
  };

  // Stores instances of series 1.1.1, one group each; false when one is refused.
  bool storeSeries(Node& node, std::initializer_list<const char*> sopUids) {
    for (const char* uid : sopUids) {
      if (ingest(node.pipeline, instance("1.1", "1.1.1", uid)).status != store_status::Success) return false;
    }
    return true;
  }
};
}  // namespace

TEST_F(IngestRecoveryTest, OnlyTheGroupsSinceTheLastRecordedBarrierAreUnconfirmed) {
  Node node(*this);
  ASSERT_TRUE(storeSeries(node, {"1.1.1.1", "1.1.1.2", "1.1.1.3"}));
  // Each group's barrier is recorded with the next group's commit: only the last group is
  // unconfirmed on disk, however long the node ran.
  EXPECT_EQ(uidsOf(node.catalog.instancesPastDurableMark()), std::vector<std::string>{"1.1.1.3"});
}

TEST_F(IngestRecoveryTest, ACleanStopLeavesNothingToCheck) {
  {
    Node node(*this);
    ASSERT_TRUE(storeSeries(node, {"1.1.1.1", "1.1.1.2"}));
    node.pipeline.stop();
  }
  SqliteCatalog reopened(dir / "index.sqlite", kBarrier);
  EXPECT_TRUE(reopened.instancesPastDurableMark().empty());
  EXPECT_EQ(reopened.totals().instances, 2u);
}

TEST_F(IngestRecoveryTest, RowsWhoseFilesACrashCutShortAreWithdrawnAndCanBeStoredAgain) {
  std::string keyOfTruncated;
  {
    Node node(*this);
    ASSERT_TRUE(storeSeries(node, {"1.1.1.1", "1.1.1.2"}));
    node.pipeline.stop();
    FileInstanceStore& store = node.store;
    SqliteCatalog& catalog = node.catalog;
    // The state a crash leaves when the last group's rows reached the disk but not all of its
    // files: one intact, one file short, one never renamed into place (a study of its own).
    auto rows = std::vector<InstanceRecord>{annot::test::makeRecord(instance("1.1", "1.1.1", "1.1.1.4")),
                                            annot::test::makeRecord(instance("1.1", "1.1.1", "1.1.1.3")),
                                            annot::test::makeRecord(instance("2.1", "2.1.1", "2.1.1.1"))};
    for (size_t i = 0; i < 2; ++i) {
      const std::string uid = rows[i].instance.sopInstanceUid;
      const std::string scratch = store.newIncomingPath();
      annot::test::writeTestInstance(scratch, instance("1.1", "1.1.1", uid));
      rows[i].storageKey = store.promote(scratch, uid);
      rows[i].fileSize = annot::test::readFile(store.absolutePath(rows[i].storageKey)).size();
    }
    keyOfTruncated = rows[1].storageKey;
    ASSERT_EQ(::truncate(store.absolutePath(keyOfTruncated).c_str(), static_cast<off_t>(rows[1].fileSize / 2)), 0);
    rows[2].storageKey = FileInstanceStore::keyFor("2.1.1.1");
    catalog.addInstances(rows);
  }

  FileInstanceStore store(dir.path());
  SqliteCatalog catalog(dir / "index.sqlite", kBarrier);
  EXPECT_EQ(uidsOf(catalog.instancesPastDurableMark()), (std::vector<std::string>{"1.1.1.4", "1.1.1.3", "2.1.1.1"}));
  const RecoveryReport report = recoverUnconfirmedInstances(catalog, store);
  EXPECT_EQ(report.checked, 3u);
  EXPECT_EQ(report.withdrawn, (std::vector<std::string>{"1.1.1.3", "2.1.1.1"}));
  EXPECT_FALSE(exists(store.absolutePath(keyOfTruncated)));
  EXPECT_TRUE(catalog.instancesPastDurableMark().empty()) << "the rows that passed the check are recorded durable";

  EXPECT_TRUE(catalog.hasInstance("1.1.1.1"));
  EXPECT_TRUE(catalog.hasInstance("1.1.1.2"));
  EXPECT_TRUE(catalog.hasInstance("1.1.1.4")) << "an unconfirmed row whose file is intact stays";
  EXPECT_FALSE(catalog.hasInstance("1.1.1.3"));
  EXPECT_FALSE(catalog.getStudy("2.1")) << "a study whose only instance was withdrawn is gone";
  const auto study = catalog.getStudy("1.1");
  ASSERT_TRUE(study);
  EXPECT_EQ(study->summary.instanceCount, 3u);
  EXPECT_EQ(study->summary.seriesCount, 1u);
  EXPECT_EQ(catalog.totals().instances, 3u);
  EXPECT_EQ(catalog.totals().patients, 1u);

  // The sender was never acknowledged for them; when it sends again they are stored, not
  // answered as duplicates of a row without a file.
  IngestPipeline pipeline(catalog, store, bus, metrics, IngestOptions{0});
  const IngestResult again = ingest(pipeline, instance("1.1", "1.1.1", "1.1.1.3"));
  EXPECT_EQ(again.status, 0);
  EXPECT_FALSE(again.duplicate);
  EXPECT_TRUE(exists(store.absolutePath(keyOfTruncated)));
  EXPECT_EQ(catalog.getStudy("1.1")->summary.instanceCount, 4u);
}

TEST_F(IngestRecoveryTest, AnUpgradedCatalogTrustsRowsFlushedAtEachCommit) {
  {
    SqliteCatalog catalog(dir / "index.sqlite", Catalog::Durability::EachCommit);
    catalog.addInstances({annot::test::makeRecord(instance("1.1", "1.1.1", "1.1.1.1"))});
  }
  {
    // Back to schema version 1, as written by an earlier release.
    sqlite::Database db(dir / "index.sqlite");
    db.exec("DROP TABLE ingest_durable");
    db.exec("PRAGMA user_version = 1");
  }
  SqliteCatalog catalog(dir / "index.sqlite", kBarrier);
  catalog.addInstances({annot::test::makeRecord(instance("1.1", "1.1.1", "1.1.1.2"))});
  EXPECT_EQ(uidsOf(catalog.instancesPastDurableMark()), std::vector<std::string>{"1.1.1.2"});
}

TEST_F(IngestRecoveryTest, RowsFlushedAtEachCommitNeedNoCheck) {
  SqliteCatalog catalog(dir / "index.sqlite", Catalog::Durability::EachCommit);
  catalog.addInstances({annot::test::makeRecord(instance("1.1", "1.1.1", "1.1.1.1"))});
  catalog.addInstances({annot::test::makeRecord(instance("1.1", "1.1.1", "1.1.1.2"))});
  EXPECT_TRUE(catalog.instancesPastDurableMark().empty());
}

namespace {
// A disk whose barrier fails (an I/O error while flushing).
class FailingBarrierStore : public FileInstanceStore {
 public:
  using FileInstanceStore::FileInstanceStore;
  bool syncFilesystem() override { throw StorageError(StorageError::Kind::Io, "cannot sync filesystem: I/O error"); }
};
}  // namespace

TEST_F(IngestRecoveryTest, AFailedBarrierAcknowledgesNothingAndLeavesNoRow) {
  FailingBarrierStore store(dir.path());
  SqliteCatalog catalog(dir / "index.sqlite", kBarrier);
  IngestPipeline pipeline(catalog, store, bus, metrics, IngestOptions{0});
  const IngestResult r = ingest(pipeline, instance("1.1", "1.1.1", "1.1.1.1"));
  EXPECT_EQ(r.status, store_status::ProcessingFailure);
  EXPECT_NE(r.message.find("I/O error"), std::string::npos) << r.message;
  EXPECT_FALSE(catalog.hasInstance("1.1.1.1")) << "a re-send must not be taken for a duplicate";
  EXPECT_FALSE(catalog.getStudy("1.1"));
  EXPECT_EQ(metrics.instancesReceived, 0u);
}

TEST_F(IngestRecoveryTest, OneBarrierPerGroupOnlyWhenTheStoreCoversTheCatalog) {
  FileInstanceStore store(dir.path());
  EXPECT_EQ(catalogDurabilityFor(store, dir / "index.sqlite"), kBarrier) << "not created yet: its folder decides";
  { SqliteCatalog created(dir / "index.sqlite"); }
  EXPECT_EQ(catalogDurabilityFor(store, dir / "index.sqlite"), kBarrier);
  struct stat shm{}, here{};
  if (::stat("/dev/shm", &shm) != 0 || ::stat(dir.path().c_str(), &here) != 0 || shm.st_dev == here.st_dev) {
    GTEST_SKIP() << "no second filesystem (/dev/shm) to place a catalog on";
  }
  EXPECT_EQ(catalogDurabilityFor(store, "/dev/shm/annot-catalog-probe.sqlite"), Catalog::Durability::EachCommit);
}

namespace {
// A platform without syncfs(2).
class NoBarrierStore : public FileInstanceStore {
 public:
  using FileInstanceStore::FileInstanceStore;
  bool syncFilesystem() override { return false; }
};
}  // namespace

TEST_F(IngestRecoveryTest, WithoutAFilesystemBarrierEveryCommitFlushesAndIngestStillWorks) {
  NoBarrierStore store(dir.path());
  const auto durability = catalogDurabilityFor(store, dir / "index.sqlite");
  EXPECT_EQ(durability, Catalog::Durability::EachCommit);
  SqliteCatalog catalog(dir / "index.sqlite", durability);
  IngestPipeline pipeline(catalog, store, bus, metrics, IngestOptions{0});
  const IngestResult r = ingest(pipeline, instance("1.1", "1.1.1", "1.1.1.1"));
  EXPECT_EQ(r.status, store_status::Success) << r.message;
  EXPECT_TRUE(catalog.hasInstance("1.1.1.1"));
}

namespace {
// A one-shot gate between the test and a thread inside the node's ingest path.
struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool open = false;
  void release() {
    { std::lock_guard<std::mutex> lock(mutex); open = true; }
    changed.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [this] { return open; });
  }
};

// The first barrier waits until released and then fails; later barriers succeed.
class HeldThenFailingBarrierStore : public FileInstanceStore {
 public:
  using FileInstanceStore::FileInstanceStore;
  Gate entered, release;
  bool syncFilesystem() override {
    if (calls_++ == 0) {
      entered.release();
      release.wait();
      throw StorageError(StorageError::Kind::Io, "cannot sync filesystem: I/O error");
    }
    return FileInstanceStore::syncFilesystem();
  }
 private:
  std::atomic<int> calls_{0};
};

}  // namespace

TEST_F(IngestRecoveryTest, AReSendDuringTheFirstCopysFailedBarrierIsStoredNotTakenForADuplicate) {
  HeldThenFailingBarrierStore store(dir.path());
  SqliteCatalog catalog(dir / "index.sqlite", kBarrier);
  IngestPipeline pipeline(catalog, store, bus, metrics, IngestOptions{0});
  const TestInstance spec = instance("1.1", "1.1.1", "1.1.1.1");

  auto first = std::async(std::launch::async, [&] { return ingest(pipeline, spec); });
  store.entered.wait();  // the first copy's row is committed; its barrier is running
  auto resend = std::async(std::launch::async, [&] { return ingest(pipeline, spec); });
  // The re-send finds the first copy in flight and waits for its outcome. (EXPECT, not ASSERT:
  // the barrier must be released either way, or the futures would never finish.)
  EXPECT_TRUE(annot::test::eventually([&] { return metrics.copiesWaited.load() == 1; }));
  store.release.release();

  const IngestResult a = first.get();
  const IngestResult b = resend.get();
  EXPECT_EQ(a.status, store_status::ProcessingFailure) << a.message;
  EXPECT_EQ(b.status, store_status::Success) << b.message;
  EXPECT_FALSE(b.duplicate) << "answered as a copy of a row its failed barrier withdrew";
  const auto stored = catalog.findInstance(spec.sopUid);
  ASSERT_TRUE(stored);
  EXPECT_TRUE(exists(store.absolutePath(stored->storageKey)));
  EXPECT_EQ(metrics.instancesReceived, 1u);
}
