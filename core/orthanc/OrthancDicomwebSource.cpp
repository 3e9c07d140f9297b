#include "orthanc/OrthancDicomwebSource.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>

#include "dicom/DatasetAccess.h"
#include "dicom/InstanceHeader.h"
#include "dicom/SourceImages.h"
#include "dicomweb/DicomwebService.h"
#include "http/HttpMessage.h"

namespace annot {
namespace {
using nlohmann::json;
using dicomweb::Level;

std::vector<std::string> splitList(const std::string& value, const char* separators) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    const size_t end = std::min(value.find_first_of(separators, start), value.size());
    if (end > start) out.push_back(value.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string joined(const std::vector<std::string>& items, char separator) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : std::string(1, separator)) + i;
  return out;
}
}  // namespace

OrthancDicomwebSource::OrthancDicomwebSource(OrthancRest& rest, std::string dicomwebRoot) : rest_(rest), root_(std::move(dicomwebRoot)) {
  if (root_.empty() || root_.front() != '/') root_.insert(root_.begin(), '/');
  if (root_.back() != '/') root_ += '/';
}

std::string OrthancDicomwebSource::searchUri(const dicomweb::Query& q, const std::multimap<std::string, std::string>& params) const {
  // The study set the label filters allow, narrowed by any StudyInstanceUID the caller gave.
  std::optional<std::vector<std::string>> studies = q.onlyStudies;
  if (studies && !q.studyUid.empty()) {
    if (std::find(studies->begin(), studies->end(), q.studyUid) == studies->end()) return "";
    studies.reset();  // the path already scopes the search to an allowed study
  }
  // Orthanc (1.10) hands query arguments to plugins as they are written, without decoding them,
  // its DICOMweb plugin included: values go as they are (a percent-encoded "A%2B1" would be
  // matched literally). What would split the query cannot be passed, and is refused.
  std::string query;
  auto add = [&query](const std::string& key, const std::string& value) {
    if (value.find_first_of("&#") != std::string::npos) {
      throw dicomweb::DicomwebError(400, "'" + key + "': values with '&' or '#' cannot be searched through Orthanc's DICOMweb plugin");
    }
    query += (query.empty() ? "?" : "&") + key + "=" + value;
  };
  bool hasLimit = false;
  for (const auto& [key, value] : params) {
    if (key.rfind("annotation.", 0) == 0) continue;  // the product's keys: answered by the service
    if (key == "includefield") continue;  // from the parsed query below, with what the service adds
    if (key == "accept" || key == "charset") continue;  // answered by the service
    // Keys the node's index cannot match on are ignored in both deployments, so that they answer alike.
    if (std::find(q.ignoredKeys.begin(), q.ignoredKeys.end(), key) != q.ignoredKeys.end()) continue;
    if (key == "limit") hasLimit = true;
    const dicomweb::Attribute* a = dicomweb::findAttribute(key);
    const bool uid = a && std::string(a->vr) == "UI";
    if (uid && studies && std::string(a->keyword) == "StudyInstanceUID") {
      const auto asked = splitList(value, ",\\");
      std::vector<std::string> both;
      for (const auto& s : asked) {
        if (std::find(studies->begin(), studies->end(), s) != studies->end()) both.push_back(s);
      }
      studies = both;
      continue;
    }
    // Orthanc's DICOMweb plugin reads UID lists separated by ',' only.
    add(key, uid ? joined(splitList(value, ",\\"), ',') : value);
  }
  if (q.includeAll) {
    add("includefield", "all");
  } else if (!q.includeFields.empty() || !q.extraIncludeTags.empty()) {
    // What the index does not hold, Orthanc reads from its stored instances.
    std::vector<std::string> fields(q.includeFields.begin(), q.includeFields.end());
    fields.insert(fields.end(), q.extraIncludeTags.begin(), q.extraIncludeTags.end());
    add("includefield", joined(fields, ','));
  }
  if (studies) {
    if (studies->empty()) return "";
    add("StudyInstanceUID", joined(*studies, ','));
  }
  if (!hasLimit) add("limit", std::to_string(q.limit));  // the node's default page, here too
  std::string path = root_;
  if (q.level == Level::Study) {
    path += "studies";
  } else if (!q.studyUid.empty()) {
    path += "studies/" + percentEncode(q.studyUid) + "/";
    if (q.level == Level::Series) path += "series";
    else path += q.seriesUid.empty() ? "instances" : "series/" + percentEncode(q.seriesUid) + "/instances";
  } else {
    path += q.level == Level::Series ? "series" : "instances";
  }
  return path + query;
}

json OrthancDicomwebSource::search(const dicomweb::Query& q, const std::multimap<std::string, std::string>& params) {
  const std::string uri = searchUri(q, params);
  if (uri.empty()) return json::array();
  const RestAnswer a = rest_.callWithPlugins("GET", uri);
  if (a.status == 200) {
    json found = json::parse(a.body, nullptr, false);
    if (!found.is_array()) throw std::runtime_error("Orthanc's DICOMweb plugin did not answer " + uri + " with a JSON array");
    return found;
  }
  if (a.status == 404 && rest_.callWithPlugins("GET", root_ + "studies?limit=1").status == 404) {
    throw dicomweb::DicomwebError(503, "searches inside Orthanc need Orthanc's DICOMweb plugin at " + root_ +
                                           " (install orthanc-dicomweb and list it in \"Plugins\")");
  }
  if (a.status == 404) return json::array();  // a study or series in the path that Orthanc does not have
  const json body = json::parse(a.body, nullptr, false);
  const std::string why = body.is_object() ? body.value("Details", body.value("Message", "")) : "";
  throw dicomweb::DicomwebError(a.status == 400 ? 400 : 502, "Orthanc's DICOMweb plugin answered " + std::to_string(a.status) +
                                                               (why.empty() ? "" : ": " + why));
}

std::vector<dicomweb::StoredInstance> OrthancDicomwebSource::findInstances(const json& match) {
  const json found = rest_.postJson("/tools/find", json{{"Level", "Instance"}, {"Query", match}, {"Expand", true}}.dump());
  // A UID the query named exactly is every match's own; only the others are looked up, once
  // per series (the usual series or study request then needs no lookup, or one per series).
  const auto exact = [&match](const char* key) {
    const std::string value = match.value(key, "");
    return value.find_first_of("*?\\") == std::string::npos ? value : std::string();
  };
  const std::string queriedStudy = exact("StudyInstanceUID");
  const std::string queriedSeries = exact("SeriesInstanceUID");
  std::unordered_map<std::string, std::pair<std::string, std::string>> seriesUids;  // Orthanc series ID -> (study, series)
  struct Sortable {
    dicomweb::StoredInstance instance;
    long number;
  };
  std::vector<Sortable> out;
  for (const auto& i : found) {
    const std::string seriesId = i.value("ParentSeries", "");
    auto known = seriesUids.find(seriesId);
    if (known == seriesUids.end()) {
      std::string studyUid = queriedStudy, seriesUid = queriedSeries;
      if (studyUid.empty() || seriesUid.empty()) {
        const json series = rest_.getJson("/series/" + seriesId);
        if (seriesUid.empty()) seriesUid = series["MainDicomTags"].value("SeriesInstanceUID", "");
        if (studyUid.empty()) {
          studyUid = rest_.getJson("/studies/" + series.value("ParentStudy", ""))["MainDicomTags"].value("StudyInstanceUID", "");
        }
      }
      known = seriesUids.emplace(seriesId, std::make_pair(std::move(studyUid), std::move(seriesUid))).first;
    }
    const json tags = i.value("MainDicomTags", json::object());
    const std::string id = i.value("ID", "");
    auto [sopClass, syntax] = classAndSyntax(i);
    const std::string number = tags.value("InstanceNumber", "");
    out.push_back({{known->second.first, known->second.second, tags.value("SOPInstanceUID", ""), std::move(sopClass),
                    std::move(syntax), id},
                   number.empty() ? 0 : std::atol(number.c_str())});
  }
  std::sort(out.begin(), out.end(), [](const Sortable& a, const Sortable& b) {
    return std::tie(a.instance.seriesUid, a.number, a.instance.sopUid) < std::tie(b.instance.seriesUid, b.number, b.instance.sopUid);
  });
  std::vector<dicomweb::StoredInstance> instances;
  for (auto& s : out) instances.push_back(std::move(s.instance));
  return instances;
}

std::pair<std::string, std::string> OrthancDicomwebSource::classAndSyntax(const json& instance) {
  const std::string file = instance.value("FileUuid", "");
  if (!file.empty()) {
    if (auto cached = classAndSyntax_.get(file)) return *cached;
  }
  const json metadata = rest_.getJson("/instances/" + instance.value("ID", "") + "/metadata?expand");
  std::pair<std::string, std::string> found{metadata.value("SopClassUid", ""), metadata.value("TransferSyntax", "")};
  if (!file.empty()) classAndSyntax_.put(file, found);
  return found;
}

std::vector<dicomweb::StoredInstance> OrthancDicomwebSource::instances(const std::string& studyUid, const std::string& seriesUid,
                                                                       const std::string& sopUid) {
  if (studyUid.empty()) return {};
  json match = {{"StudyInstanceUID", studyUid}};
  if (!seriesUid.empty()) match["SeriesInstanceUID"] = seriesUid;
  if (!sopUid.empty()) match["SOPInstanceUID"] = sopUid;
  return findInstances(match);
}

std::optional<dicomweb::StoredInstance> OrthancDicomwebSource::find(const std::string& sopInstanceUid) {
  if (sopInstanceUid.empty()) return std::nullopt;
  auto found = findInstances({{"SOPInstanceUID", sopInstanceUid}});
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

std::string OrthancDicomwebSource::fileBytes(const dicomweb::StoredInstance& instance) {
  return rest_.getBytes("/instances/" + instance.storageKey + "/file");
}

IngestResult storeIntoOrthanc(OrthancRest& rest, const std::string& bytes, const InstanceRecord* checked) {
  IngestResult r;
  try {
    // The header only, checked as the node's own ingest checks it (pixel data is skipped, not
    // copied), so both deployments refuse the same objects with the same status.
    std::optional<InstanceRecord> parsed;
    if (!checked) parsed = readInstanceHeader(std::vector<std::string_view>{bytes});
    const InstanceRecord& header = checked ? *checked : *parsed;
    r.sopInstanceUid = header.instance.sopInstanceUid;
    r.studyInstanceUid = header.study.studyInstanceUid;
  } catch (const InstanceHeaderError& e) {
    r.status = store_status::forHeaderError(e);
    r.message = e.what();
    return r;
  }
  const RestAnswer a = rest.call("POST", "/instances", bytes);
  const json body = json::parse(a.body, nullptr, false);
  const std::string status = body.is_object() ? body.value("Status", "") : "";
  if (a.status == 200 && (status == "Success" || status == "AlreadyStored")) {
    r.duplicate = status == "AlreadyStored";
    return r;
  }
  r.status = a.status == 400 ? store_status::CannotUnderstand : store_status::ProcessingFailure;
  r.message = "Orthanc did not store " + r.sopInstanceUid + " (HTTP " + std::to_string(a.status) +
              (status.empty() ? "" : ", status " + status) +
              (body.is_object() && body.contains("Details") ? ": " + body.value("Details", "") : "") + ")";
  return r;
}

}  // namespace annot
