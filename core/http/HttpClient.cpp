#include "http/HttpClient.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>
#include <openssl/ssl.h>

#include <cctype>

namespace annot {
namespace {
namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct ParsedUrl {
  bool tls = false;
  std::string host, port, target;
};

ParsedUrl parseUrl(const std::string& url) {
  ParsedUrl u;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    throw HttpClientError("'" + url + "' is not an http:// or https:// URL");
  }
  const size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  const size_t colon = authority.rfind(':');
  const bool bracketed = !authority.empty() && authority.front() == '[';
  if (colon != std::string::npos && (!bracketed || authority.find(']') < colon)) {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  } else {
    u.host = authority;
    u.port = u.tls ? "443" : "80";
  }
  if (bracketed && u.host.size() > 2) u.host = u.host.substr(1, u.host.size() - 2);
  if (u.host.empty() || u.port.empty()) throw HttpClientError("'" + url + "' has no host");
  return u;
}

template <typename Stream>
HttpClientResponse exchange(Stream& stream, const ParsedUrl& u, const std::string& method, const std::string& body,
                            const std::map<std::string, std::string>& headers, const HttpClientOptions& options) {
  http::request<http::string_body> req{method == "POST" ? http::verb::post : http::verb::get, u.target, 11};
  // The port belongs in Host unless it is the scheme's default: servers build absolute URLs
  // (an OpenID provider its endpoints) from it.
  const bool defaultPort = u.port == (u.tls ? "443" : "80");
  const std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  req.set(http::field::host, defaultPort ? host : host + ":" + u.port);
  req.set(http::field::user_agent, "annotation-node");
  req.set(http::field::accept, "application/json");
  for (const auto& [k, v] : headers) req.set(k, v);
  if (method == "POST") {
    req.body() = body;
    req.prepare_payload();
  }
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(options.maxBodyBytes);
  http::read(stream, buffer, parser);
  HttpClientResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  out.body = parser.get().body();
  for (const auto& field : parser.get()) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value());
  }
  return out;
}
}  // namespace

HttpClientResponse httpFetch(const std::string& method, const std::string& url, const std::string& body,
                             const std::map<std::string, std::string>& headers, const HttpClientOptions& options) {
  const ParsedUrl u = parseUrl(url);
  try {
    asio::io_context io;
    tcp::resolver resolver(io);
    const auto endpoints = resolver.resolve(u.host, u.port);
    if (!u.tls) {
      beast::tcp_stream stream(io);
      stream.expires_after(options.timeout);
      stream.connect(endpoints);
      HttpClientResponse r = exchange(stream, u, method, body, headers, options);
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return r;
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_options(asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    if (options.caFile.empty()) ctx.set_default_verify_paths();
    else ctx.load_verify_file(options.caFile);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
    // The certificate must name the host, and the server learns which host is meant (SNI).
    if (!SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str())) throw HttpClientError("cannot set the TLS server name");
    stream.set_verify_callback(asio::ssl::host_name_verification(u.host));
    beast::get_lowest_layer(stream).expires_after(options.timeout);
    beast::get_lowest_layer(stream).connect(endpoints);
    stream.handshake(asio::ssl::stream_base::client);
    HttpClientResponse r = exchange(stream, u, method, body, headers, options);
    beast::error_code ignored;
    stream.shutdown(ignored);
    return r;
  } catch (const HttpClientError&) {
    throw;
  } catch (const std::exception& e) {
    throw HttpClientError(method + " " + url + ": " + e.what());
  }
}

}  // namespace annot
