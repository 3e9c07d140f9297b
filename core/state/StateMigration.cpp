#include "state/StateMigration.h"

#include <algorithm>
#include <vector>

#include "audit/AuditLog.h"

namespace annot {
namespace {
// Parents before children (foreign keys): every table of the catalog, then of the state schema.
const std::vector<std::string> kCatalogTables = {"patients", "studies", "series", "instances"};
const std::vector<std::string> kTables = {"users",   "tokens",        "audit",        "tasks",         "revisions",   "reviews",
                                          "outputs", "results_due",   "outbox",       "outbox_attempts", "agreements", "prelabels",
                                          "workitem_root", "deid_key", "deid_uids", "atna_cursor", "change_cursor", "touched_studies"};

std::vector<std::string> postgresColumns(pg::Connection& db, const std::string& table) {
  auto st = db.prepare("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? "
                       "ORDER BY ordinal_position");
  st.bind(1, table);
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.text(0));
  return out;
}

std::vector<std::string> sqliteColumns(sqlite::Database& db, const std::string& table) {
  auto st = db.prepare("SELECT name FROM pragma_table_info(?) ORDER BY cid");
  st.bind(1, table);
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.text(0));
  return out;
}

std::string joined(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : separator) + i;
  return out;
}
// Copies `tables` row for row, ids included, inside the target's open transaction; serial keys
// continue after the copied ids.
void copyTables(sqlite::Database& source, pg::Connection& target, const std::vector<std::string>& tables, StateMigrationReport& report) {
  for (const auto& table : tables) {
    const std::vector<std::string> columns = postgresColumns(target, table);
    const std::vector<std::string> own = sqliteColumns(source, table);
    if (columns.empty() || columns.size() != own.size() || !std::is_permutation(columns.begin(), columns.end(), own.begin())) {
      throw StateMigrationError("table " + table + " differs between the two schemas (SQLite: " + joined(own, ", ") +
                                "; PostgreSQL: " + joined(columns, ", ") + "): run both at the same release");
    }
    const std::string list = joined(columns, ", ");
    auto read = source.prepare("SELECT " + list + " FROM " + table + " ORDER BY rowid");
    std::vector<std::string> marks(columns.size(), "?");
    auto write = target.prepare("INSERT INTO " + table + "(" + list + ") VALUES(" + joined(marks, ", ") + ")");
    int64_t copied = 0;
    while (read.step()) {
      write.reset();
      for (int c = 0; c < static_cast<int>(columns.size()); ++c) {
        if (read.isNull(c)) write.bindNull(c + 1);
        else write.bind(c + 1, read.text(c));
      }
      write.run();
      ++copied;
    }
    report.rows[table] = copied;
    if (columns.front() == "id") {
      target.exec("SELECT setval(pg_get_serial_sequence('" + table + "', 'id'), coalesce((SELECT max(id) FROM " + table +
                  "), 0) + 1, false) WHERE pg_get_serial_sequence('" + table + "', 'id') IS NOT NULL");
    }
  }
}

// Copies everything in one transaction on the target (which must be empty).
void copyRows(StateDatabase& from, sqlite::Database* catalog, StateDatabase& to, StateMigrationReport& report) {
  to.withAny([&](auto& target) {
    if constexpr (isPostgres<decltype(target)>) {
      pg::Transaction tx(target);
      for (const char* table : {"users", "audit", "tasks", "outbox", "studies"}) {
        if (!catalog && std::string(table) == "studies") continue;
        auto any = target.prepare(std::string("SELECT 1 FROM ") + table + " LIMIT 1");
        if (any.step()) {
          throw StateMigrationError(std::string("the PostgreSQL database already holds product data (table ") + table +
                                    "): move a node's state into an empty database only");
        }
      }
      if (catalog) copyTables(*catalog, target, kCatalogTables, report);
      from.with([&](sqlite::Database& source) { copyTables(source, target, kTables, report); });
      tx.commit();
    }
  });
}
}  // namespace

StateMigrationReport migrateState(StateDatabase& from, sqlite::Database* catalog, StateDatabase& to) {
  if (from.onPostgres() || !to.onPostgres()) throw StateMigrationError("state is moved from SQLite to PostgreSQL");
  StateMigrationReport report;
  try {
    copyRows(from, catalog, to, report);
  } catch (const std::exception& e) {
    throw StateMigrationError(std::string(e.what()) + "; nothing was written to PostgreSQL");
  }
  // The chain as PostgreSQL now holds it: the same entries, hashes and order.
  AuditLog audit(to);
  const auto verified = audit.verify();
  if (!verified.intact) {
    throw StateMigrationError("the audit trail copied to PostgreSQL does not verify (first broken entry " +
                              std::to_string(verified.firstBrokenId) + "): do not use that database; drop it and look into the source");
  }
  report.auditEntries = static_cast<int64_t>(verified.entries);
  return report;
}

}  // namespace annot
