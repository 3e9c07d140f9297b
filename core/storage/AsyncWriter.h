#pragma once
// Direct writes queued to the device without waiting for them (Linux native AIO), collected
// later: a receiver goes on reading its socket, or examines the object, while the device
// writes. One per receiving thread; not thread-safe.
//
// On ext4 a direct write that extends the file completes inside io_submit() (the size update
// is synchronous), so a caller wanting the overlap sets the file's size first (ftruncate)
// and writes inside it. A thread pool doing plain pwrite() would overlap as well, but waking
// a thread on an idle virtual CPU took as long as the write it was to hide.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/LendingPool.h"

namespace annot {

class AsyncWriter {
 public:
  // Nullptr where the kernel offers no AIO (or its limit is reached): write synchronously.
  static std::unique_ptr<AsyncWriter> open(unsigned depth = 16);
  ~AsyncWriter();  // waits for what is in flight
  AsyncWriter(const AsyncWriter&) = delete;
  AsyncWriter& operator=(const AsyncWriter&) = delete;

  // Queues pwrite(fd, data, size, offset); `data`, `size` and `offset` aligned as O_DIRECT
  // requires on an O_DIRECT descriptor. The buffer and descriptor must stay valid until
  // drain(). Returns 0 or the errno of a refused submission.
  int submit(int fd, const char* data, size_t size, uint64_t offset);
  // Waits for every queued write; returns the first errno among them since the last drain()
  // (a short write counts as EIO), 0 when all succeeded.
  int drain();
  size_t inFlight() const { return inFlight_; }

 private:
  explicit AsyncWriter(unsigned long context, unsigned depth) : context_(context), depth_(depth) {}
  // Collects at least `atLeast` completions.
  void collect(size_t atLeast);

  unsigned long context_;
  unsigned depth_;
  size_t inFlight_ = 0;
  int error_ = 0;
};

// AsyncWriters shared by the receiving threads of a server, one lent per object. Releasing a
// kernel AIO context waits for an RCU grace period (tens of milliseconds), too long for the
// end of every association; pooled contexts are released only with the pool. A lease holds
// nullptr where the kernel offers no AIO: write synchronously.
class AsyncWriterPool : public LendingPool<AsyncWriter> {
 public:
  AsyncWriterPool() : LendingPool<AsyncWriter>([] { return AsyncWriter::open(); }) {}
};

}  // namespace annot
