#pragma once
// Objects that are costly to make or to release (database connections, kernel AIO contexts),
// lent out one borrower at a time and kept for the next one instead of being destroyed.
// Thread-safe; the pool must outlive its leases.
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace annot {

template <typename T>
class LendingPool {
 public:
  // Makes a new object when none is idle; may return nullptr (a lease of nothing).
  using Factory = std::function<std::unique_ptr<T>()>;

  class Lease {
   public:
    Lease(LendingPool& pool, std::unique_ptr<T> object) : pool_(&pool), object_(std::move(object)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (object_) pool_->giveBack(std::move(object_));
    }
    T* get() const { return object_.get(); }
    T& operator*() const { return *object_; }
    T* operator->() const { return object_.get(); }

   private:
    LendingPool* pool_;
    std::unique_ptr<T> object_;
  };

  explicit LendingPool(Factory make) : make_(std::move(make)) {}

  Lease lease() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!idle_.empty()) {
        std::unique_ptr<T> object = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(object));
      }
    }
    return Lease(*this, make_());
  }

  size_t idleCount() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return idle_.size();
  }

 private:
  void giveBack(std::unique_ptr<T> object) {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(std::move(object));
  }

  Factory make_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<T>> idle_;
};

}  // namespace annot
