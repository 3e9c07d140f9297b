#pragma once
// Reads fields of a JSON document while collecting every problem with its path, so a user
// sees all that is wrong with a document at once ("findings[2].geometry.points: ...").
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "annotation/Code.h"

namespace annot {

// A refusal listing every problem found, each "path: what to fix", under a title.
class ProblemsError : public std::runtime_error {
 public:
  ProblemsError(const std::string& title, std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }
 private:
  std::vector<std::string> problems_;
};

class JsonFieldReader {
 public:
  std::vector<std::string> problems;

  void problem(const std::string& path, const std::string& message) { problems.push_back(path + ": " + message); }

  // A string field; "" when absent (a problem if required) or of the wrong type.
  std::string string(const nlohmann::json& object, const char* key, const std::string& path, bool required,
                     bool nonEmpty = false);
  bool boolean(const nlohmann::json& object, const char* key, const std::string& path, bool fallback);
  // `value` itself as a coded concept.
  Code code(const nlohmann::json& value, const std::string& path);
  // The coded concept under `key`; empty when absent (a problem if required).
  Code codeAt(const nlohmann::json& object, const char* key, const std::string& path, bool required);
};

}  // namespace annot
