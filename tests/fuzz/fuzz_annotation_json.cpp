// The annotation document readers save (PUT /api/v1/tasks/{id}/annotation).
#include "FuzzSupport.h"
#include "annotation/AnnotationDocument.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    annot::parseAnnotationDocument(annot::fuzz::text(data, size));
  } catch (const std::exception&) {
  }
  return 0;
}
