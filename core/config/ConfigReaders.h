#pragma once
// Typed reads of configuration keys from a JSON object, shared by the node's configuration file
// and the plugin's section of Orthanc's: a missing key yields the default, a wrong type throws
// std::invalid_argument naming the key.
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "audit/SyslogSender.h"
#include "outbox/PacsProbe.h"

namespace annot::config {

template <typename T>
T readUnsigned(const nlohmann::json& doc, const char* key, T fallback) {
  if (!doc.contains(key)) return fallback;
  const nlohmann::json& v = doc.at(key);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<long long>() >= 0)) {
    throw std::invalid_argument(std::string("configuration key '") + key + "' must be a non-negative integer");
  }
  const auto value = v.get<unsigned long long>();
  if (value > std::numeric_limits<T>::max()) {
    throw std::invalid_argument(std::string("configuration key '") + key + "' is too large");
  }
  return static_cast<T>(value);
}

// readUnsigned() for keys where 0 means nothing sensible (a lease of no time, retrying a
// refused result every round for ever).
template <typename T>
T readPositive(const nlohmann::json& doc, const char* key, T fallback) {
  const T value = readUnsigned<T>(doc, key, fallback);
  if (value == 0) throw std::invalid_argument(std::string("configuration key '") + key + "' must be at least 1");
  return value;
}

std::string readString(const nlohmann::json& doc, const char* key, const std::string& fallback);
bool readBool(const nlohmann::json& doc, const char* key, bool fallback);
// An array of strings; `what` describes an element in the error message.
std::vector<std::string> readStrings(const nlohmann::json& doc, const char* key, const char* what);
// Throws when the object has a key outside `known`.
void rejectUnknownKeys(const nlohmann::json& doc, const std::set<std::string>& known);
// "ResultFallback": {"Segmentation": "hold"|"skip", "EnhancedSR": "comprehensive"|"hold"};
// what is absent keeps its default.
ResultFallback readResultFallback(const nlohmann::json& doc);
// "Database": a PostgreSQL URI (postgresql://user@host:port/db?...) naming the database several
// nodes or Orthancs share; absent or empty: the embedded SQLite files. Throws on anything else.
std::string readDatabase(const nlohmann::json& doc);
// "AuditRepository": {"Url": "udp://host:port" | "tls://host:port", "TrustedCertificates",
// "Certificate", "PrivateKey", "SourceId", "EnterpriseSiteId"}; absent: no repository.
AuditRepositorySettings readAuditRepository(const nlohmann::json& doc);
nlohmann::json auditRepositoryJson(const AuditRepositorySettings& settings);

}  // namespace annot::config
