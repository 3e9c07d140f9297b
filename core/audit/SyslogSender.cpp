#include "audit/SyslogSender.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>

#include <poll.h>

#include <optional>

namespace annot {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;

// The largest UDP payload over IPv4; RFC 5426 asks receivers for at least 480 and most take this.
constexpr size_t kMaxDatagram = 65507;
}  // namespace

SyslogAddress parseSyslogAddress(const std::string& url) {
  SyslogAddress a;
  std::string rest;
  if (url.rfind("udp://", 0) == 0) {
    rest = url.substr(6);
  } else if (url.rfind("tls://", 0) == 0) {
    a.tls = true;
    rest = url.substr(6);
  } else {
    throw std::invalid_argument("audit repository '" + url + "' is not udp://host:port or tls://host:port");
  }
  const size_t colon = rest.rfind(':');
  const bool bracketed = !rest.empty() && rest.front() == '[';
  if (colon != std::string::npos && (!bracketed || rest.find(']') < colon)) {
    a.host = rest.substr(0, colon);
    a.port = rest.substr(colon + 1);
  } else {
    a.host = rest;
    a.port = a.tls ? "6514" : "514";
  }
  if (bracketed && a.host.size() > 2) a.host = a.host.substr(1, a.host.size() - 2);
  if (a.host.empty() || a.port.empty() || a.port.find_first_not_of("0123456789") != std::string::npos) {
    throw std::invalid_argument("audit repository '" + url + "' needs a host and a numeric port");
  }
  return a;
}

struct SyslogSender::Connection {
  AuditRepositorySettings settings;
  SyslogAddress address;
  std::chrono::seconds timeout;
  asio::io_context io;
  asio::ssl::context tlsContext{asio::ssl::context::tls_client};
  std::optional<udp::socket> datagrams;
  udp::endpoint datagramTarget;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream;

  std::string where() const { return "audit repository " + settings.url; }

  // Whether the repository closed the connection. Readable data alone says nothing (TLS 1.3
  // servers send session tickets after the handshake); a hang-up or a closed read side does.
  bool peerClosed() {
    pollfd p{beast::get_lowest_layer(*stream).socket().native_handle(), POLLRDHUP, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
  }

  // Runs one asynchronous operation to its end. Beast's stream timeout (expires_after) applies
  // to asynchronous operations only: blocking calls could wait on a stalled repository for
  // ever, and with them the node's stop.
  template <typename Start>
  void await(const char* what, Start&& start) {
    boost::system::error_code result = asio::error::would_block;
    beast::get_lowest_layer(*stream).expires_after(timeout);
    start([&result](boost::system::error_code ec, auto&&...) { result = ec; });
    io.restart();
    io.run();
    if (result) throw SyslogError(where() + ": " + what + ": " + result.message());
  }

  void openTls() {
    stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io, tlsContext);
    if (!SSL_set_tlsext_host_name(stream->native_handle(), address.host.c_str())) throw SyslogError(where() + ": cannot set the TLS server name");
    stream->set_verify_callback(asio::ssl::host_name_verification(address.host));
    tcp::resolver resolver(io);
    const auto endpoints = resolver.resolve(address.host, address.port);
    await("connect", [&](auto done) { beast::get_lowest_layer(*stream).async_connect(endpoints, done); });
    await("TLS handshake", [&](auto done) { stream->async_handshake(asio::ssl::stream_base::client, done); });
  }
};

SyslogSender::SyslogSender(const AuditRepositorySettings& settings, std::chrono::seconds timeout)
    : connection_(std::make_unique<Connection>()) {
  Connection& c = *connection_;
  c.settings = settings;
  c.address = parseSyslogAddress(settings.url);
  c.timeout = timeout;
  if (c.address.tls) {
    c.tlsContext.set_options(asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    if (settings.trustedCertificates.empty()) c.tlsContext.set_default_verify_paths();
    else c.tlsContext.load_verify_file(settings.trustedCertificates);
    c.tlsContext.set_verify_mode(asio::ssl::verify_peer);
    if (!settings.certificate.empty()) {
      c.tlsContext.use_certificate_chain_file(settings.certificate);
      c.tlsContext.use_private_key_file(settings.privateKey, asio::ssl::context::pem);
    }
  }
}

SyslogSender::~SyslogSender() = default;

void SyslogSender::send(const std::string& record) {
  Connection& c = *connection_;
  try {
    if (!c.address.tls) {
      if (record.size() > kMaxDatagram) {
        throw SyslogRecordTooLarge(c.where() + ": a record of " + std::to_string(record.size()) + " bytes does not fit a UDP datagram");
      }
      if (!c.datagrams) {
        udp::resolver resolver(c.io);
        c.datagramTarget = *resolver.resolve(c.address.host, c.address.port).begin();
        c.datagrams.emplace(c.io);
        c.datagrams->open(c.datagramTarget.protocol());
      }
      c.datagrams->send_to(asio::buffer(record), c.datagramTarget);
      return;
    }
    // A repository never writes to us: a readable connection is one it closed (it restarted),
    // and a record written there would be lost, so a new connection is opened first.
    if (c.stream && c.peerClosed()) c.stream.reset();
    if (!c.stream) c.openTls();
    // RFC 5425 octet counting: the record's length in bytes, a space, the record.
    const std::string framed = std::to_string(record.size()) + " " + record;
    c.await("write", [&](auto done) { asio::async_write(*c.stream, asio::buffer(framed), done); });
  } catch (const SyslogError&) {
    throw;
  } catch (const std::exception& e) {
    // The connection is in an unknown state: the next record opens a new one.
    c.stream.reset();
    c.datagrams.reset();
    throw SyslogError(c.where() + ": " + e.what());
  }
}

}  // namespace annot
