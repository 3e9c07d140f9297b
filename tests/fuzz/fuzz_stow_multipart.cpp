// A STOW-RS body: the first line is the boundary, the rest the multipart/related body.
#include "FuzzSupport.h"
#include "dicomweb/Multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input = annot::fuzz::text(data, size);
  const size_t newline = input.find('\n');
  if (newline == std::string::npos) return 0;
  try {
    annot::dicomweb::contentTypeParameter("multipart/related; type=\"application/dicom\"; boundary=" + input.substr(0, newline), "boundary");
    annot::dicomweb::parseMultipart(input.substr(newline + 1), input.substr(0, newline));
  } catch (const std::exception&) {
  }
  return 0;
}
