#pragma once
// The durable outbox: every result object owed to every configured destination, with its
// attempts. It survives restarts (it lives in the state database), retries with exponential
// backoff while a PACS is down or refuses, and marks an object sent once a destination
// acknowledged it, after which it is never sent there again.
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/AuditLog.h"
#include "outbox/Destination.h"
#include "state/StateDatabase.h"

namespace annot {

struct OutboxItem {
  int64_t id = 0;
  std::string sopInstanceUid;
  std::string destination;
  std::string state;  // pending | sent
  int attempts = 0;
  std::string lastStatus;
  std::string lastError;
  int64_t nextAttemptMs = 0;
  int64_t sentMs = 0;
};

class Outbox {
 public:
  Outbox(StateDatabase& db, int64_t maxBackoffMs) : db_(db), maxBackoffMs_(maxBackoffMs) {}
  void enqueue(const std::string& sopInstanceUid, const std::vector<Destination>& destinations);
  std::vector<OutboxItem> due(int64_t nowMs, unsigned limit = 50);
  // acknowledged: the destination answered success or warning.
  void recordAttempt(int64_t id, bool acknowledged, const std::string& status, const std::string& message);
  std::vector<OutboxItem> forInstance(const std::string& sopInstanceUid);

 private:
  StateDatabase& db_;
  const int64_t maxBackoffMs_;
};

// Works the outbox on its own thread. `pathOf` finds the stored file of a SOP instance.
class OutboxSender {
 public:
  OutboxSender(Outbox& outbox, std::vector<Destination> destinations, std::string callingAet,
               std::function<std::string(const std::string&)> pathOf, AuditLog& audit);
  ~OutboxSender();
  void start();
  void stop();
  void wake();

 private:
  void run();
  void sendOne(const OutboxItem& item);

  Outbox& outbox_;
  std::vector<Destination> destinations_;
  std::string callingAet_;
  std::function<std::string(const std::string&)> pathOf_;
  AuditLog& audit_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace annot
