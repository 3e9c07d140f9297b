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
// The bytes written are also kept in memory, up to a limit, so the header can be parsed
// without reading the file back (which, after O_DIRECT, would be a disk read).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace annot {

class IncomingFile {
 public:
  enum class Caching { DirectWherePossible, PageCache };
  // Creates (or truncates) `path`. Objects up to `keepLimit` bytes stay readable through
  // contents() after finish(). Throws StorageError.
  IncomingFile(const std::string& path, uint64_t keepLimit, Caching caching = Caching::DirectWherePossible);
  ~IncomingFile();
  IncomingFile(const IncomingFile&) = delete;
  IncomingFile& operator=(const IncomingFile&) = delete;

  // Appends bytes. After a failure the object is marked failed (see failure()) and further
  // bytes are ignored, so a network receiver can drain the rest of the object first.
  void append(const void* data, size_t size);
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
  struct FreeAligned {
    void operator()(char* p) const;
  };
  using Chunk = std::unique_ptr<char, FreeAligned>;

  void writeOut(const char* data, size_t size, uint64_t offset);
  void flushFullChunk();
  void startNextChunk();
  Chunk newChunk();
  void recordFailure(int err);

  std::string path_;
  int fd_ = -1;
  bool direct_ = false;
  const uint64_t keepLimit_;
  bool keeping_ = true;
  std::vector<Chunk> chunks_;  // full chunks kept for contents(), then the one being filled
  size_t fill_ = 0;            // bytes in chunks_.back(); a full one is already written
  uint64_t size_ = 0;
  uint64_t written_ = 0;       // bytes on their way to the file
  std::string failure_;
  int failureErrno_ = 0;
};

}  // namespace annot
