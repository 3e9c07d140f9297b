#include "orthanc/OrthancStudyIndex.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <algorithm>
#include <set>

#include "dicom/DatasetAccess.h"
#include "dicom/InstanceHeader.h"

namespace annot {
namespace {
using nlohmann::json;

std::string tag(const json& tags, const char* name) {
  if (!tags.is_object() || !tags.contains(name) || !tags[name].is_string()) return "";
  return tags[name].get<std::string>();
}

uint64_t number(const json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_string()) return std::strtoull(value.get<std::string>().c_str(), nullptr, 10);
  return 0;
}

long numericOrder(const std::string& text) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  return end == text.c_str() ? 0 : v;
}

// Series of a study in the node's order: by series number, then as Orthanc lists them.
json sortedSeries(json series) {
  std::stable_sort(series.begin(), series.end(), [](const json& a, const json& b) {
    return numericOrder(tag(a["MainDicomTags"], "SeriesNumber")) < numericOrder(tag(b["MainDicomTags"], "SeriesNumber"));
  });
  return series;
}
}  // namespace

OrthancHeader OrthancImageHeaders::get(const std::string& id) {
  // Orthanc's instance ID comes from the UIDs and survives a delete and a new store; the stored
  // file's UUID does not. One small lookup keeps the cache from answering for a replaced file.
  const std::string file = rest_.getJson("/instances/" + id).value("FileUuid", "");
  const std::string key = id + "/" + file;
  if (auto cached = cache_.get(key)) return std::move(*cached);
  // Read outside any lock: a slow file must not hold up other requests.
  const std::string bytes = rest_.getBytes("/instances/" + id + "/file");
  const std::string name = "Orthanc instance " + id;
  OrthancHeader header;
  {
    // Indexing converts names to UTF-8 in place; the image keeps its header as stored, since
    // results copy the Patient and Study modules verbatim. Hence two parses.
    DcmFileFormat forIndex;
    parsePart10(bytes, name, forIndex);
    header.record = instanceRecordFrom(forIndex);
  }
  header.image = readSourceImageFromMemory(bytes, name);
  const json metadata = rest_.getJson("/instances/" + id + "/metadata?expand");
  header.transferSyntaxUid = metadata.value("TransferSyntax", header.record.instance.transferSyntaxUid);
  header.receivedAtMs = orthancTimeToMillis(metadata.value("ReceptionDate", ""));
  header.callingAet = metadata.value("RemoteAET", "");
  cache_.put(key, header);
  return header;
}

std::string OrthancStudyIndex::orthancId(const std::string& uid, const std::string& level) {
  const RestAnswer a = rest_.call("POST", "/tools/lookup", uid);
  if (a.status != 200) return "";
  const json hits = json::parse(a.body, nullptr, false);
  if (!hits.is_array()) return "";
  for (const auto& hit : hits) {
    if (hit.value("Type", "") == level) return hit.value("ID", "");
  }
  return "";
}

StudySummary OrthancStudyIndex::summarize(const json& study, const json& series) {
  StudySummary s;
  const json& patient = study["PatientMainDicomTags"];
  const json& main = study["MainDicomTags"];
  s.patient.patientId = tag(patient, "PatientID");
  s.patient.patientName = tag(patient, "PatientName");
  s.patient.birthDate = tag(patient, "PatientBirthDate");
  s.patient.sex = tag(patient, "PatientSex");
  s.study.studyInstanceUid = tag(main, "StudyInstanceUID");
  s.study.studyDate = tag(main, "StudyDate");
  s.study.studyTime = tag(main, "StudyTime");
  s.study.accessionNumber = tag(main, "AccessionNumber");
  s.study.studyId = tag(main, "StudyID");
  s.study.description = tag(main, "StudyDescription");
  s.study.referringPhysician = tag(main, "ReferringPhysicianName");
  s.stable = study.value("IsStable", false);
  s.lastUpdateMs = orthancTimeToMillis(study.value("LastUpdate", ""));
  std::set<std::string> modalities, bodyParts;
  std::string firstInstance;
  for (const auto& one : series) {
    const json& tags = one["MainDicomTags"];
    if (!tag(tags, "Modality").empty()) modalities.insert(tag(tags, "Modality"));
    if (!tag(tags, "BodyPartExamined").empty()) bodyParts.insert(tag(tags, "BodyPartExamined"));
    ++s.seriesCount;
    s.instanceCount += static_cast<uint32_t>(one["Instances"].size());
    if (firstInstance.empty() && !one["Instances"].empty()) firstInstance = one["Instances"][0].get<std::string>();
  }
  s.modalities.assign(modalities.begin(), modalities.end());
  s.bodyParts.assign(bodyParts.begin(), bodyParts.end());
  s.totalBytes = number(rest_.getJson("/studies/" + study["ID"].get<std::string>() + "/statistics").value("UncompressedSize", json("0")));
  if (!firstInstance.empty()) {
    // What Orthanc does not index at study level: age and sex as recorded in the instances,
    // the issuer of the patient ID, and when the study began to arrive.
    const OrthancHeader first = headers_.get(firstInstance);
    s.study.patientAge = first.record.study.patientAge;
    s.study.patientSex = first.record.study.patientSex;
    s.patient.issuerOfPatientId = first.record.patient.issuerOfPatientId;
    s.firstReceivedMs = first.receivedAtMs;
  }
  return s;
}

StudyPage OrthancStudyIndex::findStudies(const StudyQuery& q) {
  json query = json::object();
  if (!q.patientId.empty()) query["PatientID"] = q.patientId;
  if (!q.dateFrom.empty() || !q.dateTo.empty()) query["StudyDate"] = q.dateFrom + "-" + q.dateTo;
  if (!q.modality.empty()) query["ModalitiesInStudy"] = q.modality;
  json found = rest_.postJson("/tools/find", json{{"Level", "Study"}, {"Query", query}, {"Expand", true}}.dump());
  // The node's order: newest study date first, then most recently changed.
  std::stable_sort(found.begin(), found.end(), [](const json& a, const json& b) {
    const std::string da = tag(a["MainDicomTags"], "StudyDate"), db = tag(b["MainDicomTags"], "StudyDate");
    if (da != db) return da > db;
    return a.value("LastUpdate", "") > b.value("LastUpdate", "");
  });
  StudyPage page;
  page.total = found.size();
  for (size_t i = q.offset; i < found.size() && page.studies.size() < q.limit; ++i) {
    const std::string id = found[i]["ID"];
    page.studies.push_back(summarize(found[i], rest_.getJson("/studies/" + id + "/series?expand")));
  }
  return page;
}

std::optional<StudyDetail> OrthancStudyIndex::getStudy(const std::string& studyInstanceUid) {
  const std::string id = orthancId(studyInstanceUid, "Study");
  if (id.empty()) return std::nullopt;
  const auto study = rest_.findJson("/studies/" + id);
  if (!study) return std::nullopt;  // deleted meanwhile
  const json series = sortedSeries(rest_.getJson("/studies/" + id + "/series?expand"));
  StudyDetail detail;
  detail.summary = summarize(*study, series);
  for (const auto& one : series) {
    SeriesSummary out;
    const json& tags = one["MainDicomTags"];
    out.series.seriesInstanceUid = tag(tags, "SeriesInstanceUID");
    out.series.modality = tag(tags, "Modality");
    out.series.seriesNumber = tag(tags, "SeriesNumber");
    out.series.description = tag(tags, "SeriesDescription");
    out.series.bodyPart = tag(tags, "BodyPartExamined");
    out.series.manufacturer = tag(tags, "Manufacturer");
    json instances = rest_.getJson("/series/" + one["ID"].get<std::string>() + "/instances");
    std::stable_sort(instances.begin(), instances.end(), [](const json& a, const json& b) {
      return numericOrder(tag(a["MainDicomTags"], "InstanceNumber")) < numericOrder(tag(b["MainDicomTags"], "InstanceNumber"));
    });
    for (const auto& instance : instances) {
      const std::string instanceId = instance["ID"];
      const OrthancHeader header = headers_.get(instanceId);
      const InstanceRecord& record = header.record;
      InstanceSummary i;
      i.instance = record.instance;
      // As received: Orthanc remembers the transfer syntax the peer used.
      i.instance.transferSyntaxUid = header.transferSyntaxUid;
      i.storageKey = instanceId;
      i.fileSize = number(instance.value("FileSize", json(0)));
      i.receivedAtMs = header.receivedAtMs;
      i.callingAet = header.callingAet;
      if (out.instances.empty()) {
        out.series.manufacturerModel = record.series.manufacturerModel;
        out.series.frameOfReferenceUid = record.series.frameOfReferenceUid;
      }
      out.instances.push_back(std::move(i));
    }
    out.instanceCount = static_cast<uint32_t>(out.instances.size());
    detail.series.push_back(std::move(out));
  }
  return detail;
}

StudyIndex::Totals OrthancStudyIndex::totals() {
  const json s = rest_.getJson("/statistics");
  Totals t;
  t.patients = number(s.value("CountPatients", json(0)));
  t.studies = number(s.value("CountStudies", json(0)));
  t.series = number(s.value("CountSeries", json(0)));
  t.instances = number(s.value("CountInstances", json(0)));
  t.bytes = number(s.value("TotalUncompressedSize", json("0")));
  return t;
}

// Orthanc's database schema: the index this deployment reads.
int OrthancStudyIndex::schemaVersion() { return static_cast<int>(number(rest_.getJson("/system").value("DatabaseVersion", json(0)))); }

}  // namespace annot
