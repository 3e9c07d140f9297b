#pragma once
#include <string>

namespace annot {
// The SHA-256 of `data`: 32 raw bytes.
std::string sha256(const std::string& data);
// Lower-case hex of the SHA-256 of `data`.
std::string sha256Hex(const std::string& data);
// Lower-case hex of raw bytes.
std::string toHex(const unsigned char* data, size_t size);
}  // namespace annot
