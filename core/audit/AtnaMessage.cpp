#include "audit/AtnaMessage.h"

#include <ctime>
#include <map>
#include <set>
#include <sstream>

#include "common/Base64.h"
#include "common/TextLists.h"

namespace annot {
namespace {

const AtnaCode kAuditLogUsed{"110101", "DCM", "Audit Log Used"};
const AtnaCode kInstancesAccessed{"110103", "DCM", "DICOM Instances Accessed"};
const AtnaCode kInstancesTransferred{"110104", "DCM", "DICOM Instances Transferred"};
const AtnaCode kProcedureRecord{"110111", "DCM", "Procedure Record"};
const AtnaCode kQuery{"110112", "DCM", "Query"};
const AtnaCode kSecurityAlert{"110113", "DCM", "Security Alert"};
const AtnaCode kUserAuthentication{"110114", "DCM", "User Authentication"};
const AtnaCode kLogin{"110122", "DCM", "Login"};
const AtnaCode kLogout{"110123", "DCM", "Logout"};
const AtnaCode kRestrictedFunction{"110132", "DCM", "Use of Restricted Function"};
const AtnaCode kUserSecurityChanged{"110137", "DCM", "User Security Attributes Changed"};

const AtnaCode kApplicationRole{"110150", "DCM", "Application"};
const AtnaCode kDestinationRole{"110152", "DCM", "Destination Role ID"};
const AtnaCode kSourceRole{"110153", "DCM", "Source Role ID"};

const AtnaCode kStudyUidType{"110180", "DCM", "Study Instance UID"};
const AtnaCode kSopClassType{"110181", "DCM", "SOP Class UID"};
const AtnaCode kPatientNumberType{"2", "RFC-3881", "Patient Number"};
const AtnaCode kUserIdentifierType{"11", "RFC-3881", "User Identifier"};
const AtnaCode kUriType{"12", "RFC-3881", "URI"};

const char* kStudyRootFind = "1.2.840.10008.5.1.4.1.2.2.1";

bool startsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// The length of the well-formed UTF-8 sequence at `i` (1-4), or 0 when the bytes there are not
// one (a name stored in another character set, a truncated value).
size_t utf8Length(const std::string& t, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(t[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  const size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
  if (n == 0 || i + n > t.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  }
  if (n == 3 && ((c == 0xE0 && b(i + 1) < 0xA0) || (c == 0xED && b(i + 1) >= 0xA0))) return 0;  // overlong, surrogate
  if (n == 4 && ((c == 0xF0 && b(i + 1) < 0x90) || (c == 0xF4 && b(i + 1) >= 0x90))) return 0;  // overlong, beyond U+10FFFF
  return n;
}

// XML-escaped, and well-formed UTF-8 whatever the input: a byte that is not part of a valid
// sequence becomes U+FFFD, so one odd name cannot make the whole message unreadable.
std::string escaped(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8Length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(text, i, n);
      i += n;
      continue;
    }
    const char c = text[i++];
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 has no place for most control characters; a tab or newline stays.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') out += ' ';
        else out += c;
    }
  }
  return out;
}

std::string attr(const char* name, const std::string& value) { return std::string(" ") + name + "=\"" + escaped(value) + "\""; }

std::string coded(const char* element, const AtnaCode& c) {
  return std::string("<") + element + attr("csd-code", c.code) + attr("codeSystemName", c.system) + attr("originalText", c.meaning) + "/>";
}

std::string isoTime(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms % 1000));
  return std::string(text) + millis;
}

std::string outcomeIndicator(const std::string& outcome) {
  if (outcome == "success") return "0";
  if (outcome == "denied") return "4";  // refused as designed: a minor failure
  return "8";
}

bool looksLikeAddress(const std::string& source) {
  return !source.empty() && source.find_first_not_of("0123456789.:abcdefABCDEF[]") == std::string::npos;
}

// Who the node sent a result to: the outbox names the destination first in its detail
// ("PACS@host:port status 0000: stored").
std::string destinationOf(const AuditEvent& e) {
  const size_t end = std::min(e.detail.find(" status "), e.detail.find(": "));
  return e.detail.substr(0, end);
}

bool deidentified(const AuditEvent& e) { return e.detail.find("(de-identified view)") != std::string::npos; }

bool isTransfer(const AtnaEventKind& k) { return k.id.code == kInstancesTransferred.code; }

// How many studies a search showed: the trail names them all, comma-separated.
size_t shownCount(const AuditEvent& e) {
  const std::string& list = e.study.empty() ? e.objectId : e.study;
  return splitList(list).size();
}

}  // namespace

AtnaEventKind atnaEventKind(const AuditEvent& e) {
  const std::string& a = e.action;
  if (a == "sign-in" || a == "authenticate" || a == "lockout") return {kUserAuthentication, 'E', kLogin};
  if (a == "sign-out") return {kUserAuthentication, 'E', kLogout};
  if (a == "access") return {kSecurityAlert, 'E', kRestrictedFunction};
  static const std::set<std::string> securityChanges = {"create-user", "disable-user", "enable-user", "issue-token",
                                                        "revoke-token", "revoke-tokens", "grant-identified-access",
                                                        "withdraw-identified-access"};
  if (securityChanges.count(a)) return {kSecurityAlert, 'E', kUserSecurityChanged};
  if (a == "query-audit") return {kAuditLogUsed, 'R', std::nullopt};
  if (startsWith(a, "list-") || a == "dicomweb-search") return {kQuery, 'E', std::nullopt};
  if (a == "dicomweb-retrieve" || a == "dicomweb-frames" || a == "dicomweb-bulkdata") return {kInstancesTransferred, 'R', std::nullopt};
  // An AI pre-label imported is an instance received, like a STOW-RS store.
  if (a == "dicomweb-store" || a == "import-prelabel") return {kInstancesTransferred, 'C', std::nullopt};
  if (startsWith(a, "export")) return {kInstancesTransferred, 'R', std::nullopt};
  if (startsWith(a, "view-") || a == "dicomweb-metadata" || a == "dicomweb-rendered" || startsWith(a, "report-")) {
    return {kInstancesAccessed, 'R', std::nullopt};
  }
  // An annotation's first revision creates it; every later one changes it.
  if (a == "save-annotation" || a == "save-draft") return {kInstancesAccessed, e.detail == "revision 1" ? 'C' : 'U', std::nullopt};
  if (a == "schedule-tasks") return {kProcedureRecord, 'C', std::nullopt};
  if (a == "claim" || a == "release" || a == "submit" || a == "cancel" || startsWith(a, "review-")) return {kProcedureRecord, 'U', std::nullopt};
  // Results taken back from the PACS (an IOCM rejection note): deleted from the reader's view.
  if (a == "withdraw-results" || a == "reject-instances") return {kInstancesAccessed, 'D', std::nullopt};
  // Anything else the product records concerns its data: an access, executed.
  return {kInstancesAccessed, 'E', std::nullopt};
}

std::string atnaMessage(const AuditEntry& entry, const std::vector<AtnaStudy>& studies, const AtnaSource& source) {
  const AuditEvent& e = entry.event;
  const AtnaEventKind kind = atnaEventKind(e);
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AuditMessage>";

  x << "<EventIdentification" << attr("EventActionCode", std::string(1, kind.action)) << attr("EventDateTime", isoTime(entry.timeMs))
    << attr("EventOutcomeIndicator", outcomeIndicator(e.outcome)) << ">" << coded("EventID", kind.id);
  if (kind.type) x << coded("EventTypeCode", *kind.type);
  if (e.outcome != "success" && !e.detail.empty()) x << "<EventOutcomeDescription>" << escaped(e.detail) << "</EventOutcomeDescription>";
  x << "</EventIdentification>";

  // The person (or program holding a token) who asked, when someone did.
  const bool internal = e.user.empty() && !looksLikeAddress(e.source);
  if (!internal) {
    x << "<ActiveParticipant" << attr("UserID", e.user.empty() ? "(unauthenticated)" : e.user);
    if (!e.role.empty()) x << attr("AlternativeUserID", e.role);
    x << attr("UserIsRequestor", "true");
    if (looksLikeAddress(e.source)) x << attr("NetworkAccessPointID", e.source) << attr("NetworkAccessPointTypeCode", "2");
    x << ">";
    // Transfers: the receiving side is the destination; a query: the one asking is the source.
    if (isTransfer(kind)) x << coded("RoleIDCode", kind.action == 'C' ? kSourceRole : kDestinationRole);
    if (kind.id.code == kQuery.code) x << coded("RoleIDCode", kSourceRole);
    x << "</ActiveParticipant>";
  }
  // The node itself: the requestor of what it does on its own (sending results).
  x << "<ActiveParticipant" << attr("UserID", source.aeTitle) << attr("AlternativeUserID", source.processId)
    << attr("UserIsRequestor", internal ? "true" : "false");
  if (!source.hostName.empty()) x << attr("NetworkAccessPointID", source.hostName) << attr("NetworkAccessPointTypeCode", "1");
  const AtnaCode& nodeRole = kind.id.code == kQuery.code ? kDestinationRole
                              : !isTransfer(kind)        ? kApplicationRole
                              : kind.action == 'C'       ? kDestinationRole
                                                         : kSourceRole;
  x << ">" << coded("RoleIDCode", nodeRole) << "</ActiveParticipant>";
  if (startsWith(e.action, "export")) {
    x << "<ActiveParticipant" << attr("UserID", destinationOf(e)) << attr("UserIsRequestor", "false") << ">"
      << coded("RoleIDCode", kDestinationRole) << "</ActiveParticipant>";
  }

  x << "<AuditSourceIdentification";
  if (!source.enterpriseSiteId.empty()) x << attr("AuditEnterpriseSiteID", source.enterpriseSiteId);
  x << attr("AuditSourceID", source.sourceId) << ">"
    << "<AuditSourceTypeCode csd-code=\"4\" codeSystemName=\"DCM\" originalText=\"Application Server\"/>"
    << "</AuditSourceIdentification>";

  // Participant objects: the query, the user or task changed, then studies and their patients.
  if (kind.id.code == kQuery.code) {
    x << "<ParticipantObjectIdentification" << attr("ParticipantObjectID", kStudyRootFind) << attr("ParticipantObjectTypeCode", "2")
      << attr("ParticipantObjectTypeCodeRole", "24") << ">" << coded("ParticipantObjectIDTypeCode", kSopClassType)
      << "<ParticipantObjectQuery>" << base64Encode(e.detail) << "</ParticipantObjectQuery>"
      << "<ParticipantObjectDetail type=\"QueryEncoding\"" << attr("value", base64Encode("UTF-8")) << "/>"
      << "<ParticipantObjectDetail type=\"StudiesShown\"" << attr("value", base64Encode(std::to_string(shownCount(e)))) << "/>"
      << "</ParticipantObjectIdentification>";
  }
  if (kind.id.code == kAuditLogUsed.code) {
    x << "<ParticipantObjectIdentification" << attr("ParticipantObjectID", "/api/v1/audit") << attr("ParticipantObjectTypeCode", "2")
      << attr("ParticipantObjectTypeCodeRole", "13") << ">" << coded("ParticipantObjectIDTypeCode", kUriType)
      << "<ParticipantObjectName>audit trail</ParticipantObjectName></ParticipantObjectIdentification>";
  }
  if (e.objectType == "user" && !e.objectId.empty()) {
    x << "<ParticipantObjectIdentification" << attr("ParticipantObjectID", e.objectId) << attr("ParticipantObjectTypeCode", "1")
      << attr("ParticipantObjectTypeCodeRole", "11") << ">" << coded("ParticipantObjectIDTypeCode", kUserIdentifierType)
      << "<ParticipantObjectName>" << escaped(e.objectId) << "</ParticipantObjectName></ParticipantObjectIdentification>";
  }
  if (e.objectType == "task" && !e.objectId.empty()) {
    x << "<ParticipantObjectIdentification" << attr("ParticipantObjectID", "tasks/" + e.objectId) << attr("ParticipantObjectTypeCode", "2")
      << attr("ParticipantObjectTypeCodeRole", "20") << ">" << coded("ParticipantObjectIDTypeCode", kUriType)
      << "<ParticipantObjectName>" << escaped("labeling task " + e.objectId) << "</ParticipantObjectName></ParticipantObjectIdentification>";
  }
  const bool deid = deidentified(e);
  std::map<std::string, std::string> patients;  // id -> name, each once
  for (const auto& study : studies) {
    x << "<ParticipantObjectIdentification" << attr("ParticipantObjectID", study.uid) << attr("ParticipantObjectTypeCode", "2")
      << attr("ParticipantObjectTypeCodeRole", "3");
    // A researcher's view: the study left the node de-identified.
    if (deid) x << attr("ParticipantObjectDataLifeCycle", "7");
    x << ">" << coded("ParticipantObjectIDTypeCode", kStudyUidType) << "<ParticipantObjectName>"
      << escaped(study.description.empty() ? study.uid : study.description) << "</ParticipantObjectName>";
    const bool instances = e.objectType == "instance" && !e.objectId.empty();
    if (!study.accessionNumber.empty() || instances || deid) {
      x << "<ParticipantObjectDescription>";
      if (!study.accessionNumber.empty()) x << "<Accession" << attr("Number", study.accessionNumber) << "/>";
      if (instances) {
        const std::vector<std::string> uids = splitList(e.objectId);
        x << "<SOPClass" << attr("NumberOfInstances", std::to_string(uids.size())) << ">";
        for (size_t i = 0; i < uids.size() && i < kAtnaMaxInstancesListed; ++i) x << "<Instance" << attr("UID", uids[i]) << "/>";
        x << "</SOPClass>";
      }
      if (deid) x << "<Anonymized>true</Anonymized>";
      x << "</ParticipantObjectDescription>";
    }
    x << "</ParticipantObjectIdentification>";
    if (!study.patientId.empty()) patients.emplace(study.patientId, study.patientName);
  }
  for (const auto& [id, name] : patients) {
    x << "<ParticipantObjectIdentification" << attr("ParticipantObjectID", id) << attr("ParticipantObjectTypeCode", "1")
      << attr("ParticipantObjectTypeCodeRole", "1") << ">" << coded("ParticipantObjectIDTypeCode", kPatientNumberType)
      << "<ParticipantObjectName>" << escaped(name) << "</ParticipantObjectName></ParticipantObjectIdentification>";
  }
  x << "</AuditMessage>";
  return x.str();
}

std::string syslogRecord(const std::string& message, int64_t timeMs, const AtnaSource& source) {
  auto field = [](const std::string& value, size_t limit) {
    // RFC 5424 header fields are printable US-ASCII without spaces; "-" stands for none.
    std::string out;
    for (const char c : value) {
      if (c > 32 && c < 127) out += c;
      if (out.size() == limit) break;
    }
    return out.empty() ? std::string("-") : out;
  };
  return "<85>1 " + isoTime(timeMs) + " " + field(source.hostName, 255) + " " + field(source.appName, 48) + " " +
         field(source.processId, 128) + " IHE+RFC-3881 - \xEF\xBB\xBF" + message;
}

}  // namespace annot
