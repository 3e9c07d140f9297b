#pragma once
// Offline commands over core's SR codec: make-sr and read-sr.
#include <string>
#include <vector>

namespace annot::node {
int makeSrCommand(const std::vector<std::string>& args);
int readSrCommand(const std::vector<std::string>& args);
}  // namespace annot::node
