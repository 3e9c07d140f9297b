#include "storage/FileInstanceStore.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "common/Digest.h"
#include "common/Log.h"
#include "storage/FileSync.h"

namespace annot {
namespace {
std::string directoryOfKey(const std::string& key) { return key.substr(0, key.find('/')); }

// Removes scratch files left by receptions a crash interrupted: nothing in incoming/ was ever
// acknowledged, so nothing there is owed to anyone.
void clearIncoming(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  size_t removed = 0;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (::unlink((dir + "/" + name).c_str()) == 0) ++removed;
  }
  ::closedir(d);
  if (removed) LOG_INFO("storage", "removed " << removed << " unacknowledged partial file(s) from " << dir);
}

// Creates the 256 shard folders a key can name, so that storing an instance never creates a
// folder (and never waits for one to become durable) on the acknowledgement path. One sync of
// the parent covers every folder created here.
void createShards(const std::string& instancesDir) {
  static const char kHex[] = "0123456789abcdef";
  bool created = false;
  for (int i = 0; i < 256; ++i) {
    created |= filesync::createDirectory(instancesDir + "/" + kHex[i >> 4] + kHex[i & 15]);
  }
  if (created) filesync::fsyncDirectory(instancesDir);
}
}  // namespace

FileInstanceStore::FileInstanceStore(const std::string& root, const std::string& incoming)
    : root_(root), incomingDir_(root + "/" + incoming) {
  filesync::ensureDirectory(root_ + "/instances");
  filesync::ensureDirectory(incomingDir_);
  createShards(root_ + "/instances");
  clearIncoming(incomingDir_);
}

std::string FileInstanceStore::keyFor(const std::string& sopInstanceUid) {
  const std::string digest = sha256Hex(sopInstanceUid);
  return digest.substr(0, 2) + "/" + digest + ".dcm";
}

std::string FileInstanceStore::newIncomingPath() {
  return incomingDir_ + "/" + std::to_string(::getpid()) + "-" + std::to_string(++counter_) + ".part";
}

std::string FileInstanceStore::promote(const std::string& incomingPath, const std::string& sopInstanceUid) {
  const std::string key = keyFor(sopInstanceUid);
  const std::string target = absolutePath(key);
  int rc = ::rename(incomingPath.c_str(), target.c_str());
  if (rc != 0 && errno == ENOENT) {
    // A shard folder removed under a running node: recreate it durably and try once more.
    filesync::ensureDirectory(root_ + "/instances/" + directoryOfKey(key));
    rc = ::rename(incomingPath.c_str(), target.c_str());
  }
  if (rc != 0) throw filesync::errorFor("cannot move '" + incomingPath + "' to", target, errno);
  return key;
}

void FileInstanceStore::syncPromoted(const std::vector<std::string>& keys) {
  if (keys.empty()) return;
  // One filesystem-wide barrier makes every promoted file's data and directory entry durable
  // with a single journal commit, however many associations contributed to the batch.
  if (syncFilesystem()) return;
  // Fallback where syncfs is unavailable: per file, then per distinct folder.
  std::set<std::string> dirs;
  for (const auto& key : keys) {
    filesync::fsyncFile(absolutePath(key), /*dataOnly=*/true);
    dirs.insert(directoryOfKey(key));
  }
  for (const auto& dir : dirs) filesync::fsyncDirectory(root_ + "/instances/" + dir);
}

bool FileInstanceStore::syncFilesystem() { return filesync::syncFilesystem(root_); }

bool FileInstanceStore::coversPath(const std::string& path) const { return filesync::sameFilesystem(root_, path); }

void FileInstanceStore::discardStored(const std::string& key) noexcept { ::unlink(absolutePath(key).c_str()); }

void FileInstanceStore::discardIncoming(const std::string& incomingPath) noexcept {
  ::unlink(incomingPath.c_str());
}

std::string FileInstanceStore::absolutePath(const std::string& key) const { return root_ + "/instances/" + key; }

uint64_t FileInstanceStore::availableBytes() const {
  struct statvfs st{};
  if (::statvfs(root_.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

}  // namespace annot
