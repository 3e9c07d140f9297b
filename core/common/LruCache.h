#pragma once
// A bounded, thread-safe map that forgets the least recently used entry first. For values that
// never change once computed (headers of stored instances, their metadata), so a racing second
// computation is harmless: the first value stored wins.
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

namespace annot {

template <typename Key, typename Value>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity) {}

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
    entries_.emplace_front(key, std::move(value));
    index_[key] = entries_.begin();
    while (entries_.size() > capacity_) {
      index_.erase(entries_.back().first);
      entries_.pop_back();
    }
  }

 private:
  using Entry = std::pair<Key, Value>;
  const size_t capacity_;
  std::mutex mutex_;
  std::list<Entry> entries_;  // most recent first
  std::unordered_map<Key, typename std::list<Entry>::iterator> index_;
};

}  // namespace annot
