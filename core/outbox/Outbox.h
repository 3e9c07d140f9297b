#pragma once
// The durable outbox: every result object owed to every configured destination, with its
// attempts. It survives restarts (it lives in the state database), retries with exponential
// backoff while a PACS is down or refuses, and marks an object sent once a destination
// acknowledged it, after which it is never sent there again.
#include <map>
#include <string>
#include <vector>

#include "audit/AuditLog.h"
#include "common/PeriodicWorker.h"
#include "state/StateDatabase.h"

namespace annot {

struct OutboxItem {
  int64_t id = 0;
  std::string sopInstanceUid;
  std::string destination;
  std::string state;  // pending | sent | skipped
  int attempts = 0;
  std::string lastStatus;
  std::string lastError;
  int64_t nextAttemptMs = 0;
  int64_t sentMs = 0;
};

// What an item is, as people read it: "pending" (not tried yet), "failed" (tried, still owed:
// retried), "sent", or "skipped" (the destination does not accept its SOP class and the
// configured fallback is to skip it there). Outbox::list and Outbox::counts use the same four.
std::string stateOf(const OutboxItem& item);

// How a stored result reaches a destination. The node sends C-STORE itself (DimseTransport);
// the Orthanc plugin asks Orthanc to send to one of its modalities or peers.
// What became of one send.
struct Delivery {
  uint16_t status = 0;   // the DIMSE status the destination answered (0x0000 when it acknowledged without one)
  bool skipped = false;  // not sent, by configuration: the destination does not accept this kind of result
  std::string note;      // what happened besides a plain store (sent as another SOP class, why it was skipped)
};

class OutboxTransport {
 public:
  virtual ~OutboxTransport() = default;
  // The names of the destinations this transport can reach (what the outbox records).
  virtual std::vector<std::string> destinations() const = 0;
  // Sends one stored instance, or throws std::runtime_error when no answer came (down,
  // refused, or held because the destination does not accept it; the message says which).
  virtual Delivery send(const std::string& destination, const std::string& sopInstanceUid) = 0;
};

class Outbox {
 public:
  // claimLeaseMs: how long a claimed item is left to the sender that claimed it; past that (its
  // node stopped while sending) another sender tries it. It must outlast one send (association,
  // C-STORE, its answer): a send still under way past it may be made twice.
  Outbox(StateDatabase& db, int64_t maxBackoffMs, int64_t claimLeaseMs = 120000)
      : db_(db), maxBackoffMs_(maxBackoffMs), claimLeaseMs_(claimLeaseMs) {}
  void enqueue(const std::string& sopInstanceUid, const std::vector<std::string>& destinations);
  // Takes up to `limit` items due at `nowMs` for one sender: no other sender (of this node or
  // another sharing the database) gets them until recordAttempt/recordSkipped, or the lease ends.
  std::vector<OutboxItem> claimDue(int64_t nowMs, unsigned limit = 50);
  // acknowledged: the destination answered success or warning.
  void recordAttempt(int64_t id, bool acknowledged, const std::string& status, const std::string& message);
  // Gives an item up for its destination, for good, with the reason.
  void recordSkipped(int64_t id, const std::string& reason);
  std::vector<OutboxItem> forInstance(const std::string& sopInstanceUid);
  // Newest first. state: "" (all), "pending" (not tried yet), "failed" (tried, not acknowledged
  // yet: retried), "sent" or "skipped".
  std::vector<OutboxItem> list(const std::string& state, unsigned limit);
  // Per destination, how many objects are pending (not tried yet), failed (tried, still owed),
  // sent and skipped; each object in one of the four.
  struct DestinationCounts {
    int64_t pending = 0, failed = 0, sent = 0, skipped = 0;
  };
  std::map<std::string, DestinationCounts> counts();

 private:
  StateDatabase& db_;
  const int64_t maxBackoffMs_;
  const int64_t claimLeaseMs_;
};

// Works the outbox on its own thread through a transport.
class OutboxSender {
 public:
  OutboxSender(Outbox& outbox, OutboxTransport& transport, AuditLog& audit);
  void start() { worker_.start(); }
  void stop() { worker_.stop(); }
  // Sends what is due now rather than at the next round (new results, a destination back).
  void wake() { worker_.wake(); }

 private:
  void sendDue();
  void sendOne(const OutboxItem& item);

  Outbox& outbox_;
  OutboxTransport& transport_;
  AuditLog& audit_;
  PeriodicWorker worker_;  // last: stopped before the members its rounds use go
};

}  // namespace annot
