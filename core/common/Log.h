#pragma once
// Levelled, thread-safe logging to stderr. One line per event, prefixed with time,
// level and component so operators can grep a node's log.
#include <functional>
#include <sstream>
#include <string>

namespace annot {

enum class LogLevel { Trace = 0, Debug, Info, Warn, Error, Off };

class Log {
 public:
  static void setLevel(LogLevel level);
  static LogLevel level();
  static bool enabled(LogLevel level) { return level >= Log::level(); }
  static void write(LogLevel level, const char* component, const std::string& message);
  // Sends lines ("[component] message") elsewhere than stderr: the plugin hands them to
  // Orthanc's log. An empty sink restores stderr.
  using Sink = std::function<void(LogLevel, const std::string& line)>;
  static void setSink(Sink sink);
  // Parses "trace|debug|info|warn|error|off"; throws std::invalid_argument otherwise.
  static LogLevel parseLevel(const std::string& text);
};

}  // namespace annot

#define ANNOT_LOG(lvl, component, expr)                                  \
  do {                                                                  \
    if (::annot::Log::enabled(lvl)) {                                   \
      std::ostringstream annot_log_stream_;                              \
      annot_log_stream_ << expr;                                         \
      ::annot::Log::write(lvl, component, annot_log_stream_.str());      \
    }                                                                   \
  } while (0)

#define LOG_DEBUG(component, expr) ANNOT_LOG(::annot::LogLevel::Debug, component, expr)
#define LOG_INFO(component, expr) ANNOT_LOG(::annot::LogLevel::Info, component, expr)
#define LOG_WARN(component, expr) ANNOT_LOG(::annot::LogLevel::Warn, component, expr)
#define LOG_ERROR(component, expr) ANNOT_LOG(::annot::LogLevel::Error, component, expr)
