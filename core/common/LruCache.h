#pragma once
// A bounded, thread-safe map that forgets the least recently used entry first. For values that
// never change once computed (headers of stored instances, their metadata), so a racing second
// computation is harmless: the first value stored wins. Bounded by a number of entries and,
// when values vary in size, by their total weight (bytes): a count alone let 50,000 metadata
// documents of a few kilobytes each grow the node by hundreds of megabytes in a soak.
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

namespace annot {

template <typename Key, typename Value>
class LruCache {
 public:
  explicit LruCache(size_t capacity, size_t maxWeight = SIZE_MAX, std::function<size_t(const Key&, const Value&)> weigh = {})
      : capacity_(capacity), maxWeight_(maxWeight), weigh_(std::move(weigh)) {}

  std::optional<Value> get(const Key& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto hit = index_.find(key);
    if (hit == index_.end()) return std::nullopt;
    entries_.splice(entries_.begin(), entries_, hit->second);
    return hit->second->second;
  }

  void put(const Key& key, Value value) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (index_.count(key)) return;
    weight_ += weigh_ ? weigh_(key, value) : 0;
    entries_.emplace_front(key, std::move(value));
    index_[key] = entries_.begin();
    while (entries_.size() > capacity_ || (weight_ > maxWeight_ && entries_.size() > 1)) {
      const Entry& last = entries_.back();
      weight_ -= weigh_ ? weigh_(last.first, last.second) : 0;
      index_.erase(last.first);
      entries_.pop_back();
    }
  }

  size_t size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
  }
  size_t weight() {
    std::lock_guard<std::mutex> lock(mutex_);
    return weight_;
  }

 private:
  using Entry = std::pair<Key, Value>;
  const size_t capacity_;
  const size_t maxWeight_;
  const std::function<size_t(const Key&, const Value&)> weigh_;
  size_t weight_ = 0;
  std::mutex mutex_;
  std::list<Entry> entries_;  // most recent first
  std::unordered_map<Key, typename std::list<Entry>::iterator> index_;
};

}  // namespace annot
