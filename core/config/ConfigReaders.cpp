#include "config/ConfigReaders.h"

namespace annot::config {

std::string readString(const nlohmann::json& doc, const char* key, const std::string& fallback) {
  if (!doc.contains(key)) return fallback;
  if (!doc.at(key).is_string()) {
    throw std::invalid_argument(std::string("configuration key '") + key + "' must be a string");
  }
  return doc.at(key).get<std::string>();
}

bool readBool(const nlohmann::json& doc, const char* key, bool fallback) {
  if (!doc.contains(key)) return fallback;
  if (!doc.at(key).is_boolean()) {
    throw std::invalid_argument(std::string("configuration key '") + key + "' must be true or false");
  }
  return doc.at(key).get<bool>();
}

std::vector<std::string> readStrings(const nlohmann::json& doc, const char* key, const char* what) {
  std::vector<std::string> out;
  if (!doc.contains(key)) return out;
  const nlohmann::json& list = doc.at(key);
  if (!list.is_array()) throw std::invalid_argument(std::string("configuration key '") + key + "' must be an array of " + what);
  for (const auto& item : list) {
    if (!item.is_string()) throw std::invalid_argument(std::string("configuration key '") + key + "' must contain strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

void rejectUnknownKeys(const nlohmann::json& doc, const std::set<std::string>& known) {
  for (const auto& item : doc.items()) {
    if (!known.count(item.key())) throw std::invalid_argument("unknown configuration key '" + item.key() + "'");
  }
}

ResultFallback readResultFallback(const nlohmann::json& doc) {
  if (!doc.contains("ResultFallback")) return {};
  const nlohmann::json& f = doc.at("ResultFallback");
  if (!f.is_object()) throw std::invalid_argument("ResultFallback must be an object: {\"Segmentation\": ..., \"EnhancedSR\": ...}");
  rejectUnknownKeys(f, {"Segmentation", "EnhancedSR"});
  return parseResultFallback(readString(f, "Segmentation", "hold"), readString(f, "EnhancedSR", "comprehensive"));
}

}  // namespace annot::config
