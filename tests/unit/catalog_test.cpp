#include <gtest/gtest.h>

#include "catalog/SchemaMigrations.h"
#include "catalog/SqliteCatalog.h"
#include "support/DicomFixtures.h"
#include "support/TestSupport.h"

using namespace annot;
using annot::test::makeRecord;
using annot::test::TestInstance;

namespace {
TestInstance instance(const std::string& study, const std::string& series, const std::string& sop) {
  return annot::test::instanceIn(study, series, sop);
}

class CatalogTest : public ::testing::Test {
 protected:
  annot::test::TempDir dir;
  SqliteCatalog catalog{dir / "index.sqlite"};
};
}  // namespace

TEST_F(CatalogTest, CreatesTheNewestSchema) {
  EXPECT_EQ(catalog.schemaVersion(), latestCatalogSchemaVersion());
  EXPECT_GE(latestCatalogSchemaVersion(), 1);
}

TEST_F(CatalogTest, RefusesADatabaseFromANewerVersion) {
  {
    sqlite::Database db(dir / "future.sqlite");
    db.exec("PRAGMA user_version = 999");
  }
  try {
    SqliteCatalog future(dir / "future.sqlite");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("newer than this build supports"), std::string::npos);
  }
}

TEST_F(CatalogTest, IndexesAllLevelsAndCountsThem) {
  std::vector<InstanceRecord> batch;
  for (int i = 1; i <= 3; ++i) batch.push_back(makeRecord(instance("1.1", "1.1.1", "1.1.1." + std::to_string(i)), 1000 + i, 100));
  batch.push_back(makeRecord(instance("1.1", "1.1.2", "1.1.2.1"), 2000, 50));
  const auto outcomes = catalog.addInstances(batch);
  ASSERT_EQ(outcomes.size(), 4u);
  for (auto o : outcomes) EXPECT_EQ(o, CommitOutcome::Inserted);

  const auto detail = catalog.getStudy("1.1");
  ASSERT_TRUE(detail);
  EXPECT_EQ(detail->summary.seriesCount, 2u);
  EXPECT_EQ(detail->summary.instanceCount, 4u);
  EXPECT_EQ(detail->summary.totalBytes, 350u);
  EXPECT_EQ(detail->summary.firstReceivedMs, 1001);
  EXPECT_EQ(detail->summary.lastUpdateMs, 2000);
  EXPECT_EQ(detail->summary.patient.patientId, "PAT1");
  EXPECT_EQ(detail->summary.modalities, std::vector<std::string>{"CT"});
  ASSERT_EQ(detail->series.size(), 2u);
  EXPECT_EQ(detail->series[0].instances.size() + detail->series[1].instances.size(), 4u);
  EXPECT_EQ(detail->series[0].instanceCount + detail->series[1].instanceCount, 4u);

  const auto totals = catalog.totals();
  EXPECT_EQ(totals.patients, 1u);
  EXPECT_EQ(totals.studies, 1u);
  EXPECT_EQ(totals.series, 2u);
  EXPECT_EQ(totals.instances, 4u);
  EXPECT_EQ(totals.bytes, 350u);
}

TEST_F(CatalogTest, AStudyStaysWithThePatientItWasFiledUnder) {
  // The first instance files the study under its patient; later instances of the same study
  // carrying other patient data neither move it nor leave a patient without studies behind.
  catalog.addInstances({makeRecord(instance("5.1", "5.1.1", "5.1.1.1"))});
  TestInstance conflicting = instance("5.1", "5.1.1", "5.1.1.2");
  conflicting.patientId = "OTHER";
  conflicting.patientName = "Roe^Richard";
  EXPECT_EQ(catalog.addInstances({makeRecord(conflicting)}), std::vector<CommitOutcome>{CommitOutcome::Inserted});

  const auto detail = catalog.getStudy("5.1");
  ASSERT_TRUE(detail);
  EXPECT_EQ(detail->summary.patient.patientId, "PAT1");
  EXPECT_EQ(detail->summary.instanceCount, 2u);
  EXPECT_EQ(catalog.totals().patients, 1u);

  // A new study of that other patient still gets its own patient row.
  TestInstance second = instance("5.2", "5.2.1", "5.2.1.1");
  second.patientId = "OTHER";
  catalog.addInstances({makeRecord(second)});
  EXPECT_EQ(catalog.getStudy("5.2")->summary.patient.patientId, "OTHER");
  EXPECT_EQ(catalog.totals().patients, 2u);
}

TEST_F(CatalogTest, ReAddingAnInstanceIsIdempotent) {
  const auto r = makeRecord(instance("1.1", "1.1.1", "1.1.1.1"));
  EXPECT_EQ(catalog.addInstances({r})[0], CommitOutcome::Inserted);
  EXPECT_EQ(catalog.addInstances({r, r})[0], CommitOutcome::AlreadyPresent);
  EXPECT_TRUE(catalog.hasInstance("1.1.1.1"));
  EXPECT_EQ(catalog.totals().instances, 1u);
  EXPECT_EQ(catalog.getStudy("1.1")->summary.instanceCount, 1u);
  EXPECT_EQ(catalog.getStudy("1.1")->summary.totalBytes, r.fileSize);
}

TEST_F(CatalogTest, FiltersStudiesByPatientDateAndModalityWithPaging) {
  std::vector<InstanceRecord> batch;
  for (int i = 0; i < 12; ++i) {
    TestInstance t = instance("2." + std::to_string(i), "2." + std::to_string(i) + ".1", "2." + std::to_string(i) + ".1.1");
    t.patientId = i % 2 ? "ODD" : "EVEN";
    t.studyDate = "202401" + std::string(i < 9 ? "0" : "") + std::to_string(i + 1);
    t.modality = i % 3 ? "CT" : "MR";
    batch.push_back(makeRecord(t));
  }
  catalog.addInstances(batch);

  StudyQuery byPatient;
  byPatient.patientId = "ODD";
  EXPECT_EQ(catalog.findStudies(byPatient).total, 6u);

  StudyQuery byDate;
  byDate.dateFrom = "20240103";
  byDate.dateTo = "20240105";
  const auto dated = catalog.findStudies(byDate);
  EXPECT_EQ(dated.total, 3u);
  for (const auto& s : dated.studies) {
    EXPECT_GE(s.study.studyDate, "20240103");
    EXPECT_LE(s.study.studyDate, "20240105");
  }

  StudyQuery byModality;
  byModality.modality = "MR";
  EXPECT_EQ(catalog.findStudies(byModality).total, 4u);

  StudyQuery page;
  page.limit = 5;
  page.offset = 10;
  const auto last = catalog.findStudies(page);
  EXPECT_EQ(last.total, 12u);
  EXPECT_EQ(last.studies.size(), 2u);
  // Newest study date first.
  StudyQuery first;
  first.limit = 1;
  EXPECT_EQ(catalog.findStudies(first).studies.at(0).study.studyDate, "20240112");
}

TEST_F(CatalogTest, StabilityIsRecordedOnlyForUnchangedStudies) {
  catalog.addInstances({makeRecord(instance("3.1", "3.1.1", "3.1.1.1"), 5000)});
  ASSERT_EQ(catalog.unstableStudies().size(), 1u);
  EXPECT_EQ(catalog.unstableStudies()[0].lastUpdateMs, 5000);
  // A newer instance arrived after the monitor looked: not stable yet.
  catalog.addInstances({makeRecord(instance("3.1", "3.1.1", "3.1.1.2"), 6000)});
  EXPECT_FALSE(catalog.markStable("3.1", 5000));
  EXPECT_TRUE(catalog.markStable("3.1", 6000));
  EXPECT_TRUE(catalog.getStudy("3.1")->summary.stable);
  EXPECT_TRUE(catalog.unstableStudies().empty());
  // A late instance makes it unstable again, so the worklist hears about it once more.
  catalog.addInstances({makeRecord(instance("3.1", "3.1.1", "3.1.1.3"), 7000)});
  EXPECT_FALSE(catalog.getStudy("3.1")->summary.stable);
}

TEST_F(CatalogTest, SurvivesReopening) {
  catalog.addInstances({makeRecord(instance("4.1", "4.1.1", "4.1.1.1"))});
  SqliteCatalog reopened(dir / "index.sqlite");
  EXPECT_TRUE(reopened.hasInstance("4.1.1.1"));
  EXPECT_EQ(reopened.findInstance("4.1.1.1")->storageKey, "aa/4.1.1.1.dcm");
  EXPECT_FALSE(reopened.findInstance("4.1.1.9"));
}

TEST(SqliteDatabase, ACachedStatementIsReusedAndHoldsNoSnapshotBetweenUses) {
  annot::test::TempDir dir;
  sqlite::Database writer(dir / "db.sqlite");
  writer.exec("PRAGMA journal_mode=WAL");
  writer.exec("CREATE TABLE t(x INTEGER)");
  writer.exec("INSERT INTO t VALUES (1), (2), (3)");
  sqlite::Database reader(dir / "db.sqlite");
  const sqlite::Statement* first = nullptr;
  {
    auto st = reader.cached("SELECT x FROM t ORDER BY x");
    first = &*st;
    ASSERT_TRUE(st->step());  // stopped after one of three rows: the read is still open here
    EXPECT_EQ(st->integer(0), 1);
  }
  {
    auto st = reader.cached("SELECT x FROM t ORDER BY x");
    EXPECT_EQ(&*st, first) << "prepared once, reused";
    ASSERT_TRUE(st->step());
    EXPECT_EQ(st->integer(0), 1) << "starts from the first row again";
  }
  // With the reader's snapshot released, a checkpoint can move the whole WAL into the database.
  writer.exec("INSERT INTO t VALUES (4)");
  auto checkpoint = writer.prepare("PRAGMA wal_checkpoint(TRUNCATE)");
  ASSERT_TRUE(checkpoint.step());
  EXPECT_EQ(checkpoint.integer(0), 0) << "a reader still holds a snapshot";
}
