#pragma once
// Annotation document → DICOM Enhanced SR, TID 1500 Imaging Measurement Report, on DCMTK's
// dcmsr/cmr. Findings become Measurement Groups in the TID 1410 planar-ROI layout (read by
// OHIF's SR viewport and 3D Slicer) or, on request, in the dcmjs/Cornerstone layout that OHIF
// re-opens as editable measurements. Study-level and image-level classifications become
// TID 1500 qualitative evaluations. Patient and Study modules are copied from the images.
#include <optional>
#include <string>

#include "annotation/AnnotationDocument.h"
#include "dicom/SourceImages.h"
#include "protocol/Protocol.h"

class DcmFileFormat;

namespace annot {

struct SopReference {
  std::string studyInstanceUid;
  std::string seriesInstanceUid;
  std::string sopClassUid;
  std::string sopInstanceUid;
};

struct SrWriteOptions {
  bool ohifEditable = false;           // Tracking Identifier "Cornerstone3DTools@^0.1.0:<Tool>" + dcmjs layout
  bool complete = true;                // CompletionFlag COMPLETE (else PARTIAL)
  std::optional<std::string> verifiedBy;  // Verifying Observer Name (PN); sets VERIFIED
  std::string verifyingOrganization = "Annotation node";
  std::optional<SopReference> predecessor;  // the SR this one revises
  std::string seriesInstanceUid;       // empty: a new series
  std::string seriesNumber = "9001";
  std::string instanceNumber = "1";
  std::string seriesDescription = "Annotations";
};

struct SrWriteResult {
  std::string sopInstanceUid;
  std::string seriesInstanceUid;
  std::string studyInstanceUid;
};

class SrWriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `document` must be resolved (AnnotationValidator) against `images`. Throws SrWriteError.
SrWriteResult writeMeasurementReport(const AnnotationDocument& document, const SourceImageSet& images,
                                     const Protocol* protocol, const SrWriteOptions& options, DcmFileFormat& out);
SrWriteResult writeMeasurementReportFile(const AnnotationDocument& document, const SourceImageSet& images,
                                         const Protocol* protocol, const SrWriteOptions& options,
                                         const std::string& path);
// The SOP reference of an existing SR file (for predecessor references).
SopReference sopReferenceOfFile(const std::string& path);

}  // namespace annot
