#pragma once
// Transport-neutral HTTP request and response. The node's Beast server and the Orthanc plugin's
// REST callbacks both translate to and from these, so every route is written once in core.
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace annot {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // decoded path without the query string
  std::multimap<std::string, std::string> query;  // decoded query parameters, in order
  std::map<std::string, std::string> headers;  // header names in lower case
  std::string body;
  std::string remoteAddress;

  // First value of a query parameter, or `fallback`.
  std::string queryValue(const std::string& key, const std::string& fallback = "") const;
  std::string header(const std::string& lowerCaseName) const;
};

struct HttpResponse {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Must not throw: every failure becomes an HTTP error response.
  virtual HttpResponse handle(const HttpRequest& request) = 0;
};

// Splits a request target ("/a/b?x=1&y=%20") into a decoded path and query parameters.
// Returns false when the percent-encoding is malformed.
bool parseRequestTarget(const std::string& target, std::string& path,
                        std::multimap<std::string, std::string>& query);
std::string percentDecode(const std::string& text, bool plusAsSpace, bool& ok);
// Every byte outside RFC 3986 unreserved characters as %XX (for query values and path segments).
std::string percentEncode(const std::string& text);

// A JSON error body {"error": {"status": N, "message": "..."}} with the given status.
HttpResponse errorResponse(int status, const std::string& message);

// "?k=v&..." of query parameters, percent-encoded ("" when there are none).
std::string encodeQuery(const std::multimap<std::string, std::string>& query);
// A 302 to `location`; `noStore` when it depends on who asks (a browser keeps redirects).
HttpResponse redirect(const std::string& location, bool noStore = false);

}  // namespace annot
