#include "catalog/PostgresCatalog.h"

#include <chrono>
#include <thread>
#include <vector>

#include "catalog/CatalogRows.h"
#include "common/Log.h"

namespace annot {
namespace {
using catalog::kInstanceColumns;
using catalog::readInstance;
using catalog::readStudy;

// The index schema, step by step like SQLite's (catalog/SchemaMigrations.cpp), with its own
// version row: the state's steps live in the same database.
const std::vector<const char*>& migrations() {
  static const std::vector<const char*> steps = {
      R"SQL(
CREATE TABLE patients(
  id BIGSERIAL PRIMARY KEY,
  patient_id TEXT NOT NULL,
  issuer TEXT NOT NULL DEFAULT '',
  patient_name TEXT NOT NULL DEFAULT '',
  birth_date TEXT NOT NULL DEFAULT '',
  sex TEXT NOT NULL DEFAULT '',
  UNIQUE(patient_id, issuer));
CREATE TABLE studies(
  id BIGSERIAL PRIMARY KEY,
  patient_fk BIGINT NOT NULL REFERENCES patients(id),
  study_uid TEXT NOT NULL UNIQUE,
  study_date TEXT NOT NULL DEFAULT '',
  study_time TEXT NOT NULL DEFAULT '',
  accession_number TEXT NOT NULL DEFAULT '',
  study_id TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  referring_physician TEXT NOT NULL DEFAULT '',
  patient_age TEXT NOT NULL DEFAULT '',
  patient_sex TEXT NOT NULL DEFAULT '',
  series_count BIGINT NOT NULL DEFAULT 0,
  instance_count BIGINT NOT NULL DEFAULT 0,
  total_bytes BIGINT NOT NULL DEFAULT 0,
  first_received_ms BIGINT NOT NULL,
  last_update_ms BIGINT NOT NULL,
  stable BIGINT NOT NULL DEFAULT 0);
CREATE INDEX studies_patient ON studies(patient_fk);
CREATE INDEX studies_date ON studies(study_date, id);
CREATE INDEX studies_unstable ON studies(stable) WHERE stable = 0;
CREATE TABLE series(
  id BIGSERIAL PRIMARY KEY,
  study_fk BIGINT NOT NULL REFERENCES studies(id),
  series_uid TEXT NOT NULL UNIQUE,
  modality TEXT NOT NULL DEFAULT '',
  series_number TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  body_part TEXT NOT NULL DEFAULT '',
  manufacturer TEXT NOT NULL DEFAULT '',
  manufacturer_model TEXT NOT NULL DEFAULT '',
  frame_of_reference_uid TEXT NOT NULL DEFAULT '',
  instance_count BIGINT NOT NULL DEFAULT 0);
CREATE INDEX series_study ON series(study_fk);
CREATE INDEX series_modality ON series(modality, study_fk);
CREATE TABLE instances(
  id BIGSERIAL PRIMARY KEY,
  series_fk BIGINT NOT NULL REFERENCES series(id),
  sop_uid TEXT NOT NULL UNIQUE,
  sop_class_uid TEXT NOT NULL,
  instance_number TEXT NOT NULL DEFAULT '',
  transfer_syntax_uid TEXT NOT NULL,
  rows BIGINT NOT NULL DEFAULT 0,
  columns BIGINT NOT NULL DEFAULT 0,
  number_of_frames BIGINT NOT NULL DEFAULT 0,
  storage_key TEXT NOT NULL,
  file_size BIGINT NOT NULL,
  received_ms BIGINT NOT NULL,
  calling_aet TEXT NOT NULL DEFAULT '');
CREATE INDEX instances_series ON instances(series_fk);
)SQL",
  };
  return steps;
}

constexpr int64_t kSchemaLock = 0x616e6e6f74000003;  // "annot" + 3


// The id a conflict-free insert returned, or the row another node made first.
int64_t insertedOrExisting(pg::Statement& insert, pg::Connection& db, const std::string& lookup, const std::string& key,
                           const std::string& key2 = {}, bool twoKeys = false) {
  if (insert.step()) return insert.integer(0);
  auto existing = db.prepare(lookup);
  existing.bind(1, key);
  if (twoKeys) existing.bind(2, key2);
  if (!existing.step()) throw std::runtime_error("a row of the index vanished while being filed (" + key + ")");
  return existing.integer(0);
}

template <typename Statement>
void bindAll(Statement& st, const std::vector<std::string>& params) {
  for (size_t i = 0; i < params.size(); ++i) st.bind(static_cast<int>(i + 1), params[i]);
}
}  // namespace

PostgresCatalog::PostgresCatalog(const std::string& uri)
    : uri_(uri), readers_([uri] { return std::make_unique<pg::Connection>(uri); }) {
  writer_ = std::make_unique<pg::Connection>(uri_);
  pg::applyMigrations(*writer_, migrations(), "catalog_version", kSchemaLock, "catalog");
  LOG_INFO("catalog", "index on PostgreSQL " << writer_->describe());
}

PostgresCatalog::~PostgresCatalog() = default;

template <typename Work>
auto PostgresCatalog::writing(Work&& work) {
  std::lock_guard<std::mutex> lock(writeMutex_);
  writer_->reconnectIfBroken();
  for (int attempt = 1;; ++attempt) {
    try {
      return work(*writer_);
    } catch (const pg::PgError& e) {
      // A deadlock with another node's group (they filed the same studies in another order), or
      // a study or series another node removed (emptied by a rejection) between lookup and use.
      if (!(e.retryable() || e.sqlState() == "23503") || attempt >= 10) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(5 * attempt));
    }
  }
}

LendingPool<pg::Connection>::Lease PostgresCatalog::reader() {
  auto lease = readers_.lease();
  lease->reconnectIfBroken();
  return lease;
}

std::vector<CommitOutcome> PostgresCatalog::addInstances(const std::vector<InstanceRecord>& records) {
  return writing([&](pg::Connection& db) {
    pg::Transaction tx(db, true, pg::Transaction::Isolation::ReadCommitted);
    std::vector<CommitOutcome> outcomes;
    outcomes.reserve(records.size());
    for (const auto& r : records) outcomes.push_back(insertOne(r));
    tx.commit();
    return outcomes;
  });
}

CommitOutcome PostgresCatalog::insertOne(const InstanceRecord& r) {
  pg::Connection& db = *writer_;
  int64_t studyRow = 0;
  {
    auto study = db.prepare("SELECT id FROM studies WHERE study_uid = ?");
    study.bind(1, r.study.studyInstanceUid);
    if (study.step()) studyRow = study.integer(0);
  }
  if (!studyRow) {
    // The first instance of a patient defines its demographics; a known study keeps its patient.
    auto patient = db.prepare("INSERT INTO patients(patient_id, issuer, patient_name, birth_date, sex) VALUES(?,?,?,?,?) "
                              "ON CONFLICT (patient_id, issuer) DO NOTHING RETURNING id");
    patient.bind(1, r.patient.patientId).bind(2, r.patient.issuerOfPatientId).bind(3, r.patient.patientName)
        .bind(4, r.patient.birthDate).bind(5, r.patient.sex);
    const int64_t patientRow = insertedOrExisting(patient, db, "SELECT id FROM patients WHERE patient_id = ? AND issuer = ?",
                                                  r.patient.patientId, r.patient.issuerOfPatientId, true);
    auto study = db.prepare("INSERT INTO studies(patient_fk, study_uid, study_date, study_time, accession_number, study_id, description, "
                            "referring_physician, patient_age, patient_sex, first_received_ms, last_update_ms) "
                            "VALUES(?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (study_uid) DO NOTHING RETURNING id");
    study.bind(1, patientRow).bind(2, r.study.studyInstanceUid).bind(3, r.study.studyDate).bind(4, r.study.studyTime)
        .bind(5, r.study.accessionNumber).bind(6, r.study.studyId).bind(7, r.study.description).bind(8, r.study.referringPhysician)
        .bind(9, r.study.patientAge).bind(10, r.study.patientSex).bind(11, r.receivedAtMs).bind(12, r.receivedAtMs);
    studyRow = insertedOrExisting(study, db, "SELECT id FROM studies WHERE study_uid = ?", r.study.studyInstanceUid);
  }
  auto series = db.prepare("INSERT INTO series(study_fk, series_uid, modality, series_number, description, body_part, manufacturer, "
                           "manufacturer_model, frame_of_reference_uid) VALUES(?,?,?,?,?,?,?,?,?) "
                           "ON CONFLICT (series_uid) DO NOTHING RETURNING id");
  series.bind(1, studyRow).bind(2, r.series.seriesInstanceUid).bind(3, r.series.modality).bind(4, r.series.seriesNumber)
      .bind(5, r.series.description).bind(6, r.series.bodyPart).bind(7, r.series.manufacturer).bind(8, r.series.manufacturerModel)
      .bind(9, r.series.frameOfReferenceUid);
  const bool newSeries = series.step();
  const int64_t seriesRow = newSeries ? series.integer(0)
                                      : insertedOrExisting(series, db, "SELECT id FROM series WHERE series_uid = ?", r.series.seriesInstanceUid);
  if (newSeries) db.prepare("UPDATE studies SET series_count = series_count + 1 WHERE id = ?").bind(1, studyRow).run();
  auto instance = db.prepare("INSERT INTO instances(series_fk, sop_uid, sop_class_uid, instance_number, transfer_syntax_uid, rows, columns, "
                             "number_of_frames, storage_key, file_size, received_ms, calling_aet) VALUES(?,?,?,?,?,?,?,?,?,?,?,?) "
                             "ON CONFLICT (sop_uid) DO NOTHING");
  instance.bind(1, seriesRow).bind(2, r.instance.sopInstanceUid).bind(3, r.instance.sopClassUid).bind(4, r.instance.instanceNumber)
      .bind(5, r.instance.transferSyntaxUid).bind(6, static_cast<int64_t>(r.instance.rows)).bind(7, static_cast<int64_t>(r.instance.columns))
      .bind(8, static_cast<int64_t>(r.instance.numberOfFrames)).bind(9, r.storageKey).bind(10, static_cast<int64_t>(r.fileSize))
      .bind(11, r.receivedAtMs).bind(12, r.callingAet);
  if (instance.run() == 0) return CommitOutcome::AlreadyPresent;
  db.prepare("UPDATE series SET instance_count = instance_count + 1 WHERE id = ?").bind(1, seriesRow).run();
  db.prepare("UPDATE studies SET instance_count = instance_count + 1, total_bytes = total_bytes + ?, "
             "last_update_ms = GREATEST(last_update_ms, ?), stable = 0 WHERE id = ?")
      .bind(1, static_cast<int64_t>(r.fileSize)).bind(2, r.receivedAtMs).bind(3, studyRow).run();
  return CommitOutcome::Inserted;
}

void PostgresCatalog::removeInstances(const std::vector<std::string>& sopInstanceUids) {
  writing([&](pg::Connection& db) {
    pg::Transaction tx(db, true, pg::Transaction::Isolation::ReadCommitted);
    for (const auto& uid : sopInstanceUids) {
      auto find = db.prepare("SELECT i.id, i.series_fk, se.study_fk, st.patient_fk, i.file_size FROM instances i "
                             "JOIN series se ON se.id = i.series_fk JOIN studies st ON st.id = se.study_fk WHERE i.sop_uid = ? FOR UPDATE");
      find.bind(1, uid);
      if (!find.step()) continue;
      const int64_t row = find.integer(0), seriesRow = find.integer(1), study = find.integer(2), patient = find.integer(3),
                    size = find.integer(4);
      db.prepare("DELETE FROM instances WHERE id = ?").bind(1, row).run();
      db.prepare("UPDATE series SET instance_count = instance_count - 1 WHERE id = ?").bind(1, seriesRow).run();
      db.prepare("UPDATE studies SET instance_count = instance_count - 1, total_bytes = total_bytes - ? WHERE id = ?")
          .bind(1, size).bind(2, study).run();
      if (db.prepare("DELETE FROM series WHERE id = ? AND instance_count <= 0").bind(1, seriesRow).run() > 0) {
        db.prepare("UPDATE studies SET series_count = series_count - 1 WHERE id = ?").bind(1, study).run();
      }
      db.prepare("DELETE FROM studies WHERE id = ? AND instance_count <= 0").bind(1, study).run();
      db.prepare("DELETE FROM patients WHERE id = ? AND NOT EXISTS (SELECT 1 FROM studies WHERE patient_fk = ?)")
          .bind(1, patient).bind(2, patient).run();
    }
    tx.commit();
  });
}

bool PostgresCatalog::hasInstance(const std::string& sopInstanceUid) {
  auto db = reader();
  auto st = db->prepare("SELECT 1 FROM instances WHERE sop_uid = ?");
  st.bind(1, sopInstanceUid);
  return st.step();
}

std::optional<InstancePlace> PostgresCatalog::placeOf(const std::string& sopInstanceUid) {
  auto db = reader();
  auto st = db->prepare("SELECT s.study_uid, se.series_uid FROM instances i JOIN series se ON se.id = i.series_fk "
                        "JOIN studies s ON s.id = se.study_fk WHERE i.sop_uid = ?");
  st.bind(1, sopInstanceUid);
  if (!st.step()) return std::nullopt;
  return InstancePlace{st.text(0), st.text(1)};
}

std::optional<InstanceSummary> PostgresCatalog::findInstance(const std::string& sopInstanceUid) {
  auto db = reader();
  auto st = db->prepare(std::string("SELECT ") + kInstanceColumns + "FROM instances i WHERE i.sop_uid = ?");
  st.bind(1, sopInstanceUid);
  if (!st.step()) return std::nullopt;
  return readInstance(st, 0);
}

std::vector<std::vector<std::string>> PostgresCatalog::query(const std::string& sql, const std::vector<std::string>& params) {
  auto db = reader();
  std::vector<std::optional<std::string>> values(params.begin(), params.end());
  const pg::Result result = db->query(sql, values);
  std::vector<std::vector<std::string>> rows;
  rows.reserve(static_cast<size_t>(result.rows()));
  for (int r = 0; r < result.rows(); ++r) {
    std::vector<std::string> row;
    for (int c = 0; c < result.columns(); ++c) row.push_back(result.text(r, c));
    rows.push_back(std::move(row));
  }
  return rows;
}

StudyPage PostgresCatalog::findStudies(const StudyQuery& q) {
  const catalog::Filter filter = catalog::studyFilter(q);
  const std::string from = " FROM studies s JOIN patients p ON p.id = s.patient_fk";
  auto db = reader();
  // One snapshot for the count and the page.
  pg::Transaction snapshot(*db, false, pg::Transaction::Isolation::Snapshot);
  StudyPage page;
  auto count = db->prepare("SELECT count(*)" + from + filter.where);
  bindAll(count, filter.params);
  count.step();
  page.total = static_cast<uint64_t>(count.integer(0));
  auto st = db->prepare("SELECT " + catalog::studyColumns(SqlDialect::Postgres) + from + filter.where +
                        " ORDER BY s.study_date DESC, s.id DESC LIMIT ? OFFSET ?");
  bindAll(st, filter.params);
  st.bind(static_cast<int>(filter.params.size() + 1), static_cast<int64_t>(q.limit));
  st.bind(static_cast<int>(filter.params.size() + 2), static_cast<int64_t>(q.offset));
  while (st.step()) page.studies.push_back(readStudy(st));
  snapshot.commit();
  return page;
}

std::optional<StudyDetail> PostgresCatalog::getStudy(const std::string& studyInstanceUid) {
  auto db = reader();
  // One snapshot for study, series and instances so counts agree with the lists.
  pg::Transaction snapshot(*db, false, pg::Transaction::Isolation::Snapshot);
  auto st = db->prepare("SELECT " + catalog::studyColumns(SqlDialect::Postgres) +
                        ", s.id FROM studies s JOIN patients p ON p.id = s.patient_fk WHERE s.study_uid = ?");
  st.bind(1, studyInstanceUid);
  if (!st.step()) return std::nullopt;
  StudyDetail detail;
  detail.summary = readStudy(st);
  auto series = db->prepare(catalog::seriesOfStudy(SqlDialect::Postgres));
  series.bind(1, st.integer(catalog::kStudyColumnCount));
  while (series.step()) {
    SeriesSummary s = catalog::readSeries(series, 1);
    auto instances = db->prepare(catalog::instancesOfSeries(SqlDialect::Postgres));
    instances.bind(1, series.integer(0));
    while (instances.step()) s.instances.push_back(readInstance(instances, 0));
    detail.series.push_back(std::move(s));
  }
  snapshot.commit();
  return detail;
}

std::vector<PendingStudy> PostgresCatalog::unstableStudies() {
  auto db = reader();
  auto st = db->prepare("SELECT study_uid, last_update_ms FROM studies WHERE stable = 0");
  std::vector<PendingStudy> out;
  while (st.step()) out.push_back({st.text(0), st.integer(1)});
  return out;
}

bool PostgresCatalog::markStable(const std::string& studyInstanceUid, int64_t lastUpdateMs) {
  // One node wins: the others find it stable already and announce nothing.
  return writing([&](pg::Connection& db) {
    return db.prepare("UPDATE studies SET stable = 1 WHERE study_uid = ? AND last_update_ms <= ? AND stable = 0")
               .bind(1, studyInstanceUid).bind(2, lastUpdateMs).run() > 0;
  });
}

StudyIndex::Totals PostgresCatalog::totals() {
  auto db = reader();
  auto st = db->prepare("SELECT (SELECT count(*) FROM patients), (SELECT count(*) FROM studies), (SELECT count(*) FROM series), "
                        "(SELECT count(*) FROM instances), (SELECT coalesce(sum(file_size), 0) FROM instances)");
  st.step();
  return {static_cast<uint64_t>(st.integer(0)), static_cast<uint64_t>(st.integer(1)), static_cast<uint64_t>(st.integer(2)),
          static_cast<uint64_t>(st.integer(3)), static_cast<uint64_t>(st.integer(4))};
}

int PostgresCatalog::schemaVersion() {
  auto db = reader();
  auto st = db->prepare("SELECT version FROM catalog_version WHERE id = 1");
  st.step();
  return static_cast<int>(st.integer(0));
}

}  // namespace annot
