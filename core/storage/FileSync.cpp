#include "storage/FileSync.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>


namespace annot::filesync {

StorageError errorFor(const std::string& what, const std::string& path, int err) {
  const auto kind = (err == ENOSPC || err == EDQUOT) ? StorageError::Kind::OutOfSpace : StorageError::Kind::Io;
  return StorageError(kind, what + " '" + path + "': " + std::strerror(err));
}

namespace {
[[noreturn]] void fail(const std::string& what, const std::string& path, int err) { throw errorFor(what, path, err); }

class Fd {
 public:
  Fd(const std::string& path, int flags) : fd_(::open(path.c_str(), flags | O_CLOEXEC, 0640)) {
    if (fd_ < 0) fail("cannot open", path, errno);
  }
  ~Fd() { ::close(fd_); }
  int get() const { return fd_; }
 private:
  int fd_;
};

std::string parentOf(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}
}  // namespace

void fsyncFile(const std::string& path, bool dataOnly) {
  Fd fd(path, O_RDONLY);
  const int rc = dataOnly ? ::fdatasync(fd.get()) : ::fsync(fd.get());
  if (rc != 0) fail("cannot sync", path, errno);
}

void fsyncDirectory(const std::string& path) {
  Fd fd(path, O_RDONLY | O_DIRECTORY);
  if (::fsync(fd.get()) != 0) fail("cannot sync directory", path, errno);
}

bool createDirectory(const std::string& path) {
  if (::mkdir(path.c_str(), 0750) == 0) return true;
  if (errno == EEXIST) return false;
  fail("cannot create directory", path, errno);
}

void ensureDirectory(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) fail("not a directory:", path, ENOTDIR);
    return;
  }
  const std::string parent = parentOf(path);
  if (parent != path) ensureDirectory(parent);
  createDirectory(path);
  fsyncDirectory(parent);
}

bool syncFilesystem(const std::string& path) {
  Fd fd(path, O_RDONLY | O_DIRECTORY);
  if (::syncfs(fd.get()) == 0) return true;
  if (errno == ENOSYS) return false;
  fail("cannot sync filesystem of", path, errno);
}

void startWriteback(int fd) {
#ifdef SYNC_FILE_RANGE_WRITE
  ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#else
  (void)fd;
#endif
}

bool sameFilesystem(const std::string& a, const std::string& b) {
  struct stat sa{}, sb{};
  if (::stat(a.c_str(), &sa) != 0) fail("cannot stat", a, errno);
  if (::stat(b.c_str(), &sb) != 0) fail("cannot stat", b, errno);
  return sa.st_dev == sb.st_dev;
}

void writeFile(const std::string& path, const std::string& bytes) {
  Fd fd(path, O_WRONLY | O_CREAT | O_TRUNC);
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot write", path, errno);
    written += static_cast<size_t>(n);
  }
  startWriteback(fd.get());
}

}  // namespace annot::filesync
