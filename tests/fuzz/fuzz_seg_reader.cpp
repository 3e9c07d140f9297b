// Reading a DICOM Segmentation, its frames unpacked.
#include "FuzzSupport.h"
#include "seg/SegmentationReader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  DcmFileFormat file;
  if (!annot::fuzz::parsed(data, size, file)) return 0;
  try {
    const annot::SegmentationContent seg = annot::readSegmentation(*file.getDataset());
    annot::describe(seg.segmentation, true);
  } catch (const std::exception&) {
  }
  return 0;
}
