#include "state/StateDatabase.h"

#include <chrono>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/Log.h"

namespace annot {
namespace {
const std::vector<const char*>& migrations() {
  static const std::vector<const char*> steps = {
      // 0 -> 1: users, their API tokens (salted hashes only) and the hash-chained audit trail.
      R"SQL(
CREATE TABLE users(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0);
CREATE TABLE tokens(
  id INTEGER PRIMARY KEY,
  user_fk INTEGER NOT NULL REFERENCES users(id),
  salt TEXT NOT NULL,
  hash TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  last_used_ms INTEGER NOT NULL DEFAULT 0,
  revoked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX tokens_user ON tokens(user_fk);
CREATE TABLE audit(
  id INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  user_name TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  object_type TEXT NOT NULL,
  object_id TEXT NOT NULL,
  outcome TEXT NOT NULL,
  detail TEXT NOT NULL,
  source TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL);
CREATE INDEX audit_user ON audit(user_name, id);
CREATE INDEX audit_action ON audit(action, id);
-- The trail is append-only: the database refuses edits and deletions.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
)SQL",
      // 1 -> 2: the labeling worklist (UPS-like states) and immutable annotation revisions.
      R"SQL(
CREATE TABLE tasks(
  id INTEGER PRIMARY KEY,
  study_uid TEXT NOT NULL,
  protocol_id TEXT NOT NULL,
  protocol_version TEXT NOT NULL,
  step TEXT NOT NULL,
  reader_slot INTEGER NOT NULL,
  state TEXT NOT NULL,
  priority TEXT NOT NULL DEFAULT 'MEDIUM',
  due TEXT NOT NULL DEFAULT '',
  assignee TEXT NOT NULL DEFAULT '',
  lease_expires_ms INTEGER NOT NULL DEFAULT 0,
  transaction_uid TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  UNIQUE(study_uid, protocol_id, protocol_version, step, reader_slot));
CREATE INDEX tasks_state ON tasks(state, id);
CREATE INDEX tasks_assignee ON tasks(assignee, state);
CREATE TABLE revisions(
  id INTEGER PRIMARY KEY,
  task_fk INTEGER NOT NULL REFERENCES tasks(id),
  number INTEGER NOT NULL,
  author TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  document TEXT NOT NULL,
  UNIQUE(task_fk, number));
-- Saved work is never overwritten or lost.
CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions BEGIN SELECT RAISE(ABORT, 'revisions are immutable'); END;
CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions BEGIN SELECT RAISE(ABORT, 'revisions are immutable'); END;
)SQL",
      // 2 -> 3: review decisions and the DICOM objects produced from approved work.
      R"SQL(
CREATE TABLE reviews(
  id INTEGER PRIMARY KEY,
  review_task_fk INTEGER NOT NULL REFERENCES tasks(id),
  label_task_fk INTEGER REFERENCES tasks(id),
  decision TEXT NOT NULL,
  comment TEXT NOT NULL,
  reviewer TEXT NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE TABLE outputs(
  id INTEGER PRIMARY KEY,
  task_fk INTEGER NOT NULL REFERENCES tasks(id),
  revision INTEGER NOT NULL,
  kind TEXT NOT NULL,
  sop_class_uid TEXT NOT NULL,
  sop_instance_uid TEXT NOT NULL UNIQUE,
  series_instance_uid TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  UNIQUE(task_fk, revision, kind));
)SQL",
      // 3 -> 4: the durable outbox towards PACS destinations, with every attempt recorded.
      R"SQL(
CREATE TABLE outbox(
  id INTEGER PRIMARY KEY,
  sop_instance_uid TEXT NOT NULL,
  destination TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_status TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT '',
  next_attempt_ms INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  sent_ms INTEGER NOT NULL DEFAULT 0,
  UNIQUE(sop_instance_uid, destination));
CREATE INDEX outbox_due ON outbox(state, next_attempt_ms);
CREATE TABLE outbox_attempts(
  id INTEGER PRIMARY KEY,
  outbox_fk INTEGER NOT NULL REFERENCES outbox(id),
  time_ms INTEGER NOT NULL,
  dimse_status TEXT NOT NULL,
  message TEXT NOT NULL);
)SQL",
      // 4 -> 5: reader agreement recorded per case when its review is decided.
      R"SQL(
CREATE TABLE agreements(
  id INTEGER PRIMARY KEY,
  study_uid TEXT NOT NULL,
  protocol_id TEXT NOT NULL,
  protocol_version TEXT NOT NULL,
  computed_ms INTEGER NOT NULL,
  result TEXT NOT NULL);
CREATE INDEX agreements_case ON agreements(study_uid, protocol_id, protocol_version);
)SQL",
      // 5 -> 6: tasks may be scoped to one series of a study (empty: the whole study).
      R"SQL(
CREATE TABLE tasks_v6(
  id INTEGER PRIMARY KEY,
  study_uid TEXT NOT NULL,
  series_uid TEXT NOT NULL DEFAULT '',
  protocol_id TEXT NOT NULL,
  protocol_version TEXT NOT NULL,
  step TEXT NOT NULL,
  reader_slot INTEGER NOT NULL,
  state TEXT NOT NULL,
  priority TEXT NOT NULL DEFAULT 'MEDIUM',
  due TEXT NOT NULL DEFAULT '',
  assignee TEXT NOT NULL DEFAULT '',
  lease_expires_ms INTEGER NOT NULL DEFAULT 0,
  transaction_uid TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  UNIQUE(study_uid, series_uid, protocol_id, protocol_version, step, reader_slot));
INSERT INTO tasks_v6(id, study_uid, protocol_id, protocol_version, step, reader_slot, state, priority, due, assignee,
                     lease_expires_ms, transaction_uid, created_ms, updated_ms)
  SELECT id, study_uid, protocol_id, protocol_version, step, reader_slot, state, priority, due, assignee,
         lease_expires_ms, transaction_uid, created_ms, updated_ms FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_v6 RENAME TO tasks;
CREATE INDEX tasks_state ON tasks(state, id);
CREATE INDEX tasks_assignee ON tasks(assignee, state);
)SQL",
      // 7: the Orthanc plugin's position in Orthanc's change log, and the studies that received
      // someone else's instances since they were last scheduled (survives restarts of Orthanc).
      R"SQL(
CREATE TABLE change_cursor(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_seq INTEGER NOT NULL);
CREATE TABLE touched_studies(
  orthanc_id TEXT PRIMARY KEY,
  since_ms INTEGER NOT NULL);
)SQL",
      // 8: the researcher view: the de-identification key, the UIDs handed out (for the way
      // back), and which researchers an admin allowed to see identified data.
      R"SQL(
CREATE TABLE deid_key(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  secret TEXT NOT NULL);
CREATE TABLE deid_uids(
  deidentified TEXT PRIMARY KEY,
  original TEXT NOT NULL);
ALTER TABLE users ADD COLUMN identified_access INTEGER NOT NULL DEFAULT 0;
)SQL",
      // 9: draft revisions. A draft may lack what the protocol requires; submitting needs a
      // complete latest revision. Earlier revisions were all validated in full.
      R"SQL(
ALTER TABLE revisions ADD COLUMN complete INTEGER NOT NULL DEFAULT 1;
)SQL",
      // 10: agreements belong to a case, which may be one series of a study.
      R"SQL(
ALTER TABLE agreements ADD COLUMN series_uid TEXT NOT NULL DEFAULT '';
)SQL",
      // 11: tokens expire (0: never). Tokens issued before expire 90 days after the upgrade,
      // the default lifetime, rather than never.
      R"SQL(
ALTER TABLE tokens ADD COLUMN expires_ms INTEGER NOT NULL DEFAULT 0;
UPDATE tokens SET expires_ms = CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 90 * 86400000 WHERE revoked = 0;
)SQL",
      // 12: results owed. An approval (or a submit without review) commits together with the
      // results it owes; they are written after the commit and again after a crash. An output
      // row is recorded (stored = 0) before its instance is stored, so a second attempt writes
      // it under the same UIDs instead of leaving a result at the PACS nobody lists.
      R"SQL(
CREATE TABLE results_due(
  task_fk INTEGER PRIMARY KEY REFERENCES tasks(id),
  verifier TEXT NOT NULL,
  created_ms INTEGER NOT NULL);
ALTER TABLE outputs ADD COLUMN stored INTEGER NOT NULL DEFAULT 1;
)SQL",
      // 13: the study an audit entry concerns when its object is an instance or a series, and
      // how far the trail has gone out to each ATNA audit repository (by entry id).
      R"SQL(
ALTER TABLE audit ADD COLUMN study_uid TEXT NOT NULL DEFAULT '';
CREATE TABLE atna_cursor(
  repository TEXT PRIMARY KEY,
  last_id INTEGER NOT NULL);
)SQL",
      // 14: the root under which tasks are UPS workitems (its UID + "." + the task id).
      R"SQL(
CREATE TABLE workitem_root(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  root TEXT NOT NULL);
)SQL",
      // 15: results withdrawn from the PACS by an IOCM rejection note (its SOP Instance UID). A
      // withdrawn output is history: the same revision may be written again (an approval after
      // the withdrawal), so only current outputs are unique per task, revision and kind.
      R"SQL(
CREATE TABLE outputs_v15(
  id INTEGER PRIMARY KEY,
  task_fk INTEGER NOT NULL REFERENCES tasks(id),
  revision INTEGER NOT NULL,
  kind TEXT NOT NULL,
  sop_class_uid TEXT NOT NULL,
  sop_instance_uid TEXT NOT NULL UNIQUE,
  series_instance_uid TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  stored INTEGER NOT NULL DEFAULT 1,
  withdrawn_by TEXT NOT NULL DEFAULT '');
INSERT INTO outputs_v15(id, task_fk, revision, kind, sop_class_uid, sop_instance_uid, series_instance_uid, created_ms, stored)
  SELECT id, task_fk, revision, kind, sop_class_uid, sop_instance_uid, series_instance_uid, created_ms, stored FROM outputs;
DROP TABLE outputs;
ALTER TABLE outputs_v15 RENAME TO outputs;
CREATE UNIQUE INDEX outputs_current ON outputs(task_fk, revision, kind) WHERE withdrawn_by = '';
CREATE INDEX outputs_task ON outputs(task_fk);
)SQL",
      // 16: AI pre-labels, an imported SR or SEG per row, as annotation documents (JSON).
      R"SQL(
CREATE TABLE prelabels(
  id INTEGER PRIMARY KEY,
  study_uid TEXT NOT NULL,
  sop_instance_uid TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  document TEXT NOT NULL,
  unmapped TEXT NOT NULL,
  imported_by TEXT NOT NULL,
  imported_ms INTEGER NOT NULL);
CREATE INDEX prelabels_study ON prelabels(study_uid, id);
)SQL",
  };
  return steps;
}

// The PostgreSQL schema, step by step like SQLite's (same tables and columns; BIGINT keys,
// PL/pgSQL triggers). Several nodes may start at once: the steps run under an advisory lock.
const std::vector<const char*>& postgresMigrations() {
  static const std::vector<const char*> steps = {
      // 1: the audit trail (as SQLite's after its step 13), one hash chain for every node.
      R"SQL(
CREATE TABLE audit(
  id BIGSERIAL PRIMARY KEY,
  time_ms BIGINT NOT NULL,
  user_name TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  object_type TEXT NOT NULL,
  object_id TEXT NOT NULL,
  outcome TEXT NOT NULL,
  detail TEXT NOT NULL,
  source TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  study_uid TEXT NOT NULL DEFAULT '');
CREATE INDEX audit_user ON audit(user_name, id);
CREATE INDEX audit_action ON audit(action, id);
-- The trail is append-only: the database refuses edits and deletions.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only';
END $$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
)SQL",
      // 2: users and their API tokens (salted hashes only), as SQLite's after its step 11.
      R"SQL(
CREATE TABLE users(
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  disabled BIGINT NOT NULL DEFAULT 0,
  identified_access BIGINT NOT NULL DEFAULT 0);
CREATE TABLE tokens(
  id BIGSERIAL PRIMARY KEY,
  user_fk BIGINT NOT NULL REFERENCES users(id),
  salt TEXT NOT NULL,
  hash TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  last_used_ms BIGINT NOT NULL DEFAULT 0,
  revoked BIGINT NOT NULL DEFAULT 0,
  expires_ms BIGINT NOT NULL DEFAULT 0);
CREATE INDEX tokens_user ON tokens(user_fk);
)SQL",
      // 3: the worklist and everything it keeps, as SQLite's after its step 16: tasks, immutable
      // revisions, reviews, outputs, results owed, the outbox, agreements, pre-labels, the UPS
      // root, the de-identification key and UIDs, the ATNA cursors and the plugin's position in
      // Orthanc's change log.
      R"SQL(
CREATE TABLE tasks(
  id BIGSERIAL PRIMARY KEY,
  study_uid TEXT NOT NULL,
  series_uid TEXT NOT NULL DEFAULT '',
  protocol_id TEXT NOT NULL,
  protocol_version TEXT NOT NULL,
  step TEXT NOT NULL,
  reader_slot BIGINT NOT NULL,
  state TEXT NOT NULL,
  priority TEXT NOT NULL DEFAULT 'MEDIUM',
  due TEXT NOT NULL DEFAULT '',
  assignee TEXT NOT NULL DEFAULT '',
  lease_expires_ms BIGINT NOT NULL DEFAULT 0,
  transaction_uid TEXT NOT NULL DEFAULT '',
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL,
  UNIQUE(study_uid, series_uid, protocol_id, protocol_version, step, reader_slot));
CREATE INDEX tasks_state ON tasks(state, id);
CREATE INDEX tasks_assignee ON tasks(assignee, state);
CREATE TABLE revisions(
  id BIGSERIAL PRIMARY KEY,
  task_fk BIGINT NOT NULL REFERENCES tasks(id),
  number BIGINT NOT NULL,
  author TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  document TEXT NOT NULL,
  complete BIGINT NOT NULL DEFAULT 1,
  UNIQUE(task_fk, number));
-- Saved work is never overwritten or lost.
CREATE FUNCTION revisions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'revisions are immutable';
END $$;
CREATE TRIGGER revisions_no_change BEFORE UPDATE OR DELETE ON revisions FOR EACH ROW EXECUTE FUNCTION revisions_immutable();
CREATE TABLE reviews(
  id BIGSERIAL PRIMARY KEY,
  review_task_fk BIGINT NOT NULL REFERENCES tasks(id),
  label_task_fk BIGINT REFERENCES tasks(id),
  decision TEXT NOT NULL,
  comment TEXT NOT NULL,
  reviewer TEXT NOT NULL,
  created_ms BIGINT NOT NULL);
CREATE INDEX reviews_review ON reviews(review_task_fk);
CREATE INDEX reviews_label ON reviews(label_task_fk);
CREATE TABLE outputs(
  id BIGSERIAL PRIMARY KEY,
  task_fk BIGINT NOT NULL REFERENCES tasks(id),
  revision BIGINT NOT NULL,
  kind TEXT NOT NULL,
  sop_class_uid TEXT NOT NULL,
  sop_instance_uid TEXT NOT NULL UNIQUE,
  series_instance_uid TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  stored BIGINT NOT NULL DEFAULT 1,
  withdrawn_by TEXT NOT NULL DEFAULT '');
CREATE UNIQUE INDEX outputs_current ON outputs(task_fk, revision, kind) WHERE withdrawn_by = '';
CREATE INDEX outputs_task ON outputs(task_fk);
CREATE INDEX outputs_withdrawn ON outputs(withdrawn_by) WHERE withdrawn_by <> '';
CREATE TABLE results_due(
  task_fk BIGINT PRIMARY KEY REFERENCES tasks(id),
  verifier TEXT NOT NULL,
  created_ms BIGINT NOT NULL);
CREATE TABLE outbox(
  id BIGSERIAL PRIMARY KEY,
  sop_instance_uid TEXT NOT NULL,
  destination TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  last_status TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT '',
  next_attempt_ms BIGINT NOT NULL,
  created_ms BIGINT NOT NULL,
  sent_ms BIGINT NOT NULL DEFAULT 0,
  UNIQUE(sop_instance_uid, destination));
CREATE INDEX outbox_due ON outbox(state, next_attempt_ms);
CREATE TABLE outbox_attempts(
  id BIGSERIAL PRIMARY KEY,
  outbox_fk BIGINT NOT NULL REFERENCES outbox(id),
  time_ms BIGINT NOT NULL,
  dimse_status TEXT NOT NULL,
  message TEXT NOT NULL);
CREATE INDEX outbox_attempts_item ON outbox_attempts(outbox_fk);
CREATE TABLE agreements(
  id BIGSERIAL PRIMARY KEY,
  study_uid TEXT NOT NULL,
  protocol_id TEXT NOT NULL,
  protocol_version TEXT NOT NULL,
  computed_ms BIGINT NOT NULL,
  result TEXT NOT NULL,
  series_uid TEXT NOT NULL DEFAULT '');
CREATE INDEX agreements_case ON agreements(study_uid, protocol_id, protocol_version);
CREATE TABLE prelabels(
  id BIGSERIAL PRIMARY KEY,
  study_uid TEXT NOT NULL,
  sop_instance_uid TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  document TEXT NOT NULL,
  unmapped TEXT NOT NULL,
  imported_by TEXT NOT NULL,
  imported_ms BIGINT NOT NULL);
CREATE INDEX prelabels_study ON prelabels(study_uid, id);
CREATE TABLE workitem_root(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  root TEXT NOT NULL);
CREATE TABLE deid_key(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  secret TEXT NOT NULL);
CREATE TABLE deid_uids(
  deidentified TEXT PRIMARY KEY,
  original TEXT NOT NULL);
CREATE TABLE atna_cursor(
  repository TEXT PRIMARY KEY,
  last_id BIGINT NOT NULL);
CREATE TABLE change_cursor(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_seq BIGINT NOT NULL);
CREATE TABLE touched_studies(
  orthanc_id TEXT PRIMARY KEY,
  since_ms BIGINT NOT NULL);
)SQL",
  };
  return steps;
}

// Advisory lock keys of the state schema on PostgreSQL.
constexpr int64_t kSchemaLock = 0x616e6e6f74000001;  // "annot" + 1

}  // namespace

void StateDatabase::backOff(int attempt) {
  // Random, so that the nodes that collided do not collide again in step.
  thread_local std::mt19937 random(std::random_device{}());
  const int ceilingMs = std::min(2 << std::min(attempt, 6), 100);
  std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(1, ceilingMs)(random)));
}

StateDatabase::StateDatabase(const std::string& location) {
  if (location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0) {
    pg_ = std::make_unique<pg::Connection>(location);
    pg::applyMigrations(*pg_, postgresMigrations(), "schema_version", kSchemaLock, "state");
    LOG_INFO("state", "state database: PostgreSQL " << pg_->describe() << ", schema version " << postgresMigrations().size());
    return;
  }
  db_ = std::make_unique<sqlite::Database>(location);
  db_->exec("PRAGMA journal_mode=WAL");
  db_->exec("PRAGMA synchronous=FULL");
  // Migrations that rebuild a referenced table need foreign keys off (SQLite's documented
  // procedure); they are checked once the schema is in place.
  db_->exec("PRAGMA foreign_keys=OFF");
  sqlite::applyMigrations(*db_, migrations(), "state");
  db_->exec("PRAGMA foreign_keys=ON");
  {
    auto check = db_->prepare("PRAGMA foreign_key_check");
    if (check.step()) throw std::runtime_error("state database " + location + ": foreign key check failed after migration");
  }
}

int StateDatabase::schemaVersion() {
  return withAny([](auto& db) {
    auto st = db.prepare(isPostgres<decltype(db)> ? "SELECT version FROM schema_version WHERE id = 1" : "PRAGMA user_version");
    st.step();
    return static_cast<int>(st.integer(0));
  });
}

}  // namespace annot
