#pragma once
// Where the DICOMweb service finds what it answers with: the node's own index and files
// (IndexedDicomwebSource), or Orthanc's index, files and DICOMweb plugin (OrthancDicomwebSource).
// What is the product's own stays in the service, written once for both: label-aware filters and
// summaries, the de-identified view, URLs, STOW-RS answers.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "dicomweb/QidoModel.h"

class DcmFileFormat;

namespace annot::dicomweb {

struct StoredInstance {
  std::string studyUid, seriesUid, sopUid, sopClassUid, transferSyntaxUid;
  std::string storageKey;  // the source's own handle: a file-store key, an Orthanc instance ID
};

class DicomwebSource {
 public:
  virtual ~DicomwebSource() = default;
  // QIDO-RS matches as DICOM JSON objects. `query` is the parsed request (scope from the path,
  // matches, the label-filtered study set, includefields, paging); `params` the request's keys as
  // sent. RetrieveURLs are the service's to set.
  virtual nlohmann::json search(const Query& query, const std::multimap<std::string, std::string>& params) = 0;
  // The stored instances under a study, series or one instance (empty strings widen the scope),
  // series by series, in instance-number order.
  virtual std::vector<StoredInstance> instances(const std::string& studyUid, const std::string& seriesUid,
                                                const std::string& sopUid) = 0;
  // One stored instance by SOP Instance UID; nothing when it is not stored.
  virtual std::optional<StoredInstance> find(const std::string& sopInstanceUid) = 0;
  // The instance's Part 10 bytes, as stored.
  virtual std::string fileBytes(const StoredInstance& instance) = 0;
  // The instance parsed into `file`. With `headersOnly`, bulk values may stay unread until used
  // (a file on disk is read lazily); the default parses fileBytes(), with `headersOnly` leaving
  // those values in the fetched bytes until used.
  virtual void load(const StoredInstance& instance, DcmFileFormat& file, bool headersOnly);
};

}  // namespace annot::dicomweb
