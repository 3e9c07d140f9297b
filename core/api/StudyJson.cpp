#include "api/StudyJson.h"

#include <ctime>

namespace annot {

std::string isoTimeFromMillis(int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

nlohmann::json toJson(const StudySummary& s) {
  return {
      {"StudyInstanceUID", s.study.studyInstanceUid},
      {"PatientID", s.patient.patientId},
      {"IssuerOfPatientID", s.patient.issuerOfPatientId},
      {"PatientName", s.patient.patientName},
      {"PatientBirthDate", s.patient.birthDate},
      {"PatientSex", s.study.patientSex},
      {"PatientAge", s.study.patientAge},
      {"StudyDate", s.study.studyDate},
      {"StudyTime", s.study.studyTime},
      {"AccessionNumber", s.study.accessionNumber},
      {"StudyID", s.study.studyId},
      {"StudyDescription", s.study.description},
      {"ReferringPhysicianName", s.study.referringPhysician},
      {"ModalitiesInStudy", s.modalities},
      {"BodyPartsExamined", s.bodyParts},
      {"NumberOfStudyRelatedSeries", s.seriesCount},
      {"NumberOfStudyRelatedInstances", s.instanceCount},
      {"SizeBytes", s.totalBytes},
      {"FirstReceived", isoTimeFromMillis(s.firstReceivedMs)},
      {"LastUpdate", isoTimeFromMillis(s.lastUpdateMs)},
      {"Stable", s.stable},
  };
}

nlohmann::json toJson(const StudyDetail& d) {
  nlohmann::json out = toJson(d.summary);
  nlohmann::json series = nlohmann::json::array();
  for (const auto& s : d.series) {
    nlohmann::json instances = nlohmann::json::array();
    for (const auto& i : s.instances) {
      instances.push_back({
          {"SOPInstanceUID", i.instance.sopInstanceUid},
          {"SOPClassUID", i.instance.sopClassUid},
          {"InstanceNumber", i.instance.instanceNumber},
          {"TransferSyntaxUID", i.instance.transferSyntaxUid},
          {"Rows", i.instance.rows},
          {"Columns", i.instance.columns},
          {"NumberOfFrames", i.instance.numberOfFrames},
          {"SizeBytes", i.fileSize},
          {"Received", isoTimeFromMillis(i.receivedAtMs)},
          {"SendingAET", i.callingAet},
      });
    }
    series.push_back({
        {"SeriesInstanceUID", s.series.seriesInstanceUid},
        {"Modality", s.series.modality},
        {"SeriesNumber", s.series.seriesNumber},
        {"SeriesDescription", s.series.description},
        {"BodyPartExamined", s.series.bodyPart},
        {"Manufacturer", s.series.manufacturer},
        {"ManufacturerModelName", s.series.manufacturerModel},
        {"FrameOfReferenceUID", s.series.frameOfReferenceUid},
        {"NumberOfSeriesRelatedInstances", s.instanceCount},
        {"Instances", std::move(instances)},
    });
  }
  out["Series"] = std::move(series);
  return out;
}

}  // namespace annot
