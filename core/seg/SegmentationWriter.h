#pragma once
// Segmentation → DICOM Segmentation Storage object (1.2.840.10008.5.1.4.1.1.66.4), BINARY or
// FRACTIONAL, in the source images' study and geometry. Written directly with dcmdata: DCMTK
// 3.6.7's dcmseg packs BINARY frames wrongly for odd frame sizes and spends more than a second
// per thousand 512x512 frames, so the per-frame functional groups and the bit packing are ours.
#include <string>

#include "seg/Segmentation.h"

class DcmFileFormat;

namespace annot {

struct SegWriteOptions {
  bool keepEmptyFrames = false;  // viewers choke on huge SEGs; empty frames carry no information
  std::string seriesInstanceUid;  // empty: a new series
  std::string instanceNumber = "1";
};

struct SegWriteResult {
  std::string sopInstanceUid;
  std::string seriesInstanceUid;
  std::string studyInstanceUid;
  size_t frames = 0;
};

// Throws SegmentationError when the masks cannot be displayed correctly (geometry mixes,
// unknown images, size mismatches, segments without codes).
// Frame masks are consumed: each is released once copied into Pixel Data, so peak memory stays
// close to the size of the output.
SegWriteResult writeSegmentation(Segmentation seg, const SourceImageSet& images, const SegWriteOptions& options,
                                 DcmFileFormat& out);
SegWriteResult writeSegmentationFile(Segmentation seg, const SourceImageSet& images, const SegWriteOptions& options,
                                     const std::string& path);

// sRGB (0-255) to DICOM scaled CIELab (PS3.3 C.10.7.1.1), as RecommendedDisplayCIELabValue.
std::array<uint16_t, 3> rgbToDicomLab(const std::array<uint8_t, 3>& rgb);

}  // namespace annot
