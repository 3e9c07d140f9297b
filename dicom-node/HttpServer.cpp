#include "HttpServer.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>

#include "common/Log.h"

namespace annot::node {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kIdleTimeout = std::chrono::seconds(60);

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

// One connection: read a request, answer it, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpHandler& handler, uint64_t maxBody)
      : stream_(std::move(socket)), handler_(handler), maxBody_(maxBody) {
    beast::error_code ec;
    const auto endpoint = stream_.socket().remote_endpoint(ec);
    remote_ = ec ? std::string("?") : endpoint.address().to_string();
    stream_.socket().set_option(tcp::no_delay(true), ec);
  }

  void start() { readNext(); }

 private:
  void readNext() {
    parser_.emplace();
    parser_->body_limit(maxBody_);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset) {
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
    stream_.expires_after(kIdleTimeout);
    http::async_write(stream_, *message, [self = shared_from_this(), message, keepAlive](beast::error_code ec, std::size_t) {
      if (ec || !keepAlive) return self->close();
      self->readNext();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpHandler& handler_;
  uint64_t maxBody_;
  std::string remote_;
};
}  // namespace

struct HttpServer::Impl {
  Impl(HttpHandler& h, HttpServerOptions o) : handler(h), options(std::move(o)), acceptor(io) {}

  void accept() {
    acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted) return;
        LOG_WARN("http", "accept failed: " << ec.message());
      } else {
        std::make_shared<Session>(std::move(socket), handler, options.maxBodyBytes)->start();
      }
      accept();
    });
  }

  HttpHandler& handler;
  HttpServerOptions options;
  asio::io_context io;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
};

HttpServer::HttpServer(HttpHandler& handler, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(handler, std::move(options))) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
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

uint16_t HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

}  // namespace annot::node
