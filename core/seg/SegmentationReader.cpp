#include "seg/SegmentationReader.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include "annotation/Code.h"
#include "dicom/DatasetAccess.h"
#include "seg/BitPacking.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace annot {
namespace {
[[noreturn]] void fail(const std::string& message) { throw SegmentationError({message}); }

// Inverse of the writer's CIELab scaling, to report the display colour as sRGB.
std::array<uint8_t, 3> labToRgb(const Uint16* lab) {
  const double L = lab[0] / 65535.0 * 100, A = lab[1] / 65535.0 * 255 - 128, B = lab[2] / 65535.0 * 255 - 128;
  const double fy = (L + 16) / 116, fx = fy + A / 500, fz = fy - B / 200;
  auto finv = [](double t) { return t * t * t > 0.008856 ? t * t * t : (t - 16.0 / 116.0) / 7.787; };
  const double x = finv(fx) * 0.95047, y = finv(fy), z = finv(fz) * 1.08883;
  double rgb[3] = {3.2404542 * x - 1.5371385 * y - 0.4985314 * z, -0.9692660 * x + 1.8760108 * y + 0.0415560 * z,
                   0.0556434 * x - 0.2040259 * y + 1.0572252 * z};
  std::array<uint8_t, 3> out{};
  for (int i = 0; i < 3; ++i) {
    double v = std::clamp(rgb[i], 0.0, 1.0);
    v = v <= 0.0031308 ? 12.92 * v : 1.055 * std::pow(v, 1 / 2.4) - 0.055;
    out[i] = static_cast<uint8_t>(std::lround(v * 255));
  }
  return out;
}
}  // namespace

SegmentationContent readSegmentation(DcmDataset& ds) {
  SegmentationContent out;
  if (getString(ds, DCM_SOPClassUID) != UID_SegmentationStorage) {
    fail("not a DICOM Segmentation (SOP Class UID " + getString(ds, DCM_SOPClassUID) + ")");
  }
  out.sopInstanceUid = getString(ds, DCM_SOPInstanceUID);
  out.seriesInstanceUid = getString(ds, DCM_SeriesInstanceUID);
  out.studyInstanceUid = getString(ds, DCM_StudyInstanceUID);
  out.frameOfReferenceUid = getString(ds, DCM_FrameOfReferenceUID);
  Segmentation& seg = out.segmentation;
  const std::string type = getString(ds, DCM_SegmentationType);
  if (type != "BINARY" && type != "FRACTIONAL") fail("unsupported Segmentation Type '" + type + "'");
  seg.fractional = type == "FRACTIONAL";
  if (seg.fractional) {
    seg.fractionalType = getString(ds, DCM_SegmentationFractionalType);
    Uint16 max = 255;
    ds.findAndGetUint16(DCM_MaximumFractionalValue, max);
    seg.maxFractionalValue = static_cast<uint8_t>(max);
  }
  seg.contentLabel = getString(ds, DCM_ContentLabel);
  seg.contentDescription = getString(ds, DCM_ContentDescription);
  seg.contentCreator = getString(ds, DCM_ContentCreatorName);
  seg.seriesDescription = getString(ds, DCM_SeriesDescription);
  seg.seriesNumber = getString(ds, DCM_SeriesNumber);
  Uint16 rows = 0, columns = 0, bitsAllocated = 0;
  ds.findAndGetUint16(DCM_Rows, rows);
  ds.findAndGetUint16(DCM_Columns, columns);
  ds.findAndGetUint16(DCM_BitsAllocated, bitsAllocated);
  seg.rows = rows;
  seg.columns = columns;
  if (rows == 0 || columns == 0) fail("no pixel matrix (Rows " + std::to_string(rows) + ", Columns " + std::to_string(columns) + ")");
  if ((seg.fractional && bitsAllocated != 8) || (!seg.fractional && bitsAllocated != 1)) {
    fail("Bits Allocated " + std::to_string(bitsAllocated) + " does not fit Segmentation Type " + type);
  }

  DcmSequenceOfItems* segments = nullptr;
  if (ds.findAndGetSequence(DCM_SegmentSequence, segments).bad() || !segments || segments->card() == 0) fail("no Segment Sequence");
  std::map<Uint16, size_t> indexOfNumber;
  for (unsigned long i = 0; i < segments->card(); ++i) {
    DcmItem& item = *segments->getItem(i);
    SegmentDescription d;
    Uint16 number = 0;
    item.findAndGetUint16(DCM_SegmentNumber, number);
    d.label = getString(item, DCM_SegmentLabel);
    d.description = getString(item, DCM_SegmentDescription);
    d.category = getCode(item, DCM_SegmentedPropertyCategoryCodeSequence);
    d.type = getCode(item, DCM_SegmentedPropertyTypeCodeSequence);
    const Code region = getCode(item, DCM_AnatomicRegionSequence);
    if (!region.empty()) d.anatomicRegion = region;
    const std::string algorithm = getString(item, DCM_SegmentAlgorithmType);
    d.algorithm = algorithm == "AUTOMATIC" ? SegmentAlgorithm::Automatic
                  : algorithm == "SEMIAUTOMATIC" ? SegmentAlgorithm::Semiautomatic : SegmentAlgorithm::Manual;
    d.algorithmName = getString(item, DCM_SegmentAlgorithmName);
    DcmItem* identification = nullptr;
    if (item.findAndGetSequenceItem(DCM_SegmentationAlgorithmIdentificationSequence, identification, 0).good() &&
        identification) {
      const Code family = getCode(*identification, DCM_AlgorithmFamilyCodeSequence);
      if (!family.empty()) d.algorithmFamily = family;
      d.algorithmVersion = getString(*identification, DCM_AlgorithmVersion);
      if (d.algorithmName.empty()) d.algorithmName = getString(*identification, DCM_AlgorithmName);
    }
    const Uint16* lab = nullptr;
    unsigned long n = 0;
    if (item.findAndGetUint16Array(DCM_RecommendedDisplayCIELabValue, lab, &n).good() && lab && n == 3) d.color = labToRgb(lab);
    d.trackingId = getString(item, DCM_TrackingID);
    d.trackingUid = getString(item, DCM_TrackingUID);
    indexOfNumber[number] = seg.segments.size();
    seg.segments.push_back(d);
  }

  Sint32 numberOfFrames = 0;
  ds.findAndGetSint32(DCM_NumberOfFrames, numberOfFrames);
  DcmSequenceOfItems* perFrame = nullptr;
  if (ds.findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, perFrame).bad() || !perFrame ||
      perFrame->card() != static_cast<unsigned long>(numberOfFrames)) {
    fail("Per-frame Functional Groups Sequence does not have Number of Frames (" + std::to_string(numberOfFrames) + ") items");
  }
  DcmItem* shared = nullptr;
  ds.findAndGetSequenceItem(DCM_SharedFunctionalGroupsSequence, shared, 0);

  const Uint8* pixels = nullptr;
  unsigned long pixelBytes = 0;
  if (ds.findAndGetUint8Array(DCM_PixelData, pixels, &pixelBytes).bad() || !pixels) fail("no Pixel Data");
  const uint64_t frameBits = static_cast<uint64_t>(rows) * columns;
  const uint64_t needed = seg.fractional ? frameBits * static_cast<uint64_t>(numberOfFrames)
                                         : (frameBits * static_cast<uint64_t>(numberOfFrames) + 7) / 8;
  if (pixelBytes < needed) fail("Pixel Data holds " + std::to_string(pixelBytes) + " bytes, " + std::to_string(needed) + " needed");

  for (unsigned long i = 0; i < perFrame->card(); ++i) {
    DcmItem& fg = *perFrame->getItem(i);
    SegmentFrame frame;
    DcmItem* ident = nullptr;
    Uint16 segmentNumber = 0;
    if ((fg.findAndGetSequenceItem(DCM_SegmentIdentificationSequence, ident, 0).good() && ident) ||
        (shared && shared->findAndGetSequenceItem(DCM_SegmentIdentificationSequence, ident, 0).good() && ident)) {
      ident->findAndGetUint16(DCM_ReferencedSegmentNumber, segmentNumber);
    }
    if (!indexOfNumber.count(segmentNumber)) fail("frame " + std::to_string(i + 1) + " refers to unknown segment " + std::to_string(segmentNumber));
    frame.segment = static_cast<uint16_t>(indexOfNumber[segmentNumber] + 1);
    DcmItem* derivation = nullptr;
    DcmItem* source = nullptr;
    if (fg.findAndGetSequenceItem(DCM_DerivationImageSequence, derivation, 0).good() && derivation &&
        derivation->findAndGetSequenceItem(DCM_SourceImageSequence, source, 0).good() && source) {
      frame.image.sopInstanceUid = getString(*source, DCM_ReferencedSOPInstanceUID);
      Sint32 f = 0;
      if (source->findAndGetSint32(DCM_ReferencedFrameNumber, f).good() && f > 0) frame.image.frame = static_cast<uint32_t>(f);
    }
    if (seg.fractional) frame.data.assign(pixels + i * frameBits, pixels + (i + 1) * frameBits);
    else frame.data = bits::extractBits(pixels, i * frameBits, frameBits);
    seg.frames.push_back(std::move(frame));
  }
  DcmSequenceOfItems* series = nullptr;
  if (ds.findAndGetSequence(DCM_ReferencedSeriesSequence, series).good() && series) {
    for (unsigned long i = 0; i < series->card(); ++i) out.referencedSeries.push_back(getString(*series->getItem(i), DCM_SeriesInstanceUID));
  }
  return out;
}

SegmentationContent readSegmentationFile(const std::string& path) {
  DcmFileFormat file;
  const OFCondition status = file.loadFile(path.c_str());
  if (status.bad()) throw SegmentationError({"cannot read '" + path + "': " + status.text()});
  return readSegmentation(*file.getDataset());
}

}  // namespace annot
