#include "seg/SegmentationWriter.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "annotation/AnnotationValidator.h"
#include "dicom/DatasetAccess.h"
#include "dicom/PatientStudyModules.h"
#include "seg/BitPacking.h"

namespace annot {
namespace {

void must(const OFCondition& cond, const char* what) {
  if (cond.bad()) throw SegmentationError({std::string("internal: ") + what + ": " + cond.text()});
}

void put(DcmItem& item, const DcmTagKey& tag, const std::string& value) { must(item.putAndInsertString(tag, value.c_str()), "attribute"); }

DcmItem& append(DcmItem& parent, const DcmTagKey& sequence) {
  DcmItem* item = nullptr;
  must(parent.findOrCreateSequenceItem(sequence, item, -2), "sequence item");
  return *item;
}

void putCode(DcmItem& parent, const DcmTagKey& sequence, const Code& code) {
  DcmItem& item = append(parent, sequence);
  put(item, DCM_CodeValue, code.value);
  put(item, DCM_CodingSchemeDesignator, code.scheme);
  put(item, DCM_CodeMeaning, code.meaning);
}

std::string now(const char* format) {
  const std::time_t t = std::time(nullptr);
  std::tm local{};
  localtime_r(&t, &local);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &local);
  return buf;
}

struct FramePlace {
  const SourceImage* image;
  std::array<double, 3> position;  // of the frame's first pixel (planar only)
  double order;                    // along the slice normal (planar), else the source order
};

bool hasPlaneGeometry(const SourceImage* img) {
  return img->orientation && img->framePositions.size() == img->frames && img->pixelSpacing &&
         img->spacingSource == SourceImage::SpacingSource::PixelSpacing && !img->frameOfReferenceUid.empty();
}

// Why `img` cannot share one segmentation's geometry with `reference`, or nullopt.
std::optional<std::string> planeMismatch(const SourceImage& img, const SourceImage& reference) {
  if (img.frameOfReferenceUid != reference.frameOfReferenceUid) {
    return "image " + img.sopInstanceUid + " is in another frame of reference than " + reference.sopInstanceUid;
  }
  double diff = 0;
  for (size_t k = 0; k < 6; ++k) diff = std::max(diff, std::abs((*img.orientation)[k] - (*reference.orientation)[k]));
  if (diff > 1e-4) {
    return "image " + img.sopInstanceUid + " is not parallel to " + reference.sopInstanceUid + ": one segmentation needs one plane orientation";
  }
  if (std::abs((*img.pixelSpacing)[0] - (*reference.pixelSpacing)[0]) > 1e-6 ||
      std::abs((*img.pixelSpacing)[1] - (*reference.pixelSpacing)[1]) > 1e-6) {
    return "image " + img.sopInstanceUid + " has another pixel spacing than " + reference.sopInstanceUid;
  }
  return std::nullopt;
}
}  // namespace

std::array<uint16_t, 3> rgbToDicomLab(const std::array<uint8_t, 3>& rgb) {
  auto linear = [](uint8_t c) {
    const double v = c / 255.0;
    return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
  };
  const double r = linear(rgb[0]), g = linear(rgb[1]), b = linear(rgb[2]);
  // sRGB to XYZ (D65), then to the D50-free CIELab PS3.3 uses with the D65 white point.
  const double x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
  const double y = (0.2126729 * r + 0.7151522 * g + 0.0721750 * b) / 1.00000;
  const double z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883;
  auto f = [](double t) { return t > 0.008856 ? std::cbrt(t) : 7.787 * t + 16.0 / 116.0; };
  const double L = 116 * f(y) - 16, A = 500 * (f(x) - f(y)), B = 200 * (f(y) - f(z));
  auto scale = [](double v, double lo, double hi) {
    return static_cast<uint16_t>(std::lround(std::clamp((v - lo) / (hi - lo), 0.0, 1.0) * 65535.0));
  };
  return {scale(L, 0, 100), scale(A, -128, 127), scale(B, -128, 127)};
}

SegWriteResult writeSegmentation(Segmentation seg, const SourceImageSet& images, const SegWriteOptions& options,
                                 DcmFileFormat& out) {
  std::vector<std::string> problems;
  for (size_t i = 0; i < seg.segments.size(); ++i) {
    const auto& s = seg.segments[i];
    if (s.category.empty() || s.type.empty()) problems.push_back("segments[" + std::to_string(i) + "]: category and type codes are required");
    if (s.label.empty()) problems.push_back("segments[" + std::to_string(i) + "]: a label is required");
  }
  // Where each referenced frame lies. Cross-sections with plane geometry are placed in patient
  // space (plane position and orientation in one Frame of Reference); images without it
  // (radiographs, captures, ultrasound, angiograms) are placed by reference alone: the
  // Derivation Image Sequence ties each SEG frame to its source frame, as PS3.3 C.8.20 allows.
  std::vector<const SourceImage*> sources;
  for (const auto& f : seg.frames) {
    const SourceImage* img = images.find(f.image.sopInstanceUid);
    if (!img) {
      problems.push_back("mask on unknown image " + f.image.sopInstanceUid);
      continue;
    }
    if (img->rows != seg.rows || img->columns != seg.columns) {
      problems.push_back("mask size " + std::to_string(seg.columns) + "x" + std::to_string(seg.rows) + " differs from image " +
                         img->sopInstanceUid + " (" + std::to_string(img->columns) + "x" + std::to_string(img->rows) + ")");
      continue;
    }
    sources.push_back(img);
  }
  const bool planar = !sources.empty() && std::all_of(sources.begin(), sources.end(), hasPlaneGeometry);
  const SourceImage* reference = sources.empty() ? nullptr : sources.front();
  std::map<std::pair<std::string, uint32_t>, FramePlace> places;
  for (size_t i = 0; i < seg.frames.size() && problems.empty(); ++i) {
    const SegmentFrame& f = seg.frames[i];
    const SourceImage* img = images.find(f.image.sopInstanceUid);
    const uint32_t index = img->multiFrame ? f.image.frame - 1 : 0;
    if (!planar) {
      // Source order: the images as given, then their frames.
      const auto position = static_cast<double>(img - images.all().data());
      places[{img->sopInstanceUid, f.image.frame}] = {img, {}, position * 65536.0 + index};
      continue;
    }
    if (auto wrong = planeMismatch(*img, *reference)) {
      problems.push_back(*wrong);
      continue;
    }
    const auto& ro = *reference->orientation;
    const std::array<double, 3> normal{ro[1] * ro[5] - ro[2] * ro[4], ro[2] * ro[3] - ro[0] * ro[5], ro[0] * ro[4] - ro[1] * ro[3]};
    const auto& p = img->framePositions[index];
    places[{img->sopInstanceUid, f.image.frame}] = {img, p, normal[0] * p[0] + normal[1] * p[1] + normal[2] * p[2]};
  }
  if (seg.frames.empty()) problems.push_back("masks: there are none");
  if (!problems.empty()) throw SegmentationError(problems);

  // Distinct positions in slice order give the second dimension index (planar only).
  std::vector<double> positions;
  for (const auto& [key, g] : places) positions.push_back(g.order);
  std::sort(positions.begin(), positions.end());
  positions.erase(std::unique(positions.begin(), positions.end(), [](double a, double b) { return std::abs(a - b) < 1e-3; }),
                  positions.end());
  auto positionIndex = [&](double along) {
    return static_cast<Uint32>(std::lower_bound(positions.begin(), positions.end(), along - 1e-3) - positions.begin() + 1);
  };

  const uint64_t frameBits = static_cast<uint64_t>(seg.rows) * seg.columns;
  std::vector<SegmentFrame*> frames;
  for (auto& f : seg.frames) {
    const bool empty = seg.fractional ? std::all_of(f.data.begin(), f.data.end(), [](uint8_t v) { return v == 0; })
                                      : bits::countSetBits(f.data.data(), frameBits) == 0;
    if (!empty || options.keepEmptyFrames) frames.push_back(&f);
  }
  if (frames.empty()) throw SegmentationError({"masks: every mask is empty; nothing to store (use keepEmptyFrames to store empty frames)"});
  std::stable_sort(frames.begin(), frames.end(), [&](const SegmentFrame* a, const SegmentFrame* b) {
    if (a->segment != b->segment) return a->segment < b->segment;
    return places.at({a->image.sopInstanceUid, a->image.frame}).order < places.at({b->image.sopInstanceUid, b->image.frame}).order;
  });

  DcmDataset& ds = *out.getDataset();
  ds.clear();
  const std::string sopInstanceUid = newUid();
  const std::string seriesUid = options.seriesInstanceUid.empty() ? newUid() : options.seriesInstanceUid;
  put(ds, DCM_SpecificCharacterSet, "ISO_IR 192");
  put(ds, DCM_SOPClassUID, UID_SegmentationStorage);
  put(ds, DCM_SOPInstanceUID, sopInstanceUid);
  put(ds, DCM_InstanceCreationDate, now("%Y%m%d"));
  put(ds, DCM_InstanceCreationTime, now("%H%M%S"));
  copyPatientAndStudyModules(*reference->header, ds);
  // General and Segmentation Series, Frame of Reference, (Enhanced) General Equipment.
  put(ds, DCM_Modality, "SEG");
  put(ds, DCM_SeriesInstanceUID, seriesUid);
  put(ds, DCM_SeriesNumber, seg.seriesNumber);
  put(ds, DCM_SeriesDescription, seg.seriesDescription);
  if (planar) {
    put(ds, DCM_FrameOfReferenceUID, reference->frameOfReferenceUid);
    put(ds, DCM_PositionReferenceIndicator, "");
  }
  put(ds, DCM_Manufacturer, "Annotation node");
  put(ds, DCM_ManufacturerModelName, "dicom-node");
  put(ds, DCM_DeviceSerialNumber, "1");
  put(ds, DCM_SoftwareVersions, ANNOT_VERSION);
  // General Image and Segmentation Image.
  put(ds, DCM_InstanceNumber, options.instanceNumber);
  put(ds, DCM_ContentDate, now("%Y%m%d"));
  put(ds, DCM_ContentTime, now("%H%M%S"));
  put(ds, DCM_ImageType, "DERIVED\\PRIMARY");
  // Without plane geometry the patient's orientation on screen is the source's (Type 2C).
  if (!planar) put(ds, DCM_PatientOrientation, getString(*reference->header, DCM_PatientOrientation));
  put(ds, DCM_ContentLabel, seg.contentLabel);
  put(ds, DCM_ContentDescription, seg.contentDescription);
  put(ds, DCM_ContentCreatorName, seg.contentCreator);
  put(ds, DCM_SegmentationType, seg.fractional ? "FRACTIONAL" : "BINARY");
  if (seg.fractional) {
    put(ds, DCM_SegmentationFractionalType, seg.fractionalType);
    must(ds.putAndInsertUint16(DCM_MaximumFractionalValue, seg.maxFractionalValue), "max fractional value");
  }
  put(ds, DCM_LossyImageCompression, "00");
  for (size_t i = 0; i < seg.segments.size(); ++i) {
    const auto& s = seg.segments[i];
    DcmItem& item = append(ds, DCM_SegmentSequence);
    must(item.putAndInsertUint16(DCM_SegmentNumber, static_cast<Uint16>(i + 1)), "segment number");
    put(item, DCM_SegmentLabel, s.label);
    if (!s.description.empty()) put(item, DCM_SegmentDescription, s.description);
    put(item, DCM_SegmentAlgorithmType, segmentAlgorithmName(s.algorithm));
    if (s.algorithm != SegmentAlgorithm::Manual) put(item, DCM_SegmentAlgorithmName, s.algorithmName);
    if (s.algorithmFamily) {
      DcmItem& identification = append(item, DCM_SegmentationAlgorithmIdentificationSequence);
      putCode(identification, DCM_AlgorithmFamilyCodeSequence, *s.algorithmFamily);
      put(identification, DCM_AlgorithmName, s.algorithmName);
      put(identification, DCM_AlgorithmVersion, s.algorithmVersion);
    }
    putCode(item, DCM_SegmentedPropertyCategoryCodeSequence, s.category);
    putCode(item, DCM_SegmentedPropertyTypeCodeSequence, s.type);
    if (s.anatomicRegion) putCode(item, DCM_AnatomicRegionSequence, *s.anatomicRegion);
    const auto lab = rgbToDicomLab(s.color);
    must(item.putAndInsertUint16Array(DCM_RecommendedDisplayCIELabValue, lab.data(), 3), "colour");
    if (!s.trackingId.empty()) put(item, DCM_TrackingID, s.trackingId);
    if (!s.trackingUid.empty()) put(item, DCM_TrackingUID, s.trackingUid);
  }
  // Image Pixel.
  must(ds.putAndInsertUint16(DCM_SamplesPerPixel, 1), "samples");
  put(ds, DCM_PhotometricInterpretation, "MONOCHROME2");
  must(ds.putAndInsertUint16(DCM_Rows, static_cast<Uint16>(seg.rows)), "rows");
  must(ds.putAndInsertUint16(DCM_Columns, static_cast<Uint16>(seg.columns)), "columns");
  const Uint16 bitsAllocated = seg.fractional ? 8 : 1;
  must(ds.putAndInsertUint16(DCM_BitsAllocated, bitsAllocated), "bits");
  must(ds.putAndInsertUint16(DCM_BitsStored, bitsAllocated), "bits");
  must(ds.putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(bitsAllocated - 1)), "bits");
  must(ds.putAndInsertUint16(DCM_PixelRepresentation, 0), "bits");
  // Multi-frame Dimension: segment, then position in patient space when there is one (without
  // a frame of reference the segment number is the only dimension, as highdicom writes).
  const std::string dimensionUid = newUid();
  put(append(ds, DCM_DimensionOrganizationSequence), DCM_DimensionOrganizationUID, dimensionUid);
  {
    DcmItem& bySegment = append(ds, DCM_DimensionIndexSequence);
    must(bySegment.putAndInsertTagKey(DCM_DimensionIndexPointer, DCM_ReferencedSegmentNumber), "dimension");
    must(bySegment.putAndInsertTagKey(DCM_FunctionalGroupPointer, DCM_SegmentIdentificationSequence), "dimension");
    put(bySegment, DCM_DimensionOrganizationUID, dimensionUid);
    put(bySegment, DCM_DimensionDescriptionLabel, "ReferencedSegmentNumber");
  }
  if (planar) {
    put(ds, DCM_DimensionOrganizationType, "3D");
    DcmItem& byPosition = append(ds, DCM_DimensionIndexSequence);
    must(byPosition.putAndInsertTagKey(DCM_DimensionIndexPointer, DCM_ImagePositionPatient), "dimension");
    must(byPosition.putAndInsertTagKey(DCM_FunctionalGroupPointer, DCM_PlanePositionSequence), "dimension");
    put(byPosition, DCM_DimensionOrganizationUID, dimensionUid);
    put(byPosition, DCM_DimensionDescriptionLabel, "ImagePositionPatient");
  }
  // Shared functional groups: one plane orientation and pixel measures for all frames; none to
  // share without plane geometry.
  if (planar) {
    DcmItem& shared = append(ds, DCM_SharedFunctionalGroupsSequence);
    const auto& o = *reference->orientation;
    std::string iop;
    for (size_t k = 0; k < 6; ++k) iop += (k ? "\\" : "") + decimalString(o[k]);
    put(append(shared, DCM_PlaneOrientationSequence), DCM_ImageOrientationPatient, iop);
    DcmItem& measures = append(shared, DCM_PixelMeasuresSequence);
    put(measures, DCM_PixelSpacing, decimalString((*reference->pixelSpacing)[0]) + "\\" + decimalString((*reference->pixelSpacing)[1]));
    put(measures, DCM_SliceThickness, reference->sliceThickness.empty() ? "1" : reference->sliceThickness);
  } else {
    // No position in patient space, but the in-plane orientation viewers assume for an image
    // without one (rows left to right, columns top to bottom): OHIF's SEG loader (Cornerstone
    // adapters) refuses a SEG without Plane Orientation and flips masks whose orientation
    // differs from the one it assumes for the source.
    DcmItem& shared = append(ds, DCM_SharedFunctionalGroupsSequence);
    put(append(shared, DCM_PlaneOrientationSequence), DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
  }
  // Per-frame functional groups.
  for (const SegmentFrame* f : frames) {
    const FramePlace& g = places.at({f->image.sopInstanceUid, f->image.frame});
    DcmItem& perFrame = append(ds, DCM_PerFrameFunctionalGroupsSequence);
    DcmItem& derivation = append(perFrame, DCM_DerivationImageSequence);
    DcmItem& source = append(derivation, DCM_SourceImageSequence);
    put(source, DCM_ReferencedSOPClassUID, g.image->sopClassUid);
    put(source, DCM_ReferencedSOPInstanceUID, g.image->sopInstanceUid);
    if (f->image.frame) put(source, DCM_ReferencedFrameNumber, std::to_string(f->image.frame));
    putCode(source, DCM_PurposeOfReferenceCodeSequence, {"121322", "DCM", "Source image for image processing operation"});
    put(source, DCM_SpatialLocationsPreserved, "YES");
    putCode(derivation, DCM_DerivationCodeSequence, {"113076", "DCM", "Segmentation"});
    DcmItem& content = append(perFrame, DCM_FrameContentSequence);
    if (planar) {
      const Uint32 index[2] = {f->segment, positionIndex(g.order)};
      must(content.putAndInsertUint32Array(DCM_DimensionIndexValues, index, 2), "dimension index values");
      put(append(perFrame, DCM_PlanePositionSequence), DCM_ImagePositionPatient,
          decimalString(g.position[0]) + "\\" + decimalString(g.position[1]) + "\\" + decimalString(g.position[2]));
    } else {
      must(content.putAndInsertUint32(DCM_DimensionIndexValues, f->segment), "dimension index values");
    }
    must(append(perFrame, DCM_SegmentIdentificationSequence).putAndInsertUint16(DCM_ReferencedSegmentNumber, f->segment),
         "segment identification");
  }
  put(ds, DCM_NumberOfFrames, std::to_string(frames.size()));
  // Common Instance Reference: the source series and instances (OHIF needs it).
  std::map<std::string, std::set<std::pair<std::string, std::string>>> bySeries;
  for (const auto& [key, g] : places) bySeries[g.image->seriesInstanceUid].insert({g.image->sopClassUid, g.image->sopInstanceUid});
  for (const auto& [series, instances] : bySeries) {
    DcmItem& item = append(ds, DCM_ReferencedSeriesSequence);
    put(item, DCM_SeriesInstanceUID, series);
    for (const auto& [cls, inst] : instances) {
      DcmItem& ref = append(item, DCM_ReferencedInstanceSequence);
      put(ref, DCM_ReferencedSOPClassUID, cls);
      put(ref, DCM_ReferencedSOPInstanceUID, inst);
    }
  }
  // Pixel Data, filled in place: bit-contiguous frames for BINARY, bytes for FRACTIONAL.
  const uint64_t totalBits = frameBits * frames.size();
  const size_t length = seg.fractional ? static_cast<size_t>(frameBits * frames.size() + ((frameBits * frames.size()) & 1))
                                       : bits::packedLength(totalBits);
  auto* pixelData = new DcmPixelData(DCM_PixelData);
  pixelData->setVR(EVR_OB);
  Uint8* buffer = nullptr;
  must(pixelData->createUint8Array(static_cast<Uint32>(length), buffer), "pixel data buffer");
  std::memset(buffer, 0, length);
  for (size_t i = 0; i < frames.size(); ++i) {
    if (seg.fractional) std::memcpy(buffer + i * frameBits, frames[i]->data.data(), static_cast<size_t>(frameBits));
    else bits::appendBits(buffer, i * frameBits, frames[i]->data.data(), frameBits);
    std::vector<uint8_t>().swap(frames[i]->data);
  }
  must(ds.insert(pixelData, OFTrue), "pixel data");

  SegWriteResult result;
  result.sopInstanceUid = sopInstanceUid;
  result.seriesInstanceUid = seriesUid;
  result.studyInstanceUid = reference->studyInstanceUid;
  result.frames = frames.size();
  return result;
}

SegWriteResult writeSegmentationFile(Segmentation seg, const SourceImageSet& images, const SegWriteOptions& options,
                                     const std::string& path) {
  DcmFileFormat file;
  SegWriteResult result = writeSegmentation(std::move(seg), images, options, file);
  const OFCondition saved = file.saveFile(path.c_str(), EXS_LittleEndianExplicit);
  if (saved.bad()) throw SegmentationError({"cannot write '" + path + "': " + saved.text()});
  return result;
}

}  // namespace annot
