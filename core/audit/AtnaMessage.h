#pragma once
// The audit trail as the hospital's audit repository reads it: one DICOM audit message
// (PS3.15 A.5, the RFC 3881 descendant IHE ATNA uses) per audit entry, framed as an RFC 5424
// syslog record. What each product action is in the standard's terms (event ID, action code,
// event type) is decided here, once, for both deployments.
#include <optional>
#include <string>
#include <vector>

#include "audit/AuditLog.h"

namespace annot {

// A study an event concerns, with the patient it belongs to (the repository needs both to
// answer "who saw this patient's data").
struct AtnaStudy {
  std::string uid;
  std::string description;
  std::string accessionNumber;
  std::string patientId;
  std::string patientName;
};

// Who reports: the node (or the Orthanc it runs in) as an application on a host.
struct AtnaSource {
  std::string sourceId;          // AuditSourceID; the AE title unless configured
  std::string enterpriseSiteId;  // AuditEnterpriseSiteID; omitted when empty
  std::string aeTitle;
  std::string hostName;
  std::string processId;
  std::string appName = "annotation-node";  // syslog APP-NAME
};

struct AtnaCode {
  std::string code, system, meaning;
};

// An entry's place in the standard's vocabulary (CID 400 event IDs, CID 401 event types).
struct AtnaEventKind {
  AtnaCode id;
  char action = 'E';                // C R U D E
  std::optional<AtnaCode> type;
};
AtnaEventKind atnaEventKind(const AuditEvent& event);

// Studies and instances beyond these many are left out of one message (a query may show
// hundreds, a rejection a whole series), so a record stays well inside what syslog receivers
// take; the query object says how many studies were shown, NumberOfInstances how many moved.
constexpr size_t kAtnaMaxStudies = 20;
constexpr size_t kAtnaMaxInstancesListed = 20;

// The XML audit message for one entry; `studies` as the lookup gives them (at most
// kAtnaMaxStudies).
std::string atnaMessage(const AuditEntry& entry, const std::vector<AtnaStudy>& studies, const AtnaSource& source);

// RFC 5424 record carrying a message: PRI 85 (authpriv.notice, as ATNA asks), MSGID
// "IHE+RFC-3881", no structured data, the XML after a UTF-8 byte order mark.
std::string syslogRecord(const std::string& message, int64_t timeMs, const AtnaSource& source);

}  // namespace annot
