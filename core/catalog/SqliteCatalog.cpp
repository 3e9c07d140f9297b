#include "catalog/SqliteCatalog.h"

#include <algorithm>

#include "catalog/CatalogRows.h"
#include "catalog/SchemaMigrations.h"

namespace annot {
namespace {
using sqlite::Database;
using sqlite::Statement;
using catalog::kInstanceColumns;
using catalog::readInstance;
using catalog::readStudy;

void configureConnection(Database& db, Catalog::Durability durability) {
  db.exec("PRAGMA journal_mode=WAL");
  // FULL: the WAL is fsync'd at every commit, so a committed row is durable on return.
  // NORMAL: no fsync at commit (the WAL stays consistent; checkpoints still sync); the caller's
  // filesystem barrier provides durability.
  db.exec(durability == Catalog::Durability::EachCommit ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  db.exec("PRAGMA foreign_keys=ON");
}

}  // namespace

SqliteCatalog::SqliteCatalog(const std::string& databasePath, Durability durability)
    : path_(databasePath), durability_(durability), readers_([path = databasePath] {
        auto db = std::make_unique<Database>(path);
        db->exec("PRAGMA foreign_keys=ON");
        return db;
      }) {
  writer_ = std::make_unique<Database>(path_);
  configureConnection(*writer_, durability_);
  migrateCatalogSchema(*writer_);
  statements_ = std::make_unique<WriterStatements>(*writer_);
  auto mark = writer_->prepare("SELECT through_row, (SELECT coalesce(max(id), 0) FROM instances) FROM ingest_durable");
  if (mark.step()) {
    recordedThrough_ = durableThrough_ = mark.integer(0);
    committedThrough_ = mark.integer(1);
  }
}

SqliteCatalog::~SqliteCatalog() = default;

// Statements of the ingest path, prepared once: re-preparing them per row cost more than the
// inserts themselves.
struct SqliteCatalog::WriterStatements {
  explicit WriterStatements(Database& db)
      : instanceExists(db.prepare("SELECT 1 FROM instances WHERE sop_uid = ?")),
        insertPatient(db.prepare("INSERT OR IGNORE INTO patients(patient_id, issuer, patient_name, birth_date, sex) "
                                 "VALUES(?,?,?,?,?)")),
        findPatient(db.prepare("SELECT id FROM patients WHERE patient_id = ? AND issuer = ?")),
        findStudy(db.prepare("SELECT id FROM studies WHERE study_uid = ?")),
        insertStudy(db.prepare("INSERT INTO studies(patient_fk, study_uid, study_date, study_time, accession_number, "
                               "study_id, description, referring_physician, patient_age, patient_sex, "
                               "first_received_ms, last_update_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)")),
        findSeries(db.prepare("SELECT id FROM series WHERE series_uid = ?")),
        insertSeries(db.prepare("INSERT INTO series(study_fk, series_uid, modality, series_number, description, "
                                "body_part, manufacturer, manufacturer_model, frame_of_reference_uid) "
                                "VALUES(?,?,?,?,?,?,?,?,?)")),
        countSeries(db.prepare("UPDATE studies SET series_count = series_count + 1 WHERE id = ?")),
        insertInstance(db.prepare("INSERT INTO instances(series_fk, sop_uid, sop_class_uid, instance_number, "
                                  "transfer_syntax_uid, rows, columns, number_of_frames, storage_key, file_size, "
                                  "received_ms, calling_aet) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)")),
        countSeriesInstance(db.prepare("UPDATE series SET instance_count = instance_count + 1 WHERE id = ?")),
        countStudyInstance(db.prepare("UPDATE studies SET instance_count = instance_count + 1, "
                                      "total_bytes = total_bytes + ?, last_update_ms = max(last_update_ms, ?), "
                                      "stable = 0 WHERE id = ?")),
        markStable(db.prepare("UPDATE studies SET stable = 1 WHERE study_uid = ? AND last_update_ms <= ? AND stable = 0")),
        recordDurable(db.prepare("UPDATE ingest_durable SET through_row = ?")) {}

  Statement instanceExists, insertPatient, findPatient, findStudy, insertStudy, findSeries, insertSeries,
      countSeries, insertInstance, countSeriesInstance, countStudyInstance, markStable, recordDurable;
};

std::vector<CommitOutcome> SqliteCatalog::addInstances(const std::vector<InstanceRecord>& records) {
  std::lock_guard<std::mutex> lock(writeMutex_);
  sqlite::Transaction tx(*writer_);
  std::vector<CommitOutcome> outcomes;
  outcomes.reserve(records.size());
  for (const auto& r : records) outcomes.push_back(insertOne(r));
  // The instance row is the last insert of insertOne(), so this is the newest instance row.
  const bool inserted = std::find(outcomes.begin(), outcomes.end(), CommitOutcome::Inserted) != outcomes.end();
  const int64_t newest = inserted ? writer_->lastInsertRowId() : committedThrough_;
  // A flushed commit is durable with its own rows; otherwise the mark trails by one barrier.
  if (durability_ == Durability::EachCommit) durableThrough_ = newest;
  recordDurableMarkLocked();
  tx.commit();
  committedThrough_ = newest;
  return outcomes;
}

void SqliteCatalog::recordDurableMarkLocked() {
  if (durableThrough_ == recordedThrough_) return;
  statements_->recordDurable.reset();
  statements_->recordDurable.bind(1, durableThrough_).run();
  recordedThrough_ = durableThrough_;
}

int64_t SqliteCatalog::commitMark() {
  std::lock_guard<std::mutex> lock(writeMutex_);
  return committedThrough_;
}

void SqliteCatalog::markDurable(int64_t mark) {
  std::lock_guard<std::mutex> lock(writeMutex_);
  durableThrough_ = std::max(durableThrough_, mark);
}

void SqliteCatalog::writeDurableMark() {
  std::lock_guard<std::mutex> lock(writeMutex_);
  recordDurableMarkLocked();
}

std::vector<UnconfirmedInstance> SqliteCatalog::instancesPastDurableMark() {
  std::lock_guard<std::mutex> lock(writeMutex_);
  auto st = writer_->prepare(
      "SELECT sop_uid, storage_key, file_size FROM instances "
      "WHERE id > (SELECT through_row FROM ingest_durable) ORDER BY id");
  std::vector<UnconfirmedInstance> out;
  while (st.step()) out.push_back({st.text(0), st.text(1), static_cast<uint64_t>(st.integer(2))});
  return out;
}

void SqliteCatalog::removeInstances(const std::vector<std::string>& sopInstanceUids) {
  std::lock_guard<std::mutex> lock(writeMutex_);
  sqlite::Transaction tx(*writer_);
  auto find = writer_->prepare(
      "SELECT i.id, i.series_fk, se.study_fk, st.patient_fk, i.file_size FROM instances i "
      "JOIN series se ON se.id = i.series_fk JOIN studies st ON st.id = se.study_fk WHERE i.sop_uid = ?");
  for (const auto& uid : sopInstanceUids) {
    find.reset();
    find.bind(1, uid);
    if (!find.step()) continue;
    const int64_t row = find.integer(0), series = find.integer(1), study = find.integer(2), patient = find.integer(3),
                  size = find.integer(4);
    writer_->prepare("DELETE FROM instances WHERE id = ?").bind(1, row).run();
    writer_->prepare("UPDATE series SET instance_count = instance_count - 1 WHERE id = ?").bind(1, series).run();
    writer_->prepare("UPDATE studies SET instance_count = instance_count - 1, total_bytes = total_bytes - ? WHERE id = ?")
        .bind(1, size).bind(2, study).run();
    writer_->prepare("DELETE FROM series WHERE id = ? AND instance_count <= 0").bind(1, series).run();
    if (writer_->changes() > 0) {
      writer_->prepare("UPDATE studies SET series_count = series_count - 1 WHERE id = ?").bind(1, study).run();
    }
    writer_->prepare("DELETE FROM studies WHERE id = ? AND instance_count <= 0").bind(1, study).run();
    writer_->prepare("DELETE FROM patients WHERE id = ? AND NOT EXISTS (SELECT 1 FROM studies WHERE patient_fk = ?)")
        .bind(1, patient).bind(2, patient).run();
  }
  auto newest = writer_->prepare("SELECT coalesce(max(id), 0) FROM instances");
  newest.step();
  committedThrough_ = newest.integer(0);
  tx.commit();
}

namespace {
// Runs a lookup returning one id, or 0 when there is no row.
int64_t lookupId(Statement& st) {
  const int64_t id = st.step() ? st.integer(0) : 0;
  st.reset();
  return id;
}
}  // namespace

CommitOutcome SqliteCatalog::insertOne(const InstanceRecord& r) {
  WriterStatements& w = *statements_;
  w.instanceExists.reset();
  w.instanceExists.bind(1, r.instance.sopInstanceUid);
  if (lookupId(w.instanceExists)) return CommitOutcome::AlreadyPresent;

  w.findStudy.reset();
  w.findStudy.bind(1, r.study.studyInstanceUid);
  int64_t studyRow = lookupId(w.findStudy);
  if (!studyRow) {
    // Patient: the first instance of a patient defines its demographics. A known study keeps
    // the patient it was filed under, so later instances of it need no patient lookup.
    w.insertPatient.reset();
    w.insertPatient.bind(1, r.patient.patientId).bind(2, r.patient.issuerOfPatientId).bind(3, r.patient.patientName)
        .bind(4, r.patient.birthDate).bind(5, r.patient.sex).run();
    w.findPatient.reset();
    w.findPatient.bind(1, r.patient.patientId).bind(2, r.patient.issuerOfPatientId);
    const int64_t patientRow = lookupId(w.findPatient);

    w.insertStudy.reset();
    w.insertStudy.bind(1, patientRow).bind(2, r.study.studyInstanceUid).bind(3, r.study.studyDate)
        .bind(4, r.study.studyTime).bind(5, r.study.accessionNumber).bind(6, r.study.studyId)
        .bind(7, r.study.description).bind(8, r.study.referringPhysician).bind(9, r.study.patientAge)
        .bind(10, r.study.patientSex).bind(11, r.receivedAtMs).bind(12, r.receivedAtMs).run();
    studyRow = writer_->lastInsertRowId();
  }

  w.findSeries.reset();
  w.findSeries.bind(1, r.series.seriesInstanceUid);
  int64_t seriesRow = lookupId(w.findSeries);
  if (!seriesRow) {
    w.insertSeries.reset();
    w.insertSeries.bind(1, studyRow).bind(2, r.series.seriesInstanceUid).bind(3, r.series.modality)
        .bind(4, r.series.seriesNumber).bind(5, r.series.description).bind(6, r.series.bodyPart)
        .bind(7, r.series.manufacturer).bind(8, r.series.manufacturerModel)
        .bind(9, r.series.frameOfReferenceUid).run();
    seriesRow = writer_->lastInsertRowId();
    w.countSeries.reset();
    w.countSeries.bind(1, studyRow).run();
  }

  w.insertInstance.reset();
  w.insertInstance.bind(1, seriesRow).bind(2, r.instance.sopInstanceUid).bind(3, r.instance.sopClassUid)
      .bind(4, r.instance.instanceNumber).bind(5, r.instance.transferSyntaxUid)
      .bind(6, static_cast<int64_t>(r.instance.rows)).bind(7, static_cast<int64_t>(r.instance.columns))
      .bind(8, static_cast<int64_t>(r.instance.numberOfFrames)).bind(9, r.storageKey)
      .bind(10, static_cast<int64_t>(r.fileSize)).bind(11, r.receivedAtMs).bind(12, r.callingAet).run();
  w.countSeriesInstance.reset();
  w.countSeriesInstance.bind(1, seriesRow).run();
  w.countStudyInstance.reset();
  w.countStudyInstance.bind(1, static_cast<int64_t>(r.fileSize)).bind(2, r.receivedAtMs).bind(3, studyRow).run();
  return CommitOutcome::Inserted;
}

bool SqliteCatalog::hasInstance(const std::string& sopInstanceUid) {
  auto db = reader();
  auto st = db->cached("SELECT 1 FROM instances WHERE sop_uid = ?");
  st->bind(1, sopInstanceUid);
  return st->step();
}

std::optional<InstancePlace> SqliteCatalog::placeOf(const std::string& sopInstanceUid) {
  auto db = reader();
  auto st = db->cached(
      "SELECT s.study_uid, se.series_uid FROM instances i JOIN series se ON se.id = i.series_fk "
      "JOIN studies s ON s.id = se.study_fk WHERE i.sop_uid = ?");
  st->bind(1, sopInstanceUid);
  if (!st->step()) return std::nullopt;
  return InstancePlace{st->text(0), st->text(1)};
}

std::optional<InstanceSummary> SqliteCatalog::findInstance(const std::string& sopInstanceUid) {
  auto db = reader();
  auto st = db->prepare(std::string("SELECT ") + kInstanceColumns + "FROM instances i WHERE i.sop_uid = ?");
  st.bind(1, sopInstanceUid);
  if (!st.step()) return std::nullopt;
  return readInstance(st, 0);
}

std::vector<std::vector<std::string>> SqliteCatalog::query(const std::string& sql, const std::vector<std::string>& params) {
  auto db = reader();
  auto st = db->prepare(sql);
  for (size_t i = 0; i < params.size(); ++i) st.bind(static_cast<int>(i + 1), params[i]);
  std::vector<std::vector<std::string>> rows;
  while (st.step()) {
    std::vector<std::string> row;
    for (int c = 0; c < st.columnCount(); ++c) row.push_back(st.text(c));
    rows.push_back(std::move(row));
  }
  return rows;
}

StudyPage SqliteCatalog::findStudies(const StudyQuery& q) {
  const catalog::Filter filter = catalog::studyFilter(q);
  const std::string from = " FROM studies s JOIN patients p ON p.id = s.patient_fk";
  auto db = reader();
  StudyPage page;
  {
    auto count = db->prepare("SELECT count(*)" + from + filter.where);
    for (size_t i = 0; i < filter.params.size(); ++i) count.bind(static_cast<int>(i + 1), filter.params[i]);
    count.step();
    page.total = static_cast<uint64_t>(count.integer(0));
  }
  auto st = db->prepare("SELECT " + catalog::studyColumns(SqlDialect::Sqlite) + from + filter.where +
                        " ORDER BY s.study_date DESC, s.id DESC LIMIT ? OFFSET ?");
  int index = 1;
  for (const auto& p : filter.params) st.bind(index++, p);
  st.bind(index++, static_cast<int64_t>(q.limit));
  st.bind(index++, static_cast<int64_t>(q.offset));
  while (st.step()) page.studies.push_back(readStudy(st));
  return page;
}

std::optional<StudyDetail> SqliteCatalog::getStudy(const std::string& studyInstanceUid) {
  auto db = reader();
  // One snapshot for study, series and instances so counts agree with the lists.
  sqlite::Transaction snapshot(*db, /*immediate=*/false);
  auto st = db->prepare("SELECT " + catalog::studyColumns(SqlDialect::Sqlite) +
                        ", s.id FROM studies s JOIN patients p ON p.id = s.patient_fk WHERE s.study_uid = ?");
  st.bind(1, studyInstanceUid);
  if (!st.step()) return std::nullopt;
  StudyDetail detail;
  detail.summary = readStudy(st);
  const int64_t studyRow = st.integer(catalog::kStudyColumnCount);

  auto series = db->prepare(catalog::seriesOfStudy(SqlDialect::Sqlite));
  series.bind(1, studyRow);
  auto instances = db->prepare(catalog::instancesOfSeries(SqlDialect::Sqlite));
  while (series.step()) {
    SeriesSummary s = catalog::readSeries(series, 1);
    instances.reset();
    instances.bind(1, series.integer(0));
    while (instances.step()) s.instances.push_back(readInstance(instances, 0));
    detail.series.push_back(std::move(s));
  }
  snapshot.commit();
  return detail;
}

std::vector<PendingStudy> SqliteCatalog::unstableStudies() {
  auto db = reader();
  auto st = db->prepare("SELECT study_uid, last_update_ms FROM studies WHERE stable = 0");
  std::vector<PendingStudy> out;
  while (st.step()) out.push_back({st.text(0), st.integer(1)});
  return out;
}

bool SqliteCatalog::markStable(const std::string& studyInstanceUid, int64_t lastUpdateMs) {
  std::lock_guard<std::mutex> lock(writeMutex_);
  statements_->markStable.reset();
  statements_->markStable.bind(1, studyInstanceUid).bind(2, lastUpdateMs).run();
  return writer_->changes() > 0;
}

StudyIndex::Totals SqliteCatalog::totals() {
  auto db = reader();
  auto st = db->prepare(
      "SELECT (SELECT count(*) FROM patients), (SELECT count(*) FROM studies), (SELECT count(*) FROM series), "
      "(SELECT count(*) FROM instances), (SELECT coalesce(sum(file_size),0) FROM instances)");
  st.step();
  return {static_cast<uint64_t>(st.integer(0)), static_cast<uint64_t>(st.integer(1)),
          static_cast<uint64_t>(st.integer(2)), static_cast<uint64_t>(st.integer(3)),
          static_cast<uint64_t>(st.integer(4))};
}

int SqliteCatalog::schemaVersion() {
  auto db = reader();
  auto st = db->prepare("PRAGMA user_version");
  st.step();
  return static_cast<int>(st.integer(0));
}

}  // namespace annot
