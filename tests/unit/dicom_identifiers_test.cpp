#include <gtest/gtest.h>

#include "dicom/AeTitle.h"
#include "dicom/Uid.h"

TEST(Uid, AcceptsWellFormedUids) {
  EXPECT_TRUE(annot::isValidUid("1.2.840.10008.5.1.4.1.1.2"));
  EXPECT_TRUE(annot::isValidUid("2.25.329800735698586629295641978511506172918"));
  EXPECT_TRUE(annot::isValidUid(std::string(64, '1')));
}

TEST(Uid, RejectsAnythingThatCouldEscapeAPathOrBreakAQuery) {
  EXPECT_FALSE(annot::isValidUid(""));
  EXPECT_FALSE(annot::isValidUid("../../etc/passwd"));
  EXPECT_FALSE(annot::isValidUid("1.2/3"));
  EXPECT_FALSE(annot::isValidUid("1..2"));
  EXPECT_FALSE(annot::isValidUid(".1.2"));
  EXPECT_FALSE(annot::isValidUid("1.2."));
  EXPECT_FALSE(annot::isValidUid("1.2.3'; DROP TABLE studies;--"));
  EXPECT_FALSE(annot::isValidUid(std::string(65, '1')));
}

TEST(Uid, TrimsDicomPadding) {
  EXPECT_EQ(annot::trimUid(std::string("1.2.3\0", 6)), "1.2.3");
  EXPECT_EQ(annot::trimUid("1.2.3 "), "1.2.3");
}

TEST(AeTitle, FollowsTheAeValueRepresentation) {
  EXPECT_TRUE(annot::isValidAeTitle("ANNOTNODE"));
  EXPECT_TRUE(annot::isValidAeTitle("CT 1"));
  EXPECT_FALSE(annot::isValidAeTitle(""));
  EXPECT_FALSE(annot::isValidAeTitle("    "));
  EXPECT_FALSE(annot::isValidAeTitle("12345678901234567"));
  EXPECT_FALSE(annot::isValidAeTitle("BAD\\AE"));
  EXPECT_FALSE(annot::isValidAeTitle("TAB\tAE"));
}
