#pragma once
// The audit trail: who listed, viewed, created, claimed, saved, submitted, reviewed, exported
// what, when, from where, and with which outcome. Append-only (the database refuses updates
// and deletes) and hash-chained: each entry's hash covers the previous entry's hash, so any
// later edit of the file breaks the chain at that entry. Fields map onto PS3.15 A.5 audit
// messages (event, active participant, participant object, outcome).
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "state/StateDatabase.h"

namespace annot {

struct AuditEvent {
  std::string user;        // "" for an unauthenticated request
  std::string role;
  std::string action;      // e.g. list-studies, view-study, create-user, authenticate
  std::string objectType;  // study, task, user, ...
  std::string objectId;
  std::string outcome = "success";  // success | denied | failure
  std::string detail;
  std::string source;      // network address of the requester, or "cli"
  // The study (or studies, comma-separated) the event concerns when the object is not a study
  // or a task (an instance, a series): what an ATNA audit message names as its study and patient.
  std::string study = {};
};

struct AuditEntry {
  int64_t id = 0;
  int64_t timeMs = 0;
  AuditEvent event;
  std::string previousHash;
  std::string hash;
};

struct AuditQuery {
  std::string user;
  std::string action;
  std::string objectId;
  int64_t afterId = 0;
  unsigned limit = 100;
  bool flushViews = true;  // commit queued views first, so the answer includes them
};

class AuditLog {
 public:
  explicit AuditLog(StateDatabase& db) : db_(db) {}
  ~AuditLog();
  // Durable when it returns. Throws when the entry cannot be stored.
  AuditEntry record(const AuditEvent& event);
  // For views (reads): queued and committed with others in one transaction within
  // kViewBatchMs, so a search does not wait for its own disk flush. A power failure can lose at
  // most that window of view events; changes always go through record().
  void recordView(const AuditEvent& event);
  static constexpr int kViewBatchMs = 50;
  // Commits queued views now (queries and verification see everything recorded before them).
  void flush();
  std::vector<AuditEntry> query(const AuditQuery& query);

  struct Verification {
    bool intact = true;
    uint64_t entries = 0;
    int64_t firstBrokenId = 0;  // the first entry whose hash does not match
  };
  Verification verify();
  // The highest entry id committed so far (0 when the trail is empty).
  int64_t lastId();

 private:
  void writerLoop();

  StateDatabase& db_;
  std::mutex queueMutex_;
  std::condition_variable queued_;
  std::vector<std::pair<AuditEvent, int64_t>> pending_;  // with the time each happened
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace annot
