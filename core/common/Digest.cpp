#include "common/Digest.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace annot {

std::string toHex(const unsigned char* data, size_t size) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 15]);
  }
  return out;
}

std::string sha256(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 digest failed");
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string sha256Hex(const std::string& data) {
  const std::string digest = sha256(data);
  return toHex(reinterpret_cast<const unsigned char*>(digest.data()), digest.size());
}

}  // namespace annot
