#pragma once
// Orthanc's index read as a StudyIndex: the plugin answers the same /api/v1/studies routes as the
// node, from what Orthanc already knows, instead of keeping a second index. Image headers (for
// geometry, and for what Orthanc does not index: rows, columns, frames, patient age) come from
// the stored files once and are kept in a bounded cache, keyed by the stored file (a copy stored
// again after a delete is read afresh).
#include "catalog/StudyIndex.h"
#include "common/LruCache.h"
#include "dicom/SourceImages.h"
#include "orthanc/OrthancRest.h"

namespace annot {

// One stored instance's header: as the worklist uses it, and as the node's catalog would index
// it (the same code reads both, so node and plugin describe an instance alike).
struct OrthancHeader {
  SourceImage image;
  InstanceRecord record;
  // What Orthanc recorded on reception (its metadata, also fixed once stored).
  std::string transferSyntaxUid;  // as the peer sent it
  int64_t receivedAtMs = 0;
  std::string callingAet;
};

class OrthancImageHeaders {
 public:
  explicit OrthancImageHeaders(OrthancRest& rest, size_t capacity = 20000) : rest_(rest), cache_(capacity) {}
  // The header of one instance, by Orthanc's instance ID. Throws when Orthanc has no such file.
  OrthancHeader get(const std::string& orthancInstanceId);

 private:
  OrthancRest& rest_;
  LruCache<std::string, OrthancHeader> cache_;
};

class OrthancStudyIndex : public StudyIndex {
 public:
  OrthancStudyIndex(OrthancRest& rest, OrthancImageHeaders& headers) : rest_(rest), headers_(headers) {}

  StudyPage findStudies(const StudyQuery& query) override;
  std::optional<StudyDetail> getStudy(const std::string& studyInstanceUid) override;
  Totals totals() override;
  int schemaVersion() override;

  // Orthanc's ID of a study, series or instance with this UID; "" when it has none.
  std::string orthancId(const std::string& uid, const std::string& level);

 private:
  StudySummary summarize(const nlohmann::json& study, const nlohmann::json& series);

  OrthancRest& rest_;
  OrthancImageHeaders& headers_;
};

}  // namespace annot
