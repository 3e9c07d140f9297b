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

GroupCommitter::GroupCommitter(Catalog& catalog, InstanceStore& store, Metrics& metrics, size_t maxBatch)
    : catalog_(catalog), store_(store), metrics_(metrics), maxBatch_(maxBatch),
      storageThread_([this] { runStorageStage(); }), catalogThread_([this] { runCatalogStage(); }) {}

GroupCommitter::~GroupCommitter() { stop(); }

CommitOutcome GroupCommitter::commit(InstanceRecord record) {
  std::future<CommitOutcome> result;
  {
    std::lock_guard<std::mutex> lock(submitMutex_);
    if (stopping_) throw std::runtime_error("the node is shutting down");
    Batch one;
    one.push_back(Pending{std::move(record), {}});
    result = one.back().done.get_future();
    toStorage_.push(std::move(one));
  }
  return result.get();
}

void GroupCommitter::stop() {
  {
    std::lock_guard<std::mutex> lock(submitMutex_);
    stopping_ = true;
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
