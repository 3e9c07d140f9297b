// The Accept header of WADO-RS requests.
#include "FuzzSupport.h"
#include "dicomweb/MediaRanges.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string header = annot::fuzz::text(data, size);
  try {
    annot::dicomweb::parseAccept(header);
    annot::dicomweb::accepts(header, "application/dicom");
    annot::dicomweb::accepts(header, "multipart/related; type=\"application/octet-stream\"");
  } catch (const std::exception&) {
  }
  return 0;
}
