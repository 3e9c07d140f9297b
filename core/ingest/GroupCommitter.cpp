#include "ingest/GroupCommitter.h"

#include "common/Log.h"

namespace annot {

void GroupCommitter::Stage::push(Batch&& batch) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto& p : batch) items.push_back(std::move(p));
  }
  wake.notify_one();
}

GroupCommitter::Batch GroupCommitter::Stage::take(size_t maxItems) {
  std::unique_lock<std::mutex> lock(mutex);
  wake.wait(lock, [this] { return closed || !items.empty(); });
  Batch batch;
  while (!items.empty() && batch.size() < maxItems) {
    batch.push_back(std::move(items.front()));
    items.pop_front();
  }
  return batch;
}

void GroupCommitter::Stage::close() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    closed = true;
  }
  wake.notify_all();
}

GroupCommitter::GroupCommitter(Catalog& catalog, InstanceStore& store, Metrics& metrics, size_t maxBatch,
                               std::chrono::microseconds siblingWait)
    : catalog_(catalog), store_(store), metrics_(metrics), maxBatch_(maxBatch), siblingWait_(siblingWait),
      oneBarrier_(catalog.durability() == Catalog::Durability::ByStorageBarrier) {
  if (!oneBarrier_) {
    storageThread_ = std::thread([this] { runStorageStage(); });
    catalogThread_ = std::thread([this] { runCatalogStage(); });
  }
}

GroupCommitter::~GroupCommitter() { stop(); }

GroupCommitter::Announcement& GroupCommitter::Announcement::operator=(Announcement&& other) noexcept {
  if (this != &other) {
    withdraw();
    owner_ = other.owner_;
    other.owner_ = nullptr;
  }
  return *this;
}

void GroupCommitter::Announcement::withdraw() {
  if (!owner_) return;
  std::lock_guard<std::mutex> lock(owner_->submitMutex_);
  owner_->settle(*this);
}

GroupCommitter::Announcement GroupCommitter::announce() {
  if (!oneBarrier_) return Announcement();
  std::lock_guard<std::mutex> lock(submitMutex_);
  ++announced_;
  return Announcement(this);
}

void GroupCommitter::settle(Announcement& announced) {
  if (!announced.owner_) return;
  announced.owner_ = nullptr;
  --announced_;
  arrivals_.notify_all();
}

CommitOutcome GroupCommitter::submit(Pending pending, Announcement announced) {
  std::unique_lock<std::mutex> lock(submitMutex_);
  settle(announced);
  if (stopping_) throw std::runtime_error("the node is shutting down");
  auto result = pending.done.get_future();
  if (!oneBarrier_) {
    Batch one;
    one.push_back(std::move(pending));
    toStorage_.push(std::move(one));
    lock.unlock();
    return result.get();
  }
  // Leader and followers: a caller that finds no barrier running commits everything queued
  // (its own entry included) on its own thread; the others wait and are answered by it, or
  // lead the next group. No hand-over to another thread on the way to the disk and back.
  waiting_.push_back(std::move(pending));
  while (result.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (leading_) {
      leaderDone_.wait(lock);
      continue;
    }
    leading_ = true;
    if (announced_ > 0) {
      // Siblings are finishing their files: let them join this barrier.
      arrivals_.wait_for(lock, siblingWait_, [this] { return announced_ == 0 || stopping_; });
    }
    Batch batch;
    while (!waiting_.empty() && batch.size() < maxBatch_) {
      batch.push_back(std::move(waiting_.front()));
      waiting_.pop_front();
    }
    lock.unlock();
    try {
      commitThenBarrier(batch);
    } catch (...) {
      // Nothing may leave a waiter unanswered or the leader's seat taken.
      for (auto& p : batch) {
        try {
          p.done.set_exception(std::current_exception());
        } catch (const std::future_error&) {
        }
      }
    }
    lock.lock();
    leading_ = false;
    leaderDone_.notify_all();
  }
  lock.unlock();
  return result.get();
}

CommitOutcome GroupCommitter::commit(InstanceRecord record) { return commit(std::move(record), Announcement()); }

CommitOutcome GroupCommitter::commit(InstanceRecord record, Announcement announced) {
  return submit(Pending{std::move(record), {}, false}, std::move(announced));
}

void GroupCommitter::awaitDurable() {
  if (!oneBarrier_) return;  // each commit was flushed before it became visible
  // Read after the caller saw its row, so the mark includes that row; a re-send of an instance
  // stored long ago then needs no barrier of its own. Marks only grow past durableMark_: rows
  // are removed only for a failed group, and all of those came after it.
  if (catalog_.commitMark() <= durableMark_.load()) return;
  submit(Pending{{}, {}, true}, Announcement());
}

void GroupCommitter::stop() {
  {
    std::unique_lock<std::mutex> lock(submitMutex_);
    stopping_ = true;
    // Callers already queued lead or are led to the end; only new ones are refused.
    leaderDone_.wait(lock, [this] { return !leading_ && waiting_.empty(); });
    if (oneBarrier_ && !stopped_) {
      stopped_ = true;
      try {
        catalog_.writeDurableMark();
        store_.syncFilesystem();
      } catch (const std::exception& e) {
        LOG_WARN("ingest", "could not record the last group as durable (" << e.what()
                                                                           << "); the next start checks it again");
      }
    }
  }
  toStorage_.close();
  if (storageThread_.joinable()) storageThread_.join();
  toCatalog_.close();
  if (catalogThread_.joinable()) catalogThread_.join();
}

void GroupCommitter::fail(Batch& batch) {
  for (auto& p : batch) p.done.set_exception(std::current_exception());
}

void GroupCommitter::runStorageStage() {
  for (;;) {
    Batch batch = toStorage_.take(maxBatch_);
    if (batch.empty()) return;
    std::vector<std::string> keys;
    keys.reserve(batch.size());
    for (const auto& p : batch) keys.push_back(p.record.storageKey);
    try {
      store_.syncPromoted(keys);
    } catch (const std::exception& e) {
      LOG_ERROR("ingest", "storage sync of " << batch.size() << " instance(s) failed: " << e.what());
      fail(batch);
      continue;
    }
    toCatalog_.push(std::move(batch));
  }
}

void GroupCommitter::commitThenBarrier(Batch& batch) {
  std::vector<InstanceRecord> records;
  for (const auto& p : batch) {
    if (!p.barrierOnly) records.push_back(p.record);
  }
  std::vector<CommitOutcome> outcomes;
  try {
    if (!records.empty()) outcomes = catalog_.addInstances(records);
  } catch (const std::exception& e) {
    LOG_ERROR("ingest", "catalog commit of " << records.size() << " instance(s) failed: " << e.what());
    fail(batch);
    return;
  }
  const int64_t mark = catalog_.commitMark();
  try {
    // One barrier for files, names and rows alike; also for a group of re-sends only, whose
    // first copies may have been in the group before.
    if (!store_.syncFilesystem()) throw StorageError(StorageError::Kind::Io, "this platform has no filesystem barrier (syncfs)");
  } catch (const std::exception& e) {
    LOG_ERROR("ingest", "storage barrier for " << batch.size() << " instance(s) failed: " << e.what()
                                                << "; removing their rows again");
    std::vector<std::string> inserted;
    for (size_t i = 0; i < records.size(); ++i) {
      if (outcomes[i] == CommitOutcome::Inserted) inserted.push_back(records[i].instance.sopInstanceUid);
    }
    try {
      catalog_.removeInstances(inserted);
    } catch (const std::exception& removal) {
      // The rows stay past the durable mark, so the start-up check will look at them again.
      LOG_ERROR("ingest", "could not remove the rows of the failed group: " << removal.what());
    }
    fail(batch);
    return;
  }
  catalog_.markDurable(mark);
  if (mark > durableMark_.load()) durableMark_.store(mark);  // only the leader writes it
  ++metrics_.commitBatches;
  size_t next = 0;
  for (auto& p : batch) p.done.set_value(p.barrierOnly ? CommitOutcome::AlreadyPresent : outcomes[next++]);
}

void GroupCommitter::runCatalogStage() {
  for (;;) {
    Batch batch = toCatalog_.take(maxBatch_);
    if (batch.empty()) return;
    std::vector<InstanceRecord> records;
    records.reserve(batch.size());
    for (const auto& p : batch) records.push_back(p.record);
    try {
      const auto outcomes = catalog_.addInstances(records);
      ++metrics_.commitBatches;
      for (size_t i = 0; i < batch.size(); ++i) batch[i].done.set_value(outcomes[i]);
    } catch (const std::exception& e) {
      LOG_ERROR("ingest", "catalog commit of " << batch.size() << " instance(s) failed: " << e.what());
      fail(batch);
    }
  }
}

}  // namespace annot
