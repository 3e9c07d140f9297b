#pragma once
// Threads that perform positioned writes on behalf of receivers, so that a receiver keeps
// reading its socket while the previous part of the object goes to the device.
//
// O_DIRECT writes block the caller until the device has the data, and on ext4 a write that
// extends the file is synchronous even through Linux AIO; handing it to a thread is what
// overlaps the disk with the network. The writes of one group run one after the other, in
// the order given: concurrent extending writes to one file only queue on its inode (ext4
// drains in-flight direct I/O before each). Groups run in parallel. The caller owns the
// buffers and the descriptor and must keep both until its WriteGroup has drained (wait()).
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace annot {

// The writes of one object: how many are still running and the first error among them.
struct PendingWrite {
  int fd;
  const char* data;
  size_t size;
  uint64_t offset;
};

class WriteGroup {
 public:
  // Blocks until every write handed in so far has finished; returns the first errno (0: none).
  int wait();
  // The first errno seen so far, without waiting.
  int error() const;

 private:
  friend class BackgroundWriter;
  void started();
  void finished(int err);
  mutable std::mutex mutex_;
  std::condition_variable done_;
  size_t running_ = 0;  // queued or being written
  int error_ = 0;
  // Guarded by the writer's mutex: writes not yet started, and whether the group is in the
  // writer's ready queue or being written.
  std::deque<PendingWrite> queued_;
  bool scheduled_ = false;
};

class BackgroundWriter {
 public:
  explicit BackgroundWriter(size_t threads);
  ~BackgroundWriter();  // finishes what is queued
  BackgroundWriter(const BackgroundWriter&) = delete;
  BackgroundWriter& operator=(const BackgroundWriter&) = delete;

  // Queues pwrite(fd, data, size, offset), retried until complete; the outcome goes to `group`.
  void write(int fd, const char* data, size_t size, uint64_t offset, WriteGroup& group);

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<WriteGroup*> ready_;  // groups with a queued write and none running
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace annot
