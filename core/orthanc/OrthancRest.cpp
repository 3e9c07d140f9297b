#include "orthanc/OrthancRest.h"

#include <ctime>

namespace annot {
namespace {
[[noreturn]] void fail(const std::string& method, const std::string& uri, const RestAnswer& a) {
  std::string detail;
  // Orthanc explains errors in a JSON body when HttpDescribeErrors is on (its default).
  const auto body = nlohmann::json::parse(a.body, nullptr, false);
  if (body.is_object()) {
    for (const char* key : {"Message", "Details", "OrthancError"}) {
      if (body.contains(key) && body[key].is_string() && !body[key].get<std::string>().empty()) {
        detail += (detail.empty() ? "" : ": ") + body[key].get<std::string>();
      }
    }
  }
  throw OrthancError("Orthanc " + method + " " + uri + " answered " + std::to_string(a.status) + (detail.empty() ? "" : " (" + detail + ")"),
                     a.status);
}

nlohmann::json parse(const std::string& method, const std::string& uri, const RestAnswer& a) {
  auto doc = nlohmann::json::parse(a.body, nullptr, false);
  if (doc.is_discarded()) throw OrthancError("Orthanc " + method + " " + uri + " did not answer JSON", a.status);
  return doc;
}
}  // namespace

nlohmann::json OrthancRest::getJson(const std::string& uri) {
  const RestAnswer a = call("GET", uri);
  if (a.status != 200) fail("GET", uri, a);
  return parse("GET", uri, a);
}

std::optional<nlohmann::json> OrthancRest::findJson(const std::string& uri) {
  const RestAnswer a = call("GET", uri);
  if (a.status == 404) return std::nullopt;
  if (a.status != 200) fail("GET", uri, a);
  return parse("GET", uri, a);
}

nlohmann::json OrthancRest::postJson(const std::string& uri, const std::string& body) {
  const RestAnswer a = call("POST", uri, body);
  if (a.status != 200) fail("POST", uri, a);
  return parse("POST", uri, a);
}

std::string OrthancRest::getBytes(const std::string& uri) {
  RestAnswer a = call("GET", uri);
  if (a.status != 200) fail("GET", uri, a);
  return std::move(a.body);
}

int64_t orthancTimeToMillis(const std::string& text) {
  std::tm t{};
  if (text.size() < 15 || text[8] != 'T') return 0;
  if (std::sscanf(text.c_str(), "%4d%2d%2dT%2d%2d%2d", &t.tm_year, &t.tm_mon, &t.tm_mday, &t.tm_hour, &t.tm_min, &t.tm_sec) != 6) return 0;
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  int64_t ms = static_cast<int64_t>(timegm(&t)) * 1000;
  if (text.size() > 16 && text[15] == '.') ms += std::atoi(text.substr(16, 3).append(3 - std::min<size_t>(3, text.size() - 16), '0').c_str());
  return ms;
}

}  // namespace annot
