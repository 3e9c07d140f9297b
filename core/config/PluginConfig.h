#pragma once
// The Orthanc plugin's configuration: its "AnnotationNode" section of Orthanc's configuration
// file, plus what it reuses of Orthanc's own settings (AE title, storage directory). Stable age
// is Orthanc's StableAge: the plugin reacts to Orthanc's StableStudy event.
#include <cstdint>

#include "auth/LdapDirectory.h"
#include "auth/OpenIdConnect.h"
#include "audit/SyslogSender.h"
#include "outbox/PacsProbe.h"
#include <string>
#include <vector>

namespace annot {

struct PluginConfig {
  bool enabled = true;
  std::string dataDirectory;                // worklist/state database; default <StorageDirectory>/annotation
  // "Database": a postgresql:// URI for the state several Orthancs share (with Orthanc's own
  // PostgreSQL index); empty: state.sqlite in the data directory.
  std::string database;
  std::string protocolsDirectory;           // labeling protocols; empty: the shipped ones
  std::vector<std::string> destinations;    // "modality:NAME" or "peer:NAME" as Orthanc knows them
  unsigned taskLeaseSeconds = 1800;
  unsigned outboxMaxBackoffSeconds = 300;
  std::string initialAdmin;                 // created on first start when no user exists
  std::string logLevel = "info";
  std::string aeTitle = "ORTHANC";          // Orthanc's DicomAet
  std::string orthancName;                  // Orthanc's Name, shown in the API info
  std::string orthancDicomwebRoot = "/dicom-web/";  // Orthanc's DicomWeb.Root: searches go through it
  bool orthancHttps = false;                // Orthanc's SslEnabled: session cookies get the Secure attribute
  std::string workstationDirectory;         // the labeling workstation's built files; empty: the build's
  std::string viewerDirectory;              // the OHIF viewer's files (served at /annotation/viewer); empty: the build's
  unsigned sessionIdleMinutes = 15;
  unsigned tokenLifetimeDays = 90;  // API tokens issued without a lifetime; 0: never expire
  LdapSettings ldap;  // "Ldap": hospital sign-in with a password (off when absent)
  OidcSettings oidc;  // "OpenIdConnect": hospital sign-in through an OpenID provider
  ResultFallback resultFallback;  // what a modality that does not accept SEG or Enhanced SR gets instead
  AuditRepositorySettings auditRepository;  // "AuditRepository": ATNA syslog (off when absent)
  // IOCM rejection notes from these calling AE titles take what they reject out of Orthanc
  // (empty: none; Orthanc accepts C-STORE from any caller by default); the product's own
  // notes always do.
  std::vector<std::string> rejectionNoteSenders;

  static constexpr const char* kSection = "AnnotationNode";
  // Reads the whole Orthanc configuration (as OrthancPluginGetConfiguration returns it). Throws
  // std::invalid_argument naming the offending key.
  static PluginConfig fromOrthancConfiguration(const std::string& jsonText);
  // What StateDatabase opens: the shared PostgreSQL database or the embedded file.
  std::string stateDatabase() const { return database.empty() ? dataDirectory + "/state.sqlite" : database; }
};

// "modality:NAME" / "peer:NAME": which Orthanc resource a destination names. Nothing when the
// text is neither.
struct OrthancDestination {
  enum class Kind { Modality, Peer } kind;
  std::string name;
};
bool parseOrthancDestination(const std::string& text, OrthancDestination& out);

}  // namespace annot
