#pragma once
// POSIX durability helpers. Each throws StorageError with the path and errno text.
#include <cstdint>
#include <string>

#include "storage/InstanceStore.h"

namespace annot::filesync {
// The StorageError for a failed system call on `path`: OutOfSpace for a full disk or quota,
// Io otherwise, with the call's errno in the message.
StorageError errorFor(const std::string& what, const std::string& path, int err);
void fsyncFile(const std::string& path, bool dataOnly = true);
void fsyncDirectory(const std::string& path);
// mkdir of one folder without any sync; false when it already exists.
bool createDirectory(const std::string& path);
// mkdir -p, fsync'ing each parent whose entry list changed so the new folder survives a crash.
void ensureDirectory(const std::string& path);
// syncfs(2) on the filesystem holding `path`: all its dirty data and metadata reach the disk.
// Returns false when the call is not supported (the caller falls back to per-file fsync);
// throws StorageError on a write-back error.
bool syncFilesystem(const std::string& path);
// Hint the kernel to start writing a file's dirty pages now (non-blocking), so a later fsync
// has less to wait for. Errors are ignored: it is only a hint.
void startWriteback(int fd);
// Writes a whole file (created or truncated) and starts its write-back; no sync.
void writeFile(const std::string& path, const std::string& bytes);
// Whether two existing paths are on the same filesystem (same device).
bool sameFilesystem(const std::string& a, const std::string& b);

}  // namespace annot::filesync
