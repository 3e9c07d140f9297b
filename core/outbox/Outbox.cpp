#include "outbox/Outbox.h"

#include <algorithm>
#include <cstdio>

#include "common/Clock.h"
#include "common/Log.h"

namespace annot {
namespace {
template <typename Statement>
OutboxItem readItem(const Statement& st) {
  return {st.integer(0), st.text(1), st.text(2), st.text(3), static_cast<int>(st.integer(4)), st.text(5), st.text(6),
          st.integer(7), st.integer(8)};
}
const char* kColumns = "id, sop_instance_uid, destination, state, attempts, last_status, last_error, next_attempt_ms, sent_ms";

std::string statusText(uint16_t status) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04X", status);
  return buf;
}

// Success and warnings (PS3.4 B.2.3) mean the destination keeps the object.
bool acknowledges(uint16_t status) { return status == 0x0000 || (status & 0xF000) == 0xB000; }
}  // namespace

void Outbox::enqueue(const std::string& sop, const std::vector<std::string>& destinations) {
  db_.withAny([&](auto& db) {
    TransactionOf<decltype(db)> tx(db);
    const int64_t now = nowMillis();
    for (const auto& d : destinations) {
      db.prepare("INSERT INTO outbox(sop_instance_uid, destination, state, next_attempt_ms, created_ms) VALUES(?,?,'pending',?,?) "
                 "ON CONFLICT DO NOTHING")
          .bind(1, sop).bind(2, d).bind(3, now).bind(4, now).run();
    }
    tx.commit();
  });
}

std::vector<OutboxItem> Outbox::claimDue(int64_t now, unsigned limit) {
  return db_.withAny([&](auto& db) {
    // One statement: the items are taken and their next attempt pushed past the lease at once.
    // On PostgreSQL several nodes drain the outbox; SKIP LOCKED lets each take other items
    // than the rows another node is taking at this moment.
    const std::string lock = isPostgres<decltype(db)> ? " FOR UPDATE SKIP LOCKED" : "";
    auto st = db.prepare("UPDATE outbox SET next_attempt_ms = ? WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' "
                         "AND next_attempt_ms <= ? ORDER BY next_attempt_ms, id LIMIT ?" + lock + ") RETURNING " + kColumns);
    st.bind(1, now + claimLeaseMs_).bind(2, now).bind(3, static_cast<int64_t>(limit));
    std::vector<OutboxItem> out;
    while (st.step()) out.push_back(readItem(st));
    std::sort(out.begin(), out.end(), [](const OutboxItem& a, const OutboxItem& b) { return a.id < b.id; });
    return out;
  });
}

void Outbox::recordAttempt(int64_t id, bool acknowledged, const std::string& status, const std::string& message) {
  db_.withAny([&](auto& db) {
    TransactionOf<decltype(db)> tx(db);
    const int64_t now = nowMillis();
    db.prepare("INSERT INTO outbox_attempts(outbox_fk, time_ms, dimse_status, message) VALUES(?,?,?,?)")
        .bind(1, id).bind(2, now).bind(3, status).bind(4, message).run();
    if (acknowledged) {
      db.prepare("UPDATE outbox SET state = 'sent', attempts = attempts + 1, last_status = ?, last_error = '', sent_ms = ? WHERE id = ?")
          .bind(1, status).bind(2, now).bind(3, id).run();
    } else {
      auto attempts = db.prepare("SELECT attempts FROM outbox WHERE id = ?");
      attempts.bind(1, id);
      attempts.step();
      const int n = static_cast<int>(attempts.integer(0)) + 1;
      attempts.reset();
      const int64_t backoff = std::min<int64_t>(maxBackoffMs_, int64_t{1000} << std::min(n - 1, 20));
      db.prepare("UPDATE outbox SET attempts = ?, last_status = ?, last_error = ?, next_attempt_ms = ? WHERE id = ?")
          .bind(1, static_cast<int64_t>(n)).bind(2, status).bind(3, message).bind(4, now + backoff).bind(5, id).run();
    }
    tx.commit();
  });
}

void Outbox::recordSkipped(int64_t id, const std::string& reason) {
  db_.withAny([&](auto& db) {
    TransactionOf<decltype(db)> tx(db);
    db.prepare("INSERT INTO outbox_attempts(outbox_fk, time_ms, dimse_status, message) VALUES(?,?,?,?)")
        .bind(1, id).bind(2, nowMillis()).bind(3, std::string("none")).bind(4, "skipped: " + reason).run();
    db.prepare("UPDATE outbox SET state = 'skipped', attempts = attempts + 1, last_status = 'none', last_error = ? WHERE id = ?")
        .bind(1, reason).bind(2, id).run();
    tx.commit();
  });
}

std::vector<OutboxItem> Outbox::forInstance(const std::string& sop) {
  return db_.withAny([&](auto& db) {
    auto st = db.prepare(std::string("SELECT ") + kColumns + " FROM outbox WHERE sop_instance_uid = ? ORDER BY id");
    st.bind(1, sop);
    std::vector<OutboxItem> out;
    while (st.step()) out.push_back(readItem(st));
    return out;
  });
}

std::string stateOf(const OutboxItem& item) {
  return item.state == "pending" && item.attempts > 0 ? "failed" : item.state;
}

std::vector<OutboxItem> Outbox::list(const std::string& state, unsigned limit) {
  std::string where;
  if (state == "pending") where = " WHERE state = 'pending' AND attempts = 0";
  else if (state == "sent") where = " WHERE state = 'sent'";
  else if (state == "skipped") where = " WHERE state = 'skipped'";
  else if (state == "failed") where = " WHERE state = 'pending' AND attempts > 0";
  else if (!state.empty()) throw std::invalid_argument("state must be pending, failed, sent or skipped");
  return db_.withAny([&](auto& db) {
    auto st = db.prepare(std::string("SELECT ") + kColumns + " FROM outbox" + where + " ORDER BY id DESC LIMIT ?");
    st.bind(1, static_cast<int64_t>(limit));
    std::vector<OutboxItem> out;
    while (st.step()) out.push_back(readItem(st));
    return out;
  });
}

std::map<std::string, Outbox::DestinationCounts> Outbox::counts() {
  return db_.withAny([&](auto& db) {
    auto st = db.prepare("SELECT destination, sum(CASE WHEN state = 'pending' AND attempts = 0 THEN 1 ELSE 0 END), "
                         "sum(CASE WHEN state = 'pending' AND attempts > 0 THEN 1 ELSE 0 END), sum(CASE WHEN state = 'sent' THEN 1 ELSE 0 END), "
                         "sum(CASE WHEN state = 'skipped' THEN 1 ELSE 0 END) FROM outbox GROUP BY destination");
    std::map<std::string, DestinationCounts> out;
    while (st.step()) out[st.text(0)] = {st.integer(1), st.integer(2), st.integer(3), st.integer(4)};
    return out;
  });
}

OutboxSender::OutboxSender(Outbox& outbox, OutboxTransport& transport, AuditLog& audit)
    : outbox_(outbox), transport_(transport), audit_(audit), worker_("outbox", std::chrono::milliseconds(500), [this] { sendDue(); }) {}

void OutboxSender::sendDue() {
  // One item at a time: a claim covers one send, so its lease need only outlast one send.
  while (!worker_.stopping()) {
    const auto claimed = outbox_.claimDue(nowMillis(), 1);
    if (claimed.empty()) return;
    sendOne(claimed.front());
  }
}

void OutboxSender::sendOne(const OutboxItem& item) {
  const auto known = transport_.destinations();
  if (std::find(known.begin(), known.end(), item.destination) == known.end()) return;  // no longer configured: kept, not sent
  std::string status = "none", message;
  bool acknowledged = false;
  try {
    const Delivery delivery = transport_.send(item.destination, item.sopInstanceUid);
    if (delivery.skipped) {
      outbox_.recordSkipped(item.id, delivery.note);
      audit_.record({"", "", "export-skipped", "instance", item.sopInstanceUid, "failure", item.destination + ": " + delivery.note, "outbox"});
      LOG_WARN("outbox", item.sopInstanceUid << " skipped for " << item.destination << ": " << delivery.note);
      return;
    }
    status = statusText(delivery.status);
    acknowledged = acknowledges(delivery.status);
    message = acknowledged ? "stored" : "refused";
    if (!delivery.note.empty()) message += " (" + delivery.note + ")";
  } catch (const std::exception& e) {
    message = e.what();
  }
  outbox_.recordAttempt(item.id, acknowledged, status, message);
  audit_.record({"", "", acknowledged ? "export" : "export-failed", "instance", item.sopInstanceUid,
                 acknowledged ? "success" : "failure", item.destination + " status " + status + ": " + message, "outbox"});
  if (acknowledged) LOG_INFO("outbox", item.sopInstanceUid << " sent to " << item.destination);
  else LOG_WARN("outbox", item.sopInstanceUid << " not sent to " << item.destination << " (attempt " << item.attempts + 1 << "): " << message);
}

}  // namespace annot
