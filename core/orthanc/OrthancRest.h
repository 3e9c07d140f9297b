#pragma once
// Orthanc's REST API as the plugin reaches it (in-process, through the SDK). Core code that
// reads Orthanc's index or stores into it talks to this interface, so it is written once and
// can be exercised against a real Orthanc over HTTP as well.
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

namespace annot {

struct RestAnswer {
  int status = 0;
  std::string body;
};

class OrthancError : public std::runtime_error {
 public:
  OrthancError(const std::string& what, int status) : std::runtime_error(what), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

class OrthancRest {
 public:
  virtual ~OrthancRest() = default;
  // One call; never throws for HTTP error statuses (they are in the answer).
  virtual RestAnswer call(const std::string& method, const std::string& uri, const std::string& body = "") = 0;
  // The same, with the routes other plugins add (Orthanc's DICOMweb plugin) reachable too. In
  // process, call() reaches only Orthanc's built-in API, which keeps the plugin off its own routes.
  virtual RestAnswer callWithPlugins(const std::string& method, const std::string& uri) { return call(method, uri); }

  // JSON of a 200 answer; OrthancError (with Orthanc's message) otherwise.
  nlohmann::json getJson(const std::string& uri);
  // Nothing on 404.
  std::optional<nlohmann::json> findJson(const std::string& uri);
  nlohmann::json postJson(const std::string& uri, const std::string& body);
  std::string getBytes(const std::string& uri);
};

// Orthanc's "20261122T101530" (or with a fraction) as Unix milliseconds, UTC as Orthanc writes
// it; 0 when unparsable.
int64_t orthancTimeToMillis(const std::string& text);

}  // namespace annot
