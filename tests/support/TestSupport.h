#pragma once
// Helpers for tests that run real processes and speak real protocols: temporary folders, free
// ports, child processes that are always cleaned up, and a small HTTP client.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace annot::test {

// A fresh folder under $TMPDIR, removed with its content on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
 private:
  std::string path_;
};

// A TCP port nobody listens on right now (the kernel's choice for a bind to port 0).
uint16_t freePort();

// A child process with stdout and stderr captured to a file. Killed (SIGKILL) and reaped on
// destruction if still running, so a failing test never leaves processes behind.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& logPath,
               const std::map<std::string, std::string>& extraEnv = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits for exit; returns the exit code (128+signal when killed) or -1 on timeout.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  std::string log() const;

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string logPath_;
};

struct CommandResult {
  int exitCode = -1;
  std::string output;  // stdout and stderr
};
// Runs a command to completion (with TCP_NODELAY=1, as every DICOM peer in our tests).
CommandResult runCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(120));

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};
HttpResult httpRequest(uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body = "", const std::map<std::string, std::string>& headers = {});
inline HttpResult httpGet(uint16_t port, const std::string& target) { return httpRequest(port, "GET", target); }

// Polls `condition` until it is true or the timeout passes; returns its last value.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    struct timespec ts {0, 50 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  return condition();
}

std::string readFile(const std::string& path);
size_t countOccurrences(const std::string& text, const std::string& needle);
void writeFile(const std::string& path, const std::string& content);
std::vector<std::string> listFiles(const std::string& dir, const std::string& suffix = "");

}  // namespace annot::test
