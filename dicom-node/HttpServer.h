#pragma once
// Serves core's transport-neutral HttpHandler over HTTP/1.1 with Boost.Beast: an Asio
// io_context run by a small thread pool, keep-alive, request size limit (413), idle timeouts;
// over TLS (HTTPS only, TLS 1.2 or later) when given a certificate and its private key.
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http/HttpMessage.h"

namespace annot::node {

struct HttpServerOptions {
  std::string bindAddress = "0.0.0.0";
  uint16_t port = 8080;
  unsigned threads = 4;
  uint64_t maxBodyBytes = 64ull * 1024 * 1024;
  std::string certificateChainFile;  // PEM, server certificate first; empty: plain HTTP
  std::string privateKeyFile;        // PEM, unencrypted, matching the certificate
};

// True for 127.0.0.0/8 and ::1 (false for anything unparsable).
bool isLoopbackAddress(const std::string& address);

class HttpServer {
 public:
  HttpServer(HttpHandler& handler, HttpServerOptions options);
  ~HttpServer();
  // Binds and starts serving on background threads; throws when the port cannot be bound or
  // the certificate or key cannot be used.
  void start();
  bool secure() const;
  void stop();
  uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace annot::node
