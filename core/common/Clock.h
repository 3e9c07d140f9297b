#pragma once
#include <cstdint>
#include <string>

namespace annot {
// Wall-clock time in milliseconds since the Unix epoch.
int64_t nowMillis();
// Whether `text` is an ISO 8601 calendar date, YYYY-MM-DD (month 01-12, day 01-31).
bool isIsoDate(const std::string& text);
// "2026-12-06 14:03 UTC" for people (messages, the command line); "never" for 0.
std::string readableUtc(int64_t ms);
}  // namespace annot
