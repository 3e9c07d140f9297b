#pragma once
// QIDO-RS (PS3.18 §10.6) over the index: which attributes can be matched and returned at each
// level, how a request's query becomes matching rules, and how those become SQL over the index
// schema. No file is opened to answer a query: everything comes from indexed columns.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "sql/SqlDialect.h"

namespace annot::dicomweb {

enum class Level { Study = 0, Series = 1, Instance = 2 };

struct Attribute {
  const char* keyword;
  const char* tag;    // 8 upper-case hex digits, as DICOM JSON keys them
  const char* vr;
  Level level;        // the level whose table holds it
  const char* column; // SQL expression over s (studies), p (patients), se (series), i (instances)
  bool defaultAtStudy, defaultAtSeries, defaultAtInstance;  // returned without includefield
};

// Every attribute the index can match on and return. Unknown keywords are refused (400).
const std::vector<Attribute>& attributes();
const Attribute* findAttribute(const std::string& keywordOrTag);

struct Match {
  const Attribute* attribute = nullptr;
  enum class Kind { Universal, Single, Wildcard, UidList, Range } kind = Kind::Single;
  std::string value;               // Single, Wildcard
  std::vector<std::string> uids;   // UidList
  std::string from, to;            // Range (either may be empty)
};

class QidoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Query {
  Level level = Level::Study;
  std::string studyUid, seriesUid;              // from the path (/studies/{s}/series/...)
  std::vector<Match> matches;
  std::set<std::string> includeFields;          // keywords
  // includefield attributes the index does not hold (tags "GGGGEEEE"): left out by the node's
  // index (PS3.18 lets a server return only what it has), asked of Orthanc by the plugin.
  std::vector<std::string> extraIncludeTags;
  // Matching keys naming DICOM attributes the index cannot match on: ignored, and said so in
  // the answer's Warning header rather than refused.
  std::vector<std::string> ignoredKeys;
  bool includeAll = false;
  bool fuzzy = false;
  uint32_t limit = 1000;
  uint32_t offset = 0;
  std::optional<std::vector<std::string>> onlyStudies;  // from label-aware filters
};

// The tag ("GGGGEEEE") of a DICOM keyword or tag a client names, or "" when it is neither.
std::string dicomTagOf(const std::string& keywordOrTag);

// Parses QIDO query parameters (attribute=value, includefield, limit, offset, fuzzymatching).
// Keys in the product's "annotation." namespace are skipped here (see LabelFilters). Throws
// QidoError with the reason for a malformed key or value.
Query parseQuery(Level level, const std::multimap<std::string, std::string>& params);

struct Sql {
  std::string text;
  std::vector<std::string> params;
  std::vector<const Attribute*> columns;  // in SELECT order
};
// SELECT of the attributes to return (defaults + includefield + matched), filtered and paged,
// in the index's SQL dialect.
Sql toSql(const Query& query, SqlDialect dialect = SqlDialect::Sqlite);

// Rows as the index returns them: one string per selected column.
using Row = std::vector<std::string>;

}  // namespace annot::dicomweb
