// The header reader every received instance goes through (C-STORE and STOW-RS), on bytes cut
// into pieces as they arrive from the network.
#include <string_view>
#include <vector>

#include "FuzzSupport.h"
#include "dicom/InstanceHeader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes = annot::fuzz::text(data, size);
  std::vector<std::string_view> pieces;
  // Pieces of varying size, as PDVs split a dataset.
  for (size_t at = 0, n = 1; at < bytes.size(); at += n, n = n * 3 % 4093 + 1) pieces.emplace_back(bytes.data() + at, std::min(n, bytes.size() - at));
  try {
    annot::readInstanceHeader(pieces);
  } catch (const std::exception&) {
  }
  return 0;
}
