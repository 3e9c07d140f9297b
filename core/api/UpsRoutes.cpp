// UPS-RS (PS3.18 §11, the Unified Procedure Step "Push" and "Pull" model over HTTP): the
// labeling worklist as workitems a hospital's UPS client can search, retrieve, claim, complete
// and cancel. Each task is one workitem; its SOP Instance UID is the worklist's root and the
// task id. A claim carries the client's own Transaction UID, which every later change of state
// must present and which no answer ever contains (PS3.4 CC.2.1.3).
#include <algorithm>
#include <set>

#include "api/ApiHandler.h"
#include "api/ApiSupport.h"
#include "api/StudyJson.h"
#include "api/WorklistSupport.h"
#include "common/Clock.h"
#include "common/TextLists.h"
#include "dicom/Uid.h"

namespace annot {
using api::BadRequest;
using api::jsonResponse;
using api::kWorkers;
using nlohmann::json;

namespace {
const char* kUpsPushSopClass = "1.2.840.10008.5.1.4.34.6.1";
// The coding scheme of the workitem codes: the product's protocols (a private scheme, PS3.16 8.2).
const char* kProtocolScheme = "99ANNOTNODE";

json value(const char* vr, const std::string& v) { return v.empty() ? json{{"vr", vr}} : json{{"vr", vr}, {"Value", {v}}}; }
json personName(const std::string& v) { return v.empty() ? json{{"vr", "PN"}} : json{{"vr", "PN"}, {"Value", {{{"Alphabetic", v}}}}}; }
json sequence(json items) { return {{"vr", "SQ"}, {"Value", std::move(items)}}; }

// DT from epoch milliseconds (UTC, with the offset stated).
std::string dateTime(int64_t ms) {
  const std::string iso = isoTimeFromMillis(ms);  // 2026-12-07T05:49:34.123Z
  std::string dt;
  for (const char c : iso.substr(0, 19)) {
    if (c >= '0' && c <= '9') dt += c;
  }
  return dt + "+0000";
}

std::string stepLabel(const Task& t, const Protocol* p) {
  const std::string title = p ? p->title : t.protocolId;
  return t.step == "review" ? "Review: " + title : "Label: " + title + " (reader " + std::to_string(t.readerSlot) + ")";
}

json workitem(const Task& t, const std::string& uid, const Protocol* protocol, const std::optional<StudySummary>& study,
              const std::string& retrieveBase) {
  json d;
  d["00080005"] = value("CS", "ISO_IR 192");
  d["00080016"] = value("UI", kUpsPushSopClass);
  d["00080018"] = value("UI", uid);
  d["00100010"] = personName(study ? study->patient.patientName : "");
  d["00100020"] = value("LO", study ? study->patient.patientId : "");
  d["00100030"] = value("DA", study ? study->patient.birthDate : "");
  d["00100040"] = value("CS", study ? study->patient.sex : "");
  d["00404005"] = value("DT", dateTime(t.createdMs));
  if (!t.due.empty()) {
    // The due day (a time, when the task has one, is not kept here: the day's end is the deadline).
    std::string day;
    for (const char c : t.due.substr(0, 10)) if (c != '-') day += c;
    d["00404011"] = value("DT", day + "235959");
  }
  json code = {{"00080102", value("SH", kProtocolScheme)}, {"00080104", value("LO", protocol ? protocol->title : t.protocolId)}};
  // Code Value is SH (16 characters); a longer protocol id goes in Long Code Value.
  if (t.protocolId.size() <= 16) code["00080100"] = value("SH", t.protocolId);
  else code["00080119"] = value("UC", t.protocolId);
  d["00404018"] = sequence({code});
  json input = {{"0020000D", value("UI", t.studyInstanceUid)}, {"00081190", value("UR", retrieveBase + "/studies/" + t.studyInstanceUid)}};
  if (!t.seriesInstanceUid.empty()) input["0020000E"] = value("UI", t.seriesInstanceUid);
  d["00404021"] = sequence({input});
  d["00404034"] = t.assignee.empty() ? sequence(json::array()) : sequence({{{"00404037", personName(t.assignee)}}});
  d["00741000"] = value("CS", taskStateName(t.state));
  d["00741200"] = value("CS", t.priority);
  d["00741204"] = value("LO", stepLabel(t, protocol));
  if (study && !study->study.accessionNumber.empty()) d["00080050"] = value("SH", study->study.accessionNumber);
  return d;
}

// The first value of an attribute of a DICOM JSON dataset ("" when absent or empty).
std::string firstValue(const json& dataset, const char* tag) {
  if (!dataset.is_object() || !dataset.contains(tag)) return "";
  const json& a = dataset[tag];
  if (!a.is_object() || !a.contains("Value") || !a["Value"].is_array() || a["Value"].empty() || !a["Value"][0].is_string()) return "";
  return a["Value"][0].get<std::string>();
}

// A request body that is one DICOM JSON dataset, or an array holding exactly one.
json oneDataset(const HttpRequest& request) {
  const json body = api::parseJsonBody(request);
  const json dataset = body.is_array() && body.size() == 1 ? body[0] : body;
  if (!dataset.is_object()) throw BadRequest("the body must be one dataset in DICOM JSON (application/dicom+json)");
  return dataset;
}

HttpResponse upsJson(int status, const json& body) {
  HttpResponse r = jsonResponse(status, body);
  r.contentType = "application/dicom+json";
  return r;
}


// The search keys the worklist matches on, by keyword or tag; the rest is reported as ignored.
struct SearchKey {
  const char* keyword;
  const char* tag;
};
const SearchKey kState{"ProcedureStepState", "00741000"};
const SearchKey kPriority{"ScheduledProcedureStepPriority", "00741200"};
const SearchKey kPatientId{"PatientID", "00100020"};
const SearchKey kStudy{"InputInformationSequence.StudyInstanceUID", "00404021.0020000D"};
const SearchKey kStudyShort{"StudyInstanceUID", "0020000D"};
const SearchKey kProtocol{"ScheduledWorkitemCodeSequence.CodeValue", "00404018.00080100"};
const SearchKey kPerformer{"ScheduledHumanPerformersSequence.HumanPerformerName", "00404034.00404037"};
const SearchKey kUid{"SOPInstanceUID", "00080018"};

bool is(const std::string& key, const SearchKey& k) { return key == k.keyword || key == k.tag; }
}  // namespace

void ApiHandler::addUpsRoutes() {
  routes_.push_back({"GET", "/dicomweb/workitems", kWorkers, [this](const Call& c) { return searchWorkitems(c); }});
  routes_.push_back({"POST", "/dicomweb/workitems", {Role::Reviewer, Role::Admin}, [this](const Call& c) { return createWorkitem(c); }});
  routes_.push_back({"GET", "/dicomweb/workitems/{}", kWorkers, [this](const Call& c) { return retrieveWorkitem(c); }});
  routes_.push_back({"PUT", "/dicomweb/workitems/{}/state", kWorkers, [this](const Call& c) { return changeWorkitemState(c); }});
  routes_.push_back({"POST", "/dicomweb/workitems/{}/cancelrequest", kWorkers, [this](const Call& c) { return requestWorkitemCancel(c); }});
}

nlohmann::json ApiHandler::workitemOf(const Task& task, const HttpRequest& request) {
  const std::optional<StudyDetail> study = catalog_.getStudy(task.studyInstanceUid);
  const Protocol* protocol = worklist_.protocols().find(task.protocolId, task.protocolVersion);
  return workitem(task, worklist_.workitemUid(task.id), protocol, study ? std::optional<StudySummary>(study->summary) : std::nullopt,
                  dicomwebBase(request));
}

// The task a workitem path names, if the caller may see it (an annotator sees no other
// reader's work and no review: such a workitem does not exist for them).
std::optional<Task> ApiHandler::workitemTask(const Call& c) {
  const auto id = worklist_.taskOfWorkitem(c.params.at(0));
  if (!id) return std::nullopt;
  try {
    Task t = worklist_.get(*id);
    if (!mayView(*c.user, t)) return std::nullopt;
    return t;
  } catch (const WorklistError&) {
    return std::nullopt;
  }
}

HttpResponse ApiHandler::searchWorkitems(const Call& c) {
  const HttpRequest& r = c.request;
  TaskQuery q;
  std::string patientId;
  std::vector<std::string> ignored;
  for (const auto& [key, v] : r.query) {
    if (is(key, kState)) {
      q.state = taskStateFromName(v);
      if (!q.state) throw BadRequest("ProcedureStepState must be SCHEDULED, IN PROGRESS, COMPLETED or CANCELED");
    } else if (is(key, kPriority)) {
      if (v != "HIGH" && v != "MEDIUM" && v != "LOW") throw BadRequest("ScheduledProcedureStepPriority must be HIGH, MEDIUM or LOW");
      q.priority = v;
    } else if (is(key, kPatientId)) {
      patientId = v;
    } else if (is(key, kStudy) || is(key, kStudyShort)) {
      q.studyInstanceUid = v;
    } else if (is(key, kProtocol)) {
      q.protocolId = v;
    } else if (is(key, kPerformer)) {
      q.assignee = v;
    } else if (key == "limit") {
      q.limit = api::parseBounded(v, "limit", 1, 1000);
    } else if (key == "offset") {
      q.offset = api::parseBounded(v, "offset", 0, 100000000);
    } else if (key != "includefield" && key != "fuzzymatching") {
      // Every attribute is returned; fuzzy matching is not offered (exact matching applies).
      ignored.push_back(key);
    }
  }
  scopeToCaller(q, *c.user);
  // Patient ID lives in the study index, not the worklist: matched after the worklist's own
  // keys, so paging applies to the matches (over at most 1000 candidates).
  const unsigned limit = q.limit, offset = q.offset;
  if (!patientId.empty()) {
    q.limit = 1000;
    q.offset = 0;
  }
  json found = json::array();
  std::set<std::string> studies;
  unsigned skipped = 0;
  for (const auto& t : worklist_.list(q)) {
    json item = workitemOf(t, r);
    if (!patientId.empty()) {
      if (firstValue(item, "00100020") != patientId) continue;
      if (skipped++ < offset) continue;
      if (found.size() == limit) break;
    }
    studies.insert(t.studyInstanceUid);
    found.push_back(std::move(item));
  }
  audit(c, "list-workitems", "study", joinList(studies), "success", r.path);
  // PS3.18 11.9.3: no match is 204 No Content.
  HttpResponse answer = found.empty() ? HttpResponse{204, "application/dicom+json", "", {}} : upsJson(200, found);
  if (!ignored.empty()) {
    std::string keys;
    for (const auto& k : ignored) keys += (keys.empty() ? "" : ", ") + k;
    answer.headers.emplace_back("Warning", "299 annotation-node \"The following attributes are not supported for matching and were ignored: " +
                                               api::headerSafe(keys) + "\"");
  }
  return answer;
}

HttpResponse ApiHandler::retrieveWorkitem(const Call& c) {
  const auto task = workitemTask(c);
  if (!task) return errorResponse(404, "no workitem " + c.params.at(0));
  audit(c, "view-task", "task", std::to_string(task->id), "success", "UPS-RS retrieve");
  return upsJson(200, json::array({workitemOf(*task, c.request)}));
}

HttpResponse ApiHandler::changeWorkitemState(const Call& c) {
  const json dataset = oneDataset(c.request);
  const std::string state = firstValue(dataset, "00741000");
  const std::string transaction = firstValue(dataset, "00081195");
  if (state.empty()) throw BadRequest("the dataset must carry ProcedureStepState (0074,1000)");
  if (transaction.empty() || !isValidUid(transaction)) throw BadRequest("the dataset must carry a valid Transaction UID (0008,1195)");
  const auto task = workitemTask(c);
  if (!task) return errorResponse(404, "no workitem " + c.params.at(0));
  const std::string id = std::to_string(task->id);
  // Every change after the claim is the claim holder's, under the Transaction UID it claimed with.
  auto holdsClaim = [&] { return task->state == TaskState::InProgress && task->assignee == c.user->name && task->transactionUid == transaction; };
  try {
    if (state == "IN PROGRESS") {
      if (task->state != TaskState::Scheduled) {
        return worklistError(WorklistError(WorklistError::Kind::Conflict, "workitem is " + std::string(taskStateName(task->state)) +
                                                                                  ", not SCHEDULED: it cannot be claimed"));
      }
      worklist_.claim(task->id, *c.user, transaction);
      audit(c, "claim", "task", id, "success", "UPS-RS");
    } else if (state == "COMPLETED" || state == "CANCELED") {
      if (!holdsClaim()) {
        return worklistError(WorklistError(WorklistError::Kind::Conflict,
                                             "the workitem is not IN PROGRESS under this Transaction UID: claim it first"));
      }
      if (state == "COMPLETED" && task->step == "review") {
        // A review ends in a decision (approve, reject, adjudicate), which a state cannot carry.
        return worklistError(WorklistError(WorklistError::Kind::Conflict,
                                           "a review workitem completes with its decision: POST /api/v1/tasks/" + id + "/review"));
      }
      if (state == "COMPLETED") {
        worklist_.submit(task->id, *c.user);
        audit(c, "submit", "task", id, "success", "UPS-RS");
      } else {
        worklist_.cancel(task->id, *c.user, firstValue(dataset, "00741238"));
        audit(c, "cancel", "task", id, "success", "UPS-RS");
      }
    } else {
      throw BadRequest("ProcedureStepState must be IN PROGRESS, COMPLETED or CANCELED");
    }
  } catch (const WorklistError& e) {
    audit(c, state == "IN PROGRESS" ? "claim" : state == "COMPLETED" ? "submit" : "cancel", "task", id,
          e.kind() == WorklistError::Kind::Forbidden ? "denied" : "failure", std::string("UPS-RS: ") + e.what());
    return worklistError(e);
  }
  return upsJson(200, json::array({workitemOf(worklist_.get(task->id), c.request)}));
}

HttpResponse ApiHandler::requestWorkitemCancel(const Call& c) {
  const auto task = workitemTask(c);
  if (!task) return errorResponse(404, "no workitem " + c.params.at(0));
  const std::string id = std::to_string(task->id);
  std::string reason;
  if (!c.request.body.empty()) reason = firstValue(oneDataset(c.request), "00741238");
  // Only an admin decides for others; a workitem someone holds is theirs to cancel (PS3.4
  // CC.2.4: the performer may refuse), so the request is refused rather than queued.
  if (c.user->role != Role::Admin) {
    audit(c, "cancel", "task", id, "denied", "UPS-RS cancel request: not an admin");
    return errorResponse(403, "only an admin may ask for a workitem to be canceled");
  }
  if (task->state == TaskState::InProgress && task->assignee != c.user->name) {
    audit(c, "cancel", "task", id, "failure", "UPS-RS cancel request: held by " + task->assignee);
    return worklistError(WorklistError(WorklistError::Kind::Conflict, "the workitem is IN PROGRESS with " + task->assignee +
                                                                            ": its performer cancels it, or releases it first"));
  }
  try {
    worklist_.cancel(task->id, *c.user, reason);
  } catch (const WorklistError& e) {
    audit(c, "cancel", "task", id, "failure", std::string("UPS-RS cancel request: ") + e.what());
    return worklistError(e);
  }
  audit(c, "cancel", "task", id, "success", "UPS-RS cancel request" + (reason.empty() ? "" : ": " + reason));
  return HttpResponse{202, "application/dicom+json", "", {}};
}

HttpResponse ApiHandler::createWorkitem(const Call& c) {
  const json dataset = oneDataset(c.request);
  // The study (and series) to label from the Input Information Sequence, the protocol from the
  // Scheduled Workitem Code Sequence (scheme 99ANNOTNODE), the priority when given.
  std::string study, series, protocolId;
  if (dataset.contains("00404021") && dataset["00404021"].contains("Value") && !dataset["00404021"]["Value"].empty()) {
    study = firstValue(dataset["00404021"]["Value"][0], "0020000D");
    series = firstValue(dataset["00404021"]["Value"][0], "0020000E");
  }
  if (dataset.contains("00404018") && dataset["00404018"].contains("Value") && !dataset["00404018"]["Value"].empty()) {
    const json& code = dataset["00404018"]["Value"][0];
    protocolId = firstValue(code, "00080100");
    if (protocolId.empty()) protocolId = firstValue(code, "00080119");
    const std::string scheme = firstValue(code, "00080102");
    if (!scheme.empty() && scheme != kProtocolScheme) {
      throw BadRequest("ScheduledWorkitemCodeSequence must name a protocol in coding scheme " + std::string(kProtocolScheme));
    }
  }
  if (study.empty() || !isValidUid(study)) throw BadRequest("InputInformationSequence (0040,4021) must hold the StudyInstanceUID to label");
  if (protocolId.empty()) throw BadRequest("ScheduledWorkitemCodeSequence (0040,4018) must name the labeling protocol");
  const std::string state = firstValue(dataset, "00741000");
  if (!state.empty() && state != "SCHEDULED") throw BadRequest("a workitem is created SCHEDULED");
  std::string priority = firstValue(dataset, "00741200");
  if (priority.empty()) priority = "MEDIUM";
  if (priority != "HIGH" && priority != "MEDIUM" && priority != "LOW") throw BadRequest("ScheduledProcedureStepPriority must be HIGH, MEDIUM or LOW");
  std::vector<Task> created;
  const int64_t asked = nowMillis();
  try {
    created = worklist_.schedule(study, series, protocolId, "", priority, "");
  } catch (const WorklistError& e) {
    audit(c, "schedule-tasks", "study", study, "failure", std::string("UPS-RS: ") + e.what());
    return worklistError(e);
  }
  // The worklist answers with existing tasks too: a create that made none conflicts.
  if (std::none_of(created.begin(), created.end(), [&](const Task& t) { return t.createdMs >= asked; })) {
    return worklistError(WorklistError(WorklistError::Kind::Conflict, "the workitems of protocol " + protocolId + " for this study exist already"));
  }
  audit(c, "schedule-tasks", "study", study, "success", "UPS-RS, protocol " + protocolId);
  // One workitem per reader the protocol asks for; Location names the first, the search the rest.
  HttpResponse r{201, "application/dicom+json", "", {}};
  r.headers.emplace_back("Location", dicomwebBase(c.request) + "/workitems/" + worklist_.workitemUid(created.front().id));
  return r;
}

}  // namespace annot
