#pragma once
#include "catalog/SqliteDb.h"

namespace annot {
// Brings a catalog database to the newest schema, one numbered step at a time, recording the
// version in PRAGMA user_version. Refuses a database newer than this build understands.
// Returns the version now in place.
int migrateCatalogSchema(sqlite::Database& db);
int latestCatalogSchemaVersion();
}  // namespace annot
