// Segment descriptions and mask runs (make-seg's JSON, the annotation's segmentation part).
#include "FuzzSupport.h"
#include "seg/Segmentation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json doc = nlohmann::json::parse(annot::fuzz::text(data, size), nullptr, false);
  if (doc.is_discarded()) return 0;
  try {
    annot::parseSegmentation(doc, annot::SourceImageSet{}, /*masksRequired=*/false);
  } catch (const std::exception&) {
  }
  return 0;
}
