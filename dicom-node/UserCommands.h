#pragma once
// dicom-node user add|token|list: manage users and API tokens in the node's data folder.
#include <string>
#include <vector>

#include "config/NodeConfig.h"

namespace annot::node {
int userCommand(const std::vector<std::string>& args, const NodeConfig& config);
}  // namespace annot::node
