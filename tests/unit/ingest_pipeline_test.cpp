#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <future>
#include <thread>

#include "catalog/SqliteCatalog.h"
#include "dicom/InstanceHeader.h"
#include "ingest/IngestPipeline.h"
#include "storage/FileInstanceStore.h"
#include "support/DicomFixtures.h"
#include "support/TestSupport.h"

using namespace annot;
using annot::test::TestInstance;

namespace {
bool exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

// Every pipeline test runs with both commit disciplines (GroupCommitter): the catalog flushing
// each commit itself, and one storage barrier per group (the node's default).
class IngestTest : public ::testing::TestWithParam<Catalog::Durability> {
 protected:
  annot::test::TempDir dir;
  FileInstanceStore store{dir.path()};
  SqliteCatalog catalog{dir / "index.sqlite", GetParam()};
  Metrics metrics;
  EventBus bus;

  std::string scratchWith(const TestInstance& spec, IngestPipeline& pipeline) {
    const std::string path = pipeline.newIncomingPath();
    annot::test::writeTestInstance(path, spec);
    return path;
  }
};
}  // namespace

TEST_P(IngestTest, StoresIndexesAndAnnouncesANewInstance) {
  IngestPipeline pipeline(catalog, store, bus, metrics, IngestOptions{0});
  std::vector<InstanceStoredEvent> events;
  bus.onInstanceStored([&](const InstanceStoredEvent& e) { events.push_back(e); });
  TestInstance spec;
  const std::string scratch = scratchWith(spec, pipeline);
  const IngestResult r = pipeline.ingest({scratch, spec.sopClassUid, spec.sopUid, "MODALITY"});
  EXPECT_EQ(r.status, store_status::Success) << r.message;
  EXPECT_FALSE(r.duplicate);
  EXPECT_FALSE(exists(scratch));
  const auto stored = catalog.findInstance(spec.sopUid);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->callingAet, "MODALITY");
  EXPECT_TRUE(exists(store.absolutePath(stored->storageKey)));
  EXPECT_GT(stored->fileSize, 0u);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].studyInstanceUid, spec.studyUid);
  EXPECT_EQ(metrics.instancesReceived, 1u);
}

TEST_P(IngestTest, ResendingTheSameInstanceIsAcknowledgedOnce) {
  IngestPipeline pipeline(catalog, store, bus, metrics, IngestOptions{0});
  TestInstance spec;
  EXPECT_EQ(pipeline.ingest({scratchWith(spec, pipeline), spec.sopClassUid, spec.sopUid, ""}).status, 0);
  const IngestResult again = pipeline.ingest({scratchWith(spec, pipeline), spec.sopClassUid, spec.sopUid, ""});
  EXPECT_EQ(again.status, store_status::Success);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(catalog.totals().instances, 1u);
  EXPECT_EQ(metrics.instancesDuplicate, 1u);
  EXPECT_TRUE(annot::test::listFiles(dir / "incoming").empty());
  // The first copy's barrier had passed when the re-send came: its answer needs none of its own.
  EXPECT_EQ(metrics.commitBatches, 1u);
}

TEST_P(IngestTest, TheSameSopInstanceUnderAnotherStudyOrSeriesIsRefused) {
  IngestPipeline pipeline(catalog, store, bus, metrics, IngestOptions{0});
  TestInstance spec;
  ASSERT_EQ(pipeline.ingest({scratchWith(spec, pipeline), spec.sopClassUid, spec.sopUid, ""}).status, 0);
  const auto storedKey = catalog.findInstance(spec.sopUid)->storageKey;
  for (int which = 0; which < 2; ++which) {
    TestInstance moved = spec;
    (which == 0 ? moved.studyUid : moved.seriesUid) += ".9";
    const IngestResult r = pipeline.ingest({scratchWith(moved, pipeline), moved.sopClassUid, moved.sopUid, ""});
    EXPECT_EQ(r.status, store_status::DuplicateSopInstance);
    EXPECT_FALSE(r.duplicate);
    EXPECT_NE(r.message.find("already stored in study " + spec.studyUid), std::string::npos) << r.message;
  }
  // The first copy stays as it was, file and row.
  const auto place = catalog.placeOf(spec.sopUid);
  ASSERT_TRUE(place);
  EXPECT_EQ(place->studyInstanceUid, spec.studyUid);
  EXPECT_EQ(place->seriesInstanceUid, spec.seriesUid);
  EXPECT_EQ(catalog.totals().instances, 1u);
  EXPECT_EQ(metrics.failuresMismatch, 2u);
  EXPECT_EQ(metrics.instancesDuplicate, 0u);
  EXPECT_EQ(readInstanceHeader(store.absolutePath(storedKey)).study.studyInstanceUid, spec.studyUid);
  EXPECT_TRUE(annot::test::listFiles(dir / "incoming").empty());
}

// Two associations sending copies of one SOP Instance at the same moment: both examine it
// before either has indexed it. The second waits for the first's outcome instead of moving its
// file over the first one's, and is then answered as a re-send or refused as a conflict.
TEST_P(IngestTest, ACopyExaminedWhileAnotherIsBeingStoredWaitsForItsOutcome) {
  IngestPipeline pipeline(catalog, store, bus, metrics, IngestOptions{0});
  TestInstance spec, conflicting = spec;
  conflicting.studyUid += ".9";
  for (const TestInstance* second : {&conflicting, &spec}) {
    const bool sameObject = second == &spec;
    if (sameObject) spec.sopUid += ".2";
    const TestInstance& other = sameObject ? spec : *second;
    const ReceivedObject first{scratchWith(spec, pipeline), spec.sopClassUid, spec.sopUid, "A"};
    const ReceivedObject copy{scratchWith(other, pipeline), other.sopClassUid, other.sopUid, "B"};
    ExaminedObject firstExamined = pipeline.examine(first);
    ExaminedObject copyExamined = pipeline.examine(copy);
    EXPECT_FALSE(firstExamined.seenInCatalog);
    EXPECT_TRUE(copyExamined.claim.contended());

    auto copyDone = std::async(std::launch::async, [&] { return pipeline.complete(copy, std::move(copyExamined)); });
    EXPECT_EQ(copyDone.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout)
        << "the copy waits while the first is being stored";
    const IngestResult firstResult = pipeline.complete(first, std::move(firstExamined));
    const IngestResult copyResult = copyDone.get();
    EXPECT_EQ(firstResult.status, store_status::Success) << firstResult.message;
    EXPECT_FALSE(firstResult.duplicate);
    if (sameObject) {
      EXPECT_EQ(copyResult.status, store_status::Success) << copyResult.message;
      EXPECT_TRUE(copyResult.duplicate);
    } else {
      EXPECT_EQ(copyResult.status, store_status::DuplicateSopInstance) << copyResult.message;
    }
    // The first copy's row and file, untouched by the second.
    const auto stored = catalog.findInstance(spec.sopUid);
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->callingAet, "A");
    EXPECT_EQ(catalog.placeOf(spec.sopUid)->studyInstanceUid, spec.studyUid);
    EXPECT_EQ(readInstanceHeader(store.absolutePath(stored->storageKey)).study.studyInstanceUid, spec.studyUid);
  }
  EXPECT_EQ(catalog.totals().instances, 2u);
  EXPECT_EQ(metrics.instancesDuplicate, 1u);
  EXPECT_EQ(metrics.failuresMismatch, 1u);
  EXPECT_EQ(metrics.copiesWaited, 2u);
  EXPECT_TRUE(annot::test::listFiles(dir / "incoming").empty());
}

// A row that appears between the lookup and the commit was written by someone the claims do
// not cover (another process on the same catalog): the copy is refused, not acknowledged as a
// re-send whose file it may have replaced.
TEST_P(IngestTest, ARowIndexedBehindThePipelinesBackIsRefusedNotTakenForAReSend) {
  struct BlindCatalog : SqliteCatalog {
    using SqliteCatalog::SqliteCatalog;
    bool hasInstance(const std::string&) override { return false; }  // never sees the row
  } blind{dir / "blind.sqlite", GetParam()};
  IngestPipeline pipeline(blind, store, bus, metrics, IngestOptions{0});
  TestInstance spec;
  ASSERT_EQ(pipeline.ingest({scratchWith(spec, pipeline), spec.sopClassUid, spec.sopUid, "A"}).status, 0);
  const IngestResult again = pipeline.ingest({scratchWith(spec, pipeline), spec.sopClassUid, spec.sopUid, "B"});
  EXPECT_EQ(again.status, store_status::ProcessingFailure) << again.message;
  EXPECT_FALSE(again.duplicate);
  EXPECT_NE(again.message.find("indexed concurrently"), std::string::npos) << again.message;
  EXPECT_EQ(metrics.failuresProcessing, 1u);
  EXPECT_EQ(metrics.instancesDuplicate, 0u);
  EXPECT_EQ(blind.findInstance(spec.sopUid)->callingAet, "A");
}

// Whether commits were grouped depends on timing here; GroupCommitterTest shows the grouping
// itself deterministically. What must hold whatever the timing: nothing lost, nothing twice.
TEST_P(IngestTest, ConcurrentIngestLosesNothingAndStoresNothingTwice) {
  IngestPipeline pipeline(catalog, store, bus, metrics, IngestOptions{0});
  constexpr int kThreads = 4, kEach = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        TestInstance spec;
        spec.studyUid = "9." + std::to_string(t);
        spec.seriesUid = "9." + std::to_string(t) + ".1";
        spec.sopUid = "9." + std::to_string(t) + ".1." + std::to_string(i);
        if (pipeline.ingest({scratchWith(spec, pipeline), spec.sopClassUid, spec.sopUid, ""}).status != 0) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(catalog.totals().instances, static_cast<uint64_t>(kThreads * kEach));
  EXPECT_EQ(annot::test::listFiles(dir / "instances", ".dcm").size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(metrics.instancesReceived, static_cast<uint64_t>(kThreads * kEach));
  EXPECT_EQ(metrics.instancesDuplicate, 0u);
  EXPECT_GE(metrics.commitBatches, 1u);
}

TEST_P(IngestTest, BadInputGetsTheRightStatusAndLeavesNoTrace) {
  IngestPipeline pipeline(catalog, store, bus, metrics, IngestOptions{0});
  TestInstance spec;

  const std::string garbage = pipeline.newIncomingPath();
  annot::test::writeFile(garbage, std::string(500, 'x'));
  const IngestResult unreadable = pipeline.ingest({garbage, spec.sopClassUid, spec.sopUid, ""});
  EXPECT_EQ(unreadable.status, store_status::CannotUnderstand);
  EXPECT_FALSE(exists(garbage));

  TestInstance noStudy = spec;
  noStudy.omitStudyUid = true;
  const IngestResult missing = pipeline.ingest({scratchWith(noStudy, pipeline), spec.sopClassUid, spec.sopUid, ""});
  EXPECT_EQ(missing.status, store_status::DataSetDoesNotMatchSopClass);
  EXPECT_NE(missing.message.find("Study Instance UID"), std::string::npos);

  const IngestResult mismatch =
      pipeline.ingest({scratchWith(spec, pipeline), "1.2.840.10008.5.1.4.1.1.4", spec.sopUid, ""});
  EXPECT_EQ(mismatch.status, store_status::DataSetDoesNotMatchSopClass);
  EXPECT_NE(mismatch.message.find("differs from the command"), std::string::npos);

  EXPECT_EQ(catalog.totals().instances, 0u);
  EXPECT_TRUE(annot::test::listFiles(dir / "incoming").empty());
  EXPECT_EQ(metrics.failuresMalformed, 1u);
  EXPECT_EQ(metrics.failuresMismatch, 2u);
}

TEST_P(IngestTest, RefusesWithOutOfResourcesBelowTheFreeSpaceReserve) {
  IngestPipeline pipeline(catalog, store, bus, metrics, IngestOptions{store.availableBytes() + (1ull << 40)});
  TestInstance spec;
  const IngestResult r = pipeline.ingest({scratchWith(spec, pipeline), spec.sopClassUid, spec.sopUid, ""});
  EXPECT_EQ(r.status, store_status::OutOfResources);
  EXPECT_FALSE(catalog.hasInstance(spec.sopUid));
  EXPECT_EQ(metrics.failuresOutOfResources, 1u);
}

TEST_P(IngestTest, ExaminingLeavesTheScratchFileAloneUntilCompleted) {
  IngestPipeline pipeline(catalog, store, bus, metrics, IngestOptions{0});
  TestInstance spec;
  const ReceivedObject good{scratchWith(spec, pipeline), spec.sopClassUid, spec.sopUid, "MODALITY"};
  ExaminedObject examined = pipeline.examine(good);
  EXPECT_EQ(examined.verdict.status, store_status::Success) << examined.verdict.message;
  EXPECT_EQ(examined.record.instance.sopInstanceUid, spec.sopUid);
  EXPECT_TRUE(exists(good.incomingPath)) << "examine() must not consume the file";
  EXPECT_FALSE(catalog.hasInstance(spec.sopUid));
  EXPECT_EQ(pipeline.complete(good, std::move(examined)).status, store_status::Success);
  EXPECT_TRUE(catalog.hasInstance(spec.sopUid));

  // A refusal found by examine() is carried out, and counted, by complete().
  TestInstance other;
  other.sopUid = "1.2.3.4.5.6.7.8.99";
  const ReceivedObject mismatched{scratchWith(other, pipeline), "1.2.840.10008.5.1.4.1.1.4", other.sopUid, ""};
  ExaminedObject refused = pipeline.examine(mismatched);
  EXPECT_EQ(refused.verdict.status, store_status::DataSetDoesNotMatchSopClass);
  EXPECT_TRUE(exists(mismatched.incomingPath));
  EXPECT_EQ(metrics.failuresMismatch, 0u);
  EXPECT_EQ(pipeline.complete(mismatched, std::move(refused)).status, store_status::DataSetDoesNotMatchSopClass);
  EXPECT_FALSE(exists(mismatched.incomingPath));
  EXPECT_EQ(metrics.failuresMismatch, 1u);
}

TEST_P(IngestTest, BytesWhoseHeaderWasAlreadyCheckedAreNotParsedAgain) {
  IngestPipeline pipeline(catalog, store, bus, metrics, IngestOptions{0});
  TestInstance spec;
  const std::string file = scratchWith(spec, pipeline);
  const std::string bytes = annot::test::readFile(file);
  const InstanceRecord header = readInstanceHeader(file);

  // The header given is the one used: here it names another instance than the bytes do, which
  // shows nothing was parsed again (STOW-RS hands over the header it checked).
  InstanceRecord renamed = header;
  renamed.instance.sopInstanceUid = "1.2.826.0.1.3680043.10.1.1.1.77";
  const IngestResult stored = pipeline.ingestBytes(bytes, "STOW", &renamed);
  ASSERT_EQ(stored.status, store_status::Success) << stored.message;
  EXPECT_TRUE(catalog.hasInstance("1.2.826.0.1.3680043.10.1.1.1.77"));
  EXPECT_FALSE(catalog.hasInstance(spec.sopUid));

  // Without one, the bytes are parsed as before.
  const IngestResult parsed = pipeline.ingestBytes(bytes, "STOW");
  ASSERT_EQ(parsed.status, store_status::Success) << parsed.message;
  EXPECT_TRUE(catalog.hasInstance(spec.sopUid));
}

INSTANTIATE_TEST_SUITE_P(BothDisciplines, IngestTest,
                         ::testing::Values(Catalog::Durability::EachCommit, Catalog::Durability::ByStorageBarrier),
                         [](const ::testing::TestParamInfo<Catalog::Durability>& info) {
                           return info.param == Catalog::Durability::EachCommit ? "EachCommit" : "ByStorageBarrier";
                         });
