#include "audit/AuditLog.h"

#include "common/Clock.h"
#include "common/Digest.h"

namespace annot {
namespace {
const std::string kGenesis(64, '0');

std::string entryHash(const std::string& previous, int64_t timeMs, const AuditEvent& e) {
  // Unit separators keep field boundaries unambiguous.
  const char sep = '\x1f';
  std::string input = previous;
  for (const std::string& field : {std::to_string(timeMs), e.user, e.role, e.action, e.objectType, e.objectId, e.outcome,
                                   e.detail, e.source}) {
    input += sep;
    input += field;
  }
  return sha256Hex(input);
}

AuditEntry readEntry(const sqlite::Statement& st) {
  AuditEntry e;
  e.id = st.integer(0);
  e.timeMs = st.integer(1);
  e.event = {st.text(2), st.text(3), st.text(4), st.text(5), st.text(6), st.text(7), st.text(8), st.text(9)};
  e.previousHash = st.text(10);
  e.hash = st.text(11);
  return e;
}

const char* kColumns = "id, time_ms, user_name, role, action, object_type, object_id, outcome, detail, source, prev_hash, hash";
}  // namespace

AuditEntry AuditLog::record(const AuditEvent& event) {
  return db_.with([&](sqlite::Database& db) {
    sqlite::Transaction tx(db);
    std::string previous = kGenesis;
    {
      auto last = db.prepare("SELECT hash FROM audit ORDER BY id DESC LIMIT 1");
      if (last.step()) previous = last.text(0);
    }
    AuditEntry entry;
    entry.timeMs = nowMillis();
    entry.event = event;
    entry.previousHash = previous;
    entry.hash = entryHash(previous, entry.timeMs, event);
    db.prepare("INSERT INTO audit(time_ms, user_name, role, action, object_type, object_id, outcome, detail, source, prev_hash, hash) "
               "VALUES(?,?,?,?,?,?,?,?,?,?,?)")
        .bind(1, entry.timeMs).bind(2, event.user).bind(3, event.role).bind(4, event.action).bind(5, event.objectType)
        .bind(6, event.objectId).bind(7, event.outcome).bind(8, event.detail).bind(9, event.source).bind(10, previous)
        .bind(11, entry.hash).run();
    entry.id = db.lastInsertRowId();
    tx.commit();
    return entry;
  });
}

std::vector<AuditEntry> AuditLog::query(const AuditQuery& q) {
  return db_.with([&](sqlite::Database& db) {
    std::string sql = std::string("SELECT ") + kColumns + " FROM audit WHERE id > ?";
    std::vector<std::string> params;
    if (!q.user.empty()) {
      sql += " AND user_name = ?";
      params.push_back(q.user);
    }
    if (!q.action.empty()) {
      sql += " AND action = ?";
      params.push_back(q.action);
    }
    if (!q.objectId.empty()) {
      sql += " AND object_id = ?";
      params.push_back(q.objectId);
    }
    sql += " ORDER BY id LIMIT ?";
    auto st = db.prepare(sql);
    int i = 1;
    st.bind(i++, q.afterId);
    for (const auto& p : params) st.bind(i++, p);
    st.bind(i++, static_cast<int64_t>(q.limit));
    std::vector<AuditEntry> out;
    while (st.step()) out.push_back(readEntry(st));
    return out;
  });
}

AuditLog::Verification AuditLog::verify() {
  return db_.with([&](sqlite::Database& db) {
    Verification v;
    std::string previous = kGenesis;
    auto st = db.prepare(std::string("SELECT ") + kColumns + " FROM audit ORDER BY id");
    while (st.step()) {
      const AuditEntry e = readEntry(st);
      ++v.entries;
      if (v.intact && (e.previousHash != previous || entryHash(previous, e.timeMs, e.event) != e.hash)) {
        v.intact = false;
        v.firstBrokenId = e.id;
      }
      previous = e.hash;
    }
    return v;
  });
}

}  // namespace annot
