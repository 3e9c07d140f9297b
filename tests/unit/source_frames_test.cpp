// Frames are referenced by number for multi-frame SOP classes only, whatever Number of Frames
// says; objects without a picture are refused with the reason.
#include <gtest/gtest.h>

#include "dicom/SopClasses.h"
#include "dicom/SourceImages.h"

using namespace annot;

namespace {
SourceImage imageOf(const std::string& sopClass, uint32_t frames, bool multiFrame) {
  SourceImage img;
  img.sopClassUid = sopClass;
  img.sopInstanceUid = "1.2.3.4";
  img.rows = img.columns = 8;
  img.frames = frames;
  img.multiFrame = multiFrame;
  return img;
}
const char* kSecondaryCapture = "1.2.840.10008.5.1.4.1.1.7";
const char* kXa = "1.2.840.10008.5.1.4.1.1.12.1";
}  // namespace

TEST(SopClasses, MultiFrameIsDecidedByClass) {
  EXPECT_TRUE(isMultiFrameSopClass(kXa));
  EXPECT_TRUE(isMultiFrameSopClass("1.2.840.10008.5.1.4.1.1.20"));   // NM
  EXPECT_TRUE(isMultiFrameSopClass("1.2.840.10008.5.1.4.1.1.2.1"));  // Enhanced CT
  EXPECT_TRUE(isMultiFrameSopClass("1.2.840.10008.5.1.4.1.1.3.1"));  // US Multi-frame
  EXPECT_FALSE(isMultiFrameSopClass(kSecondaryCapture));
  EXPECT_FALSE(isMultiFrameSopClass("1.2.840.10008.5.1.4.1.1.1.1"));  // DX
  EXPECT_FALSE(isMultiFrameSopClass("1.2.840.10008.5.1.4.1.1.6.1"));  // US
  EXPECT_FALSE(isMultiFrameSopClass("1.2.840.10008.5.1.4.1.1.2"));    // CT
}

TEST(SopClasses, NamesAreSpacedForPeople) {
  EXPECT_EQ(sopClassName("1.2.840.10008.5.1.4.1.1.481.2"), "RT Dose Storage");
  EXPECT_EQ(sopClassName("1.2.840.10008.5.1.4.1.1.2"), "CT Image Storage");
  EXPECT_EQ(sopClassName("1.2.3.4.5"), "1.2.3.4.5");
}

TEST(SourceFrames, ASingleFrameClassTakesFrameOneOrNoneAndKeepsNone) {
  const SourceImage sc = imageOf(kSecondaryCapture, 1, false);
  for (uint32_t given : {0u, 1u}) {
    uint32_t frame = given;
    EXPECT_EQ(resolveFrame(sc, frame), std::nullopt);
    EXPECT_EQ(frame, 0u) << "no Referenced Frame Number for a single-frame class";
  }
  uint32_t two = 2;
  EXPECT_EQ(resolveFrame(sc, two).value_or(""), "frame 2 is out of range (single-frame image)");
}

TEST(SourceFrames, AOneFrameMultiFrameImageImpliesFrameOne) {
  const SourceImage xa = imageOf(kXa, 1, true);
  uint32_t frame = 0;
  EXPECT_EQ(resolveFrame(xa, frame), std::nullopt);
  EXPECT_EQ(frame, 1u);
}

TEST(SourceFrames, SeveralFramesNeedANumberInRange) {
  const SourceImage cine = imageOf(kXa, 4, true);
  uint32_t none = 0, five = 5, three = 3;
  EXPECT_EQ(resolveFrame(cine, none).value_or(""), "image 1.2.3.4 is multi-frame (4 frames): give a frame number");
  EXPECT_EQ(resolveFrame(cine, five).value_or(""), "frame 5 is out of range (the image has 4 frames)");
  EXPECT_EQ(resolveFrame(cine, three), std::nullopt);
  EXPECT_EQ(three, 3u);
}

TEST(SourceFrames, ObjectsWithoutAPictureAreRefusedWithTheReason) {
  const auto dose = unlabelableReason(imageOf("1.2.840.10008.5.1.4.1.1.481.2", 10, true));
  ASSERT_TRUE(dose.has_value());
  EXPECT_NE(dose->find("RT Dose Storage"), std::string::npos) << *dose;
  EXPECT_NE(dose->find("dose grid"), std::string::npos) << *dose;
  const auto ecg = unlabelableReason(imageOf("1.2.840.10008.5.1.4.1.1.9.1.1", 1, false));
  ASSERT_TRUE(ecg.has_value());
  EXPECT_NE(ecg->find("waveform has no pixels"), std::string::npos) << *ecg;
  SourceImage blank = imageOf("1.2.840.10008.5.1.4.1.1.2", 1, false);
  blank.rows = 0;
  EXPECT_NE(unlabelableReason(blank).value_or("").find("no pixel matrix"), std::string::npos);
  EXPECT_EQ(unlabelableReason(imageOf(kXa, 2, true)), std::nullopt);
}
