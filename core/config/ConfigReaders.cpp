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

std::string readDatabase(const nlohmann::json& doc) {
  const std::string uri = readString(doc, "Database", "");
  if (!uri.empty() && uri.rfind("postgresql://", 0) != 0 && uri.rfind("postgres://", 0) != 0) {
    throw std::invalid_argument("configuration key 'Database' must be a PostgreSQL URI (postgresql://...) or empty for the embedded SQLite");
  }
  return uri;
}

ResultFallback readResultFallback(const nlohmann::json& doc) {
  if (!doc.contains("ResultFallback")) return {};
  const nlohmann::json& f = doc.at("ResultFallback");
  if (!f.is_object()) throw std::invalid_argument("ResultFallback must be an object: {\"Segmentation\": ..., \"EnhancedSR\": ...}");
  rejectUnknownKeys(f, {"Segmentation", "EnhancedSR"});
  return parseResultFallback(readString(f, "Segmentation", "hold"), readString(f, "EnhancedSR", "comprehensive"));
}

AuditRepositorySettings readAuditRepository(const nlohmann::json& doc) {
  AuditRepositorySettings r;
  if (!doc.contains("AuditRepository")) return r;
  const nlohmann::json& a = doc.at("AuditRepository");
  if (!a.is_object()) throw std::invalid_argument("AuditRepository must be an object: {\"Url\": \"tls://host:6514\", ...}");
  rejectUnknownKeys(a, {"Url", "TrustedCertificates", "Certificate", "PrivateKey", "SourceId", "EnterpriseSiteId"});
  r.url = readString(a, "Url", "");
  if (r.url.empty()) throw std::invalid_argument("AuditRepository needs Url (udp://host:port or tls://host:port)");
  const SyslogAddress address = parseSyslogAddress(r.url);  // throws naming the text
  r.trustedCertificates = readString(a, "TrustedCertificates", "");
  r.certificate = readString(a, "Certificate", "");
  r.privateKey = readString(a, "PrivateKey", "");
  r.sourceId = readString(a, "SourceId", "");
  r.enterpriseSiteId = readString(a, "EnterpriseSiteId", "");
  if (r.certificate.empty() != r.privateKey.empty()) {
    throw std::invalid_argument("AuditRepository: Certificate and PrivateKey must be given together");
  }
  if (!address.tls && (!r.trustedCertificates.empty() || !r.certificate.empty())) {
    throw std::invalid_argument("AuditRepository: certificates apply to tls:// only; " + r.url + " sends in clear over UDP");
  }
  return r;
}

nlohmann::json auditRepositoryJson(const AuditRepositorySettings& r) {
  if (!r.enabled()) return nullptr;
  return {{"Url", r.url}, {"TrustedCertificates", r.trustedCertificates}, {"Certificate", r.certificate}, {"PrivateKey", r.privateKey},
          {"SourceId", r.sourceId}, {"EnterpriseSiteId", r.enterpriseSiteId}};
}

}  // namespace annot::config
