#pragma once
// The few expressions in which the product's two SQL databases differ, for SQL written once
// (the catalog's and the DICOMweb searches'). Everything else the product writes is SQL both run.
#include <string>

namespace annot {

enum class SqlDialect { Sqlite, Postgres };

namespace sql {

// `value` of every row joined with `separator`, in order (SQLite keeps its subquery's order).
inline std::string joinedValues(SqlDialect d, const std::string& value, const std::string& separator) {
  return d == SqlDialect::Postgres ? "string_agg(" + value + ", '" + separator + "' ORDER BY " + value + ")"
                                   : "group_concat(" + value + ", '" + separator + "')";
}

// A text column as a number for ordering (Instance Number, Series Number): SQLite's CAST reads
// the leading digits of anything; PostgreSQL's refuses non-numbers, so they sort as 0 there too.
inline std::string numberOrder(SqlDialect d, const std::string& column) {
  if (d == SqlDialect::Sqlite) return "CAST(" + column + " AS INTEGER)";
  return "(CASE WHEN " + column + " ~ '^ *[-+]?[0-9]{1,18} *$' THEN CAST(" + column + " AS BIGINT) ELSE 0 END)";
}

// A LIKE pattern (with '\' as escape) matched regardless of case (person names).
inline std::string likeAnyCase(SqlDialect d, const std::string& column) {
  return column + (d == SqlDialect::Postgres ? " ILIKE ? ESCAPE '\\'" : " LIKE ? ESCAPE '\\'");
}

// Whether DICOM wildcard patterns are given as GLOB (SQLite) or as case-sensitive LIKE patterns.
inline bool usesGlob(SqlDialect d) { return d == SqlDialect::Sqlite; }
// A wildcard match that respects case: GLOB in SQLite, LIKE in PostgreSQL (where LIKE is
// case-sensitive).
inline std::string matchCase(SqlDialect d, const std::string& column) {
  return column + (d == SqlDialect::Sqlite ? " GLOB ?" : " LIKE ? ESCAPE '\\'");
}

// A bound compared byte by byte (DICOM dates, times: "20201231~" reaches past every value
// starting with 20201231), whatever collation the database was made with.
inline std::string byteOrder(SqlDialect d, const std::string& column) {
  return d == SqlDialect::Postgres ? column + " COLLATE \"C\"" : column;
}

}  // namespace sql
}  // namespace annot
