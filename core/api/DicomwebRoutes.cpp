// DICOMweb routes (/dicomweb/...): roles, audit and HTTP framing around dicomweb::DicomwebService.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <nlohmann/json.hpp>

#include "api/ApiHandler.h"
#include "common/TextLists.h"
#include "api/ApiSupport.h"
#include "dicomweb/DicomwebService.h"
#include "sr/MeasurementReportReader.h"

namespace annot {
namespace {
using nlohmann::json;
using dicomweb::DicomwebError;
using dicomweb::Level;

// Researchers get the de-identified view unless an admin granted them identified access.
const std::set<Role>& kReaders = api::kAnyRole;
const std::set<Role>& kStorers = api::kWorkers;

HttpResponse dicomJson(const json& body) {
  HttpResponse r = api::jsonResponse(200, body);
  r.contentType = "application/dicom+json";
  return r;
}

bool deidentifiedFor(const ApiHandler::Call& call) {
  return call.user && call.user->role == Role::Researcher && !call.user->identifiedAccess;
}

// The stored instances a retrieve path names (study, series, instance: as many levels as
// `depth`), with the path's UIDs mapped back to the originals in the de-identified view.
struct Resolved {
  bool deidentified = false;
  std::string study, series, sop;
  std::vector<dicomweb::StoredInstance> found;
};
Resolved resolve(dicomweb::DicomwebService& service, const ApiHandler::Call& c, int depth) {
  Resolved r;
  r.deidentified = deidentifiedFor(c);
  r.study = service.originalUid(c.params.at(0), r.deidentified);
  if (depth >= 2) r.series = service.originalUid(c.params.at(1), r.deidentified);
  if (depth >= 3) r.sop = service.originalUid(c.params.at(2), r.deidentified);
  // A de-identified UID never handed out maps to nothing, and so finds nothing.
  const bool known = !r.study.empty() && (depth < 2 || !r.series.empty()) && (depth < 3 || !r.sop.empty());
  if (known) r.found = service.instances(r.study, r.series, r.sop);
  return r;
}

bool accepts(const HttpRequest& request, const std::string& mediaType) { return dicomweb::accepts(request.header("accept"), mediaType); }

// QIDO-RS, STOW-RS and metadata answer in DICOM JSON only (the XML forms are not offered).
bool acceptsDicomJson(const HttpRequest& request) {
  return accepts(request, "application/dicom+json") || accepts(request, "application/json");
}

// The search's keys as the audit trail records them ("?PatientID=X&modality=CT").
std::string queryText(const HttpRequest& request) {
  std::string text;
  for (const auto& [key, value] : request.query) text += (text.empty() ? "?" : "&") + key + "=" + value;
  return text;
}

HttpResponse notAcceptable(const HttpRequest& request) {
  return errorResponse(406, "the answer is application/dicom+json, which Accept '" + request.header("accept") + "' does not admit");
}
}  // namespace

std::string ApiHandler::dicomwebBase(const HttpRequest& request) const {
  const std::string proto = request.header("x-forwarded-proto").empty() ? "http" : request.header("x-forwarded-proto");
  const std::string host = request.header("host").empty() ? "localhost" : request.header("host");
  return proto + "://" + host + info_.routePrefix + "/dicomweb";
}

void ApiHandler::addDicomwebRoutes() {
  auto search = [this](Level level, int studyParam, int seriesParam) {
    return [this, level, studyParam, seriesParam](const Call& c) {
      return dicomwebCall(c, [&] {
        if (!acceptsDicomJson(c.request)) return notAcceptable(c.request);
        const bool deid = deidentifiedFor(c);
        const std::string study = studyParam >= 0 ? dicomweb_->originalUid(c.params.at(static_cast<size_t>(studyParam)), deid) : "";
        const std::string series = seriesParam >= 0 ? dicomweb_->originalUid(c.params.at(static_cast<size_t>(seriesParam)), deid) : "";
        if ((studyParam >= 0 && study.empty()) || (seriesParam >= 0 && series.empty())) return dicomJson(json::array());
        std::vector<std::string> ignored;
        const json found = dicomweb_->search(level, study, series, c.request.query, dicomwebBase(c.request), deid, &ignored);
        std::set<std::string> studies;
        for (const auto& item : found) {
          if (item.contains("0020000D") && item["0020000D"].contains("Value")) studies.insert(item["0020000D"]["Value"][0].get<std::string>());
        }
        std::vector<std::string> real;
        for (const auto& uid : studies) real.push_back(deid ? dicomweb_->originalUid(uid, true) : uid);
        const std::string shown = joinList(studies);
        // The trail names the studies as shown; the audit repository learns the real ones.
        audit(c, "dicomweb-search", "study", shown, "success",
              c.request.path + queryText(c.request) + (deid ? " (de-identified view)" : ""), joinList(real));
        HttpResponse answer = dicomJson(found);
        if (!ignored.empty()) {
          // PS3.18 8.3.4.x: a key the origin server does not support is reported, not refused.
          std::string keys;
          for (const auto& k : ignored) keys += (keys.empty() ? "" : ", ") + k;
          answer.headers.emplace_back("Warning", "299 annotation-node \"The following attributes are not supported for matching "
                                                 "and were ignored: " + api::headerSafe(keys) + "\"");
        }
        return answer;
      });
    };
  };
  auto retrieve = [this](int depth, bool metadata) {
    return [this, depth, metadata](const Call& c) {
      return dicomwebCall(c, [&] { return retrieveDicomweb(c, depth, metadata); });
    };
  };
  routes_.push_back({"GET", "/dicomweb/studies", kReaders, search(Level::Study, -1, -1)});
  routes_.push_back({"GET", "/dicomweb/series", kReaders, search(Level::Series, -1, -1)});
  routes_.push_back({"GET", "/dicomweb/instances", kReaders, search(Level::Instance, -1, -1)});
  routes_.push_back({"GET", "/dicomweb/studies/{}/series", kReaders, search(Level::Series, 0, -1)});
  routes_.push_back({"GET", "/dicomweb/studies/{}/instances", kReaders, search(Level::Instance, 0, -1)});
  routes_.push_back({"GET", "/dicomweb/studies/{}/series/{}/instances", kReaders, search(Level::Instance, 0, 1)});
  routes_.push_back({"GET", "/dicomweb/studies/{}", kReaders, retrieve(1, false)});
  routes_.push_back({"GET", "/dicomweb/studies/{}/metadata", kReaders, retrieve(1, true)});
  routes_.push_back({"GET", "/dicomweb/studies/{}/series/{}", kReaders, retrieve(2, false)});
  routes_.push_back({"GET", "/dicomweb/studies/{}/series/{}/metadata", kReaders, retrieve(2, true)});
  routes_.push_back({"GET", "/dicomweb/studies/{}/series/{}/instances/{}", kReaders, retrieve(3, false)});
  routes_.push_back({"GET", "/dicomweb/studies/{}/series/{}/instances/{}/metadata", kReaders, retrieve(3, true)});
  routes_.push_back({"GET", "/dicomweb/studies/{}/series/{}/instances/{}/frames/{}", kReaders,
                     [this](const Call& c) { return dicomwebCall(c, [&] { return retrieveFrames(c, false); }); }});
  routes_.push_back({"GET", "/dicomweb/studies/{}/series/{}/instances/{}/bulkdata/{}", kReaders,
                     [this](const Call& c) { return dicomwebCall(c, [&] { return retrieveFrames(c, true); }); }});
  routes_.push_back({"GET", "/dicomweb/studies/{}/series/{}/instances/{}/rendered", kReaders,
                     [this](const Call& c) { return dicomwebCall(c, [&] { return rendered(c, 1); }); }});
  routes_.push_back({"GET", "/dicomweb/studies/{}/series/{}/instances/{}/frames/{}/rendered", kReaders, [this](const Call& c) {
                       return dicomwebCall(c, [&] { return rendered(c, api::parseBounded(c.params.at(3), "frame number", 1, 1000000)); });
                     }});
  routes_.push_back({"POST", "/dicomweb/studies", kStorers, [this](const Call& c) { return dicomwebCall(c, [&] { return stow(c); }); }});
  routes_.push_back({"POST", "/dicomweb/studies/{}", kStorers, [this](const Call& c) { return dicomwebCall(c, [&] { return stow(c); }); }});
}

HttpResponse ApiHandler::dicomwebCall(const Call& c, const std::function<HttpResponse()>& work) {
  if (!dicomweb_) return errorResponse(404, "this deployment does not serve DICOMweb here");
  // Messages name instances by their UIDs; the de-identified view must not learn the originals
  // from an error either.
  const bool deid = deidentifiedFor(c);
  try {
    return work();
  } catch (const DicomwebError& e) {
    return errorResponse(e.status(), deid ? dicomweb_->deidentifiedText(e.what()) : std::string(e.what()));
  } catch (const std::exception& e) {
    if (!deid) throw;
    return errorResponse(500, dicomweb_->deidentifiedText(e.what()));
  }
}

HttpResponse ApiHandler::retrieveDicomweb(const Call& c, int depth, bool metadata) {
  const auto ranges = dicomweb::parseAccept(c.request.header("accept"));
  const bool anyMultipart = std::any_of(ranges.begin(), ranges.end(), [](const auto& r) { return r.admitsMultipartOf("application/dicom"); });
  if (metadata ? !acceptsDicomJson(c.request) : !anyMultipart) {
    return errorResponse(406, metadata ? "metadata is served as application/dicom+json"
                                       : "instances are served as multipart/related; type=\"application/dicom\"");
  }
  const Resolved target = resolve(*dicomweb_, c, depth);
  const bool deid = target.deidentified;
  const auto& found = target.found;
  if (found.empty()) return errorResponse(404, "nothing stored under " + c.request.path.substr(0, c.request.path.size() - (metadata ? 9 : 0)));
  const std::string base = dicomwebBase(c.request);
  HttpResponse r;
  if (metadata) {
    std::string body = "[";
    for (size_t i = 0; i < found.size(); ++i) body += (i ? "," : "") + dicomweb_->metadata(found[i], base, deid);
    body += "]";
    r.contentType = "application/dicom+json";
    r.body = std::move(body);
  } else {
    // Each instance in the syntax Accept asks for: the stored file as it is when that admits
    // it, else decoded to Explicit VR Little Endian. All are checked before any is read.
    std::vector<std::string> syntaxes;
    for (const auto& i : found) syntaxes.push_back(dicomweb_->instanceSyntax(ranges, i));
    std::vector<dicomweb::Part> parts;
    for (size_t n = 0; n < found.size(); ++n) {
      parts.push_back({"application/dicom; transfer-syntax=" + syntaxes[n], dicomweb_->viewUrl(base, found[n], deid),
                       dicomweb_->retrieveBytes(found[n], deid, syntaxes[n])});
    }
    const std::string boundary = dicomweb::newBoundary(parts);
    r.contentType = "multipart/related; type=\"application/dicom\"; boundary=" + boundary;
    r.body = dicomweb::buildMultipart(parts, boundary);
  }
  audit(c, metadata ? "dicomweb-metadata" : "dicomweb-retrieve", depth == 3 ? "instance" : depth == 2 ? "series" : "study",
        depth == 3 ? target.sop : depth == 2 ? target.series : target.study, "success",
        std::to_string(found.size()) + " instance(s)" + (deid ? " (de-identified view)" : ""), target.study);
  return r;
}

HttpResponse ApiHandler::retrieveFrames(const Call& c, bool bulk) {
  const Resolved target = resolve(*dicomweb_, c, 3);
  const bool deid = target.deidentified;
  const auto& found = target.found;
  const std::string& sop = target.sop;
  if (found.empty()) return errorResponse(404, "instance " + c.params.at(2) + " is not stored in that series");
  const auto accept = dicomweb::parseAccept(c.request.header("accept"));
  std::vector<dicomweb::Part> parts;
  std::string partsType = "application/octet-stream";
  if (bulk) {
    dicomweb::DicomwebService::requireUncompressedBulkData(accept);
    const std::string partType = partsType + "; transfer-syntax=" + dicomweb::kExplicitVrLittleEndian;
    parts.push_back({partType, "", dicomweb_->bulkData(found[0], c.params.at(3), deid)});
  } else {
    const auto answer = dicomweb_->frameAnswer(accept, found[0]);
    partsType = dicomweb::mediaType(answer.partType);
    std::vector<unsigned> numbers;
    const std::string list = c.params.at(3);
    size_t start = 0;
    while (start <= list.size()) {
      const size_t end = std::min(list.find(',', start), list.size());
      numbers.push_back(api::parseBounded(list.substr(start, end - start), "frame number", 1, 1000000));
      start = end + 1;
    }
    for (auto& bytes : dicomweb_->frames(found[0], numbers, answer.asStored)) parts.push_back({answer.partType, "", std::move(bytes)});
  }
  HttpResponse r;
  const std::string boundary = dicomweb::newBoundary(parts);
  r.contentType = "multipart/related; type=\"" + partsType + "\"; boundary=" + boundary;
  r.body = dicomweb::buildMultipart(parts, boundary);
  audit(c, bulk ? "dicomweb-bulkdata" : "dicomweb-frames", "instance", sop, "success", c.params.at(3) + (deid ? " (de-identified view)" : ""),
        target.study);
  return r;
}

HttpResponse ApiHandler::rendered(const Call& c, unsigned frame) {
  if (!accepts(c.request, "image/png")) return errorResponse(406, "previews are rendered as image/png");
  const Resolved target = resolve(*dicomweb_, c, 3);
  const bool deid = target.deidentified;
  const auto& found = target.found;
  const std::string& sop = target.sop;
  if (found.empty()) return errorResponse(404, "instance " + c.params.at(2) + " is not stored in that series");
  HttpResponse r;
  r.contentType = "image/png";
  r.body = dicomweb_->renderedPng(found[0], frame);
  audit(c, "dicomweb-rendered", "instance", sop, "success", "frame " + std::to_string(frame) + (deid ? " (de-identified view)" : ""),
        target.study);
  return r;
}

HttpResponse ApiHandler::stow(const Call& c) {
  if (!acceptsDicomJson(c.request)) return notAcceptable(c.request);
  const std::string contentType = c.request.header("content-type");
  // Only Part 10 instances are taken (not the JSON or XML metadata with bulk data forms).
  const std::string partType = dicomweb::contentTypeParameter(contentType, "type");
  if (dicomweb::mediaType(contentType) != "multipart/related" || (!partType.empty() && dicomweb::mediaType(partType) != "application/dicom")) {
    return errorResponse(415, "STOW-RS takes multipart/related; type=\"application/dicom\"");
  }
  std::vector<dicomweb::Part> parts;
  try {
    parts = dicomweb::parseMultipart(c.request.body, dicomweb::contentTypeParameter(contentType, "boundary"));
  } catch (const std::invalid_argument& e) {
    return errorResponse(400, std::string("malformed multipart body: ") + e.what());
  }
  if (parts.empty()) return errorResponse(400, "the request carries no instance");
  const std::string study = c.params.empty() ? "" : c.params.at(0);
  const auto outcome = dicomweb_->store(parts, study, dicomwebBase(c.request), "STOW:" + c.user->name);
  audit(c, "dicomweb-store", "instance", joinList(outcome.storedInstances), outcome.httpStatus == 409 ? "failure" : "success",
        std::to_string(outcome.storedInstances.size()) + " of " + std::to_string(parts.size()) + " stored", joinList(outcome.studies));
  json body = outcome.body;
  const json attached = attachStoredReports(c, outcome.storedReports);
  if (!attached.empty()) body["annotation"] = attached;  // the product's extension member
  HttpResponse r = api::jsonResponse(outcome.httpStatus, body);
  r.contentType = "application/dicom+json";
  return r;
}

// A viewer saving measurements stores an SR (OHIF does it with STOW-RS). When the storing user
// holds a claimed label task of that study, the SR becomes the task's next revision, validated
// like any other save; the SR itself stays stored either way.
json ApiHandler::attachStoredReports(const Call& c, const std::vector<std::string>& reports) {
  json attached = json::array();
  for (const auto& sop : reports) {
    MeasurementReportContent content;
    try {
      DcmFileFormat file;
      if (!dicomweb_->loadStored(sop, file)) continue;
      content = readMeasurementReport(*file.getDataset());
    } catch (const std::exception&) {
      continue;  // not a Measurement Report: nothing to attach
    }
    TaskQuery q;
    q.state = TaskState::InProgress;
    q.step = "label";
    q.studyInstanceUid = content.info.studyInstanceUid;
    q.assignee = c.user->name;
    const auto tasks = worklist_.list(q);
    if (tasks.empty()) continue;
    const Task& task = tasks.front();
    json entry = {{"sopInstanceUid", sop}, {"task", task.id}};
    try {
      const Revision revision = worklist_.save(task.id, *c.user, toJson(content.document).dump());
      entry["revision"] = revision.info.number;
      audit(c, "save-annotation", "task", std::to_string(task.id), "success", "from stored SR " + sop);
    } catch (const WorklistError& e) {
      entry["error"] = e.what();
      if (!e.problems().empty()) entry["problems"] = e.problems();
      audit(c, "save-annotation", "task", std::to_string(task.id), "failure", "stored SR " + sop + ": " + e.what());
    }
    attached.push_back(entry);
  }
  return attached;
}

}  // namespace annot
