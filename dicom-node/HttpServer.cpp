#include "HttpServer.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <array>
#include <chrono>
#include <optional>
#include <type_traits>

#include "common/Log.h"

namespace annot::node {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {
constexpr auto kIdleTimeout = std::chrono::seconds(60);
// A client that has not finished its TLS handshake by then is not going to.
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);

HttpRequest toCoreRequest(const http::request<http::string_body>& in, const std::string& remote, bool& ok) {
  HttpRequest out;
  out.method = std::string(in.method_string());
  ok = parseRequestTarget(std::string(in.target()), out.path, out.query);
  for (const auto& field : in) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value());
  }
  out.body = in.body();
  out.remoteAddress = remote;
  return out;
}

http::response<http::string_body> toBeastResponse(const HttpResponse& in, unsigned version, bool keepAlive, bool head) {
  http::response<http::string_body> out{static_cast<http::status>(in.status), version};
  out.set(http::field::server, "annotation-node");
  out.set(http::field::content_type, in.contentType);
  for (const auto& [name, value] : in.headers) out.set(name, value);
  out.keep_alive(keepAlive);
  if (head) {
    out.content_length(in.body.size());
  } else {
    out.body() = in.body;
    out.prepare_payload();
  }
  return out;
}

// The first OpenSSL error queued on this thread, as text.
std::string opensslError() {
  const unsigned long code = ::ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ::ERR_error_string_n(code, text, sizeof text);
  ::ERR_clear_error();
  return text;
}

// The server's TLS settings: TLS 1.2 or later, no compression or renegotiation, the chain and
// key checked against each other now rather than at the first handshake.
std::unique_ptr<ssl::context> tlsContextFor(const HttpServerOptions& options) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                       ssl::context::single_dh_use);
  SSL_CTX* native = context->native_handle();
  ::SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (::SSL_CTX_use_certificate_chain_file(native, options.certificateChainFile.c_str()) != 1) {
    throw std::runtime_error("cannot use HTTPS certificate '" + options.certificateChainFile + "': " + opensslError());
  }
  if (::SSL_CTX_use_PrivateKey_file(native, options.privateKeyFile.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw std::runtime_error("cannot use HTTPS private key '" + options.privateKeyFile + "': " + opensslError());
  }
  if (::SSL_CTX_check_private_key(native) != 1) {
    throw std::runtime_error("HTTPS private key '" + options.privateKeyFile + "' does not match certificate '" +
                             options.certificateChainFile + "': " + opensslError());
  }
  return context;
}

// One connection: (TLS handshake,) read a request, answer it, repeat while keep-alive.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  template <class... TlsContext>
  Session(tcp::socket socket, HttpHandler& handler, uint64_t maxBody, TlsContext&... tls)
      : stream_(std::move(socket), tls...), handler_(handler), maxBody_(maxBody) {
    beast::error_code ec;
    auto& socket_ = beast::get_lowest_layer(stream_).socket();
    const auto endpoint = socket_.remote_endpoint(ec);
    remote_ = ec ? std::string("?") : endpoint.address().to_string();
    socket_.set_option(tcp::no_delay(true), ec);
  }

  void start() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) {
          LOG_DEBUG("http", self->remote_ << " TLS handshake failed: " << ec.message());
          if (ec.category() == asio::error::get_ssl_category() && ERR_GET_REASON(ec.value()) == SSL_R_HTTP_REQUEST) {
            return self->answerPlainRequest();
          }
          // Port scanners, clients that distrust the certificate: nothing to answer.
          return self->closeSocket();
        }
        self->readNext();
      });
    } else {
      readNext();
    }
  }

 private:
  void readNext() {
    parser_.emplace();
    parser_->body_limit(maxBody_);
    beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == ssl::error::stream_truncated) {
      return close();
    }
    if (ec == http::error::body_limit) {
      return reply(errorResponse(413, "request body exceeds the limit of " + std::to_string(maxBody_) + " bytes"),
                   11, false, false);
    }
    if (ec) {
      return reply(errorResponse(400, std::string("malformed HTTP request: ") + ec.message()), 11, false, false);
    }
    const auto& request = parser_->get();
    bool ok = true;
    HttpRequest core = toCoreRequest(request, remote_, ok);
    HttpResponse response = ok ? handler_.handle(core) : errorResponse(400, "malformed percent-encoding in the URL");
    LOG_DEBUG("http", remote_ << ' ' << core.method << ' ' << request.target() << " -> " << response.status);
    reply(response, request.version(), request.keep_alive(), request.method() == http::verb::head);
  }

  void reply(const HttpResponse& response, unsigned version, bool keepAlive, bool head) {
    auto message = std::make_shared<http::response<http::string_body>>(toBeastResponse(response, version, keepAlive, head));
    beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
    http::async_write(stream_, *message, [self = this->shared_from_this(), message, keepAlive](beast::error_code ec, std::size_t) {
      if (ec || !keepAlive) return self->close();
      self->readNext();
    });
  }

  void close() {
    if constexpr (kTls) {
      // close_notify first, so the client can tell the end of the answer from a cut.
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->closeSocket(); });
    } else {
      closeSocket();
    }
  }

  // A plain-HTTP request on the HTTPS port gets a plain answer saying so, as a browser or curl
  // user would otherwise see only a dropped connection.
  void answerPlainRequest() {
    auto message = std::make_shared<http::response<http::string_body>>(
        toBeastResponse(errorResponse(400, "this port speaks HTTPS: use an https:// URL"), 11, false, false));
    http::async_write(beast::get_lowest_layer(stream_), *message, [self = this->shared_from_this(), message](beast::error_code, std::size_t) {
      self->closeSocket();
      // The rest of the request is still unread: closing now would reset the connection, and
      // the client could lose the answer. Read it away first, for at most a few seconds in all.
      beast::get_lowest_layer(self->stream_).expires_after(std::chrono::seconds(3));
      self->discardUntilEnd();
    });
  }

  void discardUntilEnd() {
    beast::get_lowest_layer(stream_).async_read_some(
        asio::buffer(discarded_), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
          if (!ec) self->discardUntilEnd();
        });
  }

  void closeSocket() {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpHandler& handler_;
  uint64_t maxBody_;
  std::string remote_;
  std::array<char, 4096> discarded_{};  // what a plain-HTTP client sent to the HTTPS port
};
}  // namespace

struct HttpServer::Impl {
  Impl(HttpHandler& h, HttpServerOptions o) : handler(h), options(std::move(o)), acceptor(io) {}

  void accept() {
    acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted) return;
        LOG_WARN("http", "accept failed: " << ec.message());
      } else if (tls) {
        std::make_shared<Session<TlsStream>>(std::move(socket), handler, options.maxBodyBytes, *tls)->start();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(std::move(socket), handler, options.maxBodyBytes)->start();
      }
      accept();
    });
  }

  HttpHandler& handler;
  HttpServerOptions options;
  std::unique_ptr<ssl::context> tls;  // HTTPS when set
  asio::io_context io;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
};

HttpServer::HttpServer(HttpHandler& handler, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(handler, std::move(options))) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  const bool certificate = !impl_->options.certificateChainFile.empty(), key = !impl_->options.privateKeyFile.empty();
  if (certificate != key) throw std::runtime_error("HTTPS needs both a certificate and its private key");
  if (certificate) impl_->tls = tlsContextFor(impl_->options);
  const tcp::endpoint endpoint(asio::ip::make_address(impl_->options.bindAddress), impl_->options.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  beast::error_code ec;
  acceptor.bind(endpoint, ec);
  if (ec) {
    throw std::runtime_error("cannot listen for HTTP on " + impl_->options.bindAddress + ":" +
                             std::to_string(impl_->options.port) + ": " + ec.message());
  }
  acceptor.listen(asio::socket_base::max_listen_connections);
  impl_->accept();
  for (unsigned i = 0; i < impl_->options.threads; ++i) {
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  }
}

void HttpServer::stop() {
  if (!impl_ || impl_->threads.empty()) return;
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

bool isLoopbackAddress(const std::string& address) {
  beast::error_code ec;
  const auto parsed = asio::ip::make_address(address, ec);
  return !ec && parsed.is_loopback();
}

bool HttpServer::secure() const { return impl_->tls != nullptr; }

uint16_t HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

}  // namespace annot::node
