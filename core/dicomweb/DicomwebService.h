#pragma once
// DICOMweb (PS3.18) over a DicomwebSource (the node's index and files, or Orthanc's): QIDO-RS
// with the product's label-aware keys, WADO-RS of stored files (sent as received, never
// re-encoded), STOW-RS into the deployment's ingest path, and the de-identified researcher view
// of all of it. Transport-neutral: core's ApiHandler maps routes, roles and audit.
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/LruCache.h"
#include "deid/Deidentifier.h"
#include "dicomweb/DicomwebSource.h"
#include "dicomweb/LabelFilters.h"
#include "dicomweb/MediaRanges.h"
#include "dicomweb/Multipart.h"
#include "dicomweb/QidoModel.h"
#include "ingest/IngestPipeline.h"

namespace annot::dicomweb {

class DicomwebError : public std::runtime_error {
 public:
  DicomwebError(int status, const std::string& what) : std::runtime_error(what), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

struct StowOutcome {
  int httpStatus = 200;  // 200 all stored, 202 some failed, 409 none stored
  nlohmann::json body;   // the PS3.18 store response (DICOM JSON)
  std::vector<std::string> studies, storedInstances;
  std::vector<std::string> storedReports;  // the stored instances of an SR storage class
};

class DicomwebService {
 public:
  // `ingest` stores one Part 10 file (bytes) the way the deployment stores what it receives;
  // `source` names the peer; `header` is readInstanceHeader() of the bytes, already checked, so
  // the deployment need not parse them again.
  using Ingest =
      std::function<IngestResult(const std::string& bytes, const std::string& source, const InstanceRecord& header)>;
  DicomwebService(DicomwebSource& source, StateDatabase& state, Ingest ingest);

  // Every answer comes in one of two views: identified, or de-identified for researchers (PS3.15
  // Annex E, see deid/Deidentifier.h), where UIDs in paths and queries are the remapped ones.
  // QIDO-RS: a DICOM JSON array. `base` is the absolute URL of the DICOMweb root. Matching keys
  // the index cannot match on are ignored and listed in `ignoredKeys` (for a Warning header).
  nlohmann::json search(Level level, const std::string& studyUid, const std::string& seriesUid,
                        const std::multimap<std::string, std::string>& params, const std::string& base, bool deidentified = false,
                        std::vector<std::string>* ignoredKeys = nullptr);
  // The original UID behind one shown to the caller ("" when a de-identified UID is unknown).
  std::string originalUid(const std::string& shown, bool deidentified);
  // The transfer syntax a retrieve of `instance` is answered in, for an Accept header's ranges
  // (parseAccept()): as stored when a range admits it (transfer-syntax=* or that syntax),
  // else Explicit VR Little Endian when a range asks for it (also by naming no syntax, the
  // PS3.18 default) and the stored syntax can be decoded. DicomwebError 406 otherwise.
  std::string instanceSyntax(const std::vector<MediaRange>& accept, const StoredInstance& instance);
  // DicomwebError 406 unless a range admits uncompressed bulk data (octet-stream parts, no
  // syntax, "*" or Explicit VR Little Endian), which is how it is served.
  static void requireUncompressedBulkData(const std::vector<MediaRange>& accept);
  // How the frames of `instance` are answered for an Accept header's ranges, best range first:
  // as stored when the instance is stored compressed and a range takes that (octet-stream
  // parts with transfer-syntax=* or the stored syntax, as OHIF asks, or the compression's own
  // image type such as image/jls); else uncompressed (Explicit VR Little Endian) where a range
  // takes that and the compression can be decoded. DicomwebError 406 otherwise.
  struct FrameAnswer {
    bool asStored = false;
    std::string partType;  // each part's Content-Type, naming the transfer syntax
  };
  FrameAnswer frameAnswer(const std::vector<MediaRange>& accept, const StoredInstance& instance);
  // The Part 10 bytes to send for an instance in the view, in `transferSyntaxUid`
  // (instanceSyntax()): the stored file itself when nothing has to change.
  std::string retrieveBytes(const StoredInstance& instance, bool deidentified, const std::string& transferSyntaxUid);
  std::string viewUrl(const std::string& base, const StoredInstance& instance, bool deidentified);
  // A message as the de-identified view may show it (deid::Deidentifier::text).
  std::string deidentifiedText(const std::string& message) { return deid_.text(message); }

  // The stored instances under a study, series or one instance (empty strings widen the scope).
  // A path segment that is not a UID names nothing: it must not reach a source as a pattern
  // (Orthanc's find would take "*" as a wildcard).
  std::vector<StoredInstance> instances(const std::string& studyUid, const std::string& seriesUid, const std::string& sopUid);
  // A stored instance parsed into `file`; false when it is not stored.
  bool loadStored(const std::string& sopInstanceUid, DcmFileFormat& file);
  // One instance's metadata as a DICOM JSON object; pixel data as a BulkDataURI.
  std::string metadata(const StoredInstance& instance, const std::string& base, bool deidentified = false);
  // Frames (1-based) as uncompressed bytes, decoded when stored compressed (JPEG, JPEG-LS, RLE),
  // or, `asStored`, as the stored compressed bytes of each frame (dicom/EncapsulatedFrames).
  // DicomwebError 404 (no such frame), 406 (pixels not whole bytes, compression not decodable,
  // frames that cannot be told apart in the stored fragments).
  std::vector<std::string> frames(const StoredInstance& instance, const std::vector<unsigned>& numbers, bool asStored = false);
  // The value behind a BulkDataURI of the metadata: `tag` as 8 hex digits. Pixel data stored
  // compressed is decoded (all frames); other values go as stored. DicomwebError 404 for a tag
  // the metadata does not give as bulk data, or one the de-identified view withholds.
  std::string bulkData(const StoredInstance& instance, const std::string& tag, bool deidentified);
  // A PNG preview of one frame (1-based): the dataset's first VOI window, else min-max.
  // Compressed data is decoded where a decoder exists (406 otherwise).
  std::string renderedPng(const StoredInstance& instance, unsigned frame);

  // STOW-RS: every application/dicom part is stored; `studyUid` non-empty restricts the target.
  StowOutcome store(const std::vector<Part>& parts, const std::string& studyUid, const std::string& base, const std::string& source);

  static std::string retrieveUrl(const std::string& base, const StoredInstance& i);

 private:
  void deidentifyAnswer(nlohmann::json& item, Level level, const std::string& base);
  std::multimap<std::string, std::string> researcherQuery(const std::multimap<std::string, std::string>& params);

  DicomwebSource& source_;
  LabelFilters labels_;
  deid::Deidentifier deid_;
  Ingest ingest_;
  // Metadata per SOP instance and view (immutable once stored), bounded by count and by bytes.
  LruCache<std::string, std::string> metadataCache_{
      50000, 32u << 20, [](const std::string& key, const std::string& value) { return key.size() + value.size() + 96; }};
};

}  // namespace annot::dicomweb
