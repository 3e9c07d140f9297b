#pragma once
// Offline commands over core's SEG codec: make-seg and read-seg.
#include <string>
#include <vector>

namespace annot::node {
int makeSegCommand(const std::vector<std::string>& args);
int readSegCommand(const std::vector<std::string>& args);
}  // namespace annot::node
