#include "catalog/SchemaMigrations.h"

#include <stdexcept>
#include <string>
#include <vector>


namespace annot {
namespace {
// Each entry moves the schema from version N to N+1. Never edit a released step: add a new one.
const std::vector<const char*>& migrations() {
  static const std::vector<const char*> steps = {
      // 0 -> 1: the patient/study/series/instance index.
      R"SQL(
CREATE TABLE patients(
  id INTEGER PRIMARY KEY,
  patient_id TEXT NOT NULL,
  issuer TEXT NOT NULL DEFAULT '',
  patient_name TEXT NOT NULL DEFAULT '',
  birth_date TEXT NOT NULL DEFAULT '',
  sex TEXT NOT NULL DEFAULT '',
  UNIQUE(patient_id, issuer));
CREATE TABLE studies(
  id INTEGER PRIMARY KEY,
  patient_fk INTEGER NOT NULL REFERENCES patients(id),
  study_uid TEXT NOT NULL UNIQUE,
  study_date TEXT NOT NULL DEFAULT '',
  study_time TEXT NOT NULL DEFAULT '',
  accession_number TEXT NOT NULL DEFAULT '',
  study_id TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  referring_physician TEXT NOT NULL DEFAULT '',
  patient_age TEXT NOT NULL DEFAULT '',
  patient_sex TEXT NOT NULL DEFAULT '',
  series_count INTEGER NOT NULL DEFAULT 0,
  instance_count INTEGER NOT NULL DEFAULT 0,
  total_bytes INTEGER NOT NULL DEFAULT 0,
  first_received_ms INTEGER NOT NULL,
  last_update_ms INTEGER NOT NULL,
  stable INTEGER NOT NULL DEFAULT 0);
CREATE INDEX studies_patient ON studies(patient_fk);
CREATE INDEX studies_date ON studies(study_date, id);
CREATE INDEX studies_unstable ON studies(stable) WHERE stable = 0;
CREATE TABLE series(
  id INTEGER PRIMARY KEY,
  study_fk INTEGER NOT NULL REFERENCES studies(id),
  series_uid TEXT NOT NULL UNIQUE,
  modality TEXT NOT NULL DEFAULT '',
  series_number TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  body_part TEXT NOT NULL DEFAULT '',
  manufacturer TEXT NOT NULL DEFAULT '',
  manufacturer_model TEXT NOT NULL DEFAULT '',
  frame_of_reference_uid TEXT NOT NULL DEFAULT '',
  instance_count INTEGER NOT NULL DEFAULT 0);
CREATE INDEX series_study ON series(study_fk);
CREATE INDEX series_modality ON series(modality, study_fk);
CREATE TABLE instances(
  id INTEGER PRIMARY KEY,
  series_fk INTEGER NOT NULL REFERENCES series(id),
  sop_uid TEXT NOT NULL UNIQUE,
  sop_class_uid TEXT NOT NULL,
  instance_number TEXT NOT NULL DEFAULT '',
  transfer_syntax_uid TEXT NOT NULL,
  rows INTEGER NOT NULL DEFAULT 0,
  columns INTEGER NOT NULL DEFAULT 0,
  number_of_frames INTEGER NOT NULL DEFAULT 0,
  storage_key TEXT NOT NULL,
  file_size INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  calling_aet TEXT NOT NULL DEFAULT '');
CREATE INDEX instances_series ON instances(series_fk);
)SQL",
      // 1 -> 2: the newest instance row known durable (Catalog::Durability::ByStorageBarrier).
      // Rows written before this version were each flushed at commit.
      R"SQL(
CREATE TABLE ingest_durable(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  through_row INTEGER NOT NULL);
INSERT INTO ingest_durable(id, through_row) SELECT 1, coalesce(max(id), 0) FROM instances;
)SQL",
  };
  return steps;
}

}  // namespace

int latestCatalogSchemaVersion() { return static_cast<int>(migrations().size()); }

int migrateCatalogSchema(sqlite::Database& db) { return sqlite::applyMigrations(db, migrations(), "catalog"); }

}  // namespace annot
