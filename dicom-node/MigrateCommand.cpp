#include "MigrateCommand.h"

#include <filesystem>
#include <iostream>

#include "state/StateMigration.h"

namespace annot::node {
namespace {
const char* kUsage =
    "usage: dicom-node migrate --to postgresql://USER@HOST:PORT/DB [--from STATE.sqlite] [--data-dir DIR | --config FILE]\n"
    "Copies the node's state (users, tokens, the audit trail, tasks, revisions, results, the outbox) from its\n"
    "state.sqlite (or --from, e.g. a plugin's) into an empty PostgreSQL database, in one transaction, and\n"
    "verifies the copied audit chain. Stop the node first. Then set \"Database\" to the same URI.\n";
}  // namespace

int migrateCommand(const std::vector<std::string>& args, const NodeConfig& config) {
  std::string to, from = config.dataDirectory + "/state.sqlite";
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (args[i] == "--to" && i + 1 < args.size()) to = args[++i];
    else if (args[i] == "--from" && i + 1 < args.size()) from = args[++i];
    else {
      std::cerr << "dicom-node migrate: unexpected '" << args[i] << "'\n" << kUsage;
      return 2;
    }
  }
  if (to.rfind("postgresql://", 0) != 0 && to.rfind("postgres://", 0) != 0) {
    std::cerr << "dicom-node migrate: --to must name the PostgreSQL database (postgresql://...)\n" << kUsage;
    return 2;
  }
  if (!std::filesystem::exists(from)) {
    std::cerr << "dicom-node migrate: no state database at " << from << " (give --data-dir or --from)\n";
    return 1;
  }
  try {
    StateDatabase source(from);
    StateDatabase target(to);
    const StateMigrationReport report = migrateState(source, target);
    for (const auto& [table, rows] : report.rows) std::cout << table << '\t' << rows << " row(s)\n";
    std::cout << "audit chain verified on PostgreSQL: " << report.auditEntries << " entries\n"
              << "set \"Database\": \"" << to << "\" in the node's configuration and start it\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "dicom-node migrate: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace annot::node
