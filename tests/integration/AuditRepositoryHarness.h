#pragma once
// A throwaway ATNA audit record repository: receives RFC 5424 syslog records over UDP (RFC 5426)
// or TLS (RFC 5425, octet-counted, the client's certificate required), keeps them in arrival
// order, and checks their XML with jing against the PS3.15 A.5.1 schema and with xmllint's
// XPath. Stoppable and restartable on the same port.
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <functional>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/TestSupport.h"

namespace annot::test {

struct RepositoryTls {
  std::string certificate, privateKey;  // the repository's own
  std::string trustedClients;           // PEM the client certificate must chain to
};

class AuditRepository {
 public:
  // UDP when `tls` is absent. Port 0: a free one.
  explicit AuditRepository(std::optional<RepositoryTls> tls = std::nullopt, uint16_t port = 0);
  ~AuditRepository();
  void start();
  void stop();
  uint16_t port() const { return port_; }
  std::string url(const std::string& host = "127.0.0.1") const;

  std::vector<std::string> records() const;
  // The XML of every record (after the header and the byte order mark).
  std::vector<std::string> messages() const;
  size_t count() const;
  // Records whose header was not RFC 5424 with PRI 85, version 1 and MSGID IHE+RFC-3881.
  std::vector<std::string> malformedHeaders() const;

 private:
  void serveUdp();
  void serveTls();
  void keep(std::string record);

  std::optional<RepositoryTls> tls_;
  uint16_t port_ = 0;
  std::unique_ptr<boost::asio::io_context> io_;
  std::thread thread_;
  std::function<void()> stopper_;
  std::vector<std::thread> connections_;  // TLS: one per client connection
  std::vector<int> connectionSockets_;
  mutable std::mutex mutex_;
  std::vector<std::string> records_;
};

// Validates messages with `jing -c` against the PS3.15 schema; returns jing's complaints ("" when
// every message is valid).
std::string schemaErrors(const std::vector<std::string>& messages, const std::string& workDir);
// xmllint --xpath on one message ("" when nothing matches).
std::string xpath(const std::string& message, const std::string& expression, const std::string& workDir);

}  // namespace annot::test
