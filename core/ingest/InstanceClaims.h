#pragma once
// Which SOP Instances an association is storing right now. Whoever examines an instance first
// holds its claim until its copy is durable and indexed (or refused); a copy of the same
// instance examined meanwhile waits for that outcome before it touches the store. Without
// this, two associations sending the same SOP Instance at the same moment would both see an
// empty index, and the second to move its file into place would replace the first one's
// acknowledged file, whatever the second copy held.
#include <condition_variable>
#include <mutex>
#include <string>
#include <unordered_set>

namespace annot {

class InstanceClaims {
 public:
  // One SOP Instance claimed (held()) or waited for (contended()); released when destroyed.
  class Claim {
   public:
    Claim() = default;
    Claim(Claim&& other) noexcept;
    Claim& operator=(Claim&& other) noexcept;
    ~Claim() { release(); }
    Claim(const Claim&) = delete;
    Claim& operator=(const Claim&) = delete;

    bool held() const { return held_; }
    // Another copy of the instance held it when this one tried.
    bool contended() const { return contended_; }
    // Contended: blocks until the holder is done, then holds the claim itself.
    void await();
    void release() noexcept;

   private:
    friend class InstanceClaims;
    Claim(InstanceClaims* owner, std::string uid, bool held);
    InstanceClaims* owner_ = nullptr;  // set while held, or while waiting to be
    std::string uid_;
    bool held_ = false;
    bool contended_ = false;
  };

  // Never blocks: the claim is held at once unless another copy holds it (contended()).
  Claim tryClaim(const std::string& sopInstanceUid);
  size_t heldCount() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable released_;
  std::unordered_set<std::string> held_;
};

}  // namespace annot
