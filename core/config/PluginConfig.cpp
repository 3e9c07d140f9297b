#include "config/PluginConfig.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/Log.h"
#include "config/ConfigReaders.h"
#include "dicom/AeTitle.h"

namespace annot {

bool parseOrthancDestination(const std::string& text, OrthancDestination& out) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon + 1 == text.size()) return false;
  const std::string kind = text.substr(0, colon);
  if (kind == "modality") out.kind = OrthancDestination::Kind::Modality;
  else if (kind == "peer") out.kind = OrthancDestination::Kind::Peer;
  else return false;
  out.name = text.substr(colon + 1);
  // Orthanc's symbolic names go into REST paths: letters, digits, '-', '_', '.' only.
  for (char c : out.name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

PluginConfig PluginConfig::fromOrthancConfiguration(const std::string& jsonText) {
  using nlohmann::json;
  json doc;
  try {
    doc = json::parse(jsonText, nullptr, true, true);
  } catch (const json::parse_error& e) {
    throw std::invalid_argument(std::string("Orthanc configuration is not valid JSON: ") + e.what());
  }
  PluginConfig c;
  c.aeTitle = config::readString(doc, "DicomAet", c.aeTitle);
  c.orthancName = config::readString(doc, "Name", "");
  c.orthancHttps = config::readBool(doc, "SslEnabled", false);
  const std::string storage = config::readString(doc, "StorageDirectory", "OrthancStorage");
  c.dataDirectory = storage + "/annotation";
  if (doc.contains("DicomWeb") && doc["DicomWeb"].is_object()) {
    c.orthancDicomwebRoot = config::readString(doc["DicomWeb"], "Root", c.orthancDicomwebRoot);
  }
  if (!doc.contains(kSection)) return c;
  const json& section = doc.at(kSection);
  if (!section.is_object()) throw std::invalid_argument(std::string("'") + kSection + "' must be a JSON object");
  try {
    config::rejectUnknownKeys(section, {"Enabled", "DataDirectory", "ProtocolsDirectory", "Destinations", "TaskLeaseSeconds",
                                        "OutboxMaxBackoffSeconds", "InitialAdmin", "LogLevel", "WorkstationDirectory", "ViewerDirectory",
                                        "SessionIdleMinutes", "TokenLifetimeDays", "Ldap", "OpenIdConnect", "ResultFallback",
                                        "AuditRepository", "RejectionNoteSenders", "Database"});
    c.enabled = config::readBool(section, "Enabled", c.enabled);
    c.dataDirectory = config::readString(section, "DataDirectory", c.dataDirectory);
    c.database = config::readDatabase(section);
    c.protocolsDirectory = config::readString(section, "ProtocolsDirectory", c.protocolsDirectory);
    c.destinations = config::readStrings(section, "Destinations", "\"modality:NAME\" or \"peer:NAME\"");
    c.taskLeaseSeconds = config::readPositive<unsigned>(section, "TaskLeaseSeconds", c.taskLeaseSeconds);
    c.outboxMaxBackoffSeconds = config::readPositive<unsigned>(section, "OutboxMaxBackoffSeconds", c.outboxMaxBackoffSeconds);
    c.initialAdmin = config::readString(section, "InitialAdmin", c.initialAdmin);
    c.logLevel = config::readString(section, "LogLevel", c.logLevel);
    c.workstationDirectory = config::readString(section, "WorkstationDirectory", c.workstationDirectory);
    c.viewerDirectory = config::readString(section, "ViewerDirectory", c.viewerDirectory);
    c.sessionIdleMinutes = config::readPositive<unsigned>(section, "SessionIdleMinutes", c.sessionIdleMinutes);
    c.tokenLifetimeDays = config::readUnsigned<unsigned>(section, "TokenLifetimeDays", c.tokenLifetimeDays);
    if (section.contains("Ldap")) c.ldap = parseLdapSettings(section.at("Ldap"));
    if (section.contains("OpenIdConnect")) c.oidc = parseOidcSettings(section.at("OpenIdConnect"));
    c.resultFallback = config::readResultFallback(section);
    c.auditRepository = config::readAuditRepository(section);
    c.rejectionNoteSenders = config::readStrings(section, "RejectionNoteSenders", "AE titles");
    for (const auto& aet : c.rejectionNoteSenders) {
      if (!isValidAeTitle(aet)) throw std::invalid_argument("RejectionNoteSenders entry '" + aet + "' is not a valid AE title");
    }
    Log::parseLevel(c.logLevel);  // throws on an unknown level
    if (c.dataDirectory.empty()) throw std::invalid_argument("configuration key 'DataDirectory' must not be empty");
    for (const auto& d : c.destinations) {
      OrthancDestination parsed;
      if (!parseOrthancDestination(d, parsed)) {
        throw std::invalid_argument("Destinations entry '" + d + "' is not \"modality:NAME\" or \"peer:NAME\"");
      }
    }
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(kSection) + ": " + e.what());
  }
  return c;
}

}  // namespace annot
