#pragma once

#include <chrono>

#include "common/PeriodicWorker.h"

namespace annot::node {

// Keeps the node's resident memory close to what it uses. glibc gives a thread's freed memory
// back to the system only from the top of the main heap, so after a burst of associations and
// requests (each on its own thread and arena) the node would keep the peak for good. This caps
// the number of arenas once at start-up and trims every arena at a fixed interval while it lives.
class MemoryReturn {
 public:
  MemoryReturn(unsigned arenaMax, std::chrono::seconds interval);

 private:
  PeriodicWorker worker_;
};

}  // namespace annot::node
