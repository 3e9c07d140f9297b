#include "storage/IncomingFile.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "storage/FileSync.h"

namespace annot {
namespace {
// O_DIRECT needs buffers, offsets and lengths aligned to the device's logical block; 4 KiB
// covers every device in use (512-byte and 4K-native alike).
constexpr size_t kAlign = 4096;

using filesync::errorFor;
}  // namespace

void incoming_detail::FreeAligned::operator()(char* p) const { std::free(p); }

ChunkPool::Chunk ChunkPool::take() {
  if (!chunks_.empty()) {
    Chunk chunk = std::move(chunks_.back());
    chunks_.pop_back();
    return chunk;
  }
  void* p = nullptr;
  if (::posix_memalign(&p, kAlign, IncomingFile::kChunk) != 0) throw std::bad_alloc();
  return Chunk(static_cast<char*>(p));
}

void ChunkPool::give(Chunk chunk) {
  if (chunk && chunks_.size() < spare_) chunks_.push_back(std::move(chunk));
}

IncomingFile::IncomingFile(const std::string& path, uint64_t keepLimit, Caching caching, ChunkPool* pool,
                           AsyncWriter* writer)
    : path_(path), pool_(pool), writer_(writer), keepLimit_(keepLimit) {
  const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
#ifdef O_DIRECT
  if (caching == Caching::DirectWherePossible) {
    fd_ = ::open(path.c_str(), flags | O_DIRECT, 0640);
    direct_ = fd_ >= 0;
    // EINVAL: this filesystem does not do direct I/O; write through the page cache instead.
    if (fd_ < 0 && errno != EINVAL) throw errorFor("cannot create", path, errno);
  }
#else
  (void)caching;
#endif
  if (fd_ < 0) fd_ = ::open(path.c_str(), flags, 0640);
  if (fd_ < 0) throw errorFor("cannot create", path, errno);
  chunks_.push_back(newChunk());
}

IncomingFile::~IncomingFile() {
  // Queued writes still read the chunks and the descriptor (a reception that failed).
  if (writer_) writer_->drain();
  if (fd_ >= 0) ::close(fd_);
  if (pool_) {
    for (auto& chunk : chunks_) pool_->give(std::move(chunk));
  }
}

IncomingFile::Chunk IncomingFile::newChunk() {
  if (pool_) return pool_->take();
  ChunkPool unpooled(0);
  return unpooled.take();
}

void IncomingFile::recordFailure(int err) {
  if (!failure_.empty()) return;
  failureErrno_ = err;
  failure_ = errorFor("cannot write", path_, err).what();
}

void IncomingFile::writeNow(const char* data, size_t size, uint64_t offset) {
  while (size > 0 && failure_.empty()) {
    const ssize_t n = ::pwrite(fd_, data, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      recordFailure(n < 0 ? errno : EIO);
      return;
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

void IncomingFile::writeOut(const char* data, size_t size, uint64_t offset) {
  if (!writer_) {
    writeNow(data, size, offset);
    if (!direct_) filesync::startWriteback(fd_);
    return;
  }
  sizeAtLeast(offset + size);
  if (!failure_.empty()) return;
  // Refused at submission (AIO resources exhausted, a file that takes no AIO): written now
  // instead; a failure of that write is recorded as any other.
  if (writer_->submit(fd_, data, size, offset) != 0) writeNow(data, size, offset);
}

void IncomingFile::sizeAtLeast(uint64_t size) {
  if (size <= sized_ || !failure_.empty()) return;
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    recordFailure(errno);
    return;
  }
  sized_ = size;
}

void IncomingFile::awaitWrites() {
  if (!writer_) return;
  if (const int err = writer_->drain()) recordFailure(err);
}

void IncomingFile::startNextChunk() {
  if (keeping_ && (chunks_.size() + 1) * kChunk <= keepLimit_) {
    chunks_.push_back(newChunk());
  } else {
    // The chunk about to be refilled (and any handed back) must be written first.
    awaitWrites();
    if (keeping_) {
      // Too large to keep: from here on one chunk is reused and the header is read from the file.
      keeping_ = false;
      Chunk last = std::move(chunks_.back());
      chunks_.pop_back();
      if (pool_) {
        for (auto& chunk : chunks_) pool_->give(std::move(chunk));
      }
      chunks_.clear();
      chunks_.push_back(std::move(last));
    }
  }
  fill_ = 0;
  chunkWritten_ = 0;
}

void IncomingFile::append(const void* data, size_t size) {
  const char* in = static_cast<const char*>(data);
  size_ += size;
  while (size > 0) {
    if (fill_ == kChunk) startNextChunk();
    const size_t n = std::min(size, kChunk - fill_);
    if (failure_.empty()) std::memcpy(chunks_.back().get() + fill_, in, n);
    fill_ += n;
    in += n;
    size -= n;
    if (fill_ == kChunk) {
      writeOut(chunks_.back().get() + chunkWritten_, kChunk - chunkWritten_, written_);
      written_ += kChunk - chunkWritten_;
      chunkWritten_ = kChunk;
    }
  }
}

void IncomingFile::writeWholeBlocks() {
  if (!writer_ || fd_ < 0) return;
  const size_t whole = (direct_ ? fill_ / kAlign * kAlign : fill_);
  if (whole <= chunkWritten_) return;
  sizeAtLeast(size_);  // the whole object, in one step
  writeOut(chunks_.back().get() + chunkWritten_, whole - chunkWritten_, written_);
  written_ += whole - chunkWritten_;
  chunkWritten_ = whole;
}

void IncomingFile::finish() {
  if (fd_ < 0) return;
  // The queued writes first: clearing O_DIRECT below must not reach one still queued.
  awaitWrites();
  const char* tail = chunks_.back().get() + chunkWritten_;
  const size_t left = fill_ - chunkWritten_;
  const size_t aligned = direct_ ? left / kAlign * kAlign : left;
  writeNow(tail, aligned, written_);
  if (aligned < left && failure_.empty()) {
    // The last partial block cannot go direct; it is written through the page cache and the
    // barrier writes it with the metadata.
    const int flags = ::fcntl(fd_, F_GETFL);
    if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_DIRECT) != 0) recordFailure(errno);
    writeNow(tail + aligned, left - aligned, written_ + aligned);
    filesync::startWriteback(fd_);
  } else if (!direct_) {
    filesync::startWriteback(fd_);
  }
  written_ += left;
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0 && failure_.empty()) recordFailure(errno);
  if (!failure_.empty()) throw errorFor("cannot write", path_, failureErrno_);
}

std::vector<std::string_view> IncomingFile::contents() const {
  std::vector<std::string_view> pieces;
  if (!keeping_) return pieces;
  for (size_t i = 0; i < chunks_.size(); ++i) {
    const bool last = i + 1 == chunks_.size();
    if (last && fill_ == 0) break;
    pieces.emplace_back(chunks_[i].get(), last ? fill_ : kChunk);
  }
  return pieces;
}

}  // namespace annot
