#include "dicom/AeTitle.h"

namespace annot {
bool isValidAeTitle(const std::string& aet) {
  if (aet.empty() || aet.size() > 16) return false;
  bool anyNonSpace = false;
  for (unsigned char c : aet) {
    if (c < 0x20 || c > 0x7e || c == '\\') return false;
    if (c != ' ') anyNonSpace = true;
  }
  return anyNonSpace;
}
}  // namespace annot
