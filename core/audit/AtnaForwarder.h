#pragma once
// Sends the audit trail to an ATNA audit record repository, entry by entry, in order. The trail
// is the queue: how far each repository has got is kept in the state database (by entry id),
// so entries recorded while the repository is down, or before a restart, follow once it is
// back. At least once: a crash between a send and its bookkeeping repeats at most one batch.
// A repository configured for the first time starts at the end of the trail, not its history.
#include <functional>
#include <string>
#include <vector>

#include "audit/AtnaMessage.h"
#include "audit/AuditLog.h"
#include "audit/SyslogSender.h"
#include "common/PeriodicWorker.h"
#include "state/StateDatabase.h"

namespace annot {

// The studies (with their patients) an audit entry concerns.
using AtnaStudyLookup = std::function<std::vector<AtnaStudy>(const AuditEvent&)>;

class AtnaForwarder {
 public:
  AtnaForwarder(AuditLog& audit, StateDatabase& db, const AuditRepositorySettings& settings, AtnaSource source, AtnaStudyLookup lookup);
  ~AtnaForwarder() { stop(); }
  void start();
  void stop() { worker_.stop(); }
  // Sends what the repository has not had yet; returns how many records went. Throws (after
  // recording the progress made) when the repository cannot be reached.
  // `stopping` is asked between records (the worker's stop).
  size_t forward(const std::function<bool()>& stopping = {});
  static constexpr size_t kBatch = 200;

 private:
  void round();
  int64_t cursor();
  void advance(int64_t lastId);

  AuditLog& audit_;
  StateDatabase& db_;
  const std::string repository_;
  const AtnaSource source_;
  const AtnaStudyLookup lookup_;
  SyslogSender sender_;
  bool unreachable_ = false;  // the worker's own: whether the last round failed
  PeriodicWorker worker_;
};

// The host's name and this process's id, with the AE title as AuditSourceID unless the
// settings name another.
AtnaSource atnaSourceFor(const AuditRepositorySettings& settings, const std::string& aeTitle);

}  // namespace annot
