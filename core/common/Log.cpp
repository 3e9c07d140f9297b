#include "common/Log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <stdexcept>

namespace annot {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::Info)};
std::mutex g_writeMutex;

const char* levelName(LogLevel level) {
  switch (level) {
    case LogLevel::Trace: return "TRACE";
    case LogLevel::Debug: return "DEBUG";
    case LogLevel::Info: return "INFO";
    case LogLevel::Warn: return "WARN";
    case LogLevel::Error: return "ERROR";
    default: return "?";
  }
}
}  // namespace

void Log::setLevel(LogLevel level) { g_level = static_cast<int>(level); }
LogLevel Log::level() { return static_cast<LogLevel>(g_level.load()); }

namespace {
Log::Sink g_sink;  // guarded by g_writeMutex
}

void Log::setSink(Sink sink) {
  std::lock_guard<std::mutex> lock(g_writeMutex);
  g_sink = std::move(sink);
}

void Log::write(LogLevel level, const char* component, const std::string& message) {
  {
    std::lock_guard<std::mutex> lock(g_writeMutex);
    if (g_sink) {
      g_sink(level, std::string("[") + component + "] " + message);
      return;
    }
  }
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t secs = system_clock::to_time_t(now);
  const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::lock_guard<std::mutex> lock(g_writeMutex);
  std::fprintf(stderr, "%s.%03dZ %-5s [%s] %s\n", stamp, static_cast<int>(millis), levelName(level),
               component, message.c_str());
}

LogLevel Log::parseLevel(const std::string& text) {
  if (text == "trace") return LogLevel::Trace;
  if (text == "debug") return LogLevel::Debug;
  if (text == "info") return LogLevel::Info;
  if (text == "warn") return LogLevel::Warn;
  if (text == "error") return LogLevel::Error;
  if (text == "off") return LogLevel::Off;
  throw std::invalid_argument("unknown log level '" + text + "' (use trace, debug, info, warn, error or off)");
}

}  // namespace annot
