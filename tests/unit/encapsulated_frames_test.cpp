// Which fragments make up each frame of encapsulated pixel data, for every way a file can say so.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcvrov.h>
#include <gtest/gtest.h>

#include "dicom/EncapsulatedFrames.h"
#include "support/DicomFixtures.h"

using namespace annot;

namespace {
const std::string kSoi("\xFF\xD8", 2);

// A dataset whose pixel data is `fragments` in `ts`, with `table` as its Basic Offset Table.
struct Encapsulated {
  DcmDataset dataset;
  Encapsulated(const std::vector<std::string>& fragments, const std::vector<Uint32>& table, E_TransferSyntax ts = EXS_JPEGProcess14SV1) {
    dataset.insert(annot::test::encapsulatedPixelData(fragments, table, ts));
  }
};

// Fragment values of even length, as DICOM keeps them.
std::string fragment(const std::string& head, char fill, size_t size) { return head + std::string(size - head.size(), fill); }
}  // namespace

TEST(EncapsulatedFrames, OneFragmentPerFrameWithoutATable) {
  Encapsulated e({fragment(kSoi, 'a', 10), fragment(kSoi, 'b', 12)}, {});
  const EncapsulatedFrames frames(e.dataset, EXS_JPEGProcess14SV1, 2);
  EXPECT_EQ(frames.frame(1), fragment(kSoi, 'a', 10));
  EXPECT_EQ(frames.frame(2), fragment(kSoi, 'b', 12));
  EXPECT_EQ(frames.firstFragment(2), 2u);
  EXPECT_THROW(frames.frame(3), EncapsulatedFramesError);
}

TEST(EncapsulatedFrames, TheBasicOffsetTableGroupsFragments) {
  // Frame 1: fragments 1-2 (8 + 10, 8 + 6 bytes), frame 2: fragment 3. The second fragment of
  // frame 1 starts with SOI bytes by chance: the table, not the markers, decides.
  Encapsulated e({fragment(kSoi, 'a', 10), fragment(kSoi, 'b', 6), fragment(kSoi, 'c', 4)}, {0, 32});
  const EncapsulatedFrames frames(e.dataset, EXS_JPEGProcess14SV1, 2);
  EXPECT_EQ(frames.frame(1), fragment(kSoi, 'a', 10) + fragment(kSoi, 'b', 6));
  EXPECT_EQ(frames.frame(2), fragment(kSoi, 'c', 4));
  EXPECT_EQ(frames.firstFragment(2), 3u);
}

TEST(EncapsulatedFrames, TheExtendedOffsetTableComesFirst) {
  Encapsulated e({fragment(kSoi, 'a', 10), fragment("xy", 'b', 6), fragment(kSoi, 'c', 4), fragment("zz", 'd', 2)}, {});
  const Uint64 extended[] = {0, 8 + 10 + 8 + 6};
  auto* table = new DcmOther64bitVeryLong(DCM_ExtendedOffsetTable);
  ASSERT_TRUE(table->putUint64Array(extended, 2).good());
  ASSERT_TRUE(e.dataset.insert(table).good());
  const EncapsulatedFrames frames(e.dataset, EXS_JPEGProcess14SV1, 2);
  EXPECT_EQ(frames.frame(1), fragment(kSoi, 'a', 10) + fragment("xy", 'b', 6));
  EXPECT_EQ(frames.frame(2), fragment(kSoi, 'c', 4) + fragment("zz", 'd', 2));
}

TEST(EncapsulatedFrames, WithoutATableJpegFramesStartAtTheirSoiMarker) {
  Encapsulated e({fragment(kSoi, 'a', 10), fragment("xy", 'b', 6), fragment(kSoi, 'c', 4), fragment("zz", 'd', 2), fragment("zz", 'e', 2)}, {});
  const EncapsulatedFrames frames(e.dataset, EXS_JPEGProcess14SV1, 2);
  EXPECT_EQ(frames.frame(2), fragment(kSoi, 'c', 4) + fragment("zz", 'd', 2) + fragment("zz", 'e', 2));
  // JPEG 2000 code streams open with SOC and SIZ instead.
  const std::string soc("\xFF\x4F\xFF\x51", 4);
  Encapsulated j2k({fragment(soc, 'a', 8), fragment("xy", 'b', 6), fragment(soc, 'c', 8)}, {}, EXS_JPEG2000LosslessOnly);
  EXPECT_EQ(EncapsulatedFrames(j2k.dataset, EXS_JPEG2000LosslessOnly, 2).frame(1), fragment(soc, 'a', 8) + fragment("xy", 'b', 6));
}

TEST(EncapsulatedFrames, FramesThatCannotBeToldApartAreRefused) {
  // RLE has no markers to go by, and a table pointing into a fragment is not believed.
  Encapsulated rle({fragment("ab", 'a', 10), fragment("cd", 'b', 6), fragment("ef", 'c', 4)}, {}, EXS_RLELossless);
  EXPECT_THROW(EncapsulatedFrames(rle.dataset, EXS_RLELossless, 2), EncapsulatedFramesError);
  Encapsulated inside({fragment("ab", 'a', 10), fragment("cd", 'b', 6), fragment("ef", 'c', 4)}, {0, 12}, EXS_RLELossless);
  EXPECT_THROW(EncapsulatedFrames(inside.dataset, EXS_RLELossless, 2), EncapsulatedFramesError);
  // Offsets that land on fragment starts but leave the first fragment out.
  Encapsulated shifted({fragment("ab", 'a', 10), fragment("cd", 'b', 6), fragment("ef", 'c', 4)}, {18, 32}, EXS_RLELossless);
  EXPECT_THROW(EncapsulatedFrames(shifted.dataset, EXS_RLELossless, 2), EncapsulatedFramesError);
  // More frames than fragments.
  Encapsulated few({fragment(kSoi, 'a', 10)}, {});
  EXPECT_THROW(EncapsulatedFrames(few.dataset, EXS_JPEGProcess14SV1, 2), EncapsulatedFramesError);
  // A single frame takes every fragment, whatever they start with.
  Encapsulated single({fragment("ab", 'a', 10), fragment("cd", 'b', 6)}, {}, EXS_RLELossless);
  EXPECT_EQ(EncapsulatedFrames(single.dataset, EXS_RLELossless, 1).frame(1), fragment("ab", 'a', 10) + fragment("cd", 'b', 6));
}
