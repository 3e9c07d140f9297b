#include <gtest/gtest.h>

#include <random>

#include "seg/BitPacking.h"
#include "seg/SegmentationWriter.h"

using namespace annot;

namespace {
// Independent reference: the DICOM rule written out bit by bit (PS3.5 8.1.1: the first pixel
// is the least significant bit of the first byte; frames follow each other without padding).
std::vector<uint8_t> referencePack(const std::vector<std::vector<bool>>& frames) {
  size_t total = 0;
  for (const auto& f : frames) total += f.size();
  std::vector<uint8_t> out((total + 7) / 8 + (((total + 7) / 8) & 1), 0);
  size_t bit = 0;
  for (const auto& f : frames) {
    for (bool v : f) {
      if (v) out[bit / 8] = static_cast<uint8_t>(out[bit / 8] | (1 << (bit % 8)));
      ++bit;
    }
  }
  return out;
}

std::vector<uint8_t> packFrame(const std::vector<bool>& pixels) {
  std::vector<uint8_t> out((pixels.size() + 7) / 8, 0);
  for (size_t i = 0; i < pixels.size(); ++i) {
    if (pixels[i]) bits::set(out.data(), i);
  }
  return out;
}
}  // namespace

TEST(BitPacking, FramesAreBitContiguousForOddAndEvenSizes) {
  std::mt19937 random(7);
  for (const auto& [rows, columns] : std::vector<std::pair<int, int>>{{8, 8}, {3, 5}, {29, 31}, {1, 1}, {7, 9}, {512, 512}}) {
    SCOPED_TRACE(std::to_string(rows) + "x" + std::to_string(columns));
    const size_t n = static_cast<size_t>(rows) * columns;
    std::vector<std::vector<bool>> frames(5, std::vector<bool>(n));
    for (auto& f : frames) {
      for (size_t i = 0; i < n; ++i) f[i] = random() % 3 == 0;
    }
    std::vector<uint8_t> packed(bits::packedLength(n * frames.size()), 0);
    for (size_t k = 0; k < frames.size(); ++k) bits::appendBits(packed.data(), k * n, packFrame(frames[k]).data(), n);
    EXPECT_EQ(packed, referencePack(frames));
    EXPECT_EQ(packed.size() % 2, 0u) << "Pixel Data has even length";
    for (size_t k = 0; k < frames.size(); ++k) {
      const std::vector<uint8_t> back = bits::extractBits(packed.data(), k * n, n);
      EXPECT_EQ(back, packFrame(frames[k])) << "frame " << k;
      size_t set = 0;
      for (bool v : frames[k]) set += v;
      EXPECT_EQ(bits::countSetBits(back.data(), n), set);
    }
  }
}

TEST(SegmentColour, SrgbMapsToDicomCielab) {
  const auto white = rgbToDicomLab({255, 255, 255});
  EXPECT_NEAR(white[0], 65535, 2);
  EXPECT_NEAR(white[1], 32896, 100);  // a* = 0 scaled over -128..127
  EXPECT_NEAR(white[2], 32896, 100);
  const auto black = rgbToDicomLab({0, 0, 0});
  EXPECT_EQ(black[0], 0);
  const auto red = rgbToDicomLab({255, 0, 0});
  EXPECT_GT(red[1], 50000) << "red has a large positive a*";
}
