#include "common/Log.h"
#include "worklist/Worklist.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <tuple>

#include "annotation/AnnotationValidator.h"
#include "reports/Agreement.h"
#include "seg/SegmentationWriter.h"
#include "sr/MeasurementReportWriter.h"
#include "common/Clock.h"
#include "common/Digest.h"
#include "common/SecureRandom.h"
#include "dicom/Uid.h"
#include "common/EnumNames.h"

namespace annot {
namespace {
const std::pair<TaskState, const char*> kStates[] = {{TaskState::Scheduled, "SCHEDULED"},
                                                     {TaskState::InProgress, "IN PROGRESS"},
                                                     {TaskState::Completed, "COMPLETED"},
                                                     {TaskState::Canceled, "CANCELED"}};

const char* kTaskColumns =
    "t.id, t.study_uid, t.protocol_id, t.protocol_version, t.step, t.reader_slot, t.state, t.priority, t.due, t.assignee, "
    "t.lease_expires_ms, t.transaction_uid, t.created_ms, t.updated_ms, "
    "(SELECT count(*) FROM revisions r WHERE r.task_fk = t.id), t.series_uid";

template <typename Statement>
Task readTask(const Statement& st) {
  Task t;
  t.id = st.integer(0);
  t.studyInstanceUid = st.text(1);
  t.protocolId = st.text(2);
  t.protocolVersion = st.text(3);
  t.step = st.text(4);
  t.readerSlot = static_cast<int>(st.integer(5));
  t.state = taskStateFromName(st.text(6)).value_or(TaskState::Scheduled);
  t.priority = st.text(7);
  t.due = st.text(8);
  t.assignee = st.text(9);
  t.leaseExpiresMs = st.integer(10);
  t.transactionUid = st.text(11);
  t.createdMs = st.integer(12);
  t.updatedMs = st.integer(13);
  t.revisions = static_cast<int>(st.integer(14));
  t.seriesInstanceUid = st.text(15);
  return t;
}

template <typename Db>
std::optional<Task> findTask(Db& db, int64_t id) {
  auto st = db.prepare(std::string("SELECT ") + kTaskColumns + " FROM tasks t WHERE t.id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return readTask(st);
}

// Records, inside the transaction that completes a task or its case, that its results are owed.
template <typename Db>
void oweResult(Db& db, int64_t taskId, const std::string& verifier, int64_t now) {
  db.prepare("INSERT INTO results_due(task_fk, verifier, created_ms) VALUES(?,?,?) "
             "ON CONFLICT(task_fk) DO UPDATE SET verifier = excluded.verifier, created_ms = excluded.created_ms")
      .bind(1, taskId).bind(2, verifier).bind(3, now).run();
}

// Gives a result written again after an interrupted attempt the identity recorded for it
// then, so that the PACS, the catalog and the task's outputs all name one instance.
void assignIdentity(DcmFileFormat& file, const std::string& sopInstanceUid, const std::string& seriesInstanceUid) {
  DcmDataset& ds = *file.getDataset();
  if (ds.putAndInsertString(DCM_SOPInstanceUID, sopInstanceUid.c_str()).bad() ||
      ds.putAndInsertString(DCM_SeriesInstanceUID, seriesInstanceUid.c_str()).bad() ||
      file.getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, sopInstanceUid.c_str()).bad()) {
    throw std::runtime_error("could not give the result its recorded UID " + sopInstanceUid);
  }
}

template <typename Db>
Task requireTask(Db& db, int64_t id) {
  auto t = findTask(db, id);
  if (!t) throw WorklistError(WorklistError::Kind::NotFound, "task " + std::to_string(id) + " does not exist");
  return *t;
}

// When no reader of a task's case is still at work and one at least submitted, the case's
// review task is scheduled (once).
template <typename Db>
void scheduleReviewWhenCaseIsRead(Db& db, const Task& t, int64_t now) {
  auto open = db.prepare("SELECT sum(CASE WHEN state NOT IN ('COMPLETED', 'CANCELED') THEN 1 ELSE 0 END), "
                         "sum(CASE WHEN state = 'COMPLETED' THEN 1 ELSE 0 END) FROM tasks WHERE study_uid = ? "
                         "AND series_uid = ? AND protocol_id = ? AND protocol_version = ? AND step = 'label'");
  open.bind(1, t.studyInstanceUid).bind(2, t.seriesInstanceUid).bind(3, t.protocolId).bind(4, t.protocolVersion);
  open.step();
  if (open.integer(0) != 0 || open.integer(1) == 0) return;
  db.prepare("INSERT INTO tasks(study_uid, series_uid, protocol_id, protocol_version, step, reader_slot, state, "
             "priority, due, created_ms, updated_ms) VALUES(?,?,?,?,'review',1,'SCHEDULED',?,?,?,?) ON CONFLICT DO NOTHING")
      .bind(1, t.studyInstanceUid).bind(2, t.seriesInstanceUid).bind(3, t.protocolId).bind(4, t.protocolVersion)
      .bind(5, t.priority).bind(6, t.due).bind(7, now).bind(8, now).run();
}

// The label tasks of the case a task belongs to: same study, series and protocol version.
template <typename Db>
std::vector<Task> readersOf(Db& db, const Task& task) {
  auto labels = db.prepare(std::string("SELECT ") + kTaskColumns +
                           " FROM tasks t WHERE study_uid = ? AND series_uid = ? AND protocol_id = ? AND protocol_version = ? "
                           "AND step = 'label' AND state <> 'CANCELED' ORDER BY reader_slot");
  labels.bind(1, task.studyInstanceUid).bind(2, task.seriesInstanceUid).bind(3, task.protocolId).bind(4, task.protocolVersion);
  std::vector<Task> readers;
  while (labels.step()) readers.push_back(readTask(labels));
  return readers;
}

bool leaseHeldBy(const Task& t, const std::string& user, int64_t now) {
  return t.state == TaskState::InProgress && t.assignee == user && t.leaseExpiresMs > now;
}

// Which role works on which step.
void checkRoleForStep(const Task& t, const User& user) {
  const bool ok = user.role == Role::Admin || (t.step == "label" && user.role == Role::Annotator) ||
                  (t.step == "review" && user.role == Role::Reviewer);
  if (!ok) {
    throw WorklistError(WorklistError::Kind::Forbidden,
                        std::string("a ") + roleName(user.role) + " cannot work on a " + t.step + " task");
  }
}
}  // namespace

const char* taskStateName(TaskState state) { return enumName(kStates, state); }
std::optional<TaskState> taskStateFromName(const std::string& name) { return enumFromName(kStates, name); }

Worklist::Worklist(StateDatabase& db, const ProtocolSet& protocols, StudySource& studies, ResultSink& results, int64_t leaseMs)
    : db_(db), protocols_(protocols), studies_(studies), results_(results), leaseMs_(leaseMs) {}

const Protocol& Worklist::protocolOf(const Task& task) const {
  const Protocol* p = protocols_.find(task.protocolId, task.protocolVersion);
  if (!p) {
    throw WorklistError(WorklistError::Kind::Invalid,
                        "protocol " + task.protocolId + " " + task.protocolVersion + " of task " + std::to_string(task.id) + " is no longer loaded");
  }
  return *p;
}

SourceImageSet Worklist::imagesFor(const Task& task) {
  SourceImageSet all = studies_.images(task.studyInstanceUid);
  if (task.seriesInstanceUid.empty()) return all;
  SourceImageSet series;
  for (const auto& img : all.all()) {
    if (img.seriesInstanceUid == task.seriesInstanceUid) series.add(img);
  }
  return series;
}

std::vector<Task> Worklist::scheduleLocked(const std::string& studyUid, const std::string& seriesUid, const Protocol& protocol,
                                           const std::string& priority, const std::string& due, bool onlyNew) {
  return db_.withAny([&](auto& db) {
    TransactionOf<decltype(db)> tx(db);
    std::vector<Task> out;
    const int64_t now = nowMillis();
    for (unsigned slot = 1; slot <= protocol.readers; ++slot) {
      db.prepare("INSERT INTO tasks(study_uid, series_uid, protocol_id, protocol_version, step, reader_slot, state, priority, "
                 "due, created_ms, updated_ms) VALUES(?,?,?,?,'label',?,'SCHEDULED',?,?,?,?) ON CONFLICT DO NOTHING")
          .bind(1, studyUid).bind(2, seriesUid).bind(3, protocol.id).bind(4, protocol.version).bind(5, static_cast<int64_t>(slot))
          .bind(6, priority).bind(7, due).bind(8, now).bind(9, now).run();
      const bool created = db.changes() > 0;
      if (!created && onlyNew) continue;
      auto st = db.prepare(std::string("SELECT ") + kTaskColumns +
                           " FROM tasks t WHERE study_uid = ? AND series_uid = ? AND protocol_id = ? AND protocol_version = ? AND step = 'label' "
                           "AND reader_slot = ?");
      st.bind(1, studyUid).bind(2, seriesUid).bind(3, protocol.id).bind(4, protocol.version).bind(5, static_cast<int64_t>(slot));
      if (st.step()) out.push_back(readTask(st));
    }
    tx.commit();
    return out;
  });
}

std::vector<Task> Worklist::scheduleForStudy(const std::string& studyUid) {
  const auto facts = studies_.facts(studyUid);
  if (!facts) return {};
  std::vector<Task> created;
  for (const Protocol* p : protocols_.matching(*facts)) {
    auto tasks = scheduleLocked(studyUid, "", *p, "MEDIUM", "", /*onlyNew=*/true);
    created.insert(created.end(), tasks.begin(), tasks.end());
  }
  if (!created.empty()) LOG_INFO("worklist", created.size() << " task(s) scheduled for study " << studyUid);
  return created;
}

std::vector<Task> Worklist::schedule(const std::string& studyUid, const std::string& seriesUid, const std::string& protocolId,
                                     const std::string& version, const std::string& priority, const std::string& due) {
  const Protocol* p = protocols_.find(protocolId, version);
  if (!p) throw WorklistError(WorklistError::Kind::Invalid, "unknown protocol '" + protocolId + "'" + (version.empty() ? "" : " version " + version));
  const auto facts = studies_.facts(studyUid);
  if (!facts) throw WorklistError(WorklistError::Kind::NotFound, "study " + studyUid + " is not known");
  if (!seriesUid.empty() && std::find(facts->seriesInstanceUids.begin(), facts->seriesInstanceUids.end(), seriesUid) == facts->seriesInstanceUids.end()) {
    throw WorklistError(WorklistError::Kind::NotFound, "series " + seriesUid + " is not part of study " + studyUid);
  }
  if (priority != "HIGH" && priority != "MEDIUM" && priority != "LOW") {
    throw WorklistError(WorklistError::Kind::Invalid, "priority must be HIGH, MEDIUM or LOW");
  }
  if (!due.empty() && !isIsoDate(due.substr(0, 10))) {
    throw WorklistError(WorklistError::Kind::Invalid, "due must be an ISO 8601 date (YYYY-MM-DD, optionally with a time)");
  }
  return scheduleLocked(studyUid, seriesUid, *p, priority, due, /*onlyNew=*/false);
}

std::vector<Task> Worklist::list(const TaskQuery& q) {
  return db_.withAny([&](auto& db) {
    std::string sql = std::string("SELECT ") + kTaskColumns + " FROM tasks t WHERE 1=1";
    std::vector<std::string> params;
    // Each filter given narrows the list by one condition with one bound value.
    const auto narrow = [&](bool given, const char* condition, std::string value) {
      if (!given) return;
      sql += condition;
      params.push_back(std::move(value));
    };
    narrow(q.state.has_value(), " AND t.state = ?", q.state ? taskStateName(*q.state) : "");
    narrow(!q.step.empty(), " AND t.step = ?", q.step);
    narrow(!q.protocolId.empty(), " AND t.protocol_id = ?", q.protocolId);
    narrow(!q.studyInstanceUid.empty(), " AND t.study_uid = ?", q.studyInstanceUid);
    narrow(!q.assignee.empty(),
           q.unassignedOrAssignee ? " AND (t.assignee = ? OR t.state = 'SCHEDULED')" : " AND t.assignee = ?",
           q.assignee);
    narrow(!q.priority.empty(), " AND t.priority = ?", q.priority);
    // ISO dates compare as text; "2026-12-06T10:00" is due on the 6th.
    narrow(!q.dueBefore.empty(), " AND t.due <> '' AND substr(t.due, 1, 10) <= ?", q.dueBefore);
    // Most urgent first: priority, then the nearest due date (tasks without one last).
    sql += " ORDER BY CASE t.priority WHEN 'HIGH' THEN 0 WHEN 'MEDIUM' THEN 1 ELSE 2 END, t.due = '', t.due, t.id LIMIT ? OFFSET ?";
    auto st = db.prepare(sql);
    int i = 1;
    for (const auto& p : params) st.bind(i++, p);
    st.bind(i++, static_cast<int64_t>(q.limit));
    st.bind(i++, static_cast<int64_t>(q.offset));
    std::vector<Task> out;
    while (st.step()) out.push_back(readTask(st));
    return out;
  });
}

Task Worklist::get(int64_t id) {
  return db_.withAny([&](auto& db) { return requireTask(db, id); });
}

Task Worklist::claim(int64_t id, const User& user, const std::string& transactionUid) {
  return db_.withAny([&](auto& db) {
    TransactionOf<decltype(db)> tx(db);
    Task t = requireTask(db, id);
    checkRoleForStep(t, user);
    const int64_t now = nowMillis();
    if (t.state == TaskState::Completed || t.state == TaskState::Canceled) {
      throw WorklistError(WorklistError::Kind::Conflict, "task " + std::to_string(id) + " is " + taskStateName(t.state));
    }
    if (t.state == TaskState::InProgress && t.assignee != user.name && t.leaseExpiresMs > now) {
      throw WorklistError(WorklistError::Kind::Conflict, "task " + std::to_string(id) + " is claimed by someone else");
    }
    if (t.step == "label") {
      // Independent readers: one reader slot of a case per person.
      auto other = db.prepare("SELECT id FROM tasks WHERE study_uid = ? AND series_uid = ? AND protocol_id = ? AND protocol_version = ? "
                              "AND step = 'label' AND id <> ? AND assignee = ? AND state IN ('IN PROGRESS', 'COMPLETED')");
      other.bind(1, t.studyInstanceUid).bind(2, t.seriesInstanceUid).bind(3, t.protocolId).bind(4, t.protocolVersion).bind(5, t.id)
          .bind(6, user.name);
      if (other.step()) {
        throw WorklistError(WorklistError::Kind::Conflict,
                            "you already read this case (task " + std::to_string(other.integer(0)) + "); readers must be independent");
      }
    }
    if (!transactionUid.empty() && t.state == TaskState::InProgress && t.assignee == user.name && t.leaseExpiresMs > now &&
        t.transactionUid != transactionUid) {
      // UPS: one claim, one Transaction UID; a second claim under another is someone else's.
      throw WorklistError(WorklistError::Kind::Conflict, "task " + std::to_string(id) + " is already IN PROGRESS under another Transaction UID");
    }
    const std::string transaction = !transactionUid.empty() ? transactionUid
                                    : t.assignee == user.name && !t.transactionUid.empty() ? t.transactionUid
                                                                                          : newUid();
    db.prepare("UPDATE tasks SET state = 'IN PROGRESS', assignee = ?, lease_expires_ms = ?, transaction_uid = ?, updated_ms = ? WHERE id = ?")
        .bind(1, user.name).bind(2, now + leaseMs_).bind(3, transaction).bind(4, now).bind(5, id).run();
    Task updated = requireTask(db, id);
    tx.commit();
    return updated;
  });
}

Withdrawal Worklist::withdraw(int64_t id, const User& user, RejectionReason reason, const std::string& comment) {
  const Task t = get(id);
  const Protocol& protocol = protocolOf(t);
  if (t.state != TaskState::Completed) {
    throw WorklistError(WorklistError::Kind::Conflict, "task " + std::to_string(id) + " is " + taskStateName(t.state) + ": only a completed task's results can be withdrawn");
  }
  if (t.step == "label" && protocol.review) {
    throw WorklistError(WorklistError::Kind::Conflict, "this case is reviewed: withdraw its results through its review task");
  }
  std::vector<Task> tasks = {t};
  if (t.step == "review") {
    for (const auto& r : caseReaders(t)) tasks.push_back(r);
  }
  std::vector<RejectedInstance> rejected;
  for (const auto& task : tasks) {
    for (const auto& o : outputs(task.id)) {
      if (o.stored && o.withdrawnBy.empty()) rejected.push_back({t.studyInstanceUid, o.seriesInstanceUid, o.sopClassUid, o.sopInstanceUid});
    }
  }
  if (rejected.empty()) throw WorklistError(WorklistError::Kind::Conflict, "task " + std::to_string(id) + " has no results to withdraw");
  const SourceImageSet images = imagesFor(t);
  if (images.empty() || !images.all().front().header) {
    throw WorklistError(WorklistError::Kind::Conflict, "the study's images are not available: the note needs its patient and study");
  }
  RejectionNoteOptions options;
  options.reason = reason;
  options.description = comment;
  DcmFileFormat note;
  Withdrawal w;
  w.noteSopInstanceUid = writeRejectionNote(*images.all().front().header, rejected, options, note);
  // Stored (and queued for every PACS) before the results are marked: a stop in between leaves
  // them current, and a second withdrawal sends a second note rather than none.
  results_.store(note);
  w.task = db_.withAny([&](auto& db) {
    TransactionOf<decltype(db)> tx(db);
    auto mark = db.prepare("UPDATE outputs SET withdrawn_by = ? WHERE sop_instance_uid = ?");
    for (const auto& r : rejected) {
      mark.reset();
      mark.bind(1, w.noteSopInstanceUid).bind(2, r.sopInstanceUid).run();
    }
    const int64_t now = nowMillis();
    db.prepare("UPDATE tasks SET state = 'IN PROGRESS', lease_expires_ms = ?, transaction_uid = ?, updated_ms = ? WHERE id = ? "
               "AND state = 'COMPLETED'")
        .bind(1, now + leaseMs_).bind(2, newUid()).bind(3, now).bind(4, id).run();
    if (db.changes() == 0) throw WorklistError(WorklistError::Kind::Conflict, "task " + std::to_string(id) + " was withdrawn meanwhile");
    // Results still owed for these tasks are not written: the next completion writes them.
    auto debts = db.prepare("DELETE FROM results_due WHERE task_fk = ?");
    for (const auto& task : tasks) {
      debts.reset();
      debts.bind(1, task.id).run();
    }
    Task reopened = requireTask(db, id);
    tx.commit();
    return reopened;
  });
  for (const auto& r : rejected) w.withdrawn.push_back(r.sopInstanceUid);
  LOG_INFO("worklist", "task " << id << ": " << rejected.size() << " result(s) withdrawn by " << user.name << " ("
                                << rejectionCode(reason).meaning << "), note " << w.noteSopInstanceUid);
  return w;
}

Task Worklist::cancel(int64_t id, const User& user, const std::string& reason) {
  return db_.withAny([&](auto& db) {
    TransactionOf<decltype(db)> tx(db);
    const Task t = requireTask(db, id);
    const int64_t now = nowMillis();
    if (t.state == TaskState::Completed || t.state == TaskState::Canceled) {
      throw WorklistError(WorklistError::Kind::Conflict, "task " + std::to_string(id) + " is already " + taskStateName(t.state));
    }
    // A canceled reader is a reading the case will not have: an admin's decision, not the reader's
    // (who releases the claim instead). An admin holding the claim cancels it like any other.
    if (user.role != Role::Admin) {
      throw WorklistError(WorklistError::Kind::Forbidden, "only an admin may cancel task " + std::to_string(id) + " (a reader releases it instead)");
    }
    db.prepare("UPDATE tasks SET state = 'CANCELED', lease_expires_ms = 0, updated_ms = ? WHERE id = ?").bind(1, now).bind(2, id).run();
    LOG_INFO("worklist", "task " << id << " canceled by " << user.name << (reason.empty() ? "" : ": " + reason));
    if (t.step == "label" && protocolOf(t).review) scheduleReviewWhenCaseIsRead(db, t, now);
    Task updated = requireTask(db, id);
    tx.commit();
    return updated;
  });
}

std::string Worklist::workitemUid(int64_t id) { return workitemRoot() + "." + std::to_string(id); }

std::optional<int64_t> Worklist::taskOfWorkitem(const std::string& uid) {
  const std::string root = workitemRoot() + ".";
  if (uid.size() <= root.size() || uid.compare(0, root.size(), root) != 0) return std::nullopt;
  const std::string number = uid.substr(root.size());
  if (number.size() > 18 || number.find_first_not_of("0123456789") != std::string::npos || number[0] == '0') return std::nullopt;
  return std::stoll(number);
}

const std::string& Worklist::workitemRoot() {
  std::call_once(rootOnce_, [this] {
    workitemRoot_ = db_.withAny([](auto& db) {
      // 2.25 and a random 128-bit number (a UUID-derived OID, PS3.5 B.2): ours to extend with
      // the task id, and at most 44 + 1 + 18 characters, within a UID's 64. The first node to
      // record one gives it to all.
      db.prepare("INSERT INTO workitem_root(id, root) VALUES(1, ?) ON CONFLICT(id) DO NOTHING")
          .bind(1, uidFromDigest(sha256(randomHex(32)))).run();
      auto st = db.prepare("SELECT root FROM workitem_root WHERE id = 1");
      st.step();
      return st.text(0);
    });
  });
  return workitemRoot_;
}

Task Worklist::release(int64_t id, const User& user) {
  return db_.withAny([&](auto& db) {
    TransactionOf<decltype(db)> tx(db);
    Task t = requireTask(db, id);
    if (t.state != TaskState::InProgress || (t.assignee != user.name && user.role != Role::Admin)) {
      throw WorklistError(WorklistError::Kind::Conflict, "task " + std::to_string(id) + " is not claimed by you");
    }
    db.prepare("UPDATE tasks SET state = 'SCHEDULED', assignee = '', lease_expires_ms = 0, transaction_uid = '', updated_ms = ? WHERE id = ?")
        .bind(1, nowMillis()).bind(2, id).run();
    Task updated = requireTask(db, id);
    tx.commit();
    return updated;
  });
}

std::vector<int64_t> Worklist::returnClaimsToPool(StateDatabase& state, const std::string& userName) {
  return state.withAny([&](auto& db) {
    TransactionOf<decltype(db)> tx(db);
    std::vector<int64_t> ids;
    auto held = db.prepare("SELECT id FROM tasks WHERE state = 'IN PROGRESS' AND assignee = ? ORDER BY id");
    held.bind(1, userName);
    while (held.step()) ids.push_back(held.integer(0));
    held.reset();
    db.prepare("UPDATE tasks SET state = 'SCHEDULED', assignee = '', lease_expires_ms = 0, transaction_uid = '', updated_ms = ? "
               "WHERE state = 'IN PROGRESS' AND assignee = ?")
        .bind(1, nowMillis()).bind(2, userName).run();
    tx.commit();
    return ids;
  });
}

ResolvedDraft Worklist::resolveFor(const Task& task, const std::string& documentText, bool draft) {
  const Protocol& protocol = protocolOf(task);
  try {
    AnnotationDocument doc = parseAnnotationDocument(documentText);
    doc.protocol = ProtocolRef{protocol.id, protocol.version};
    if (!doc.studyInstanceUid.empty() && doc.studyInstanceUid != task.studyInstanceUid) {
      throw WorklistError(WorklistError::Kind::Invalid,
                          "the annotation is for study " + doc.studyInstanceUid + ", the task for " + task.studyInstanceUid);
    }
    const SourceImageSet images = imagesFor(task);
    ResolvedDraft resolved = draft ? resolveDraft(doc, images, &protocol) : ResolvedDraft{resolveAnnotation(doc, images, &protocol), {}};
    // Provenance is the worklist's to say, by comparison with the study's pre-labels.
    markProvenance(resolved.document, prelabels(task.studyInstanceUid), images);
    return resolved;
  } catch (const AnnotationError& e) {
    throw WorklistError(WorklistError::Kind::Invalid, "the annotation was not saved", e.problems());
  } catch (const SegmentationError& e) {
    throw WorklistError(WorklistError::Kind::Invalid, "the annotation was not saved", e.problems());
  }
}

Prelabel Worklist::importPrelabel(const std::string& studyUid, DcmDataset& dataset, const AlgorithmIdentity& given,
                                  const std::string& importedBy) {
  if (!studies_.facts(studyUid)) throw WorklistError(WorklistError::Kind::NotFound, "study " + studyUid + " is not held here");
  Prelabel p;
  try {
    p = readPrelabel(dataset, given);
  } catch (const PrelabelError& e) {
    throw WorklistError(WorklistError::Kind::Invalid, e.what());
  }
  if (p.studyInstanceUid != studyUid) {
    throw WorklistError(WorklistError::Kind::Invalid, "the " + p.kind + " belongs to study " + p.studyInstanceUid + ", not " + studyUid);
  }
  // Checked against the study's images as a reader's draft would be: what it refers to is
  // here, its regions fit the images, its masks have their frames' size.
  const SourceImageSet images = studies_.images(studyUid);
  try {
    // Stored resolved: findings without a Tracking UID get one now, so that what the readers
    // keep is recognised as the algorithm's at every later save.
    AnnotationDocument resolved = resolveDraft(parseAnnotationDocument(p.document), images, nullptr).document;
    for (auto& f : resolved.findings) f.measurements.erase(std::remove_if(f.measurements.begin(), f.measurements.end(),
                                                                          [](const Measurement& m) { return m.derived; }),
                                                           f.measurements.end());
    p.document = toJson(resolved);
  } catch (const AnnotationError& e) {
    throw WorklistError(WorklistError::Kind::Invalid, "the " + p.kind + " does not fit the study's images", e.problems());
  } catch (const SegmentationError& e) {
    throw WorklistError(WorklistError::Kind::Invalid, "the " + p.kind + " does not fit the study's images", e.problems());
  }
  p.importedBy = importedBy;
  p.importedMs = nowMillis();
  return db_.withAny([&](auto& db) {
    // One statement: two imports of one object at once (two nodes) make one pre-label.
    auto insert = db.prepare("INSERT INTO prelabels(study_uid, sop_instance_uid, kind, algorithm, document, unmapped, imported_by, "
                             "imported_ms) VALUES(?,?,?,?,?,?,?,?) ON CONFLICT (sop_instance_uid) DO NOTHING RETURNING id");
    insert.bind(1, p.studyInstanceUid).bind(2, p.sopInstanceUid).bind(3, p.kind).bind(4, toJson(p.algorithm).dump())
        .bind(5, p.document.dump()).bind(6, nlohmann::json(p.unmapped).dump()).bind(7, p.importedBy).bind(8, p.importedMs);
    if (!insert.step()) {
      auto seen = db.prepare("SELECT id FROM prelabels WHERE sop_instance_uid = ?");
      seen.bind(1, p.sopInstanceUid);
      seen.step();
      throw WorklistError(WorklistError::Kind::Conflict,
                          p.kind + " " + p.sopInstanceUid + " was imported before (pre-label " + std::to_string(seen.integer(0)) + ")");
    }
    p.id = insert.integer(0);
    return p;
  });
}

std::vector<Prelabel> Worklist::prelabels(const std::string& studyUid) {
  return db_.withAny([&](auto& db) {
    auto st = db.prepare("SELECT id, study_uid, sop_instance_uid, kind, algorithm, document, unmapped, imported_by, imported_ms "
                         "FROM prelabels WHERE study_uid = ? ORDER BY id");
    st.bind(1, studyUid);
    std::vector<Prelabel> out;
    while (st.step()) {
      Prelabel p;
      p.id = st.integer(0);
      p.studyInstanceUid = st.text(1);
      p.sopInstanceUid = st.text(2);
      p.kind = st.text(3);
      const nlohmann::json a = nlohmann::json::parse(st.text(4));
      p.algorithm = {a.value("name", ""), a.value("version", ""), a.value("uid", ""), a.value("manufacturer", ""), a.value("modelName", "")};
      p.document = nlohmann::json::parse(st.text(5));
      const nlohmann::json unmapped = nlohmann::json::parse(st.text(6));
      p.unmapped = unmapped.get<std::vector<std::string>>();
      p.importedBy = st.text(7);
      p.importedMs = st.integer(8);
      out.push_back(std::move(p));
    }
    return out;
  });
}

size_t Worklist::prelabelCount(const std::string& studyUid) {
  return db_.withAny([&](auto& db) {
    auto st = db.prepare("SELECT COUNT(*) FROM prelabels WHERE study_uid = ?");
    st.bind(1, studyUid);
    st.step();
    return static_cast<size_t>(st.integer(0));
  });
}

PrelabelDraft Worklist::prelabelDraft(int64_t id) {
  const Task task = get(id);
  if (task.step != "label") {
    throw WorklistError(WorklistError::Kind::Conflict, "task " + std::to_string(id) + " is a review: pre-labels are a reader's starting point");
  }
  const std::vector<Prelabel> found = prelabels(task.studyInstanceUid);
  if (found.empty()) throw WorklistError(WorklistError::Kind::NotFound, "study " + task.studyInstanceUid + " has no pre-label");
  return draftFromPrelabels(found, protocolOf(task), imagesFor(task));
}

nlohmann::json Worklist::prelabelUse(int64_t id) {
  const Task task = get(id);
  const std::vector<Prelabel> found = prelabels(task.studyInstanceUid);
  if (found.empty() || task.revisions == 0) return nullptr;
  // A summary, not a check: images gone since (a rejection note, retention) leave it out.
  try {
    const SourceImageSet images = imagesFor(task);
    return provenanceSummary(parseAnnotationDocument(annotation(id, 0).document), found, images, &protocolOf(task));
  } catch (const ProblemsError& e) {
    LOG_WARN("worklist", "task " << id << ": no pre-label summary: " << e.what());
    return nullptr;
  }
}

Revision Worklist::save(int64_t id, const User& user, const std::string& documentText, SaveOptions options) {
  // Validate outside the lock: reading image headers can take a moment.
  ResolvedDraft resolved = resolveFor(get(id), documentText, options.draft);
  // A draft that lacks nothing is complete.
  const bool complete = resolved.missing.empty();
  return db_.withAny([&](auto& db) {
    TransactionOf<decltype(db)> tx(db);
    const Task t = requireTask(db, id);
    const int64_t now = nowMillis();
    if (!leaseHeldBy(t, user.name, now)) {
      throw WorklistError(WorklistError::Kind::Conflict, "claim task " + std::to_string(id) + " first (only the holder of a live claim may save)");
    }
    if (options.basedOn && *options.basedOn != t.revisions) {
      throw WorklistError(WorklistError::Kind::Conflict,
                          "revision " + std::to_string(t.revisions) + " was saved after revision " + std::to_string(*options.basedOn) +
                              " this editor started from (another tab or device?): reload the task to continue from it");
    }
    Revision r;
    r.info = {t.revisions + 1, user.name, now, complete};
    r.document = toJson(resolved.document);
    r.missing = std::move(resolved.missing);
    db.prepare("INSERT INTO revisions(task_fk, number, author, created_ms, document, complete) VALUES(?,?,?,?,?,?)")
        .bind(1, id).bind(2, static_cast<int64_t>(r.info.number)).bind(3, user.name).bind(4, now).bind(5, r.document.dump())
        .bind(6, int64_t{complete ? 1 : 0}).run();
    // Saving is activity: the lease is extended.
    db.prepare("UPDATE tasks SET lease_expires_ms = ?, updated_ms = ? WHERE id = ?").bind(1, now + leaseMs_).bind(2, now).bind(3, id).run();
    tx.commit();
    return r;
  });
}

Revision Worklist::annotation(int64_t id, int revision) {
  return db_.withAny([&](auto& db) {
    requireTask(db, id);
    auto st = db.prepare(revision > 0
                             ? "SELECT number, author, created_ms, document, complete FROM revisions WHERE task_fk = ? AND number = ?"
                             : "SELECT number, author, created_ms, document, complete FROM revisions WHERE task_fk = ? ORDER BY number DESC LIMIT 1");
    st.bind(1, id);
    if (revision > 0) st.bind(2, static_cast<int64_t>(revision));
    if (!st.step()) {
      throw WorklistError(WorklistError::Kind::NotFound,
                          revision > 0 ? "task " + std::to_string(id) + " has no revision " + std::to_string(revision)
                                       : "task " + std::to_string(id) + " has no saved annotation yet");
    }
    Revision r;
    r.info = {static_cast<int>(st.integer(0)), st.text(1), st.integer(2), st.integer(4) != 0};
    r.document = nlohmann::json::parse(st.text(3));
    return r;
  });
}

std::vector<RevisionInfo> Worklist::revisions(int64_t id) {
  return db_.withAny([&](auto& db) {
    auto st = db.prepare("SELECT number, author, created_ms, complete FROM revisions WHERE task_fk = ? ORDER BY number");
    st.bind(1, id);
    std::vector<RevisionInfo> out;
    while (st.step()) out.push_back({static_cast<int>(st.integer(0)), st.text(1), st.integer(2), st.integer(3) != 0});
    return out;
  });
}

Task Worklist::submit(int64_t id, const User& user) {
  const Task before = get(id);
  const Protocol& protocol = protocolOf(before);
  if (before.revisions > 0 && leaseHeldBy(before, user.name, nowMillis())) {
    const Revision latest = annotation(id, 0);
    // Listed again against today's images and protocol, so the reader sees what to add.
    const ResolvedDraft draft = latest.info.complete ? ResolvedDraft{} : resolveFor(before, latest.document.dump(), true);
    if (!draft.missing.empty()) {
      throw WorklistError(WorklistError::Kind::Invalid,
                          "revision " + std::to_string(latest.info.number) + " is a draft: complete it and save before submitting",
                          draft.missing);
    }
  }
  int64_t decidedMs = 0;
  Task done = db_.withAny([&](auto& db) {
    TransactionOf<decltype(db)> tx(db);
    const Task t = requireTask(db, id);
    const int64_t now = decidedMs = nowMillis();
    if (!leaseHeldBy(t, user.name, now)) throw WorklistError(WorklistError::Kind::Conflict, "claim task " + std::to_string(id) + " first");
    if (t.revisions == 0) throw WorklistError(WorklistError::Kind::Conflict, "save an annotation before submitting");
    // Checked again under the lock: a draft saved since the check above (another tab) is not submitted.
    auto latest = db.prepare("SELECT complete FROM revisions WHERE task_fk = ? ORDER BY number DESC LIMIT 1");
    latest.bind(1, id);
    if (latest.step() && latest.integer(0) == 0 && t.revisions != before.revisions) {
      throw WorklistError(WorklistError::Kind::Conflict, "a draft revision was saved while submitting: complete it and submit again");
    }
    db.prepare("UPDATE tasks SET state = 'COMPLETED', lease_expires_ms = 0, updated_ms = ? WHERE id = ?").bind(1, now).bind(2, id).run();
    if (t.step == "label" && !protocol.review) oweResult(db, id, "", now);
    if (t.step == "label" && protocol.review) scheduleReviewWhenCaseIsRead(db, t, now);
    Task updated = requireTask(db, id);
    tx.commit();
    return updated;
  });
  if (done.step == "label" && !protocol.review) payResultNow(done.id, "", decidedMs);
  return done;
}

Task Worklist::review(int64_t id, const User& user, const std::string& decision, const std::string& comment, int64_t labelTaskId,
                      const std::string& consensus) {
  if (decision != "approve" && decision != "reject" && decision != "adjudicate") {
    throw WorklistError(WorklistError::Kind::Invalid, "decision must be 'approve', 'reject' or 'adjudicate'");
  }
  std::optional<AnnotationDocument> consensusDoc;
  if (decision == "adjudicate") {
    if (consensus.empty()) throw WorklistError(WorklistError::Kind::Invalid, "adjudication needs the consensus 'annotation'");
    consensusDoc = resolveFor(get(id), consensus, false).document;
  }
  std::vector<Task> approved;
  int64_t decidedMs = 0;
  Task result = db_.withAny([&](auto& db) {
    TransactionOf<decltype(db)> tx(db);
    const Task t = requireTask(db, id);
    const int64_t now = decidedMs = nowMillis();
    if (t.step != "review") throw WorklistError(WorklistError::Kind::Invalid, "task " + std::to_string(id) + " is not a review task");
    if (!leaseHeldBy(t, user.name, now)) throw WorklistError(WorklistError::Kind::Conflict, "claim review task " + std::to_string(id) + " first");
    const std::vector<Task> readers = readersOf(db, t);
    if (decision == "reject") {
      const auto target = std::find_if(readers.begin(), readers.end(), [&](const Task& r) { return r.id == labelTaskId; });
      if (target == readers.end()) {
        throw WorklistError(WorklistError::Kind::Invalid, "name the label task of this case to send back ('task')");
      }
      // Back to its reader, claimed for them; the review waits in the pool.
      db.prepare("UPDATE tasks SET state = 'IN PROGRESS', lease_expires_ms = ?, updated_ms = ? WHERE id = ?")
          .bind(1, now + leaseMs_).bind(2, now).bind(3, labelTaskId).run();
      db.prepare("UPDATE tasks SET state = 'SCHEDULED', assignee = '', lease_expires_ms = 0, transaction_uid = '', updated_ms = ? WHERE id = ?")
          .bind(1, now).bind(2, id).run();
    } else {
      for (const auto& r : readers) {
        if (r.state != TaskState::Completed) {
          throw WorklistError(WorklistError::Kind::Conflict, "label task " + std::to_string(r.id) + " is not completed");
        }
      }
      if (consensusDoc) {
        db.prepare("INSERT INTO revisions(task_fk, number, author, created_ms, document) VALUES(?,?,?,?,?)")
            .bind(1, id).bind(2, static_cast<int64_t>(t.revisions + 1)).bind(3, user.name).bind(4, now)
            .bind(5, toJson(*consensusDoc).dump()).run();
      }
      db.prepare("UPDATE tasks SET state = 'COMPLETED', lease_expires_ms = 0, updated_ms = ? WHERE id = ?").bind(1, now).bind(2, id).run();
      approved = readers;
      for (const auto& r : readers) oweResult(db, r.id, user.name, now);
      if (consensusDoc) oweResult(db, id, user.name, now);
    }
    auto insert = db.prepare("INSERT INTO reviews(review_task_fk, label_task_fk, decision, comment, reviewer, created_ms) VALUES(?,?,?,?,?,?)");
    insert.bind(1, id).bind(3, decision).bind(4, comment).bind(5, user.name).bind(6, now);
    if (decision == "reject") insert.bind(2, labelTaskId);
    else insert.bindNull(2);
    insert.run();
    Task updated = requireTask(db, id);
    tx.commit();
    return updated;
  });
  for (const auto& reader : approved) payResultNow(reader.id, user.name, decidedMs);
  if (consensusDoc) payResultNow(result.id, user.name, decidedMs);
  if (approved.size() >= 2) {
    // The decision is committed: a failure here loses only the recorded agreement, which the
    // case's agreement is computed again from when asked.
    try {
      recordAgreement(result, approved);
    } catch (const std::exception& e) {
      LOG_ERROR("worklist", "the agreement of review task " << result.id << " was not recorded: " << e.what());
    }
  }
  return result;
}

std::optional<int64_t> Worklist::claimDebt(int64_t taskId, int64_t recordedMs) {
  // The debt's time moved past a lease, if nobody moved it first: passes over the debts (this
  // node's or another's) leave a debt alone until then, and one claimed since is skipped.
  const int64_t claimed = std::max(nowMillis() + kDebtLeaseMs, recordedMs + 1);
  return db_.withAny([&](auto& db) -> std::optional<int64_t> {
    db.prepare("UPDATE results_due SET created_ms = ? WHERE task_fk = ? AND created_ms = ?").bind(1, claimed).bind(2, taskId).bind(3, recordedMs).run();
    if (db.changes() == 0) return std::nullopt;
    return claimed;
  });
}

void Worklist::payDebt(int64_t taskId, const std::string& verifier, int64_t recordedMs) {
  const std::optional<int64_t> claimed = claimDebt(taskId, recordedMs);
  if (!claimed) return;  // another pass (here or on another node) is paying it
  try {
    const Task task = get(taskId);
    // A task opened again (its results withdrawn) owes nothing until it completes again.
    if (task.state == TaskState::Completed) writeResult(task, verifier);
    // Only the debt claimed here: one recorded again since (a withdrawal, a new decision) stays.
    db_.withAny([&](auto& db) {
      db.prepare("DELETE FROM results_due WHERE task_fk = ? AND created_ms = ?").bind(1, taskId).bind(2, *claimed).run();
    });
  } catch (...) {
    // Given back at once for the next pass, rather than when the lease ends.
    db_.withAny([&](auto& db) {
      db.prepare("UPDATE results_due SET created_ms = ? WHERE task_fk = ? AND created_ms = ?")
          .bind(1, nowMillis()).bind(2, taskId).bind(3, *claimed).run();
    });
    throw;
  }
}

void Worklist::payResultNow(int64_t taskId, const std::string& verifier, int64_t debtMs) {
  try {
    payDebt(taskId, verifier, debtMs);
  } catch (const std::exception& e) {
    LOG_ERROR("worklist", "task " << taskId << " is decided but its results could not be written (they will be retried): " << e.what());
  }
}

size_t Worklist::writeResultsOwed(int64_t createdBeforeMs, const std::function<bool()>& stopping) {
  const auto owed = db_.withAny([&](auto& db) {
    std::vector<std::tuple<int64_t, std::string, int64_t>> rows;
    auto st = db.prepare("SELECT task_fk, verifier, created_ms FROM results_due WHERE created_ms < ? ORDER BY created_ms, task_fk");
    st.bind(1, createdBeforeMs);
    while (st.step()) rows.emplace_back(st.integer(0), st.text(1), st.integer(2));
    return rows;
  });
  size_t paid = 0;
  for (const auto& [taskId, verifier, createdMs] : owed) {
    if (stopping && stopping()) break;
    try {
      payDebt(taskId, verifier, createdMs);
      ++paid;
    } catch (const std::exception& e) {
      LOG_ERROR("worklist", "the results of task " << taskId << " are still owed: " << e.what());
    }
  }
  if (paid > 0) LOG_WARN("worklist", "wrote the owed results of " << paid << " decided task(s)");
  return paid;
}

TaskOutput Worklist::writeResult(const Task& task, const std::string& verifier) {
  const Revision latest = annotation(task.id, 0);
  const Protocol& protocol = protocolOf(task);
  const SourceImageSet images = imagesFor(task);
  const AnnotationDocument doc = resolveAnnotation(parseAnnotationDocument(latest.document), images, &protocol);
  const std::vector<TaskOutput> previous = outputs(task.id);
  // The output of this revision (stored, or recorded by an attempt a stop interrupted), and the
  // last one of an earlier revision (the predecessor; its series is the task's series).
  // A withdrawn output counts as an earlier one: the revision is written again, revising it.
  auto current = [&](const TaskOutput& o) { return o.revision == latest.info.number && o.withdrawnBy.empty(); };
  auto ofThisRevision = [&](const std::string& kind) -> const TaskOutput* {
    for (const auto& o : previous) {
      if (o.kind == kind && current(o)) return &o;
    }
    return nullptr;
  };
  auto lastEarlier = [&](const std::string& kind) -> const TaskOutput* {
    const TaskOutput* last = nullptr;
    for (const auto& o : previous) {
      if (o.kind == kind && !current(o)) last = &o;
    }
    return last;
  };
  auto countEarlier = [&](const std::string& kind) {
    return std::count_if(previous.begin(), previous.end(), [&](const TaskOutput& o) { return o.kind == kind && !current(o); });
  };
  // Recorded before the store and marked stored after it: a crash in between leaves a row
  // that the next attempt reuses, never a stored result without one.
  auto storeAs = [&](DcmFileFormat& file, const TaskOutput* interrupted, TaskOutput out) {
    if (interrupted) {
      out = *interrupted;
      assignIdentity(file, out.sopInstanceUid, out.seriesInstanceUid);
    } else {
      db_.withAny([&](auto& db) {
        db.prepare("INSERT INTO outputs(task_fk, revision, kind, sop_class_uid, sop_instance_uid, series_instance_uid, created_ms, stored) "
                   "VALUES(?,?,?,?,?,?,?,0)")
            .bind(1, task.id).bind(2, static_cast<int64_t>(out.revision)).bind(3, out.kind).bind(4, out.sopClassUid)
            .bind(5, out.sopInstanceUid).bind(6, out.seriesInstanceUid).bind(7, out.createdMs).run();
      });
    }
    results_.store(file);
    db_.withAny([&](auto& db) {
      db.prepare("UPDATE outputs SET stored = 1 WHERE sop_instance_uid = ?").bind(1, out.sopInstanceUid).run();
    });
    out.stored = true;
    return out;
  };
  const std::string who = task.step == "review" ? std::string(" consensus") : " reader " + std::to_string(task.readerSlot);
  const TaskOutput* thisSr = ofThisRevision("SR");
  TaskOutput sr;
  if (thisSr && thisSr->stored) {
    sr = *thisSr;  // already written for this revision
  } else {
    const TaskOutput* lastSr = lastEarlier("SR");
    SrWriteOptions options;
    if (!verifier.empty()) options.verifiedBy = verifier;
    options.seriesDescription = "Labels " + protocol.id + who;
    options.instanceNumber = std::to_string(countEarlier("SR") + 1);
    if (lastSr) {
      options.seriesInstanceUid = lastSr->seriesInstanceUid;
      options.predecessor = SopReference{task.studyInstanceUid, lastSr->seriesInstanceUid, lastSr->sopClassUid, lastSr->sopInstanceUid};
    }
    DcmFileFormat file;
    const SrWriteResult written = writeMeasurementReport(doc, images, &protocol, options, file);
    sr = storeAs(file, thisSr, {task.id, latest.info.number, "SR", UID_EnhancedSRStorage, written.sopInstanceUid, written.seriesInstanceUid, nowMillis()});
  }
  const TaskOutput* thisSeg = ofThisRevision("SEG");
  if (doc.segmentation && !(thisSeg && thisSeg->stored)) {
    const TaskOutput* lastSeg = lastEarlier("SEG");
    Segmentation seg = parseSegmentation(*doc.segmentation, images);
    seg.seriesDescription = "Masks " + protocol.id + who;
    seg.contentCreator = doc.observer.kind == Observer::Kind::Person ? doc.observer.name : "";
    SegWriteOptions options;
    if (lastSeg) options.seriesInstanceUid = lastSeg->seriesInstanceUid;
    options.instanceNumber = std::to_string(countEarlier("SEG") + 1);
    DcmFileFormat file;
    const SegWriteResult written = writeSegmentation(std::move(seg), images, options, file);
    storeAs(file, thisSeg, {task.id, latest.info.number, "SEG", UID_SegmentationStorage, written.sopInstanceUid, written.seriesInstanceUid, nowMillis()});
  }
  return sr;
}

bool Worklist::isOutput(const std::string& sop) {
  return db_.withAny([&](auto& db) {
    auto st = db.prepare("SELECT 1 FROM outputs WHERE sop_instance_uid = ?");
    st.bind(1, sop);
    return st.step();
  });
}

bool Worklist::isOwnRejectionNote(const std::string& sop) {
  if (sop.empty()) return false;
  return db_.withAny([&](auto& db) {
    auto st = db.prepare("SELECT 1 FROM outputs WHERE withdrawn_by = ?");
    st.bind(1, sop);
    return st.step();
  });
}

std::optional<std::string> Worklist::studyOfOutput(const std::string& sop) {
  return db_.withAny([&](auto& db) -> std::optional<std::string> {
    auto st = db.prepare("SELECT t.study_uid FROM outputs o JOIN tasks t ON t.id = o.task_fk WHERE o.sop_instance_uid = ?");
    st.bind(1, sop);
    if (!st.step()) return std::nullopt;
    return st.text(0);
  });
}

std::vector<TaskOutput> Worklist::outputs(int64_t id) {
  return db_.withAny([&](auto& db) {
    auto st = db.prepare("SELECT task_fk, revision, kind, sop_class_uid, sop_instance_uid, series_instance_uid, created_ms, stored, "
                         "withdrawn_by FROM outputs WHERE task_fk = ? ORDER BY id");
    st.bind(1, id);
    std::vector<TaskOutput> out;
    while (st.step()) {
      out.push_back({st.integer(0), static_cast<int>(st.integer(1)), st.text(2), st.text(3), st.text(4), st.text(5), st.integer(6),
                     st.integer(7) != 0, st.text(8)});
    }
    return out;
  });
}

namespace {
struct CaseKey {
  std::string study, series, protocol, version;
  bool operator<(const CaseKey& o) const {
    return std::tie(study, series, protocol, version) < std::tie(o.study, o.series, o.protocol, o.version);
  }
};

std::string ageBand(const std::string& age) {
  // DICOM AS: nnnD/W/M/Y; bands of ten years, infants together.
  if (age.size() != 4 || age.find_first_not_of("0123456789", 0) != 3) return "unknown";
  const int n = std::stoi(age.substr(0, 3));
  if (age[3] != 'Y') return "0-9";
  const int low = std::min(n / 10 * 10, 90);
  return low >= 90 ? "90+" : std::to_string(low) + "-" + std::to_string(low + 9);
}
}  // namespace

nlohmann::json Worklist::computeAgreement(const Task& task, const std::vector<Task>& readers) {
  std::vector<AnnotationDocument> docs;
  for (const auto& t : readers) docs.push_back(parseAnnotationDocument(annotation(t.id, 0).document));
  const bool masks = std::any_of(docs.begin(), docs.end(), [](const AnnotationDocument& d) { return d.segmentation.has_value(); });
  const SourceImageSet images = masks ? imagesFor(task) : SourceImageSet{};
  const CaseAgreement a = compareReaders(docs, masks ? &images : nullptr);
  return {{"regionIoUs", a.regionIoUs}, {"pointDistancesPixels", a.pointDistances},
          {"maskDice", a.maskDice}, {"maskIoU", a.maskIoU}, {"unmatchedFindings", a.unmatchedFindings}};
}

void Worklist::recordAgreement(const Task& review, const std::vector<Task>& readers) {
  const nlohmann::json result = computeAgreement(review, readers);
  db_.withAny([&](auto& db) {
    db.prepare("INSERT INTO agreements(study_uid, series_uid, protocol_id, protocol_version, computed_ms, result) VALUES(?,?,?,?,?,?)")
        .bind(1, review.studyInstanceUid).bind(2, review.seriesInstanceUid).bind(3, review.protocolId).bind(4, review.protocolVersion)
        .bind(5, nowMillis()).bind(6, result.dump()).run();
  });
}

std::vector<Task> Worklist::caseReaders(const Task& task) {
  return db_.withAny([&](auto& db) { return readersOf(db, task); });
}

nlohmann::json Worklist::caseAgreement(const Task& task) {
  nlohmann::json stored = storedAgreement(task);
  if (!stored.is_null()) return stored;
  const std::vector<Task> readers = caseReaders(task);
  const bool allSubmitted = readers.size() >= 2 && std::all_of(readers.begin(), readers.end(), [](const Task& t) {
                              return t.state == TaskState::Completed && t.revisions > 0;
                            });
  return allSubmitted ? computeAgreement(task, readers) : nlohmann::json(nullptr);
}

std::vector<ReviewDecision> Worklist::reviewsOf(int64_t id) {
  return db_.withAny([&](auto& db) {
    auto st = db.prepare("SELECT review_task_fk, coalesce(label_task_fk, 0), decision, comment, reviewer, created_ms FROM reviews "
                         "WHERE review_task_fk = ? OR label_task_fk = ? ORDER BY id");
    st.bind(1, id).bind(2, id);
    std::vector<ReviewDecision> out;
    while (st.step()) out.push_back({st.integer(0), st.integer(1), st.text(2), st.text(3), st.text(4), st.integer(5)});
    return out;
  });
}

nlohmann::json Worklist::storedAgreement(const Task& task) {
  return db_.withAny([&](auto& db) {
    auto st = db.prepare("SELECT result FROM agreements WHERE study_uid = ? AND series_uid = ? AND protocol_id = ? AND protocol_version = ? "
                         "ORDER BY id DESC LIMIT 1");
    st.bind(1, task.studyInstanceUid).bind(2, task.seriesInstanceUid).bind(3, task.protocolId).bind(4, task.protocolVersion);
    return st.step() ? nlohmann::json::parse(st.text(0)) : nlohmann::json(nullptr);
  });
}

nlohmann::json Worklist::agreementReport(const std::string& protocolId) {
  TaskQuery q;
  q.protocolId = protocolId;
  q.step = "label";
  q.limit = 100000;
  std::map<CaseKey, std::vector<Task>> cases;
  for (const auto& t : list(q)) cases[{t.studyInstanceUid, t.seriesInstanceUid, t.protocolId, t.protocolVersion}].push_back(t);
  std::vector<double> ious, distances, dice, maskIoU;
  size_t unmatched = 0, compared = 0;
  std::map<std::string, std::vector<std::vector<std::string>>> ratings;  // concept -> per case, per reader
  std::map<std::string, std::string> conceptNames;
  for (const auto& [key, tasks] : cases) {
    if (tasks.size() < 2 || !std::all_of(tasks.begin(), tasks.end(), [](const Task& t) { return t.state == TaskState::Completed; })) continue;
    std::vector<AnnotationDocument> docs;
    for (const auto& t : tasks) docs.push_back(parseAnnotationDocument(annotation(t.id, 0).document));
    ++compared;
    const bool masks = std::any_of(docs.begin(), docs.end(), [](const AnnotationDocument& d) { return d.segmentation.has_value(); });
    const SourceImageSet images = masks ? imagesFor(tasks.front()) : SourceImageSet{};
    const CaseAgreement a = compareReaders(docs, masks ? &images : nullptr);
    dice.insert(dice.end(), a.maskDice.begin(), a.maskDice.end());
    maskIoU.insert(maskIoU.end(), a.maskIoU.begin(), a.maskIoU.end());
    ious.insert(ious.end(), a.regionIoUs.begin(), a.regionIoUs.end());
    distances.insert(distances.end(), a.pointDistances.begin(), a.pointDistances.end());
    unmatched += a.unmatchedFindings;
    // Study-level classifications, one answer per reader.
    std::map<std::string, std::vector<std::string>> answers;
    for (const auto& d : docs) {
      for (const auto& c : d.classifications) {
        if (c.image) continue;
        const std::string concept = c.concept.scheme + ":" + c.concept.value;
        conceptNames[concept] = c.concept.meaning;
        answers[concept].push_back(c.value.scheme + ":" + c.value.value);
      }
    }
    for (auto& [concept, values] : answers) {
      if (values.size() == docs.size()) ratings[concept].push_back(values);
    }
  }
  auto mean = [](const std::vector<double>& v) { return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); };
  nlohmann::json classifications = nlohmann::json::array();
  for (const auto& [concept, subjects] : ratings) {
    std::optional<double> kappa;
    std::string method;
    if (!subjects.empty() && subjects[0].size() == 2) {
      std::vector<std::pair<std::string, std::string>> pairs;
      for (const auto& s : subjects) pairs.push_back({s[0], s[1]});
      kappa = cohensKappa(pairs);
      method = "Cohen";
    } else {
      kappa = fleissKappa(subjects);
      method = "Fleiss";
    }
    classifications.push_back({{"concept", concept}, {"meaning", conceptNames[concept]}, {"cases", subjects.size()},
                               {"kappa", kappa ? nlohmann::json(*kappa) : nlohmann::json(nullptr)}, {"method", method}});
  }
  return {{"protocol", protocolId}, {"casesCompared", compared},
          {"regions", {{"pairs", ious.size()}, {"meanIoU", mean(ious)}, {"meanDice", diceFromIoU(mean(ious))}}},
          {"points", {{"pairs", distances.size()}, {"meanDistancePixels", mean(distances)}}},
          {"masks", {{"pairs", dice.size()}, {"meanDice", mean(dice)}, {"meanIoU", mean(maskIoU)}}},
          {"unmatchedFindings", unmatched}, {"classifications", classifications}};
}

nlohmann::json Worklist::balanceReport(const std::string& protocolId) {
  TaskQuery q;
  q.protocolId = protocolId;
  q.limit = 100000;
  std::map<CaseKey, std::vector<Task>> cases;
  for (const auto& t : list(q)) cases[{t.studyInstanceUid, t.seriesInstanceUid, t.protocolId, t.protocolVersion}].push_back(t);
  std::map<std::string, std::map<std::string, std::pair<int, int>>> by;  // dimension -> value -> (labeled, pending)
  int labeled = 0, pending = 0;
  for (const auto& [key, tasks] : cases) {
    const Protocol* p = protocols_.find(key.protocol, key.version);
    bool done = std::all_of(tasks.begin(), tasks.end(), [](const Task& t) { return t.state == TaskState::Completed; });
    if (p && p->review) done = done && std::any_of(tasks.begin(), tasks.end(), [](const Task& t) { return t.step == "review"; });
    (done ? labeled : pending)++;
    const auto facts = studies_.facts(key.study);
    auto count = [&](const std::string& dimension, const std::string& value) {
      auto& cell = by[dimension][value.empty() ? "unknown" : value];
      (done ? cell.first : cell.second)++;
    };
    count("sex", facts ? facts->patientSex : "");
    count("ageBand", facts ? ageBand(facts->patientAge) : "unknown");
    for (const auto& m : facts ? facts->modalities : std::vector<std::string>{}) count("modality", m);
    for (const auto& m : facts ? facts->manufacturers : std::vector<std::string>{}) count("manufacturer", m);
  }
  nlohmann::json dimensions = nlohmann::json::object();
  for (const auto& [dimension, values] : by) {
    nlohmann::json rows = nlohmann::json::object();
    for (const auto& [value, counts] : values) rows[value] = {{"labeled", counts.first}, {"pending", counts.second}};
    dimensions[dimension] = rows;
  }
  return {{"protocol", protocolId}, {"cases", cases.size()}, {"labeled", labeled}, {"pending", pending}, {"by", dimensions}};
}

nlohmann::json toJson(const TaskOutput& o) {
  nlohmann::json j = {{"revision", o.revision}, {"kind", o.kind}, {"sopClassUid", o.sopClassUid}, {"sopInstanceUid", o.sopInstanceUid},
                      {"seriesInstanceUid", o.seriesInstanceUid}, {"stored", o.stored}};
  if (!o.withdrawnBy.empty()) j["withdrawnBy"] = o.withdrawnBy;
  return j;
}

nlohmann::json toJson(const Task& t) {
  nlohmann::json j = {{"id", t.id}, {"studyInstanceUid", t.studyInstanceUid}, {"seriesInstanceUid", t.seriesInstanceUid}, {"protocol", {{"id", t.protocolId}, {"version", t.protocolVersion}}},
                      {"step", t.step}, {"readerSlot", t.readerSlot}, {"state", taskStateName(t.state)}, {"priority", t.priority},
                      {"due", t.due}, {"assignee", t.assignee}, {"revisions", t.revisions}};
  if (t.state == TaskState::InProgress) {
    // The Transaction UID stays with the worklist (UPS-RS clients claim with their own, which
    // no answer may return, PS3.4 CC.2.1.3).
    j["leaseExpiresMs"] = t.leaseExpiresMs;
  }
  return j;
}

}  // namespace annot
