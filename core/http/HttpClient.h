#pragma once
// A small blocking HTTP/1.1 client (Boost.Beast) for the few calls the product makes to other
// servers: an OpenID provider's discovery document, its keys and its token endpoint. HTTPS
// checks the server's certificate and name; plain HTTP is for loopback test providers only
// (the caller decides).
#include <chrono>
#include <map>
#include <stdexcept>
#include <string>

namespace annot {

struct HttpClientResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

class HttpClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HttpClientOptions {
  std::chrono::seconds timeout{10};
  std::string caFile;  // trusted CAs for https://; empty: the system's
  size_t maxBodyBytes = 1 << 20;
};

// GET or POST `url` (http:// or https://). Throws HttpClientError naming the URL on a bad URL,
// a connection, TLS or protocol failure, a timeout or an oversized answer; any HTTP status is
// returned as it is.
HttpClientResponse httpFetch(const std::string& method, const std::string& url, const std::string& body = "",
                             const std::map<std::string, std::string>& headers = {}, const HttpClientOptions& options = {});

}  // namespace annot
