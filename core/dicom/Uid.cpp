#include "dicom/Uid.h"

namespace annot {
bool isValidUid(const std::string& uid) {
  if (uid.empty() || uid.size() > 64) return false;
  bool lastWasDot = true;  // forbids a leading dot
  for (char c : uid) {
    if (c == '.') {
      if (lastWasDot) return false;
      lastWasDot = true;
    } else if (c >= '0' && c <= '9') {
      lastWasDot = false;
    } else {
      return false;
    }
  }
  return !lastWasDot;
}

std::string trimUid(std::string uid) {
  while (!uid.empty() && (uid.back() == '\0' || uid.back() == ' ')) uid.pop_back();
  return uid;
}
}  // namespace annot
