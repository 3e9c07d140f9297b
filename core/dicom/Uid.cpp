#include "dicom/Uid.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

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

namespace {
// Decimal digits of a big-endian unsigned number.
std::string toDecimal(std::vector<unsigned char> bytes) {
  std::string digits;
  while (std::any_of(bytes.begin(), bytes.end(), [](unsigned char b) { return b != 0; })) {
    unsigned remainder = 0;
    for (auto& b : bytes) {
      const unsigned value = (remainder << 8) | b;
      b = static_cast<unsigned char>(value / 10);
      remainder = value % 10;
    }
    digits.insert(digits.begin(), static_cast<char>('0' + remainder));
  }
  return digits.empty() ? "0" : digits;
}
}  // namespace

std::string uidFromDigest(const std::string& digest) {
  if (digest.size() < 16) throw std::invalid_argument("a UID needs a digest of at least 16 bytes");
  std::vector<unsigned char> number(digest.begin(), digest.begin() + 16);
  number[0] &= 0x03;
  return "2.25." + toDecimal(number);
}

std::string trimUid(std::string uid) {
  while (!uid.empty() && (uid.back() == '\0' || uid.back() == ' ')) uid.pop_back();
  return uid;
}
}  // namespace annot
