#pragma once
#include <cstdint>

namespace annot {
// Wall-clock time in milliseconds since the Unix epoch.
int64_t nowMillis();
}  // namespace annot
