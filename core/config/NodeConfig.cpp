#include "config/NodeConfig.h"

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

#include "common/Log.h"
#include "config/ConfigReaders.h"
#include "dicom/AeTitle.h"
#include "outbox/Destination.h"

namespace annot {
namespace {
using nlohmann::json;

using config::readBool;
using config::readPositive;
using config::readString;
using config::readStrings;
using config::readUnsigned;

const std::set<std::string>& knownKeys() {
  static const std::set<std::string> keys = {
      "DataDirectory", "Database", "DicomAet", "DicomPort", "AllowedCallingAets", "RejectionNoteSenders",
      "CheckCalledAet", "MaxAssociations", "MaxPduSize", "DimseTimeout", "AcseTimeout",
      "DicomTlsCertificate", "DicomTlsPrivateKey", "DicomTlsTrustedCertificates",
      "HttpPort", "HttpBindAddress", "HttpThreads", "MallocArenaMax", "MaxHttpBodySize", "HttpsCertificate", "HttpsPrivateKey",
      "StableAge", "LogLevel",
      "MinFreeDiskSpaceMB", "ProtocolsDirectory", "TaskLeaseSeconds", "Pacs",
      "OutboxMaxBackoffSeconds", "PacsTlsTrustedCertificates", "PacsTlsCertificate", "PacsTlsPrivateKey",
      "WorkstationDirectory", "ViewerDirectory", "SessionIdleMinutes", "TokenLifetimeDays", "Ldap", "OpenIdConnect", "ResultFallback",
      "AuditRepository"};
  return keys;
}
}  // namespace

NodeConfig NodeConfig::fromJsonText(const std::string& text) {
  json doc;
  try {
    doc = json::parse(text, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    throw std::invalid_argument(std::string("configuration is not valid JSON: ") + e.what());
  }
  if (!doc.is_object()) throw std::invalid_argument("configuration must be a JSON object");
  config::rejectUnknownKeys(doc, knownKeys());
  NodeConfig c;
  c.dataDirectory = readString(doc, "DataDirectory", c.dataDirectory);
  c.database = config::readDatabase(doc);
  c.dicomAet = readString(doc, "DicomAet", c.dicomAet);
  c.dicomPort = readUnsigned<uint16_t>(doc, "DicomPort", c.dicomPort);
  c.allowedCallingAets = readStrings(doc, "AllowedCallingAets", "AE titles");
  c.rejectionNoteSenders = readStrings(doc, "RejectionNoteSenders", "AE titles");
  c.checkCalledAet = readBool(doc, "CheckCalledAet", c.checkCalledAet);
  c.maxAssociations = readUnsigned<unsigned>(doc, "MaxAssociations", c.maxAssociations);
  c.maxPduSize = readUnsigned<uint32_t>(doc, "MaxPduSize", c.maxPduSize);
  c.dicomTlsCertificate = readString(doc, "DicomTlsCertificate", c.dicomTlsCertificate);
  c.dicomTlsPrivateKey = readString(doc, "DicomTlsPrivateKey", c.dicomTlsPrivateKey);
  c.dicomTlsTrustedCertificates = readString(doc, "DicomTlsTrustedCertificates", c.dicomTlsTrustedCertificates);
  c.dimseTimeoutSeconds = readUnsigned<unsigned>(doc, "DimseTimeout", c.dimseTimeoutSeconds);
  c.acseTimeoutSeconds = readUnsigned<unsigned>(doc, "AcseTimeout", c.acseTimeoutSeconds);
  c.httpPort = readUnsigned<uint16_t>(doc, "HttpPort", c.httpPort);
  c.httpBindAddress = readString(doc, "HttpBindAddress", c.httpBindAddress);
  c.httpThreads = readUnsigned<unsigned>(doc, "HttpThreads", c.httpThreads);
  c.mallocArenaMax = readUnsigned<unsigned>(doc, "MallocArenaMax", c.mallocArenaMax);
  c.maxHttpBodyBytes = readUnsigned<uint64_t>(doc, "MaxHttpBodySize", c.maxHttpBodyBytes);
  c.httpsCertificate = readString(doc, "HttpsCertificate", c.httpsCertificate);
  c.httpsPrivateKey = readString(doc, "HttpsPrivateKey", c.httpsPrivateKey);
  c.stableAgeSeconds = readUnsigned<unsigned>(doc, "StableAge", c.stableAgeSeconds);
  c.logLevel = readString(doc, "LogLevel", c.logLevel);
  c.minFreeDiskSpaceMb = readUnsigned<uint64_t>(doc, "MinFreeDiskSpaceMB", c.minFreeDiskSpaceMb);
  c.protocolsDirectory = readString(doc, "ProtocolsDirectory", c.protocolsDirectory);
  c.taskLeaseSeconds = readPositive<unsigned>(doc, "TaskLeaseSeconds", c.taskLeaseSeconds);
  c.outboxMaxBackoffSeconds = readPositive<unsigned>(doc, "OutboxMaxBackoffSeconds", c.outboxMaxBackoffSeconds);
  c.pacs = readStrings(doc, "Pacs", "\"AET@host:port\"");
  c.pacsTlsTrustedCertificates = readString(doc, "PacsTlsTrustedCertificates", c.pacsTlsTrustedCertificates);
  c.pacsTlsCertificate = readString(doc, "PacsTlsCertificate", c.pacsTlsCertificate);
  c.pacsTlsPrivateKey = readString(doc, "PacsTlsPrivateKey", c.pacsTlsPrivateKey);
  c.workstationDirectory = readString(doc, "WorkstationDirectory", c.workstationDirectory);
  c.viewerDirectory = readString(doc, "ViewerDirectory", c.viewerDirectory);
  c.sessionIdleMinutes = readPositive<unsigned>(doc, "SessionIdleMinutes", c.sessionIdleMinutes);
  c.tokenLifetimeDays = readUnsigned<unsigned>(doc, "TokenLifetimeDays", c.tokenLifetimeDays);
  if (doc.contains("Ldap")) c.ldap = parseLdapSettings(doc.at("Ldap"));
  c.resultFallback = config::readResultFallback(doc);
  c.auditRepository = config::readAuditRepository(doc);
  if (doc.contains("OpenIdConnect")) c.oidc = parseOidcSettings(doc.at("OpenIdConnect"));
  c.validate();
  return c;
}

NodeConfig NodeConfig::fromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read configuration file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return fromJsonText(text.str());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
}

void NodeConfig::validate() const {
  if (dataDirectory.empty()) throw std::invalid_argument("DataDirectory must not be empty");
  if (!database.empty() && database.rfind("postgresql://", 0) != 0 && database.rfind("postgres://", 0) != 0) {
    throw std::invalid_argument("Database must be a PostgreSQL URI (postgresql://...) or empty for the embedded SQLite");
  }
  if (!isValidAeTitle(dicomAet)) {
    throw std::invalid_argument("DicomAet '" + dicomAet + "' is not a valid AE title (1-16 characters, no backslash or control characters)");
  }
  for (const auto& aet : rejectionNoteSenders) {
    if (!isValidAeTitle(aet)) throw std::invalid_argument("RejectionNoteSenders entry '" + aet + "' is not a valid AE title");
  }
  for (const auto& aet : allowedCallingAets) {
    if (!isValidAeTitle(aet)) throw std::invalid_argument("AllowedCallingAets entry '" + aet + "' is not a valid AE title");
  }
  if (maxAssociations == 0 || maxAssociations > 1024) throw std::invalid_argument("MaxAssociations must be between 1 and 1024");
  if (maxPduSize < 4096 || maxPduSize > 131072) throw std::invalid_argument("MaxPduSize must be between 4096 and 131072 bytes");
  if (httpThreads == 0 || httpThreads > 256) throw std::invalid_argument("HttpThreads must be between 1 and 256");
  if (mallocArenaMax > 64) throw std::invalid_argument("MallocArenaMax must be between 0 (glibc's default) and 64");
  if (maxHttpBodyBytes == 0) throw std::invalid_argument("MaxHttpBodySize must be positive");
  if (dicomTlsCertificate.empty() != dicomTlsPrivateKey.empty()) {
    throw std::invalid_argument("DicomTlsCertificate and DicomTlsPrivateKey must be given together");
  }
  if (!dicomTlsTrustedCertificates.empty() && dicomTlsCertificate.empty()) {
    throw std::invalid_argument("DicomTlsTrustedCertificates needs DicomTlsCertificate and DicomTlsPrivateKey");
  }
  if (pacsTlsCertificate.empty() != pacsTlsPrivateKey.empty()) {
    throw std::invalid_argument("PacsTlsCertificate and PacsTlsPrivateKey must be given together");
  }
  if (!pacsTlsCertificate.empty() && pacsTlsTrustedCertificates.empty()) {
    throw std::invalid_argument("PacsTlsCertificate needs PacsTlsTrustedCertificates (the PACS certificates to trust)");
  }
  if (httpsCertificate.empty() != httpsPrivateKey.empty()) {
    throw std::invalid_argument("HttpsCertificate and HttpsPrivateKey must be given together");
  }
  for (const auto& p : pacs) {
    if (!parseDestination(p)) throw std::invalid_argument("Pacs entry '" + p + "' is not AET@host:port");
  }
  if (dimseTimeoutSeconds == 0 || acseTimeoutSeconds == 0) throw std::invalid_argument("DimseTimeout and AcseTimeout must be positive");
  Log::parseLevel(logLevel);
}

std::string NodeConfig::toJsonText() const {
  json doc = {{"DataDirectory", dataDirectory}, {"DicomAet", dicomAet}, {"DicomPort", dicomPort},
              {"AllowedCallingAets", allowedCallingAets}, {"RejectionNoteSenders", rejectionNoteSenders},
              {"CheckCalledAet", checkCalledAet}, {"MaxAssociations", maxAssociations},
              {"MaxPduSize", maxPduSize}, {"DimseTimeout", dimseTimeoutSeconds},
              {"AcseTimeout", acseTimeoutSeconds}, {"DicomTlsCertificate", dicomTlsCertificate},
              {"DicomTlsPrivateKey", dicomTlsPrivateKey}, {"DicomTlsTrustedCertificates", dicomTlsTrustedCertificates},
              {"HttpPort", httpPort},
              {"HttpBindAddress", httpBindAddress}, {"HttpThreads", httpThreads}, {"MallocArenaMax", mallocArenaMax},
              {"MaxHttpBodySize", maxHttpBodyBytes}, {"HttpsCertificate", httpsCertificate},
              {"HttpsPrivateKey", httpsPrivateKey}, {"StableAge", stableAgeSeconds},
              {"LogLevel", logLevel}, {"MinFreeDiskSpaceMB", minFreeDiskSpaceMb},
              {"ProtocolsDirectory", protocolsDirectory}, {"TaskLeaseSeconds", taskLeaseSeconds}, {"Pacs", pacs},
              {"OutboxMaxBackoffSeconds", outboxMaxBackoffSeconds},
              {"PacsTlsTrustedCertificates", pacsTlsTrustedCertificates}, {"PacsTlsCertificate", pacsTlsCertificate},
              {"PacsTlsPrivateKey", pacsTlsPrivateKey}, {"WorkstationDirectory", workstationDirectory}, {"ViewerDirectory", viewerDirectory},
              {"SessionIdleMinutes", sessionIdleMinutes}, {"TokenLifetimeDays", tokenLifetimeDays},
              {"ResultFallback", {{"Segmentation", segmentationFallbackName(resultFallback.segmentation)},
                                  {"EnhancedSR", enhancedSrFallbackName(resultFallback.enhancedSr)}}}};
  if (auditRepository.enabled()) doc["AuditRepository"] = config::auditRepositoryJson(auditRepository);
  if (!database.empty()) doc["Database"] = database;
  return doc.dump(2);
}

}  // namespace annot
