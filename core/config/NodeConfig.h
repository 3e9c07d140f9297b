#pragma once
// The node's configuration: a JSON file in the spirit of Orthanc's configuration file,
// overridden by command-line flags. Unknown keys are rejected so typos do not pass silently.
#include <cstdint>

#include "auth/LdapDirectory.h"
#include "auth/OpenIdConnect.h"
#include "audit/SyslogSender.h"
#include "outbox/PacsProbe.h"
#include <string>
#include <vector>

namespace annot {

struct NodeConfig {
  std::string dataDirectory = "./var";      // SQLite index and DICOM file storage live here
  // "Database": a postgresql:// URI for the state (users, audit, worklist, outbox) several nodes
  // share; empty: state.sqlite in the data directory.
  std::string database;
  std::string dicomAet = "ANNOTNODE";       // our AE title
  uint16_t dicomPort = 11112;
  std::vector<std::string> allowedCallingAets;  // empty: any calling AE title is accepted
  // Whose IOCM rejection notes take instances out of the index: these calling AE titles (the
  // node's own withdrawals always); empty: any DICOM peer. Notes stored over STOW-RS never.
  std::vector<std::string> rejectionNoteSenders;
  bool checkCalledAet = true;               // refuse associations addressed to another AE title
  unsigned maxAssociations = 16;            // worker pool size for concurrent associations
  uint32_t maxPduSize = 116794;             // DCMTK's default receive PDU size
  std::string dicomTlsCertificate;          // PEM; with dicomTlsPrivateKey the DICOM port speaks TLS only
  std::string dicomTlsPrivateKey;           // PEM, unencrypted
  std::string dicomTlsTrustedCertificates;  // PEM bundle; set: peers must present a certificate it signs
  unsigned dimseTimeoutSeconds = 60;
  unsigned acseTimeoutSeconds = 30;
  uint16_t httpPort = 8080;
  std::string httpBindAddress = "0.0.0.0";
  unsigned httpThreads = 4;
  // glibc keeps freed memory in one arena per thread that ever allocated (up to 8 per core) and
  // gives little of it back: a long-running node with a thread per association grows. Orthanc
  // caps arenas for the same reason; 0 keeps glibc's default.
  unsigned mallocArenaMax = 4;
  uint64_t maxHttpBodyBytes = 64ull * 1024 * 1024;
  std::string httpsCertificate;             // PEM chain; with httpsPrivateKey the HTTP port speaks HTTPS only
  std::string httpsPrivateKey;              // PEM, unencrypted
  unsigned stableAgeSeconds = 60;           // a study with no new instance for this long is stable
  std::string logLevel = "info";
  uint64_t minFreeDiskSpaceMb = 64;         // refuse C-STORE (A700) when less is free
  std::string protocolsDirectory;           // labeling protocols; empty: the shipped ones
  unsigned taskLeaseSeconds = 1800;         // a claim lapses after this long without a save
  std::vector<std::string> pacs;            // result destinations, "AET@host:port"
  unsigned outboxMaxBackoffSeconds = 300;   // longest wait between retries to a destination
  ResultFallback resultFallback;            // what a PACS that does not accept SEG or Enhanced SR gets instead
  std::string pacsTlsTrustedCertificates;   // PEM bundle; set: results go to every Pacs over TLS, its certificate checked
  std::string pacsTlsCertificate;           // PEM; our client certificate towards the PACS (optional)
  std::string pacsTlsPrivateKey;            // PEM, unencrypted
  std::string workstationDirectory;         // the labeling workstation's built files; empty: the build's
  std::string viewerDirectory;              // the OHIF viewer's files (served at /viewer); empty: the build's
  unsigned sessionIdleMinutes = 15;         // a browser session ends after this long without a request
  unsigned tokenLifetimeDays = 90;
  LdapSettings ldap;                        // "Ldap": hospital sign-in with a password (off when absent)
  OidcSettings oidc;                        // "OpenIdConnect": hospital sign-in through an OpenID provider
  AuditRepositorySettings auditRepository;  // "AuditRepository": ATNA syslog (off when absent)

  // Parses a configuration document. Throws std::invalid_argument naming the offending key.
  static NodeConfig fromJsonText(const std::string& text);
  static NodeConfig fromFile(const std::string& path);
  // Throws std::invalid_argument when values are out of range.
  void validate() const;
  std::string toJsonText() const;
  // What StateDatabase opens: the shared PostgreSQL database or the embedded file.
  std::string stateDatabase() const { return database.empty() ? dataDirectory + "/state.sqlite" : database; }
};

}  // namespace annot
