// ApiHandler's worklist routes: protocols, tasks, claims, annotations.
#include "api/ApiHandler.h"
#include "api/ApiSupport.h"
#include "api/WorklistSupport.h"
#include "api/StudyJson.h"
#include "common/Clock.h"
#include "dicom/SourceImages.h"
#include "dicom/Uid.h"
#include "dicomweb/DicomwebService.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>

namespace annot {
namespace {
using api::BadRequest;
using api::jsonResponse;
using nlohmann::json;

using api::kAnyRole;
using api::kWorkers;

int64_t taskId(const std::string& text) {
  if (text.empty() || text.size() > 15 || text.find_first_not_of("0123456789") != std::string::npos) {
    throw BadRequest("task id '" + text + "' must be a number");
  }
  return std::stoll(text);
}


json toJson(const ReviewDecision& r) {
  json j = {{"reviewTask", r.reviewTaskId}, {"decision", r.decision}, {"comment", r.comment}, {"reviewer", r.reviewer},
            {"time", isoTimeFromMillis(r.createdMs)}};
  if (r.labelTaskId) j["task"] = r.labelTaskId;
  return j;
}

json toJson(const RevisionInfo& r) {
  return {{"revision", r.number}, {"author", r.author}, {"saved", isoTimeFromMillis(r.createdMs)}, {"complete", r.complete}};
}

// "true"/"false" (or absent: the fallback) for a boolean query parameter.
bool flag(const HttpRequest& request, const char* name, bool fallback) {
  if (!request.query.count(name)) return fallback;
  const std::string v = request.queryValue(name);
  if (v == "true") return true;
  if (v == "false") return false;
  throw BadRequest(std::string("'") + name + "' must be true or false");
}

}  // namespace

void ApiHandler::addWorklistRoutes() {
  routes_.push_back({"GET", "/api/v1/protocols", kAnyRole, [this](const Call& c) { return listProtocols(c); }});
  routes_.push_back({"GET", "/api/v1/tasks", kWorkers, [this](const Call& c) { return listTasks(c); }});
  routes_.push_back({"POST", "/api/v1/tasks", {Role::Reviewer, Role::Admin}, [this](const Call& c) { return scheduleTasks(c); }});
  routes_.push_back({"GET", "/api/v1/tasks/{}", kWorkers, [this](const Call& c) { return getTask(c); }});
  for (const char* action : {"claim", "release", "submit"}) {
    const std::string name = action;
    routes_.push_back({"POST", "/api/v1/tasks/{}/" + name, kWorkers, [this, name](const Call& c) { return taskAction(c, name); }});
  }
  routes_.push_back({"PUT", "/api/v1/tasks/{}/annotation", kWorkers, [this](const Call& c) { return saveAnnotation(c); }});
  routes_.push_back({"GET", "/api/v1/tasks/{}/annotation", kWorkers, [this](const Call& c) { return getAnnotation(c); }});
  routes_.push_back({"POST", "/api/v1/tasks/{}/review", {Role::Reviewer, Role::Admin}, [this](const Call& c) { return reviewTask(c); }});
  routes_.push_back({"POST", "/api/v1/tasks/{}/withdraw", {Role::Reviewer, Role::Admin}, [this](const Call& c) { return withdrawResults(c); }});
  routes_.push_back({"POST", "/api/v1/studies/{}/prelabels", {Role::Reviewer, Role::Admin}, [this](const Call& c) { return importPrelabel(c); }});
  routes_.push_back({"GET", "/api/v1/studies/{}/prelabels", {Role::Reviewer, Role::Admin}, [this](const Call& c) { return listPrelabels(c); }});
  routes_.push_back({"GET", "/api/v1/tasks/{}/prelabel", kWorkers, [this](const Call& c) { return taskPrelabel(c); }});
  for (const char* which : {"agreement", "balance"}) {
    const std::string name = which;
    routes_.push_back({"GET", "/api/v1/reports/" + name, {Role::Reviewer, Role::Admin, Role::Researcher},
                       [this, name](const Call& c) { return report(c, name); }});
  }
}

HttpResponse ApiHandler::listProtocols(const Call& call) {
  json list = json::array();
  for (const auto& p : worklist_.protocols().all()) list.push_back(toJson(p));
  audit(call, "list-protocols", "protocol", "");
  return jsonResponse(200, {{"protocols", list}});
}

HttpResponse ApiHandler::listTasks(const Call& call) {
  const HttpRequest& r = call.request;
  static const std::set<std::string> known = {"state", "step", "protocol", "study", "assignee", "priority", "dueBefore", "limit", "offset"};
  for (const auto& [key, value] : r.query) {
    if (!known.count(key)) {
      throw BadRequest("unknown query parameter '" + key + "' (use state, step, protocol, study, assignee, priority, dueBefore, limit, offset)");
    }
  }
  TaskQuery q;
  if (r.query.count("state")) {
    q.state = taskStateFromName(r.queryValue("state"));
    if (!q.state) throw BadRequest("state must be SCHEDULED, IN PROGRESS, COMPLETED or CANCELED");
  }
  q.step = r.queryValue("step");
  q.protocolId = r.queryValue("protocol");
  q.studyInstanceUid = r.queryValue("study");
  q.assignee = r.queryValue("assignee");
  q.priority = r.queryValue("priority");
  if (!q.priority.empty() && q.priority != "HIGH" && q.priority != "MEDIUM" && q.priority != "LOW") {
    throw BadRequest("priority must be HIGH, MEDIUM or LOW");
  }
  q.dueBefore = r.queryValue("dueBefore");
  if (!q.dueBefore.empty() && !isIsoDate(q.dueBefore)) {
    throw BadRequest("dueBefore must be a date YYYY-MM-DD");
  }
  scopeToCaller(q, *call.user);
  if (r.query.count("limit")) q.limit = api::parseBounded(r.queryValue("limit"), "limit", 1, 1000);
  if (r.query.count("offset")) q.offset = api::parseBounded(r.queryValue("offset"), "offset", 0, 100000000);
  json tasks = json::array();
  for (const auto& t : worklist_.list(q)) tasks.push_back(toJson(t));
  audit(call, "list-tasks", "task", "");
  return jsonResponse(200, {{"tasks", tasks}});
}

HttpResponse ApiHandler::scheduleTasks(const Call& call) {
  const json body = api::parseJsonBody(call.request);
  if (!body.is_object() || !body.contains("study") || !body["study"].is_string() || !body.contains("protocol") || !body["protocol"].is_string()) {
    throw BadRequest("body must be {\"study\": UID, \"series\"?: UID, \"protocol\": id, \"version\"?, \"priority\"?: HIGH|MEDIUM|LOW, \"due\"?}");
  }
  auto text = [&](const char* key, const char* fallback) {
    return body.contains(key) && body[key].is_string() ? body[key].get<std::string>() : std::string(fallback);
  };
  try {
    const auto tasks = worklist_.schedule(body["study"], text("series", ""), body["protocol"], text("version", ""),
                                          text("priority", "MEDIUM"), text("due", ""));
    json list = json::array();
    for (const auto& t : tasks) list.push_back(toJson(t));
    audit(call, "schedule-tasks", "study", body["study"], "success", "protocol " + body["protocol"].get<std::string>());
    return jsonResponse(201, {{"tasks", list}});
  } catch (const WorklistError& e) {
    return worklistError(e);
  }
}

HttpResponse ApiHandler::getTask(const Call& call) {
  try {
    const Task task = worklist_.get(taskId(call.params.at(0)));
    if (!mayView(*call.user, task)) return errorResponse(403, "task " + call.params.at(0) + " belongs to another reader");
    json body = toJson(task);
    json revisions = json::array();
    for (const auto& r : worklist_.revisions(task.id)) revisions.push_back(toJson(r));
    body["revisionHistory"] = revisions;
    json reviews = json::array();
    for (const auto& r : worklist_.reviewsOf(task.id)) reviews.push_back(toJson(r));
    body["reviews"] = reviews;
    json outputs = json::array();
    for (const auto& o : worklist_.outputs(task.id)) {
      json out = toJson(o);
      json exports = json::array();
      if (outbox_) {
        for (const auto& item : outbox_->forInstance(o.sopInstanceUid)) {
          exports.push_back({{"destination", item.destination}, {"state", item.state}, {"attempts", item.attempts},
                             {"lastStatus", item.lastStatus}, {"lastError", item.lastError}});
        }
      }
      out["exports"] = exports;
      outputs.push_back(out);
    }
    body["outputs"] = outputs;
    if (task.step == "review") {
      // What the reviewer decides on: the case's readers and how far they agree.
      json readers = json::array();
      for (const auto& r : worklist_.caseReaders(task)) {
        readers.push_back({{"task", r.id}, {"readerSlot", r.readerSlot}, {"assignee", r.assignee}, {"state", taskStateName(r.state)},
                           {"revisions", r.revisions}});
      }
      body["readers"] = readers;
      body["agreement"] = worklist_.caseAgreement(task);
    }
    if (task.step == "label") body["prelabels"] = worklist_.prelabelCount(task.studyInstanceUid);
    const json prelabelUse = worklist_.prelabelUse(task.id);
    if (!prelabelUse.is_null()) body["prelabelUse"] = prelabelUse;
    audit(call, "view-task", "task", call.params.at(0));
    return jsonResponse(200, body);
  } catch (const WorklistError& e) {
    return worklistError(e);
  }
}

HttpResponse ApiHandler::taskAction(const Call& call, const std::string& action) {
  const int64_t id = taskId(call.params.at(0));
  try {
    Task task = action == "claim" ? worklist_.claim(id, *call.user)
                : action == "release" ? worklist_.release(id, *call.user)
                                      : worklist_.submit(id, *call.user);
    audit(call, action, "task", call.params.at(0));
    return jsonResponse(200, toJson(task));
  } catch (const WorklistError& e) {
    audit(call, action, "task", call.params.at(0), e.kind() == WorklistError::Kind::Forbidden ? "denied" : "failure", e.what());
    return worklistError(e);
  }
}

HttpResponse ApiHandler::saveAnnotation(const Call& call) {
  const int64_t id = taskId(call.params.at(0));
  try {
    Worklist::SaveOptions options;
    options.draft = flag(call.request, "draft", false);
    if (call.request.query.count("basedOn")) {
      options.basedOn = static_cast<int>(api::parseBounded(call.request.queryValue("basedOn"), "basedOn", 0, 1000000));
    }
    const bool draft = options.draft;
    const Revision r = worklist_.save(id, *call.user, call.request.body, options);
    audit(call, draft ? "save-draft" : "save-annotation", "task", call.params.at(0), "success", "revision " + std::to_string(r.info.number));
    return jsonResponse(201, {{"task", id}, {"revision", r.info.number}, {"saved", isoTimeFromMillis(r.info.createdMs)},
                              {"complete", r.info.complete}, {"missing", r.missing}, {"annotation", r.document}});
  } catch (const WorklistError& e) {
    audit(call, "save-annotation", "task", call.params.at(0), "failure", e.what());
    return worklistError(e);
  }
}

HttpResponse ApiHandler::getAnnotation(const Call& call) {
  const int64_t id = taskId(call.params.at(0));
  try {
    const Task task = worklist_.get(id);
    if (call.user->role == Role::Annotator && task.assignee != call.user->name) {
      audit(call, "view-annotation", "task", call.params.at(0), "denied", "blinded: another reader's work");
      return errorResponse(403, "readers are blinded to each other's annotations until review");
    }
    const int revision = call.request.query.count("revision")
                             ? static_cast<int>(api::parseBounded(call.request.queryValue("revision"), "revision", 1, 1000000))
                             : 0;
    const Revision r = worklist_.annotation(id, revision);
    audit(call, "view-annotation", "task", call.params.at(0), "success", "revision " + std::to_string(r.info.number));
    return jsonResponse(200, {{"task", id}, {"revision", r.info.number}, {"author", r.info.author},
                              {"saved", isoTimeFromMillis(r.info.createdMs)}, {"complete", r.info.complete}, {"annotation", r.document}});
  } catch (const WorklistError& e) {
    return worklistError(e);
  }
}

HttpResponse ApiHandler::report(const Call& call, const std::string& which) {
  const std::string protocol = call.request.queryValue("protocol");
  if (protocol.empty() || !worklist_.protocols().find(protocol)) throw BadRequest("give ?protocol= one of the loaded protocol ids");
  audit(call, "report-" + which, "protocol", protocol);
  return jsonResponse(200, which == "agreement" ? worklist_.agreementReport(protocol) : worklist_.balanceReport(protocol));
}

HttpResponse ApiHandler::reviewTask(const Call& call) {
  const int64_t id = taskId(call.params.at(0));
  const json body = api::parseJsonBody(call.request);
  if (!body.is_object() || !body.contains("decision") || !body["decision"].is_string()) {
    throw BadRequest("body must be {\"decision\": \"approve\"|\"reject\", \"comment\"?, \"task\"?: label task id for reject}");
  }
  const std::string decision = body["decision"];
  const std::string comment = body.contains("comment") && body["comment"].is_string() ? body["comment"].get<std::string>() : "";
  const int64_t labelTask = body.contains("task") && body["task"].is_number_integer() ? body["task"].get<int64_t>() : 0;
  const std::string consensus = body.contains("annotation") ? body["annotation"].dump() : "";
  try {
    const Task task = worklist_.review(id, *call.user, decision, comment, labelTask, consensus);
    audit(call, "review-" + decision, "task", call.params.at(0), "success", comment);
    return jsonResponse(200, toJson(task));
  } catch (const WorklistError& e) {
    audit(call, "review-" + decision, "task", call.params.at(0), "failure", e.what());
    return worklistError(e);
  }
}

HttpResponse ApiHandler::withdrawResults(const Call& call) {
  const int64_t id = taskId(call.params.at(0));
  const json body = call.request.body.empty() ? json::object() : api::parseJsonBody(call.request);
  if (!body.is_object() || (body.contains("reason") && !body["reason"].is_string()) || (body.contains("comment") && !body["comment"].is_string())) {
    throw BadRequest("body must be {\"reason\"?: \"quality\"|\"patient-safety\"|\"worklist-entry\"|\"retention-expired\", \"comment\"?}");
  }
  const std::string reasonName = body.value("reason", "quality");
  const auto reason = rejectionReasonFromName(reasonName);
  if (!reason) throw BadRequest("reason must be quality, patient-safety, worklist-entry or retention-expired");
  const std::string comment = body.value("comment", "");
  try {
    const Withdrawal w = worklist_.withdraw(id, *call.user, *reason, comment);
    // A withdrawn result that has not reached a destination yet never goes there.
    if (outbox_) {
      for (const auto& sop : w.withdrawn) {
        for (const auto& item : outbox_->forInstance(sop)) {
          if (item.state == "pending") outbox_->recordSkipped(item.id, "withdrawn by rejection note " + w.noteSopInstanceUid);
        }
      }
    }
    audit(call, "withdraw-results", "task", call.params.at(0), "success",
          std::string(rejectionCode(*reason).meaning) + ", note " + w.noteSopInstanceUid + (comment.empty() ? "" : ": " + comment));
    json out = toJson(w.task);
    out["rejectionNote"] = w.noteSopInstanceUid;
    out["withdrawn"] = w.withdrawn;
    return jsonResponse(200, out);
  } catch (const WorklistError& e) {
    audit(call, "withdraw-results", "task", call.params.at(0), "failure", e.what());
    return worklistError(e);
  }
}

HttpResponse worklistError(const WorklistError& e) {
  const int status = e.kind() == WorklistError::Kind::NotFound    ? 404
                     : e.kind() == WorklistError::Kind::Conflict  ? 409
                     : e.kind() == WorklistError::Kind::Forbidden ? 403
                                                                  : 422;
  HttpResponse r = errorResponse(status, e.what());
  r.headers.emplace_back("Warning", "299 annotation-node \"" + api::headerSafe(e.what()) + "\"");
  if (!e.problems().empty()) {
    json body = json::parse(r.body);
    body["error"]["problems"] = e.problems();
    r.body = body.dump();
  }
  return r;
}

}  // namespace annot

namespace annot {

// An AI pre-label for a study: the SR or SEG itself (application/dicom), or one the node already
// holds ({"sopInstanceUid"}: sent by the algorithm over C-STORE or STOW-RS). The algorithm is
// named by the object or by ?algorithm= and ?algorithmVersion=.
HttpResponse ApiHandler::importPrelabel(const Call& call) {
  const std::string& study = call.params.at(0);
  if (!isValidUid(study)) throw BadRequest("'" + study + "' is not a Study Instance UID");
  const std::string type = call.request.header("content-type");
  DcmFileFormat file;
  if (type.rfind("application/dicom", 0) == 0) {
    try {
      parsePart10(call.request.body, "the request body", file);
    } catch (const std::exception& e) {
      throw BadRequest(std::string("the body is not a DICOM Part 10 object: ") + e.what());
    }
  } else if (type.rfind("application/json", 0) == 0) {
    const json body = api::parseJsonBody(call.request);
    if (!body.is_object() || !body.contains("sopInstanceUid") || !body["sopInstanceUid"].is_string()) {
      throw BadRequest("body must be {\"sopInstanceUid\": an SR or SEG this node holds}");
    }
    const std::string sop = body["sopInstanceUid"];
    if (!dicomweb_ || !dicomweb_->loadStored(sop, file)) return errorResponse(404, "instance " + sop + " is not held here");
  } else {
    return errorResponse(415, "send the SR or SEG as application/dicom, or {\"sopInstanceUid\"} as application/json");
  }
  const AlgorithmIdentity given{call.request.queryValue("algorithm"), call.request.queryValue("algorithmVersion"), "", "", ""};
  try {
    const Prelabel p = worklist_.importPrelabel(study, *file.getDataset(), given, call.user->name);
    audit(call, "import-prelabel", "instance", p.sopInstanceUid, "success",
          p.kind + " by " + p.algorithm.name + " " + p.algorithm.version + " for study " + study);
    return jsonResponse(201, toJson(p, false));
  } catch (const WorklistError& e) {
    audit(call, "import-prelabel", "study", study, "failure", e.what());
    return worklistError(e);
  }
}

HttpResponse ApiHandler::listPrelabels(const Call& call) {
  const std::string& study = call.params.at(0);
  json list = json::array();
  for (const auto& p : worklist_.prelabels(study)) list.push_back(toJson(p, false));
  audit(call, "list-prelabels", "study", study);
  return jsonResponse(200, {{"prelabels", list}});
}

// The draft a task's reader starts from, made of the study's pre-labels.
HttpResponse ApiHandler::taskPrelabel(const Call& call) {
  const int64_t id = taskId(call.params.at(0));
  try {
    const Task task = worklist_.get(id);
    if (!mayView(*call.user, task)) return errorResponse(403, "task " + call.params.at(0) + " belongs to another reader");
    const PrelabelDraft draft = worklist_.prelabelDraft(id);
    json sources = json::array();
    for (const auto& p : worklist_.prelabels(task.studyInstanceUid)) sources.push_back(toJson(p, false));
    audit(call, "view-prelabel", "task", call.params.at(0));
    return jsonResponse(200, {{"task", id}, {"annotation", toJson(draft.document)}, {"notes", draft.notes}, {"prelabels", sources}});
  } catch (const WorklistError& e) {
    return worklistError(e);
  }
}

}  // namespace annot
