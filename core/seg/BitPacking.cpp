#include "seg/BitPacking.h"

#include <cstring>

namespace annot::bits {

void appendBits(uint8_t* dst, uint64_t dstOffset, const uint8_t* src, uint64_t count) {
  if (count == 0) return;
  const unsigned shift = static_cast<unsigned>(dstOffset & 7);
  uint8_t* out = dst + (dstOffset >> 3);
  const uint64_t fullBytes = count >> 3;
  const unsigned tail = static_cast<unsigned>(count & 7);
  if (shift == 0) {
    std::memcpy(out, src, static_cast<size_t>(fullBytes));
    if (tail) out[fullBytes] |= static_cast<uint8_t>(src[fullBytes] & ((1u << tail) - 1));
    return;
  }
  // Each source byte straddles two destination bytes.
  for (uint64_t i = 0; i < fullBytes; ++i) {
    const unsigned v = src[i];
    out[i] |= static_cast<uint8_t>(v << shift);
    out[i + 1] |= static_cast<uint8_t>(v >> (8 - shift));
  }
  if (tail) {
    const unsigned v = src[fullBytes] & ((1u << tail) - 1);
    out[fullBytes] |= static_cast<uint8_t>(v << shift);
    if (shift + tail > 8) out[fullBytes + 1] |= static_cast<uint8_t>(v >> (8 - shift));
  }
}

std::vector<uint8_t> extractBits(const uint8_t* src, uint64_t srcOffset, uint64_t count) {
  std::vector<uint8_t> out(static_cast<size_t>((count + 7) / 8), 0);
  const unsigned shift = static_cast<unsigned>(srcOffset & 7);
  const uint8_t* in = src + (srcOffset >> 3);
  const uint64_t bytes = out.size();
  if (bytes == 0) return out;
  if (shift == 0) {
    std::memcpy(out.data(), in, static_cast<size_t>(bytes));
  } else {
    for (uint64_t i = 0; i < bytes; ++i) {
      unsigned v = in[i] >> shift;
      // The last output byte may not need the next input byte (it could be past the end).
      if ((i * 8 + (8 - shift)) < count) v |= static_cast<unsigned>(in[i + 1]) << (8 - shift);
      out[i] = static_cast<uint8_t>(v);
    }
  }
  if (count & 7) out.back() &= static_cast<uint8_t>((1u << (count & 7)) - 1);
  return out;
}

uint64_t countSetBits(const uint8_t* packed, uint64_t count) {
  uint64_t n = 0;
  const uint64_t bytes = count >> 3;
  for (uint64_t i = 0; i < bytes; ++i) n += static_cast<uint64_t>(__builtin_popcount(packed[i]));
  for (uint64_t b = bytes * 8; b < count; ++b) n += get(packed, b);
  return n;
}

}  // namespace annot::bits
