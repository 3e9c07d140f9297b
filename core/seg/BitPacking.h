#pragma once
// DICOM 1-bit pixel packing (PS3.5 8.1.1 and 8.2): pixels are bit-contiguous across frames,
// least significant bit first; frames are NOT padded to byte boundaries. DCMTK 3.6.7's dcmseg
// gets this wrong when Rows x Columns is not a multiple of 8, so the product packs itself.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace annot::bits {

// Bytes for `bitCount` bits, padded to an even length as Pixel Data requires.
inline size_t packedLength(uint64_t bitCount) {
  size_t bytes = static_cast<size_t>((bitCount + 7) / 8);
  return bytes + (bytes & 1);
}

inline bool get(const uint8_t* packed, uint64_t bit) { return (packed[bit >> 3] >> (bit & 7)) & 1; }
inline void set(uint8_t* packed, uint64_t bit) { packed[bit >> 3] |= static_cast<uint8_t>(1u << (bit & 7)); }

// Copies `count` bits from `src` (starting at bit 0) to `dst` starting at bit `dstOffset`.
// `dst` must be zero where the bits land. Byte-aligned offsets take the memcpy path.
void appendBits(uint8_t* dst, uint64_t dstOffset, const uint8_t* src, uint64_t count);
// The reverse: `count` bits of `src` from bit `srcOffset` into a fresh buffer at bit 0.
std::vector<uint8_t> extractBits(const uint8_t* src, uint64_t srcOffset, uint64_t count);
uint64_t countSetBits(const uint8_t* packed, uint64_t count);

}  // namespace annot::bits
