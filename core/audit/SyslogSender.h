#pragma once
// Sends syslog records to an audit record repository: over UDP (RFC 5426, a record per
// datagram, no acknowledgement) or over TLS (RFC 5425, octet-counted records on one connection
// that is kept and re-opened after a failure). TLS checks the repository's certificate and
// name against the configured trust, and presents the node's own certificate when one is set
// (ATNA's node authentication).
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

namespace annot {

struct AuditRepositorySettings {
  std::string url;                  // udp://host:port or tls://host:port; empty: no repository
  std::string trustedCertificates;  // PEM bundle for tls://; empty: the system's
  std::string certificate;          // PEM; our client certificate (optional)
  std::string privateKey;           // PEM, unencrypted
  std::string sourceId;             // AuditSourceID; empty: the AE title
  std::string enterpriseSiteId;     // AuditEnterpriseSiteID (optional)
  bool enabled() const { return !url.empty(); }
};

class SyslogError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// A record no transport can carry (larger than a UDP datagram): sending it again cannot help.
class SyslogRecordTooLarge : public SyslogError {
 public:
  using SyslogError::SyslogError;
};

// "udp://host:port" / "tls://host:port" (port defaults 514 / 6514). Throws
// std::invalid_argument naming the text otherwise.
struct SyslogAddress {
  bool tls = false;
  std::string host, port;
};
SyslogAddress parseSyslogAddress(const std::string& url);

class SyslogSender {
 public:
  explicit SyslogSender(const AuditRepositorySettings& settings, std::chrono::seconds timeout = std::chrono::seconds(10));
  ~SyslogSender();
  SyslogSender(const SyslogSender&) = delete;
  SyslogSender& operator=(const SyslogSender&) = delete;
  // Throws SyslogError naming the repository when the record cannot be handed over (no
  // connection, TLS refused, a UDP record larger than a datagram).
  void send(const std::string& record);

 private:
  struct Connection;
  std::unique_ptr<Connection> connection_;
};

}  // namespace annot
