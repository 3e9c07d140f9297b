// Reading a TID 1500 SR (results from the PACS, AI pre-labels from elsewhere).
#include "FuzzSupport.h"
#include "sr/MeasurementReportReader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  DcmFileFormat file;
  if (!annot::fuzz::parsed(data, size, file)) return 0;
  try {
    annot::toJson(annot::readMeasurementReport(*file.getDataset()));
  } catch (const std::exception&) {
  }
  return 0;
}
