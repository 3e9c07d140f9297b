#include "audit/AtnaForwarder.h"

#include <unistd.h>

#include "common/Log.h"

namespace annot {

AtnaSource atnaSourceFor(const AuditRepositorySettings& settings, const std::string& aeTitle) {
  AtnaSource s;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) s.hostName = host;
  s.processId = std::to_string(::getpid());
  s.aeTitle = aeTitle;
  s.sourceId = settings.sourceId.empty() ? aeTitle : settings.sourceId;
  s.enterpriseSiteId = settings.enterpriseSiteId;
  return s;
}

AtnaForwarder::AtnaForwarder(AuditLog& audit, StateDatabase& db, const AuditRepositorySettings& settings, AtnaSource source,
                             AtnaStudyLookup lookup)
    : audit_(audit),
      db_(db),
      repository_(settings.url),
      source_(std::move(source)),
      lookup_(std::move(lookup)),
      sender_(settings),
      worker_("atna", std::chrono::seconds(1), [this] { round(); }) {}

void AtnaForwarder::round() {
  // A repository that is down is said once, and once again when it is back, not every second.
  try {
    forward([this] { return worker_.stopping(); });
    if (unreachable_) LOG_INFO("atna", repository_ << " is reachable again; the audit messages it missed were sent");
    unreachable_ = false;
  } catch (const std::exception& e) {
    if (!unreachable_) LOG_WARN("atna", e.what() << " (the messages wait in the audit trail and follow when it is back)");
    unreachable_ = true;
  }
}

void AtnaForwarder::start() {
  // A new repository gets what happens from now on.
  const int64_t end = audit_.lastId();
  db_.withAny([&](auto& db) {
    auto st = db.prepare("INSERT INTO atna_cursor(repository, last_id) VALUES(?, ?) ON CONFLICT DO NOTHING");
    st.bind(1, repository_).bind(2, end).run();
  });
  LOG_INFO("atna", "audit messages go to " << repository_ << " from audit entry " << cursor() + 1);
  worker_.start();
}

int64_t AtnaForwarder::cursor() {
  return db_.withAny([&](auto& db) {
    auto st = db.prepare("SELECT last_id FROM atna_cursor WHERE repository = ?");
    st.bind(1, repository_);
    return st.step() ? st.integer(0) : int64_t{0};
  });
}

void AtnaForwarder::advance(int64_t lastId) {
  db_.withAny([&](auto& db) {
    auto st = db.prepare("UPDATE atna_cursor SET last_id = ? WHERE repository = ?");
    st.bind(1, lastId).bind(2, repository_).run();
  });
}

size_t AtnaForwarder::forward(const std::function<bool()>& stopping) {
  size_t sent = 0;
  for (;;) {
    const int64_t from = cursor();
    AuditQuery q;
    q.afterId = from;
    q.limit = kBatch;
    q.flushViews = false;  // a view entry follows within AuditLog::kViewBatchMs; polling must not undo the batching
    const std::vector<AuditEntry> entries = audit_.query(q);
    if (entries.empty()) return sent;
    int64_t last = from;
    try {
      for (const AuditEntry& entry : entries) {
        if (stopping && stopping()) break;
        std::vector<AtnaStudy> studies;
        try {
          studies = lookup_(entry.event);
        } catch (const std::exception& e) {
          // The message still goes, naming what it can; the trail keeps the object's id.
          LOG_WARN("atna", "audit entry " << entry.id << ": its study could not be looked up: " << e.what());
        }
        try {
          sender_.send(syslogRecord(atnaMessage(entry, studies, source_), entry.timeMs, source_));
        } catch (const SyslogRecordTooLarge& e) {
          // It would block every later entry: said loudly and passed; the trail keeps it.
          LOG_ERROR("atna", "audit entry " << entry.id << " was not sent: " << e.what());
        }
        last = entry.id;
        ++sent;
      }
    } catch (...) {
      if (last != from) advance(last);
      throw;
    }
    if (last != from) advance(last);
    if ((stopping && stopping()) || entries.size() < kBatch) return sent;
  }
}

}  // namespace annot
