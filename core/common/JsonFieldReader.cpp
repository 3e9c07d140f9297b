#include "common/JsonFieldReader.h"

namespace annot {
namespace {
std::string joinProblems(const std::string& title, const std::vector<std::string>& problems) {
  std::string text = title + ":";
  for (const auto& p : problems) text += "\n  - " + p;
  return text;
}
}  // namespace

ProblemsError::ProblemsError(const std::string& title, std::vector<std::string> problems)
    : std::runtime_error(joinProblems(title, problems)), problems_(std::move(problems)) {}

std::string JsonFieldReader::string(const nlohmann::json& j, const char* key, const std::string& path, bool required,
                                    bool nonEmpty) {
  if (!j.is_object() || !j.contains(key)) {
    if (required) problem(path, std::string("'") + key + "' is required");
    return {};
  }
  const nlohmann::json& v = j.at(key);
  if (!v.is_string() || (nonEmpty && v.get<std::string>().empty())) {
    problem(path + "." + key, nonEmpty ? "must be a non-empty string" : "must be a string");
    return {};
  }
  return v.get<std::string>();
}

bool JsonFieldReader::boolean(const nlohmann::json& j, const char* key, const std::string& path, bool fallback) {
  if (!j.is_object() || !j.contains(key)) return fallback;
  if (!j.at(key).is_boolean()) {
    problem(path + "." + key, "must be true or false");
    return fallback;
  }
  return j.at(key).get<bool>();
}

Code JsonFieldReader::code(const nlohmann::json& value, const std::string& path) {
  Code c;
  const std::string error = parseCode(value, c);
  if (!error.empty()) problem(path, error);
  return c;
}

Code JsonFieldReader::codeAt(const nlohmann::json& j, const char* key, const std::string& path, bool required) {
  if (!j.is_object() || !j.contains(key)) {
    if (required) problem(path, std::string("'") + key + "' is required (a coded concept)");
    return {};
  }
  return code(j.at(key), path + "." + key);
}

}  // namespace annot
