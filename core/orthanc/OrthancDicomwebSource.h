#pragma once
// DICOMweb inside Orthanc: the standard part of a search is answered by Orthanc's DICOMweb plugin
// (reached in-process through the REST API), instances come from Orthanc's index and storage.
// The service on top adds what is the product's: label filters narrow the search to a set of
// studies, summaries, the de-identified view, audit. No second index is kept.
#include <string>
#include <utility>

#include "common/LruCache.h"
#include "dicomweb/DicomwebSource.h"
#include "ingest/IngestPipeline.h"
#include "orthanc/OrthancRest.h"

namespace annot {

class OrthancDicomwebSource : public dicomweb::DicomwebSource {
 public:
  // `dicomwebRoot` is Orthanc's DicomWeb.Root ("/dicom-web/").
  OrthancDicomwebSource(OrthancRest& rest, std::string dicomwebRoot);

  nlohmann::json search(const dicomweb::Query& query, const std::multimap<std::string, std::string>& params) override;
  std::vector<dicomweb::StoredInstance> instances(const std::string& studyUid, const std::string& seriesUid,
                                                  const std::string& sopUid) override;
  std::optional<dicomweb::StoredInstance> find(const std::string& sopInstanceUid) override;
  std::string fileBytes(const dicomweb::StoredInstance& instance) override;

  // The Orthanc request a search becomes (exposed for tests): path below the REST root with query.
  std::string searchUri(const dicomweb::Query& query, const std::multimap<std::string, std::string>& params) const;

 private:
  std::vector<dicomweb::StoredInstance> findInstances(const nlohmann::json& query);

  // SOP Class and transfer syntax of a stored file, which Orthanc keeps as instance metadata and
  // not in its index. Keyed by the file's UUID, which a re-stored copy does not share, so an
  // entry never goes stale; saves one REST call per instance on every retrieval.
  std::pair<std::string, std::string> classAndSyntax(const nlohmann::json& expandedInstance);

  OrthancRest& rest_;
  std::string root_;  // with a trailing '/'
  LruCache<std::string, std::pair<std::string, std::string>> classAndSyntax_{100000};
};

// Stores one Part 10 file into Orthanc (POST /instances), as STOW-RS and results do, after the
// header check of the node's own ingest (`checked`: that header, already read from these
// bytes); Orthanc's refusal becomes a failure status with its reason.
IngestResult storeIntoOrthanc(OrthancRest& rest, const std::string& bytes, const InstanceRecord* checked = nullptr);

}  // namespace annot
