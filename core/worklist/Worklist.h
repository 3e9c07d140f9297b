#pragma once
// The labeling worklist. Tasks follow DICOM UPS states (SCHEDULED → IN PROGRESS → COMPLETED /
// CANCELED) with a workflow step (label, review). When a study becomes stable, every protocol
// that matches it schedules one label task per required reader, idempotently. Claiming takes a
// lease (a Transaction UID as in UPS); only the holder may save or submit. Every save is a new,
// immutable revision. When all readers of a case have submitted and the protocol wants a
// reviewer, a review task is scheduled.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "annotation/AnnotationDocument.h"
#include "annotation/AnnotationValidator.h"
#include "auth/UserStore.h"
#include "protocol/Protocol.h"
#include "sr/RejectionNote.h"
#include "state/StateDatabase.h"
#include "worklist/Prelabels.h"
#include "worklist/ResultSink.h"
#include "worklist/StudySource.h"

namespace annot {

enum class TaskState { Scheduled, InProgress, Completed, Canceled };
const char* taskStateName(TaskState state);
std::optional<TaskState> taskStateFromName(const std::string& name);

struct Task {
  int64_t id = 0;
  std::string studyInstanceUid;
  std::string seriesInstanceUid;  // empty: the whole study
  std::string protocolId;
  std::string protocolVersion;
  std::string step;  // label | review
  int readerSlot = 1;
  TaskState state = TaskState::Scheduled;
  std::string priority = "MEDIUM";  // UPS priorities: HIGH, MEDIUM, LOW
  std::string due;
  std::string assignee;
  int64_t leaseExpiresMs = 0;
  std::string transactionUid;
  int64_t createdMs = 0;
  int64_t updatedMs = 0;
  int revisions = 0;
};

struct RevisionInfo {
  int number = 0;
  std::string author;
  int64_t createdMs = 0;
  bool complete = true;  // false: a draft, which may lack what the protocol requires
};

struct Revision {
  RevisionInfo info;
  nlohmann::json document;
  std::vector<std::string> missing;  // of a draft just saved: what submitting still needs
};

// A reviewer's decision on a case, as the readers and the next reviewer see it.
struct ReviewDecision {
  int64_t reviewTaskId = 0;
  int64_t labelTaskId = 0;  // the task sent back by a rejection; 0 otherwise
  std::string decision;     // approve | reject | adjudicate
  std::string comment;
  std::string reviewer;
  int64_t createdMs = 0;
};

// A DICOM object produced from a task's revision (kept in the node's storage).
struct TaskOutput {
  int64_t taskId = 0;
  int revision = 0;
  std::string kind;  // SR, SEG
  std::string sopClassUid;
  std::string sopInstanceUid;
  std::string seriesInstanceUid;
  int64_t createdMs = 0;
  bool stored = true;  // false: recorded before its instance was stored, which a crash interrupted
  std::string withdrawnBy = {};  // the rejection note that withdrew it from the PACS; empty: current
};

// What withdrawing a case's results did.
struct Withdrawal {
  std::string noteSopInstanceUid;  // the IOCM rejection note, stored and queued for every PACS
  std::vector<std::string> withdrawn;
  Task task;  // open again, claimed for its holder
};

struct TaskQuery {
  std::optional<TaskState> state;
  std::string step;
  std::string protocolId;
  std::string studyInstanceUid;
  std::string assignee;
  std::string priority;   // HIGH, MEDIUM, LOW; empty: any
  std::string dueBefore;  // ISO date: tasks due on or before it; empty: any
  bool unassignedOrAssignee = false;  // annotators see open tasks and their own only
  unsigned limit = 100;
  unsigned offset = 0;
};

class WorklistError : public std::runtime_error {
 public:
  enum class Kind { NotFound, Conflict, Forbidden, Invalid };
  WorklistError(Kind kind, const std::string& message, std::vector<std::string> problems = {})
      : std::runtime_error(message), kind_(kind), problems_(std::move(problems)) {}
  Kind kind() const { return kind_; }
  const std::vector<std::string>& problems() const { return problems_; }
 private:
  Kind kind_;
  std::vector<std::string> problems_;
};

class Worklist {
 public:
  Worklist(StateDatabase& db, const ProtocolSet& protocols, StudySource& studies, ResultSink& results,
           int64_t leaseMs = 30 * 60 * 1000);
  // The database the worklist keeps its state in (the health check asks it).
  StateDatabase& database() { return db_; }

  // Schedules the label tasks of every matching protocol; returns the ones created now.
  std::vector<Task> scheduleForStudy(const std::string& studyInstanceUid);
  // Schedules the label tasks of one protocol for a study, or one series of it (API); existing
  // ones are returned too.
  std::vector<Task> schedule(const std::string& studyInstanceUid, const std::string& seriesInstanceUid,
                             const std::string& protocolId, const std::string& version, const std::string& priority,
                             const std::string& due);
  std::vector<Task> list(const TaskQuery& query);
  Task get(int64_t id);
  // `transactionUid`: the claimer's own (UPS-RS); empty: the worklist makes one, or keeps the
  // one the claimer already holds.
  Task claim(int64_t id, const User& user, const std::string& transactionUid = "");
  // Withdraws the results a completed task's case wrote (label task without review: its own;
  // review task: the readers' and the consensus) from every PACS with one IOCM rejection note
  // (KOS titled with the CID 7011 reason), stored and sent like any result. The task is open
  // again for the one who completed it; the results its next completion writes revise the
  // withdrawn ones (their predecessors). A label task of a reviewed case is withdrawn through
  // its review task (409).
  Withdrawal withdraw(int64_t id, const User& user, RejectionReason reason, const std::string& comment);
  // A final end to a task short of completion (UPS CANCELED): an admin's decision.
  // A canceled reader no longer holds the case back: when the others have submitted, the
  // review follows. Revisions are kept.
  Task cancel(int64_t id, const User& user, const std::string& reason);
  // The UPS SOP Instance UID of a task: under a root made once per state database, so tasks of
  // different installations never share one.
  std::string workitemUid(int64_t id);
  std::optional<int64_t> taskOfWorkitem(const std::string& uid);
  Task release(int64_t id, const User& user);
  // Returns every task a user holds to the pool, as when their access ends: their saved
  // revisions stay, and the next reader who claims a task goes on from them. Returns the ids.
  // Static: the command line ends access without the node's protocols and studies.
  static std::vector<int64_t> returnClaimsToPool(StateDatabase& db, const std::string& userName);
  std::vector<int64_t> returnClaimsOf(const std::string& userName) { return returnClaimsToPool(db_, userName); }
  // Saves the next immutable revision. A draft is checked like any revision except for what the
  // protocol requires (listed in the answer's `missing`); submitting needs a complete one.
  // `basedOn`: the revision the editor started from; when another was saved since (a second
  // tab, a second device) the save is refused with Conflict instead of silently winning.
  struct SaveOptions {
    bool draft = false;
    std::optional<int> basedOn;
  };
  Revision save(int64_t id, const User& user, const std::string& documentText, SaveOptions options);
  Revision save(int64_t id, const User& user, const std::string& documentText) { return save(id, user, documentText, SaveOptions{}); }
  // revision 0: the latest.
  Revision annotation(int64_t id, int revision);
  std::vector<RevisionInfo> revisions(int64_t id);
  // Submitting completes the task; without a review step its SR is written at once.
  Task submit(int64_t id, const User& user);
  // The holder of a review task decides. approve: the case is done and one verified SR per
  // reader is written into the study. reject: `labelTaskId` goes back to its reader (claimed
  // for them again) and the review waits for the resubmission. adjudicate: like approve, and
  // `consensus` (an annotation document) is stored on the review task and written as one more
  // SR, the consensus.
  Task review(int64_t id, const User& user, const std::string& decision, const std::string& comment, int64_t labelTaskId,
              const std::string& consensus = "");
  std::vector<TaskOutput> outputs(int64_t id);
  // AI pre-labels (see Prelabels.h). Importing checks the object against the study the node
  // holds (its study, its images, its geometry): NotFound for an unknown study, Invalid with
  // every problem, Conflict when the same instance was imported before.
  Prelabel importPrelabel(const std::string& studyInstanceUid, DcmDataset& dataset, const AlgorithmIdentity& given,
                          const std::string& importedBy);
  std::vector<Prelabel> prelabels(const std::string& studyInstanceUid);
  size_t prelabelCount(const std::string& studyInstanceUid);
  // The draft a task's reader starts from; NotFound when its study has no pre-label.
  PrelabelDraft prelabelDraft(int64_t id);
  // What the readers of a task did with the pre-labels in its latest revision (null when the
  // study has none or nothing was saved).
  nlohmann::json prelabelUse(int64_t id);
  // Writes the results that approvals and submits committed but that were not written: the
  // process stopped in between, or storing failed (disk full). Only debts recorded before
  // `createdBeforeMs`, so that a decision being paid right now is not paid twice. Returns how
  // many tasks got their results; one whose results cannot be written stays owed (logged).
  // OwedResults calls this at start and every minute.
  // `stopping`, when given, is asked between tasks so that a stop does not wait for all of them.
  size_t writeResultsOwed(int64_t createdBeforeMs, const std::function<bool()>& stopping = {});
  // The review decisions that concern a task: made on it (review task) or sending it back (label task).
  std::vector<ReviewDecision> reviewsOf(int64_t id);
  // The label tasks of the case a task belongs to (same study, series and protocol version).
  std::vector<Task> caseReaders(const Task& task);
  // The case's agreement as recorded when its review was decided, or computed now from the
  // readers' latest revisions when every reader has submitted (null otherwise).
  nlohmann::json caseAgreement(const Task& task);
  // Whether this SOP instance is one of the results the worklist produced.
  bool isOutput(const std::string& sopInstanceUid);
  // Whether this SOP instance is a rejection note the worklist wrote (withdrawing results).
  bool isOwnRejectionNote(const std::string& sopInstanceUid);
  // The study a result instance the worklist wrote belongs to (nothing for any other instance).
  std::optional<std::string> studyOfOutput(const std::string& sopInstanceUid);
  // Reader agreement over the cases of a protocol whose readers have all submitted.
  nlohmann::json agreementReport(const std::string& protocolId);
  // Labeled vs pending cases by patient sex, age band, modality and manufacturer.
  nlohmann::json balanceReport(const std::string& protocolId);
  // The agreement recorded when the review of a task's case was decided (null when none).
  nlohmann::json storedAgreement(const Task& task);
  const ProtocolSet& protocols() const { return protocols_; }

 private:
  const Protocol& protocolOf(const Task& task) const;
  const std::string& workitemRoot();
  // Parses and validates an annotation for a task's study and protocol (422 with every problem);
  // a draft may lack what the protocol requires.
  ResolvedDraft resolveFor(const Task& task, const std::string& documentText, bool draft);
  // Writes one SR for the latest revision of a completed label task (a new instance in the
  // task's own series, with the previous one as predecessor).
  TaskOutput writeResult(const Task& task, const std::string& verifier);
  // A debt of results (recorded at `recordedMs`) taken for this process to pay: its time moved
  // past a lease. nullopt when someone else took it first.
  std::optional<int64_t> claimDebt(int64_t taskId, int64_t recordedMs);
  // writeResult for a task whose results were committed as owed, once the debt is claimed here,
  // then that debt cleared; a debt recorded again since (a withdrawal and a new decision) stays.
  // Throws when they cannot be written; the debt is given back for the next pass.
  void payDebt(int64_t taskId, const std::string& verifier, int64_t recordedMs);
  // payDebt right after the decision: a failure is logged, not thrown, because the decision
  // is committed; the results stay owed and OwedResults writes them later.
  void payResultNow(int64_t taskId, const std::string& verifier, int64_t debtMs);
  // How long a claimed debt is left to the process paying it (writing an SR and a SEG takes
  // seconds); a process killed while paying leaves it to the others after that.
  static constexpr int64_t kDebtLeaseMs = 30 * 1000;
  void recordAgreement(const Task& review, const std::vector<Task>& readers);
  nlohmann::json computeAgreement(const Task& task, const std::vector<Task>& readers);
  std::vector<Task> scheduleLocked(const std::string& studyUid, const std::string& seriesUid, const Protocol& protocol,
                                   const std::string& priority, const std::string& due, bool onlyNew);
  // The images a task labels: its study's, or its series'.
  SourceImageSet imagesFor(const Task& task);

  StateDatabase& db_;
  const ProtocolSet& protocols_;
  StudySource& studies_;
  ResultSink& results_;
  const int64_t leaseMs_;
  std::once_flag rootOnce_;
  std::string workitemRoot_;
};

nlohmann::json toJson(const Task& task);
nlohmann::json toJson(const TaskOutput& output);

}  // namespace annot
