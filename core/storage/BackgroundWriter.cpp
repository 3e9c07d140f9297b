#include "storage/BackgroundWriter.h"

#include <unistd.h>

#include <cerrno>

namespace annot {

int WriteGroup::wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return running_ == 0; });
  return error_;
}

int WriteGroup::error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return error_;
}

void WriteGroup::started() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++running_;
}

void WriteGroup::finished(int err) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (err != 0 && error_ == 0) error_ = err;
  // Notified under the lock: the waiter may destroy the group as soon as it sees zero.
  if (--running_ == 0) done_.notify_all();
}

BackgroundWriter::BackgroundWriter(size_t threads) {
  if (threads == 0) threads = 1;
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

BackgroundWriter::~BackgroundWriter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void BackgroundWriter::write(int fd, const char* data, size_t size, uint64_t offset, WriteGroup& group) {
  group.started();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    group.queued_.push_back(PendingWrite{fd, data, size, offset});
    if (group.scheduled_) return;  // its thread takes this one next
    group.scheduled_ = true;
    ready_.push_back(&group);
  }
  wake_.notify_one();
}

namespace {
int writeFully(PendingWrite w) {
  while (w.size > 0) {
    const ssize_t n = ::pwrite(w.fd, w.data, w.size, static_cast<off_t>(w.offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;
    w.data += n;
    w.size -= static_cast<size_t>(n);
    w.offset += static_cast<uint64_t>(n);
  }
  return 0;
}
}  // namespace

void BackgroundWriter::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !ready_.empty(); });
    if (ready_.empty()) return;  // stopping, and everything queued is done
    WriteGroup* group = ready_.front();
    ready_.pop_front();
    const PendingWrite next = group->queued_.front();
    group->queued_.pop_front();
    lock.unlock();
    const int err = writeFully(next);
    lock.lock();
    // Settle the group's place before reporting: once finished() brings it to zero, its owner
    // may destroy it.
    if (group->queued_.empty()) {
      group->scheduled_ = false;
    } else {
      ready_.push_back(group);
      wake_.notify_one();
    }
    group->finished(err);
  }
}

}  // namespace annot
