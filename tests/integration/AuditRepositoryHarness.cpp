#include "AuditRepositoryHarness.h"

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <atomic>
#include <regex>

namespace annot::test {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;

AuditRepository::AuditRepository(std::optional<RepositoryTls> tls, uint16_t port) : tls_(std::move(tls)), port_(port ? port : freePort()) {
  start();
}

AuditRepository::~AuditRepository() { stop(); }

std::string AuditRepository::url(const std::string& host) const {
  return std::string(tls_ ? "tls://" : "udp://") + host + ":" + std::to_string(port_);
}

void AuditRepository::start() {
  if (io_) return;
  io_ = std::make_unique<asio::io_context>();
  // Bound before start() returns: a record sent right after is not refused.
  if (tls_) {
    auto acceptor = std::make_shared<tcp::acceptor>(*io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), true);
    thread_ = std::thread([this, acceptor] {
      auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
      ctx->use_certificate_chain_file(tls_->certificate);
      ctx->use_private_key_file(tls_->privateKey, asio::ssl::context::pem);
      ctx->load_verify_file(tls_->trustedClients);
      ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
      for (;;) {
        boost::system::error_code ec;
        tcp::socket socket(*io_);
        acceptor->accept(socket, ec);
        if (ec) break;
        std::lock_guard<std::mutex> lock(mutex_);
        connectionSockets_.push_back(socket.native_handle());
        connections_.emplace_back([this, ctx, s = std::move(socket)]() mutable {
          asio::ssl::stream<tcp::socket> stream(std::move(s), *ctx);
          boost::system::error_code e;
          stream.handshake(asio::ssl::stream_base::server, e);
          if (e) return;
          std::string buffer;
          char chunk[8192];
          for (;;) {
            const size_t n = stream.read_some(asio::buffer(chunk), e);
            if (e) return;
            buffer.append(chunk, n);
            // Octet counting: "LEN SP RECORD".
            for (;;) {
              const size_t space = buffer.find(' ');
              if (space == std::string::npos) break;
              const size_t length = std::stoul(buffer.substr(0, space));
              if (buffer.size() < space + 1 + length) break;
              keep(buffer.substr(space + 1, length));
              buffer.erase(0, space + 1 + length);
            }
          }
        });
      }
    });
    // A blocking accept wakes when its socket is shut down (closing it from here would not).
    stopper_ = [fd = acceptor->native_handle()] { ::shutdown(fd, SHUT_RDWR); };
  } else {
    auto socket = std::make_shared<udp::socket>(*io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    socket->set_option(asio::socket_base::receive_buffer_size(4 << 20));
    // Nothing wakes a blocking UDP receive: it waits at most 100 ms, then looks at the flag.
    const timeval wait{0, 100000};
    ::setsockopt(socket->native_handle(), SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    auto stopping = std::make_shared<std::atomic<bool>>(false);
    thread_ = std::thread([this, socket, stopping] {
      std::vector<char> datagram(70000);
      while (!*stopping) {
        // The plain call: asio's own would wait on in poll() past the timeout.
        const ssize_t n = ::recv(socket->native_handle(), datagram.data(), datagram.size(), 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
        if (n < 0) break;
        keep(std::string(datagram.data(), static_cast<size_t>(n)));
      }
    });
    stopper_ = [stopping] { *stopping = true; };
  }
}

void AuditRepository::stop() {
  if (!io_) return;
  stopper_();
  if (thread_.joinable()) thread_.join();
  // Connections end as a repository going down ends them: the client sees them closed.
  std::vector<std::thread> connections;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const int fd : connectionSockets_) ::shutdown(fd, SHUT_RDWR);
    connectionSockets_.clear();
    connections.swap(connections_);
  }
  for (auto& t : connections) t.join();
  io_.reset();
}

void AuditRepository::keep(std::string record) {
  std::lock_guard<std::mutex> lock(mutex_);
  records_.push_back(std::move(record));
}

std::vector<std::string> AuditRepository::records() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return records_;
}

size_t AuditRepository::count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return records_.size();
}

std::vector<std::string> AuditRepository::messages() const {
  std::vector<std::string> out;
  for (const auto& r : records()) {
    const size_t bom = r.find("\xEF\xBB\xBF");
    out.push_back(bom == std::string::npos ? std::string() : r.substr(bom + 3));
  }
  return out;
}

std::vector<std::string> AuditRepository::malformedHeaders() const {
  // PRI VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA SP BOM
  static const std::regex header(R"(^<85>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ \S+ \d+ IHE\+RFC-3881 - \xEF\xBB\xBF<\?xml)");
  std::vector<std::string> bad;
  for (const auto& r : records()) {
    if (!std::regex_search(r, header)) bad.push_back(r.substr(0, 120));
  }
  return bad;
}

std::string schemaErrors(const std::vector<std::string>& messages, const std::string& workDir) {
  std::vector<std::string> argv = {"jing", "-c", std::string(ANNOT_TEST_SOURCE_DIR) + "/integration/atna/dicom-audit-message.rnc"};
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string file = workDir + "/audit-" + std::to_string(i) + ".xml";
    writeFile(file, messages[i]);
    argv.push_back(file);
  }
  const CommandResult r = runCommand(argv);
  return r.exitCode == 0 ? std::string() : "jing exit " + std::to_string(r.exitCode) + ": " + r.output;
}

std::string xpath(const std::string& message, const std::string& expression, const std::string& workDir) {
  const std::string file = workDir + "/xpath.xml";
  writeFile(file, message);
  const CommandResult r = runCommand({"xmllint", "--xpath", expression, file});
  if (r.exitCode != 0) return "";
  std::string out = r.output;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace annot::test
