#pragma once
// Read-only SQL over the index schema, for answers shaped by the request (DICOMweb searches,
// retrieval lists). SQLite now; a PostgreSQL catalog runs the same portable SQL.
#include <string>
#include <vector>

namespace annot {

class IndexReader {
 public:
  virtual ~IndexReader() = default;
  // Every column is returned as text ('' for NULL).
  virtual std::vector<std::vector<std::string>> query(const std::string& sql, const std::vector<std::string>& params) = 0;
};

}  // namespace annot
