#include "MemoryReturn.h"

#include <malloc.h>

#include "common/Log.h"

namespace annot::node {

MemoryReturn::MemoryReturn(unsigned arenaMax, std::chrono::seconds interval)
    // malloc_trim returns the free pages of every arena, not only the top of the main heap.
    : worker_("memory", interval, [] { malloc_trim(0); }) {
  // Before the threads that would create further arenas; 0 keeps glibc's default (8 per core).
  if (arenaMax > 0 && mallopt(M_ARENA_MAX, static_cast<int>(arenaMax)) != 1) {
    LOG_WARN("node", "the C library refused MallocArenaMax " << arenaMax << "; its default applies");
  }
  worker_.start();
}

}  // namespace annot::node
