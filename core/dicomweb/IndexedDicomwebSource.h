#pragma once
// The node's DICOMweb source: searches are SQL over the index (no file is opened to answer one),
// instances are the stored files.
#include "catalog/IndexReader.h"
#include "dicomweb/DicomwebSource.h"
#include "storage/InstanceStore.h"

namespace annot::dicomweb {

class IndexedDicomwebSource : public DicomwebSource {
 public:
  IndexedDicomwebSource(IndexReader& index, InstanceStore& store) : index_(index), store_(store) {}

  nlohmann::json search(const Query& query, const std::multimap<std::string, std::string>& params) override;
  std::vector<StoredInstance> instances(const std::string& studyUid, const std::string& seriesUid, const std::string& sopUid) override;
  std::optional<StoredInstance> find(const std::string& sopInstanceUid) override;
  std::string fileBytes(const StoredInstance& instance) override;
  void load(const StoredInstance& instance, DcmFileFormat& file, bool headersOnly) override;

 private:
  IndexReader& index_;
  InstanceStore& store_;
};

}  // namespace annot::dicomweb
