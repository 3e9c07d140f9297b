#pragma once
// Read-only SQL over the index schema, for answers shaped by the request (DICOMweb searches,
// retrieval lists), written once for both catalogs with the few dialect differences spelled out.
#include <string>
#include <vector>

#include "sql/SqlDialect.h"

namespace annot {

class IndexReader {
 public:
  virtual ~IndexReader() = default;
  // Every column is returned as text ('' for NULL).
  virtual std::vector<std::vector<std::string>> query(const std::string& sql, const std::vector<std::string>& params) = 0;
  virtual SqlDialect dialect() const { return SqlDialect::Sqlite; }
};

}  // namespace annot
