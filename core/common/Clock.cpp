#include "common/Clock.h"

#include <chrono>

namespace annot {
int64_t nowMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}
}  // namespace annot
