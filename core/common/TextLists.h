#pragma once
// Comma-separated lists, as the audit trail records several UIDs in one field.
#include <string>
#include <vector>

namespace annot {

// The non-empty items of "a,b,,c" (a, b, c).
inline std::vector<std::string> splitList(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < list.size()) {
    const size_t end = std::min(list.find(',', start), list.size());
    if (end > start) out.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

template <typename Items>
std::string joinList(const Items& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + std::string(item);
  return out;
}

}  // namespace annot
