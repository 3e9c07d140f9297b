#include "audit/AuditLog.h"

#include "common/Clock.h"
#include "common/Log.h"
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
  // Added in schema 13; entries without a study hash as they always did, so older chains verify.
  if (!e.study.empty()) {
    input += sep;
    input += e.study;
  }
  return sha256Hex(input);
}

template <typename Statement>
AuditEntry readEntry(const Statement& st) {
  AuditEntry e;
  e.id = st.integer(0);
  e.timeMs = st.integer(1);
  e.event = {st.text(2), st.text(3), st.text(4), st.text(5), st.text(6), st.text(7), st.text(8), st.text(9), st.text(12)};
  e.previousHash = st.text(10);
  e.hash = st.text(11);
  return e;
}

const char* kColumns = "id, time_ms, user_name, role, action, object_type, object_id, outcome, detail, source, prev_hash, hash, study_uid";

// The advisory lock that makes the chain one on PostgreSQL ("annot" + 2).
constexpr int64_t kChainLock = 0x616e6e6f74000002;

// Appends events in order to the chain, inside the caller's transaction. Returns the last
// entry's previous hash and hash.
template <typename Connection>
std::pair<std::string, std::string> appendLocked(Connection& db, std::vector<std::pair<AuditEvent, int64_t>>& events) {
  std::string previous = kGenesis, last;
  if constexpr (isPostgres<Connection>) {
    // Several nodes append to one chain: each takes the last hash and adds to it under the
    // same lock, held until its transaction ends. Ids are drawn under it too, so id order is
    // chain order, as verify() reads it.
    // Read committed (as the transaction's first statement, before any snapshot is taken): the
    // lock already orders the appends, and each must read the hash its predecessor committed.
    db.exec("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
    db.prepare("SELECT pg_advisory_xact_lock(?)").bind(1, kChainLock).run();
  }
  {
    auto st = db.prepare("SELECT hash FROM audit ORDER BY id DESC LIMIT 1");
    if (st.step()) previous = st.text(0);
  }
  auto insert = db.prepare("INSERT INTO audit(time_ms, user_name, role, action, object_type, object_id, outcome, detail, source, prev_hash, hash, study_uid) "
                           "VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
  for (const auto& [event, timeMs] : events) {
    const std::string hash = entryHash(previous, timeMs, event);
    insert.reset();
    insert.bind(1, timeMs).bind(2, event.user).bind(3, event.role).bind(4, event.action).bind(5, event.objectType)
        .bind(6, event.objectId).bind(7, event.outcome).bind(8, event.detail).bind(9, event.source).bind(10, previous)
        .bind(11, hash).bind(12, event.study).run();
    last = previous;
    previous = hash;
  }
  return {last, previous};
}

}  // namespace

AuditLog::~AuditLog() {
  {
    std::lock_guard<std::mutex> lock(queueMutex_);
    stopping_ = true;
  }
  queued_.notify_all();
  if (writer_.joinable()) writer_.join();
  try {
    flush();
  } catch (const std::exception&) {
    // Nothing left to tell: the database is going away with the process.
  }
}

AuditEntry AuditLog::record(const AuditEvent& event) {
  AuditEntry recorded = db_.withAny([&](auto& db) {
    // Queued views come first in the chain, as they happened first; all in one transaction,
    // so a change costs one flush to disk whether or not views were waiting.
    std::vector<std::pair<AuditEvent, int64_t>> batch;
    {
      std::lock_guard<std::mutex> lock(queueMutex_);
      batch.swap(pending_);
    }
    const size_t views = batch.size();
    batch.emplace_back(event, nowMillis());
    try {
      TransactionOf<decltype(db)> tx(db);
      const auto [previousHash, hash] = appendLocked(db, batch);
      AuditEntry entry;
      entry.id = db.lastInsertRowId();
      entry.timeMs = batch.back().second;
      entry.event = event;
      entry.previousHash = previousHash;
      entry.hash = hash;
      tx.commit();
      return entry;
    } catch (...) {
      // The views go back to the front of the queue; the change's failure is the caller's.
      std::lock_guard<std::mutex> lock(queueMutex_);
      pending_.insert(pending_.begin(), batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(views));
      throw;
    }
  });
  return recorded;
}

void AuditLog::recordView(const AuditEvent& event) {
  std::lock_guard<std::mutex> lock(queueMutex_);
  pending_.emplace_back(event, nowMillis());
  if (!writer_.joinable() && !stopping_) writer_ = std::thread([this] { writerLoop(); });
  queued_.notify_all();
}

void AuditLog::flush() {
  // The state database lock is taken before the queue is emptied, so batches reach the chain
  // in the order they were queued even when flushes race. A run again after a lost race (on
  // PostgreSQL) starts from the queue as the failed run left it.
  db_.withAny([&](auto& db) {
    std::vector<std::pair<AuditEvent, int64_t>> batch;
    {
      std::lock_guard<std::mutex> lock(queueMutex_);
      batch.swap(pending_);
    }
    if (batch.empty()) return;
    try {
      TransactionOf<decltype(db)> tx(db);
      appendLocked(db, batch);
      tx.commit();
    } catch (...) {
      // Not written: back to the front of the queue, in order, for the next attempt.
      std::lock_guard<std::mutex> lock(queueMutex_);
      pending_.insert(pending_.begin(), batch.begin(), batch.end());
      throw;
    }
  });
}

int64_t AuditLog::lastId() {
  flush();
  return db_.withAny([](auto& db) {
    auto st = db.prepare("SELECT COALESCE(MAX(id), 0) FROM audit");
    st.step();
    return st.integer(0);
  });
}

void AuditLog::writerLoop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(queueMutex_);
      queued_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (stopping_) return;
    }
    // Let a batch gather, then commit it with one flush to disk.
    std::this_thread::sleep_for(std::chrono::milliseconds(kViewBatchMs));
    try {
      flush();
    } catch (const std::exception& e) {
      LOG_ERROR("audit", "cannot write queued view events (kept for the next attempt): " << e.what());
    }
  }
}

std::vector<AuditEntry> AuditLog::query(const AuditQuery& q) {
  if (q.flushViews) flush();
  return db_.withAny([&](auto& db) {
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
  flush();
  return db_.withAny([&](auto& db) {
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
