#pragma once
// Writes one incoming object to its scratch file while it arrives.
//
// Where the filesystem allows it the file is opened with O_DIRECT: each full chunk goes from
// this buffer to the device as it fills, without a copy into the page cache and without
// write-back work for the barrier that follows. The barrier then has only the last partial
// page and the file's metadata left to write, and it no longer waits for the data of objects
// other associations are still receiving. Filesystems without O_DIRECT (tmpfs, some network
// filesystems) get ordinary writes with write-back started per chunk.
//
// With an AsyncWriter each full chunk is queued to the device without waiting, so the receiver
// goes on reading while the device writes, and writeWholeBlocks() queues what is left of the
// object but its last partial block as soon as the data is complete; finish() waits for them.
// The file's size is set ahead of each queued write, which keeps ext4 from completing it
// inside the submission. With 256 KiB chunks the first half of a CT slice is on its way to
// the device while the second arrives; 1 MiB (one write per slice, started at the end) and
// 128 KiB (twice the requests) were both slower.
//
// The bytes written are also kept in memory, up to a limit, so the header can be parsed
// without reading the file back (which, after O_DIRECT, would be a disk read).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/AsyncWriter.h"

namespace annot {

namespace incoming_detail {
struct FreeAligned {
  void operator()(char* p) const;
};
}  // namespace incoming_detail

// Chunks that finished files hand back, for the next object the same receiver takes in. A
// fresh chunk costs a page fault and a page clear for every 4 KiB of it, about a tenth of the
// node's CPU at full ingest speed. Not thread-safe: one pool per receiving thread.
class ChunkPool {
 public:
  using Chunk = std::unique_ptr<char, incoming_detail::FreeAligned>;
  // Keeps at most `spare` chunks; more are freed.
  explicit ChunkPool(size_t spare = 8) : spare_(spare) {}
  Chunk take();
  void give(Chunk chunk);
  size_t spareCount() const { return chunks_.size(); }

 private:
  size_t spare_;
  std::vector<Chunk> chunks_;
};

class IncomingFile {
 public:
  enum class Caching { DirectWherePossible, PageCache };
  // Creates (or truncates) `path`. Objects up to `keepLimit` bytes stay readable through
  // contents() after finish(). Chunks come from `pool` and go back to it on destruction
  // (it must outlive the file); without one they are allocated and freed. With a `writer`
  // (which must outlive the file and serve no other file meanwhile) the data is written
  // asynchronously; without one, synchronously as each chunk fills. Throws StorageError.
  IncomingFile(const std::string& path, uint64_t keepLimit, Caching caching = Caching::DirectWherePossible,
               ChunkPool* pool = nullptr, AsyncWriter* writer = nullptr);
  ~IncomingFile();
  IncomingFile(const IncomingFile&) = delete;
  IncomingFile& operator=(const IncomingFile&) = delete;

  // Appends bytes. After a failure the object is marked failed (see failure()) and further
  // bytes are ignored, so a network receiver can drain the rest of the object first.
  void append(const void* data, size_t size);
  // The object is complete: queues everything but the last partial block to the writer now,
  // so that it is written while the caller examines the object. Without a writer finish()
  // writes it. Appending afterwards still works.
  void writeWholeBlocks();
  // Writes what is buffered and closes the file. Throws StorageError on any failure, including
  // one recorded by append().
  void finish();

  uint64_t size() const { return size_; }
  // The whole file in order, as pieces of memory; empty when it outgrew keepLimit.
  std::vector<std::string_view> contents() const;
  // The first write error, empty while there is none.
  const std::string& failure() const { return failure_; }
  // Whether the data bypassed the page cache.
  bool direct() const { return direct_; }

  static constexpr size_t kChunk = 256 * 1024;

 private:
  using Chunk = ChunkPool::Chunk;

  void writeOut(const char* data, size_t size, uint64_t offset);
  void writeNow(const char* data, size_t size, uint64_t offset);
  void awaitWrites();
  void sizeAtLeast(uint64_t size);
  void startNextChunk();
  Chunk newChunk();
  void recordFailure(int err);

  std::string path_;
  ChunkPool* pool_;
  AsyncWriter* writer_;
  uint64_t sized_ = 0;         // the file's size, set ahead of queued writes
  int fd_ = -1;
  bool direct_ = false;
  const uint64_t keepLimit_;
  bool keeping_ = true;
  std::vector<Chunk> chunks_;  // full chunks kept for contents(), then the one being filled
  size_t fill_ = 0;            // bytes in chunks_.back()
  size_t chunkWritten_ = 0;    // bytes of chunks_.back() handed to the file (all of a full one)
  uint64_t size_ = 0;
  uint64_t written_ = 0;       // bytes on their way to the file
  std::string failure_;
  int failureErrno_ = 0;
};

}  // namespace annot
