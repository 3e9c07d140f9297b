// Finding the frames of encapsulated pixel data (WADO-RS frames in their stored compression).
#include "FuzzSupport.h"
#include "dicom/EncapsulatedFrames.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  DcmFileFormat file;
  if (!annot::fuzz::parsed(data, size, file)) return 0;
  DcmDataset& ds = *file.getDataset();
  Sint32 frames = 1;
  ds.findAndGetSint32(DCM_NumberOfFrames, frames);
  if (frames < 1 || frames > 4096) return 0;
  try {
    annot::EncapsulatedFrames found(ds, ds.getOriginalXfer(), static_cast<unsigned>(frames));
    for (unsigned f = 1; f <= found.frameCount(); ++f) found.frame(f);
  } catch (const std::exception&) {
  }
  return 0;
}
