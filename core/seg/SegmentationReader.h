#pragma once
// DICOM Segmentation → segments and per-frame masks mapped back to their source images, for
// our SEGs and other writers' (dcmjs, highdicom, dcmqi). Bits are unpacked by the product (the
// DCMTK 3.6.7 reader has the same odd-size packing fault as its writer).
#include <string>

#include "seg/Segmentation.h"

class DcmDataset;

namespace annot {

struct SegmentationContent {
  Segmentation segmentation;
  std::string sopInstanceUid;
  std::string seriesInstanceUid;
  std::string studyInstanceUid;
  std::string frameOfReferenceUid;
  std::vector<std::string> referencedSeries;
};

SegmentationContent readSegmentation(DcmDataset& dataset);
SegmentationContent readSegmentationFile(const std::string& path);

}  // namespace annot
