#include "storage/AsyncWriter.h"

#include <linux/aio_abi.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace annot {
namespace {
long ioSetup(unsigned depth, aio_context_t* context) { return ::syscall(SYS_io_setup, depth, context); }
long ioDestroy(aio_context_t context) { return ::syscall(SYS_io_destroy, context); }
long ioSubmit(aio_context_t context, long count, iocb** iocbs) { return ::syscall(SYS_io_submit, context, count, iocbs); }
long ioGetEvents(aio_context_t context, long minimum, long maximum, io_event* events) {
  return ::syscall(SYS_io_getevents, context, minimum, maximum, events, nullptr);
}
}  // namespace

std::unique_ptr<AsyncWriter> AsyncWriter::open(unsigned depth) {
  aio_context_t context = 0;
  if (ioSetup(depth, &context) != 0) return nullptr;
  return std::unique_ptr<AsyncWriter>(new AsyncWriter(context, depth));
}

AsyncWriter::~AsyncWriter() {
  drain();
  ioDestroy(context_);
}

int AsyncWriter::submit(int fd, const char* data, size_t size, uint64_t offset) {
  if (inFlight_ >= depth_) collect(1);
  iocb request;
  std::memset(&request, 0, sizeof request);
  request.aio_fildes = static_cast<uint32_t>(fd);
  request.aio_lio_opcode = IOCB_CMD_PWRITE;
  request.aio_buf = reinterpret_cast<uint64_t>(data);
  request.aio_nbytes = size;
  request.aio_offset = static_cast<int64_t>(offset);
  // The expected length travels with the request, to recognise a short write on completion.
  request.aio_data = size;
  iocb* requests[] = {&request};
  for (;;) {
    const long n = ioSubmit(context_, 1, requests);
    if (n == 1) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN && inFlight_ > 0) {
      collect(1);
      continue;
    }
    return n < 0 ? errno : EIO;
  }
  ++inFlight_;
  return 0;
}

void AsyncWriter::collect(size_t atLeast) {
  io_event events[16];
  size_t collected = 0;
  while (collected < atLeast && inFlight_ > 0) {
    const long n = ioGetEvents(context_, 1, static_cast<long>(std::min<size_t>(inFlight_, 16)), events);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      // Cannot happen with a valid context; count what is in flight as failed rather than hang.
      if (error_ == 0) error_ = errno;
      inFlight_ = 0;
      return;
    }
    for (long i = 0; i < n; ++i) {
      const int64_t result = events[i].res;
      if (error_ == 0 && result < 0) error_ = static_cast<int>(-result);
      if (error_ == 0 && result >= 0 && static_cast<uint64_t>(result) != events[i].data) error_ = EIO;
    }
    inFlight_ -= static_cast<size_t>(n);
    collected += static_cast<size_t>(n);
  }
}

int AsyncWriter::drain() {
  collect(inFlight_);
  const int error = error_;
  error_ = 0;
  return error;
}

}  // namespace annot
