#pragma once
// dicom-node migrate: moves the node's embedded state (state.sqlite) to a PostgreSQL database,
// the step from one node to several sharing it.
#include <string>
#include <vector>

#include "config/NodeConfig.h"

namespace annot::node {
int migrateCommand(const std::vector<std::string>& args, const NodeConfig& config);
}  // namespace annot::node
