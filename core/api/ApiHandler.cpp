#include "api/ApiHandler.h"

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "api/StudyJson.h"
#include "common/Log.h"
#include "dicom/Uid.h"

namespace annot {
namespace {
using nlohmann::json;

class BadRequest : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

HttpResponse jsonResponse(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  // Replace invalid UTF-8 instead of failing: names come from peers' DICOM data.
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

bool isDicomDate(const std::string& s) {
  if (s.size() != 8) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

uint32_t parseBounded(const std::string& text, const char* name, uint32_t min, uint32_t max) {
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) {
    throw BadRequest(std::string("'") + name + "' must be a whole number");
  }
  const auto value = static_cast<uint32_t>(std::stoul(text));
  if (value < min || value > max) {
    throw BadRequest(std::string("'") + name + "' must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return value;
}

std::string requireDate(const std::string& value, const char* name) {
  if (!value.empty() && !isDicomDate(value)) throw BadRequest(std::string("'") + name + "' must be a date YYYYMMDD");
  return value;
}

const std::string kStudiesPrefix = "/api/v1/studies";
}  // namespace

ApiHandler::ApiHandler(Catalog& catalog, Metrics& metrics, ApiInfo info)
    : catalog_(catalog), metrics_(metrics), info_(std::move(info)) {}

HttpResponse ApiHandler::handle(const HttpRequest& request) {
  ++metrics_.httpRequests;
  HttpResponse response;
  try {
    response = route(request);
  } catch (const BadRequest& e) {
    response = errorResponse(400, e.what());
  } catch (const std::exception& e) {
    LOG_ERROR("http", request.method << ' ' << request.path << " failed: " << e.what());
    response = errorResponse(500, std::string("internal error: ") + e.what());
  }
  if (response.status >= 400) ++metrics_.httpErrors;
  return response;
}

HttpResponse ApiHandler::route(const HttpRequest& request) {
  const std::string& path = request.path;
  const bool known = path == "/healthz" || path == "/metrics" || path == kStudiesPrefix ||
                     path.rfind(kStudiesPrefix + "/", 0) == 0;
  if (!known) return errorResponse(404, "no route for " + path);
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse r = errorResponse(405, request.method + " is not allowed on " + path);
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (path == "/healthz") return health();
  if (path == "/metrics") return metrics();
  if (path == kStudiesPrefix) return listStudies(request);
  const std::string rest = path.substr(kStudiesPrefix.size() + 1);
  if (rest.find('/') != std::string::npos) return errorResponse(404, "no route for " + path);
  return getStudy(rest);
}

HttpResponse ApiHandler::health() {
  try {
    const auto totals = catalog_.totals();
    return jsonResponse(200, {{"status", "ok"}, {"product", info_.product}, {"version", info_.version},
                              {"aeTitle", info_.aeTitle}, {"schemaVersion", catalog_.schemaVersion()},
                              {"studies", totals.studies}, {"instances", totals.instances}});
  } catch (const std::exception& e) {
    return jsonResponse(503, {{"status", "unavailable"}, {"message", e.what()}});
  }
}

HttpResponse ApiHandler::metrics() {
  std::ostringstream extra;
  const auto totals = catalog_.totals();
  extra << "# HELP annot_catalog_objects Objects in the catalog.\n# TYPE annot_catalog_objects gauge\n"
        << "annot_catalog_objects{level=\"patient\"} " << totals.patients << '\n'
        << "annot_catalog_objects{level=\"study\"} " << totals.studies << '\n'
        << "annot_catalog_objects{level=\"series\"} " << totals.series << '\n'
        << "annot_catalog_objects{level=\"instance\"} " << totals.instances << '\n'
        << "# HELP annot_catalog_bytes Bytes of stored instances.\n# TYPE annot_catalog_bytes gauge\n"
        << "annot_catalog_bytes " << totals.bytes << '\n';
  HttpResponse r;
  r.contentType = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics_.renderPrometheus(extra.str());
  return r;
}

HttpResponse ApiHandler::listStudies(const HttpRequest& request) {
  static const std::set<std::string> known = {"PatientID", "StudyDate", "from", "to", "Modality", "limit", "offset"};
  for (const auto& [key, value] : request.query) {
    if (!known.count(key)) {
      throw BadRequest("unknown query parameter '" + key + "' (use PatientID, StudyDate, from, to, Modality, limit, offset)");
    }
  }
  StudyQuery q;
  q.patientId = request.queryValue("PatientID");
  q.modality = request.queryValue("Modality");
  q.dateFrom = requireDate(request.queryValue("from"), "from");
  q.dateTo = requireDate(request.queryValue("to"), "to");
  // DICOM range syntax, as in QIDO: StudyDate=20200101-20201231, 20200101-, -20201231 or one date.
  const std::string range = request.queryValue("StudyDate");
  if (!range.empty()) {
    const auto dash = range.find('-');
    if (dash == std::string::npos) {
      q.dateFrom = q.dateTo = requireDate(range, "StudyDate");
    } else {
      q.dateFrom = requireDate(range.substr(0, dash), "StudyDate");
      q.dateTo = requireDate(range.substr(dash + 1), "StudyDate");
    }
  }
  if (!q.dateFrom.empty() && !q.dateTo.empty() && q.dateFrom > q.dateTo) {
    throw BadRequest("date range is empty: 'from' is after 'to'");
  }
  if (request.query.count("limit")) q.limit = parseBounded(request.queryValue("limit"), "limit", 1, 1000);
  if (request.query.count("offset")) q.offset = parseBounded(request.queryValue("offset"), "offset", 0, 100000000);

  const StudyPage page = catalog_.findStudies(q);
  json studies = json::array();
  for (const auto& s : page.studies) studies.push_back(toJson(s));
  return jsonResponse(200, {{"total", page.total}, {"offset", q.offset}, {"limit", q.limit}, {"studies", studies}});
}

HttpResponse ApiHandler::getStudy(const std::string& studyUid) {
  if (!isValidUid(studyUid)) throw BadRequest("'" + studyUid + "' is not a valid Study Instance UID");
  const auto detail = catalog_.getStudy(studyUid);
  if (!detail) return errorResponse(404, "study " + studyUid + " is not in the catalog");
  return jsonResponse(200, toJson(*detail));
}

}  // namespace annot
