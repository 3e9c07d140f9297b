#include "MigrateCommand.h"

#include <filesystem>
#include <iostream>

#include "catalog/PostgresCatalog.h"
#include "catalog/SqliteCatalog.h"
#include "ingest/IngestRecovery.h"
#include "state/StateMigration.h"
#include "storage/FileInstanceStore.h"

namespace annot::node {
namespace {
const char* kUsage =
    "usage: dicom-node migrate --to postgresql://USER@HOST:PORT/DB [--from STATE.sqlite] [--data-dir DIR | --config FILE]\n"
    "Copies the node's state (users, tokens, the audit trail, tasks, revisions, results, the outbox) and its\n"
    "index of studies from its data folder (or only the state of --from, e.g. a plugin's state.sqlite) into an\n"
    "empty PostgreSQL database, in one transaction, and verifies the copied audit chain. Stop the node first.\n"
    "Then set \"Database\" to the same URI; the files stay in the data folder, which every node then shares.\n";
}  // namespace

int migrateCommand(const std::vector<std::string>& args, const NodeConfig& config) {
  std::string to, from = config.dataDirectory + "/state.sqlite";
  bool fromNode = true;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (args[i] == "--to" && i + 1 < args.size()) to = args[++i];
    else if (args[i] == "--from" && i + 1 < args.size()) {
      from = args[++i];
      fromNode = false;
    }
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
    // The node's index comes along (a plugin's state, given with --from, has none): its rows
    // checked against its files as at a start, its schema current, the target's made.
    const std::string indexPath = config.dataDirectory + "/index.sqlite";
    std::unique_ptr<sqlite::Database> index;
    if (fromNode && std::filesystem::exists(indexPath)) {
      FileInstanceStore store(config.dataDirectory);
      SqliteCatalog catalog(indexPath);
      recoverUnconfirmedInstances(catalog, store);
      index = std::make_unique<sqlite::Database>(indexPath);
      PostgresCatalog made(to);
    }
    StateDatabase target(to);
    const StateMigrationReport report = migrateState(source, index.get(), target);
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
