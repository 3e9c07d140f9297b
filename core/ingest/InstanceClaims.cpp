#include "ingest/InstanceClaims.h"

#include <utility>

namespace annot {

InstanceClaims::Claim::Claim(InstanceClaims* owner, std::string uid, bool held)
    : owner_(owner), uid_(std::move(uid)), held_(held), contended_(!held) {}

InstanceClaims::Claim::Claim(Claim&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), uid_(std::move(other.uid_)),
      held_(std::exchange(other.held_, false)), contended_(std::exchange(other.contended_, false)) {}

InstanceClaims::Claim& InstanceClaims::Claim::operator=(Claim&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    uid_ = std::move(other.uid_);
    held_ = std::exchange(other.held_, false);
    contended_ = std::exchange(other.contended_, false);
  }
  return *this;
}

void InstanceClaims::Claim::await() {
  if (!owner_ || held_) return;
  std::unique_lock lock(owner_->mutex_);
  owner_->released_.wait(lock, [&] { return owner_->held_.count(uid_) == 0; });
  owner_->held_.insert(uid_);
  held_ = true;
}

void InstanceClaims::Claim::release() noexcept {
  if (!owner_) return;
  if (held_) {
    {
      std::lock_guard lock(owner_->mutex_);
      owner_->held_.erase(uid_);
    }
    owner_->released_.notify_all();
  }
  owner_ = nullptr;
  held_ = false;
}

InstanceClaims::Claim InstanceClaims::tryClaim(const std::string& sopInstanceUid) {
  std::lock_guard lock(mutex_);
  const bool claimed = held_.insert(sopInstanceUid).second;
  return Claim(this, sopInstanceUid, claimed);
}

size_t InstanceClaims::heldCount() const {
  std::lock_guard lock(mutex_);
  return held_.size();
}

}  // namespace annot
