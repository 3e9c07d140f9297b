// DICOM Segmentation end to end: masks → SEG (library and make-seg) → dciodvfy → read back by
// our reader, by an independent bit-by-bit unpacker, and by dcmjs under Node (OHIF's decoder).
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "NodeHarness.h"
#include "Validators.h"
#include "common/Digest.h"
#include "seg/BitPacking.h"
#include "seg/SegmentationReader.h"
#include "seg/SegmentationWriter.h"

using namespace annot;
using namespace annot::test;
using nlohmann::json;

namespace {

json code(const char* value, const char* scheme, const char* meaning) {
  return {{"code", value}, {"scheme", scheme}, {"meaning", meaning}};
}

json segments(size_t count) {
  json list = json::array();
  for (size_t i = 0; i < count; ++i) {
    json s = {{"label", "Structure " + std::to_string(i + 1)},
              {"category", code("123037004", "SCT", "Anatomical Structure")},
              {"type", code("10200004", "SCT", "Liver")},
              {"color", {static_cast<int>(40 * i % 256), 128, 200}}};
    if (i % 2) {
      s["algorithm"] = {{"type", "AUTOMATIC"}, {"name", "SegNet"}, {"version", "2.1"},
                        {"family", code("123110", "DCM", "Artificial Intelligence")}};
    }
    list.push_back(s);
  }
  return list;
}

struct Case {
  TempDir dir;
  SourceImageSet images;
  std::vector<ImageRef> frames;  // in slice order
};

// A series of `slices` single-frame CT images, or one Enhanced CT with that many frames.
std::unique_ptr<Case> makeCase(unsigned rows, unsigned columns, unsigned slices, bool enhanced) {
  auto c = std::make_unique<Case>();
  std::vector<std::string> args{"--slices", std::to_string(slices), "--rows", std::to_string(rows), "--columns", std::to_string(columns)};
  if (enhanced) args.push_back("--enhanced");
  generateStudy(c->dir / "images", args);
  c->images = SourceImageSet::load({c->dir / "images"});
  c->frames = framesInSliceOrder(c->images);
  return c;
}

// Random masks: every segment on every frame, some frames left empty.
Segmentation randomSegmentation(const Case& c, size_t segmentCount, bool fractional, unsigned seed) {
  Segmentation seg = parseSegmentation({{"segments", segments(segmentCount)}, {"type", fractional ? "FRACTIONAL" : "BINARY"}},
                                       c.images, /*masksRequired=*/false);
  const SourceImage& first = *c.images.find(c.frames[0].sopInstanceUid);
  seg.rows = first.rows;
  seg.columns = first.columns;
  const size_t pixels = static_cast<size_t>(seg.rows) * seg.columns;
  std::mt19937 random(seed);
  for (size_t s = 0; s < segmentCount; ++s) {
    for (size_t f = 0; f < c.frames.size(); ++f) {
      SegmentFrame frame;
      frame.segment = static_cast<uint16_t>(s + 1);
      frame.image = c.frames[f];
      const bool empty = (s + f) % 3 == 2;
      if (fractional) {
        frame.data.assign(pixels, 0);
        if (!empty) for (auto& v : frame.data) v = random() % 4 ? 0 : static_cast<uint8_t>(random() % 256);
      } else {
        frame.data.assign((pixels + 7) / 8, 0);
        if (!empty) for (size_t p = 0; p < pixels; ++p) if (random() % 5 == 0) bits::set(frame.data.data(), p);
      }
      seg.frames.push_back(std::move(frame));
    }
  }
  return seg;
}

bool isEmpty(const Segmentation& seg, const SegmentFrame& f) {
  for (size_t i = 0; i < f.data.size(); ++i) {
    if (f.data[i]) return false;
  }
  (void)seg;
  return true;
}

// Every non-empty input mask comes back bit for bit on the same source frame and segment.
void expectSameMasks(const Segmentation& written, const Segmentation& read, bool keepEmpty) {
  std::map<std::tuple<uint16_t, std::string, uint32_t>, const SegmentFrame*> byKey;
  for (const auto& f : read.frames) byKey[{f.segment, f.image.sopInstanceUid, f.image.frame}] = &f;
  size_t expected = 0;
  for (const auto& f : written.frames) {
    const bool empty = isEmpty(written, f);
    if (empty && !keepEmpty) {
      EXPECT_FALSE(byKey.count({f.segment, f.image.sopInstanceUid, f.image.frame})) << "empty frame stored";
      continue;
    }
    ++expected;
    const auto it = byKey.find({f.segment, f.image.sopInstanceUid, f.image.frame});
    ASSERT_NE(it, byKey.end()) << "segment " << f.segment << " on " << f.image.sopInstanceUid << " frame " << f.image.frame;
    EXPECT_EQ(it->second->data, f.data) << "segment " << f.segment << " on " << f.image.sopInstanceUid;
  }
  EXPECT_EQ(read.frames.size(), expected);
}

// Decodes Pixel Data straight from the file with the DICOM rule written out bit by bit, and
// compares each stored frame's pixels with what our reader returned for it.
void expectIndependentUnpackingAgrees(const std::string& path, const Segmentation& read) {
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile(path.c_str()).good());
  const Uint8* pixels = nullptr;
  unsigned long length = 0;
  ASSERT_TRUE(file.getDataset()->findAndGetUint8Array(DCM_PixelData, pixels, &length).good());
  EXPECT_EQ(length % 2, 0u);
  const size_t perFrame = static_cast<size_t>(read.rows) * read.columns;
  for (size_t k = 0; k < read.frames.size(); ++k) {
    for (size_t p = 0; p < perFrame; ++p) {
      const size_t bit = k * perFrame + p;
      const bool fromFile = (pixels[bit / 8] >> (bit % 8)) & 1;
      const bool fromReader = (read.frames[k].data[p / 8] >> (p % 8)) & 1;
      if (fromFile != fromReader) {
        ADD_FAILURE() << "frame " << k << " pixel " << p << " differs";
        return;
      }
    }
  }
}

void expectValidSeg(const std::string& path) {
  EXPECT_TRUE(passesDciodvfy(path, "Segmentation"));
}

json dcmjsDecode(const std::string& path) {
  const CommandResult r = runCommand({"node", std::string(ANNOT_COMPAT_DIR) + "/read-seg.mjs", path});
  EXPECT_EQ(r.exitCode, 0) << r.output;
  return json::parse(r.output.substr(r.output.find('{')));
}

std::string attribute(const std::string& path, const DcmTagKey& tag) {
  DcmFileFormat file;
  EXPECT_TRUE(file.loadFile(path.c_str()).good());
  OFString v;
  file.getDataset()->findAndGetOFStringArray(tag, v);
  return v.c_str();
}
}  // namespace

class SegRoundTrip : public ::testing::TestWithParam<std::tuple<unsigned, unsigned, bool, bool, size_t>> {};

// rows, columns, enhanced (multi-frame source), fractional, segments
INSTANTIATE_TEST_SUITE_P(Sizes, SegRoundTrip,
                         ::testing::Values(std::make_tuple(64u, 64u, false, false, 1u), std::make_tuple(29u, 31u, false, false, 3u),
                                           std::make_tuple(29u, 31u, true, false, 2u), std::make_tuple(48u, 48u, true, false, 12u),
                                           std::make_tuple(29u, 31u, false, true, 2u), std::make_tuple(64u, 64u, true, true, 1u)));

TEST_P(SegRoundTrip, MasksComeBackBitExactAndTheObjectValidates) {
  const auto [rows, columns, enhanced, fractional, segmentCount] = GetParam();
  auto c = makeCase(rows, columns, 4, enhanced);
  const Segmentation seg = randomSegmentation(*c, segmentCount, fractional, rows * 31 + columns);
  const std::string path = c->dir / "seg.dcm";
  const SegWriteResult written = writeSegmentationFile(seg, c->images, SegWriteOptions{}, path);
  expectValidSeg(path);

  const SegmentationContent read = readSegmentationFile(path);
  EXPECT_EQ(read.segmentation.fractional, fractional);
  ASSERT_EQ(read.segmentation.segments.size(), segmentCount);
  for (size_t i = 0; i < segmentCount; ++i) {
    EXPECT_EQ(read.segmentation.segments[i].label, seg.segments[i].label);
    EXPECT_TRUE(read.segmentation.segments[i].type.sameConcept(seg.segments[i].type));
    EXPECT_EQ(read.segmentation.segments[i].algorithm, seg.segments[i].algorithm);
    EXPECT_EQ(read.segmentation.segments[i].algorithmName, seg.segments[i].algorithmName);
    EXPECT_EQ(read.segmentation.segments[i].algorithmVersion, i % 2 ? "2.1" : "");
    EXPECT_EQ(read.segmentation.segments[i].algorithmFamily.has_value(), i % 2 == 1);
    if (i % 2) {
      EXPECT_EQ(read.segmentation.segments[i].algorithmFamily->value, "123110");
    }
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(read.segmentation.segments[i].color[k], seg.segments[i].color[k], 1) << "colour via CIELab";
  }
  expectSameMasks(seg, read.segmentation, false);
  EXPECT_EQ(read.segmentation.frames.size(), written.frames);
  if (!fractional) expectIndependentUnpackingAgrees(path, read.segmentation);
  EXPECT_EQ(read.studyInstanceUid, c->images.all().front().studyInstanceUid);
  EXPECT_EQ(read.frameOfReferenceUid, c->images.all().front().frameOfReferenceUid);
  for (const auto& f : read.segmentation.frames) {
    if (enhanced) EXPECT_GE(f.image.frame, 1u) << "multi-frame sources are referenced by frame number";
    else EXPECT_EQ(f.image.frame, 0u);
  }

  // OHIF's decoder (dcmjs) sees the same frames on the same source images.
  const json decoded = dcmjsDecode(path);
  EXPECT_EQ(decoded["sopClassUid"], "1.2.840.10008.5.1.4.1.1.66.4");
  EXPECT_EQ(decoded["frames"], read.segmentation.frames.size());
  EXPECT_EQ(decoded["segments"].size(), segmentCount);
  for (size_t i = 0; i < segmentCount && i < decoded["segments"].size(); ++i) {
    const json& theirs = decoded["segments"][i];
    EXPECT_EQ(theirs["algorithmType"], i % 2 ? "AUTOMATIC" : "MANUAL");
    EXPECT_EQ(theirs["algorithmFamily"], i % 2 ? json("123110") : json(nullptr)) << theirs;
    EXPECT_EQ(theirs["algorithmVersion"], i % 2 ? json("2.1") : json(nullptr)) << theirs;
  }
  // The source series is referenced (OHIF shows nothing without it).
  EXPECT_EQ(decoded["referencedSeries"], json::array({c->images.all().front().seriesInstanceUid}));
  ASSERT_EQ(decoded["frameData"].size(), read.segmentation.frames.size());
  for (size_t k = 0; k < read.segmentation.frames.size(); ++k) {
    const auto& ours = read.segmentation.frames[k];
    const json& theirs = decoded["frameData"][k];
    EXPECT_EQ(theirs["segment"], ours.segment);
    EXPECT_EQ(theirs["sopInstanceUid"], ours.image.sopInstanceUid);
    EXPECT_EQ(theirs["frame"], ours.image.frame);
    // Pixel for pixel: dcmjs's decoding (its own bit unpacking, or the raw FRACTIONAL bytes)
    // against what was written, as 0/1 per pixel (BINARY) or the stored values (FRACTIONAL).
    const uint64_t pixels = static_cast<uint64_t>(rows) * columns;
    std::string values(pixels, '\0');
    const SegmentFrame& written = *std::find_if(seg.frames.begin(), seg.frames.end(), [&](const SegmentFrame& f) {
      return f.segment == ours.segment && f.image.sopInstanceUid == ours.image.sopInstanceUid && f.image.frame == ours.image.frame;
    });
    for (uint64_t p = 0; p < pixels; ++p) values[p] = static_cast<char>(fractional ? written.data[p] : bits::get(written.data.data(), p));
    EXPECT_EQ(theirs["sha256"], sha256Hex(values)) << "frame " << k;
  }
}

TEST(Segmentation, KeepsEmptyFramesOnRequest) {
  auto c = makeCase(29, 31, 3, false);
  const Segmentation seg = randomSegmentation(*c, 2, false, 5);
  SegWriteOptions keep;
  keep.keepEmptyFrames = true;
  writeSegmentationFile(seg, c->images, keep, c->dir / "all.dcm");
  expectValidSeg(c->dir / "all.dcm");
  const SegmentationContent read = readSegmentationFile(c->dir / "all.dcm");
  EXPECT_EQ(read.segmentation.frames.size(), seg.frames.size());
  expectSameMasks(seg, read.segmentation, true);
}

TEST(Segmentation, CopiesPatientAndStudyAndReferencesTheSourceSeries) {
  auto c = makeCase(32, 32, 2, false);
  const Segmentation seg = randomSegmentation(*c, 1, false, 9);
  writeSegmentationFile(seg, c->images, SegWriteOptions{}, c->dir / "seg.dcm");
  const std::string source = c->images.all().front().path;
  for (const DcmTagKey& tag : {DCM_PatientName, DCM_PatientID, DCM_PatientBirthDate, DCM_PatientSex, DCM_StudyInstanceUID,
                               DCM_StudyDate, DCM_AccessionNumber, DCM_FrameOfReferenceUID}) {
    EXPECT_EQ(attribute(c->dir / "seg.dcm", tag), attribute(source, tag)) << DcmTag(tag).getTagName();
  }
  EXPECT_EQ(attribute(c->dir / "seg.dcm", DCM_Modality), "SEG");
  EXPECT_NE(attribute(c->dir / "seg.dcm", DCM_SeriesInstanceUID), attribute(source, DCM_SeriesInstanceUID));
}

TEST(Segmentation, CommandLineTakesRunsOrAPackedVolumeAndReadsBack) {
  auto c = makeCase(29, 31, 3, false);
  const size_t pixels = 29 * 31;
  // A packed volume: 2 segments x 3 frames in slice order, bit-contiguous.
  std::vector<uint8_t> volume(bits::packedLength(pixels * 6), 0);
  std::mt19937 random(3);
  for (size_t b = 0; b < pixels * 6; ++b) {
    if (random() % 4 == 0) bits::set(volume.data(), b);
  }
  writeFile(c->dir / "volume.bin", std::string(volume.begin(), volume.end()));
  writeFile(c->dir / "segments.json", json{{"segments", segments(2)}}.dump());
  const CommandResult made = runCommand({nodeBinary(), "make-seg", "--segments", c->dir / "segments.json", "--images", c->dir / "images",
                                         "--volume", c->dir / "volume.bin", "--volume-shape", "31,29,3", "--out", c->dir / "seg.dcm"});
  ASSERT_EQ(made.exitCode, 0) << made.output;
  expectValidSeg(c->dir / "seg.dcm");
  const CommandResult read = runCommand({nodeBinary(), "read-seg", c->dir / "seg.dcm", "--volume", c->dir / "out.bin"});
  ASSERT_EQ(read.exitCode, 0) << read.output;
  const json summary = json::parse(read.output);
  EXPECT_EQ(summary["frameCount"], 6);
  EXPECT_EQ(summary["segments"][1]["algorithm"]["name"], "SegNet");
  EXPECT_EQ(summary["segments"][1]["algorithm"]["version"], "2.1");
  EXPECT_EQ(summary["segments"][1]["algorithm"]["family"]["code"], "123110");
  EXPECT_FALSE(summary["segments"][0]["algorithm"].contains("family"));
  // Frames are stored segment by segment in slice order: the volume comes back identical.
  const std::string back = readFile(c->dir / "out.bin");
  EXPECT_EQ(back, std::string(volume.begin(), volume.end()));

  // Runs in JSON through the command line, and back as runs.
  const json runs = {{"segments", segments(1)},
                     {"masks", {{{"segment", 1}, {"image", {{"sopInstanceUid", c->frames[1].sopInstanceUid}}}, {"runs", {{0, 3}, {100, 50}, {898, 1}}}}}}};
  writeFile(c->dir / "runs.json", runs.dump());
  ASSERT_EQ(runCommand({nodeBinary(), "make-seg", "--segments", c->dir / "runs.json", "--images", c->dir / "images", "--out",
                        c->dir / "runs.dcm"}).exitCode, 0);
  const json again = json::parse(runCommand({nodeBinary(), "read-seg", c->dir / "runs.dcm", "--runs"}).output);
  EXPECT_EQ(again["masks"][0]["runs"], json({{0, 3}, {100, 50}, {898, 1}}));
  EXPECT_EQ(again["masks"][0]["image"]["sopInstanceUid"], c->frames[1].sopInstanceUid);
}

TEST(Segmentation, RefusesWhatCannotBeDisplayedCorrectly) {
  auto c = makeCase(32, 32, 2, false);
  auto other = makeCase(32, 32, 1, false);  // another frame of reference
  auto problemsOf = [&](const Segmentation& seg, const SourceImageSet& images) {
    try {
      DcmFileFormat file;
      writeSegmentation(seg, images, SegWriteOptions{}, file);
    } catch (const SegmentationError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  SourceImageSet mixed = c->images;
  for (const auto& img : other->images.all()) mixed.add(img);
  Segmentation seg = randomSegmentation(*c, 1, false, 1);
  SegmentFrame foreign = seg.frames.front();
  foreign.image = {other->images.all().front().sopInstanceUid, 0};
  seg.frames.push_back(foreign);
  EXPECT_NE(problemsOf(seg, mixed).find("another frame of reference"), std::string::npos);

  Segmentation codeless = randomSegmentation(*c, 1, false, 1);
  codeless.segments[0].type = {};
  EXPECT_NE(problemsOf(codeless, c->images).find("category and type codes are required"), std::string::npos);

  Segmentation empty = randomSegmentation(*c, 1, false, 1);
  for (auto& f : empty.frames) std::fill(f.data.begin(), f.data.end(), 0);
  EXPECT_NE(problemsOf(empty, c->images).find("every mask is empty"), std::string::npos);

  // JSON-level refusals name the mask.
  auto parseProblems = [&](const json& doc) {
    try {
      parseSegmentation(doc, c->images);
    } catch (const SegmentationError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string uid = c->frames[0].sopInstanceUid;
  EXPECT_NE(parseProblems({{"segments", segments(1)}, {"masks", {{{"segment", 1}, {"image", {{"sopInstanceUid", "1.2.3"}}}, {"runs", json::array()}}}}})
                .find("masks[0].image: SOP Instance UID 1.2.3 is not among the referenced images"),
            std::string::npos);
  json pastTheEnd = {{"segment", 1}, {"image", {{"sopInstanceUid", uid}}}};
  pastTheEnd["runs"] = json::array({json::array({1000, 100})});
  const std::string tooLong = parseProblems({{"segments", segments(1)}, {"masks", json::array({pastTheEnd})}});
  EXPECT_NE(tooLong.find("goes past the 1024 pixels of the frame"), std::string::npos) << tooLong;
  EXPECT_NE(parseProblems({{"segments", segments(1)}, {"masks", {{{"segment", 2}, {"image", {{"sopInstanceUid", uid}}}, {"runs", json::array()}}}}})
                .find("masks[0].segment: must be a segment number from 1 to 1"),
            std::string::npos);
  json noCodes = segments(1);
  noCodes[0].erase("category");
  EXPECT_NE(parseProblems({{"segments", noCodes}, {"masks", json::array()}}).find("segments[0]: 'category' is required"), std::string::npos);
  json automatic = segments(1);
  automatic[0]["algorithm"] = {{"type", "AUTOMATIC"}};
  EXPECT_NE(parseProblems({{"segments", automatic}, {"masks", json::array()}}).find("'name' is required unless the type is MANUAL"),
            std::string::npos);
  // The version is recorded with a CID 7162 family or not at all, never dropped silently.
  json versionOnly = segments(2);
  versionOnly[1]["algorithm"].erase("family");
  EXPECT_NE(parseProblems({{"segments", versionOnly}, {"masks", json::array()}}).find("segments[1].algorithm: 'version' needs 'family'"),
            std::string::npos);
  json unknownFamily = segments(2);
  unknownFamily[1]["algorithm"]["family"] = code("113076", "DCM", "Segmentation");
  EXPECT_NE(parseProblems({{"segments", unknownFamily}, {"masks", json::array()}}).find("is not in CID 7162"), std::string::npos);
  json familyOnly = segments(2);
  familyOnly[1]["algorithm"].erase("version");
  EXPECT_NE(parseProblems({{"segments", familyOnly}, {"masks", json::array()}}).find("'version' is required with 'family'"),
            std::string::npos);

  // What dciodvfy would flag is refused with the attribute's rule: Content Label is a code
  // string, Segment Label a Long String, Tracking ID and UID come as a pair.
  EXPECT_NE(parseProblems({{"contentLabel", "Liver seg (v2)"}, {"segments", segments(1)}, {"masks", json::array()}}).find("contentLabel: must be 1 to 16"),
            std::string::npos);
  EXPECT_NE(parseProblems({{"contentLabel", ""}, {"segments", segments(1)}, {"masks", json::array()}}).find("contentLabel"), std::string::npos);
  EXPECT_EQ(parseProblems({{"contentLabel", "LIVER_SEG_V2"}, {"segments", segments(1)}, {"masks", json::array()}}).find("contentLabel"), std::string::npos);
  json longLabel = segments(1);
  longLabel[0]["label"] = std::string(70, 'x');
  EXPECT_NE(parseProblems({{"segments", longLabel}, {"masks", json::array()}}).find("segments[0].label: is 70 characters long"), std::string::npos);
  json trackingIdOnly = segments(1);
  trackingIdOnly[0]["trackingId"] = "lesion 1";
  EXPECT_NE(parseProblems({{"segments", trackingIdOnly}, {"masks", json::array()}}).find("segments[0].trackingUid: trackingId and trackingUid"),
            std::string::npos);
  json deformable = segments(2);
  deformable[1]["algorithm"]["family"] = code("123111", "DCM", "Deformable Models");
  EXPECT_EQ(parseProblems({{"segments", deformable}, {"masks", json::array()}}).find("CID 7162"), std::string::npos);

  // A volume whose frames are not the images' size.
  writeFile(c->dir / "segments.json", json{{"segments", segments(1)}}.dump());
  writeFile(c->dir / "volume.bin", std::string(256, '\0'));
  const CommandResult wrongShape = runCommand({nodeBinary(), "make-seg", "--segments", c->dir / "segments.json", "--images",
                                               c->dir / "images", "--volume", c->dir / "volume.bin", "--volume-shape", "16,16,2",
                                               "--out", c->dir / "x.dcm"});
  EXPECT_EQ(wrongShape.exitCode, 1);
  EXPECT_NE(wrongShape.output.find("frames are 16x16 but the images are 32x32"), std::string::npos) << wrongShape.output;
}
