#include "dicom/SopClasses.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <cctype>
#include <iterator>

namespace annot {
namespace {

// Storage classes whose IOD has the Multi-frame Module or multi-frame functional groups
// (PS3.3 A.x, and PS3.4 B.5 for the UIDs). The list dciodvfy checks Referenced Frame Number
// against is of the same kind: a reference to any other class carries no frame number.
const char* const kMultiFrameClasses[] = {
    "1.2.840.10008.5.1.4.1.1.2.1",      // Enhanced CT Image
    "1.2.840.10008.5.1.4.1.1.2.2",      // Legacy Converted Enhanced CT Image
    "1.2.840.10008.5.1.4.1.1.3",        // Ultrasound Multi-frame Image (retired)
    "1.2.840.10008.5.1.4.1.1.3.1",      // Ultrasound Multi-frame Image
    "1.2.840.10008.5.1.4.1.1.4.1",      // Enhanced MR Image
    "1.2.840.10008.5.1.4.1.1.4.2",      // MR Spectroscopy
    "1.2.840.10008.5.1.4.1.1.4.3",      // Enhanced MR Color Image
    "1.2.840.10008.5.1.4.1.1.4.4",      // Legacy Converted Enhanced MR Image
    "1.2.840.10008.5.1.4.1.1.5",        // Nuclear Medicine Image (retired)
    "1.2.840.10008.5.1.4.1.1.6.2",      // Enhanced US Volume
    "1.2.840.10008.5.1.4.1.1.6.3",      // Photoacoustic Image
    "1.2.840.10008.5.1.4.1.1.7.1",      // Multi-frame Single Bit Secondary Capture
    "1.2.840.10008.5.1.4.1.1.7.2",      // Multi-frame Grayscale Byte Secondary Capture
    "1.2.840.10008.5.1.4.1.1.7.3",      // Multi-frame Grayscale Word Secondary Capture
    "1.2.840.10008.5.1.4.1.1.7.4",      // Multi-frame True Color Secondary Capture
    "1.2.840.10008.5.1.4.1.1.12.1",     // X-Ray Angiographic Image
    "1.2.840.10008.5.1.4.1.1.12.1.1",   // Enhanced XA Image
    "1.2.840.10008.5.1.4.1.1.12.2",     // X-Ray Radiofluoroscopic Image
    "1.2.840.10008.5.1.4.1.1.12.2.1",   // Enhanced XRF Image
    "1.2.840.10008.5.1.4.1.1.12.3",     // X-Ray Angiographic Bi-Plane Image (retired)
    "1.2.840.10008.5.1.4.1.1.13.1.1",   // X-Ray 3D Angiographic Image
    "1.2.840.10008.5.1.4.1.1.13.1.2",   // X-Ray 3D Craniofacial Image
    "1.2.840.10008.5.1.4.1.1.13.1.3",   // Breast Tomosynthesis Image
    "1.2.840.10008.5.1.4.1.1.13.1.4",   // Breast Projection X-Ray Image For Presentation
    "1.2.840.10008.5.1.4.1.1.13.1.5",   // Breast Projection X-Ray Image For Processing
    "1.2.840.10008.5.1.4.1.1.14.1",     // Intravascular OCT For Presentation
    "1.2.840.10008.5.1.4.1.1.14.2",     // Intravascular OCT For Processing
    "1.2.840.10008.5.1.4.1.1.20",       // Nuclear Medicine Image
    "1.2.840.10008.5.1.4.1.1.30",       // Parametric Map
    "1.2.840.10008.5.1.4.1.1.66.4",     // Segmentation
    "1.2.840.10008.5.1.4.1.1.66.7",     // Label Map Segmentation
    "1.2.840.10008.5.1.4.1.1.77.1.1.1", // Video Endoscopic Image
    "1.2.840.10008.5.1.4.1.1.77.1.2.1", // Video Microscopic Image
    "1.2.840.10008.5.1.4.1.1.77.1.4.1", // Video Photographic Image
    "1.2.840.10008.5.1.4.1.1.77.1.5.1", // Ophthalmic Photography 8 Bit Image
    "1.2.840.10008.5.1.4.1.1.77.1.5.2", // Ophthalmic Photography 16 Bit Image
    "1.2.840.10008.5.1.4.1.1.77.1.5.4", // Ophthalmic Tomography Image
    "1.2.840.10008.5.1.4.1.1.77.1.5.7", // Wide Field Ophthalmic Photography Stereographic
    "1.2.840.10008.5.1.4.1.1.77.1.5.8", // Wide Field Ophthalmic Photography 3D Coordinates
    "1.2.840.10008.5.1.4.1.1.77.1.5.9", // Ophthalmic Optical Coherence Tomography En Face
    "1.2.840.10008.5.1.4.1.1.77.1.5.10",// Ophthalmic OCT B-scan Volume Analysis
    "1.2.840.10008.5.1.4.1.1.77.1.6",   // VL Whole Slide Microscopy Image
    "1.2.840.10008.5.1.4.1.1.128.1",    // Enhanced PET Image
    "1.2.840.10008.5.1.4.1.1.130",      // Legacy Converted Enhanced PET Image
    "1.2.840.10008.5.1.4.1.1.481.1",    // RT Image
    "1.2.840.10008.5.1.4.1.1.481.2",    // RT Dose
};

bool startsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

bool isMultiFrameSopClass(const std::string& uid) {
  return std::any_of(std::begin(kMultiFrameClasses), std::end(kMultiFrameClasses), [&](const char* c) { return uid == c; });
}

std::optional<std::string> notAnImageReason(const std::string& uid) {
  if (uid == UID_RTDoseStorage) {
    return "an RT Dose is a dose grid computed by a planning system, not an image a reader labels: annotate the "
           "images the plan was made on (its planning CT or MR)";
  }
  if (startsWith(uid, "1.2.840.10008.5.1.4.1.1.9.")) return "a waveform has no pixels to label";
  if (startsWith(uid, "1.2.840.10008.5.1.4.1.1.88.")) return "a structured report has no pixels to label";
  if (startsWith(uid, "1.2.840.10008.5.1.4.1.1.11.")) return "a presentation state has no pixels to label";
  if (uid == UID_EncapsulatedPDFStorage || uid == UID_EncapsulatedCDAStorage) return "an encapsulated document has no pixels to label";
  if (uid == UID_RTStructureSetStorage || uid == UID_RTPlanStorage) return "an RT plan or structure set has no pixels to label";
  if (uid == UID_SegmentationStorage) return "a segmentation is a result, not a source image: label the images it was made on";
  return std::nullopt;
}

std::string sopClassName(const std::string& uid) {
  const char* name = dcmFindNameOfUID(uid.c_str(), nullptr);
  if (!name) return uid;
  // DCMTK's names run the words together ("RTDoseStorage"): spaced for people to read.
  const std::string joined = name;
  std::string spaced;
  for (size_t i = 0; i < joined.size(); ++i) {
    const auto upper = [&](size_t k) { return k < joined.size() && std::isupper(static_cast<unsigned char>(joined[k])); };
    const auto lower = [&](size_t k) { return k < joined.size() && std::islower(static_cast<unsigned char>(joined[k])); };
    if (i > 0 && upper(i) && (lower(i - 1) || (upper(i - 1) && lower(i + 1)))) spaced += ' ';
    spaced += joined[i];
  }
  return spaced;
}

}  // namespace annot
