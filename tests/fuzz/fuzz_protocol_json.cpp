// A labeling protocol (files in sr-templates/protocols, loaded at start).
#include "FuzzSupport.h"
#include "protocol/Protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json doc = nlohmann::json::parse(annot::fuzz::text(data, size), nullptr, false);
  if (doc.is_discarded()) return 0;
  try {
    annot::parseProtocol(doc, "fuzz input");
  } catch (const std::exception&) {
  }
  return 0;
}
