#pragma once
// Helpers shared by the files that implement ApiHandler's routes.
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>

#include "auth/UserStore.h"
#include "http/HttpMessage.h"

namespace annot::api {

// Who may call a route. Researchers read (DICOMweb: the de-identified view unless granted).
inline const std::set<Role> kAnyRole = {Role::Annotator, Role::Reviewer, Role::Admin, Role::Researcher};
inline const std::set<Role> kWorkers = {Role::Annotator, Role::Reviewer, Role::Admin};
inline const std::set<Role> kAdmin = {Role::Admin};

// Thrown by route code for a malformed request; ApiHandler answers 400 with its message.
class BadRequest : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline HttpResponse jsonResponse(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  // Replace invalid UTF-8 instead of failing: names come from peers' DICOM data.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

inline uint32_t parseBounded(const std::string& text, const char* name, uint32_t min, uint32_t max) {
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) {
    throw BadRequest(std::string("'") + name + "' must be a whole number");
  }
  const auto value = static_cast<uint32_t>(std::stoul(text));
  if (value < min || value > max) {
    throw BadRequest(std::string("'") + name + "' must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return value;
}

// Text made fit for a quoted header value (a Warning's text): control characters, quotes and
// backslashes become spaces, so nothing a request carried can split or end the header.
inline std::string headerSafe(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '"' || c == '\\') c = ' ';
  }
  return text;
}

// The request body as JSON, or BadRequest saying why not.
inline nlohmann::json parseJsonBody(const HttpRequest& request) {
  try {
    return nlohmann::json::parse(request.body);
  } catch (const nlohmann::json::parse_error& e) {
    throw BadRequest(std::string("body is not valid JSON: ") + e.what());
  }
}

}  // namespace annot::api
