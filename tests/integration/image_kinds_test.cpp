// Masks and marks on every kind of image a PACS holds, not only CT and MR slices: radiographs
// (DX, CR, MG), angiograms (XA, single- and multi-frame), ultrasound (single- and multi-frame,
// colour), secondary captures (monochrome, RGB, one with Number of Frames = 1) and NM, made by
// the project's generator and taken from public sample files (Debian's python3-pydicom ships
// them). For each: make-sr and make-seg write results that pass dciodvfy (and PixelMed for
// the SR), whose masks our reader, dcmjs and the Cornerstone adapters (OHIF's SEG load) put on
// the right frame of the right image, and that a real Orthanc takes in.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "NodeHarness.h"
#include "OrthancHarness.h"
#include "Validators.h"
#include "common/Digest.h"
#include "dicom/SourceImages.h"
#include "seg/BitPacking.h"
#include "seg/SegmentationReader.h"

using namespace annot;
using namespace annot::test;
using nlohmann::json;

namespace {

// Where Debian's python3-pydicom keeps its sample files (scripts/install-deps.sh --test).
const std::string kPublicSamples = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

struct Kind {
  std::string name;
  std::vector<std::string> generator;  // annot-testdata arguments, or empty for a public file
  std::string publicFile;              // under kPublicSamples
};

std::ostream& operator<<(std::ostream& out, const Kind& k) { return out << k.name; }

// A rectangle of set pixels on one frame: what a reader painted.
struct Painted {
  uint16_t segment;
  ImageRef image;  // as the document gives it
  uint32_t x0, y0, x1, y1;  // inclusive-exclusive
};

std::vector<uint8_t> maskOf(const Painted& p, const SourceImage& img) {
  std::vector<uint8_t> mask(static_cast<size_t>(img.rows) * img.columns, 0);
  for (uint32_t y = p.y0; y < p.y1; ++y) {
    for (uint32_t x = p.x0; x < p.x1; ++x) mask[static_cast<size_t>(y) * img.columns + x] = 1;
  }
  return mask;
}

json runsOf(const std::vector<uint8_t>& mask) {
  json runs = json::array();
  for (size_t i = 0; i < mask.size();) {
    if (!mask[i]) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < mask.size() && mask[end]) ++end;
    runs.push_back({i, end - i});
    i = end;
  }
  return runs;
}

std::string digestOf(const std::vector<uint8_t>& mask) { return sha256Hex(std::string(mask.begin(), mask.end())); }

json codeOf(const char* value, const char* scheme, const char* meaning) { return codedConcept(value, scheme, meaning); }

json compat(const std::string& script, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"node", std::string(ANNOT_COMPAT_DIR) + "/" + script};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = runCommand(argv);
  EXPECT_EQ(r.exitCode, 0) << script << ": " << r.output;
  const size_t start = r.output.find('{');
  if (r.exitCode != 0 || start == std::string::npos) return json::object();
  return json::parse(r.output.substr(start));
}

// True when any Referenced Frame Number is in the file, at any depth.
bool hasReferencedFrameNumber(const std::string& path) {
  DcmFileFormat file;
  EXPECT_TRUE(file.loadFile(path.c_str()).good()) << path;
  DcmStack stack;
  return file.getDataset()->search(DCM_ReferencedFrameNumber, stack, ESM_fromHere, OFTrue).good();
}

// dciodvfy's errors on `path`, less those that only repeat `allowed` values (a source's own
// UIDs, which the results must reference as they are). The IOD name must be in the output.
std::vector<std::string> dciodvfyErrors(const std::string& path, const std::string& iod, const std::set<std::string>& allowed = {}) {
  const ValidatorResult v = dciodvfy(path, iod);
  EXPECT_TRUE(v.completed) << "dciodvfy did not validate " << path << " as " << iod << ":\n" << v.output;
  std::vector<std::string> errors;
  std::istringstream in(v.output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Error", 0) != 0) continue;
    if (line.find("Dicom dataset contains invalid data values for Value Representations") != std::string::npos && !allowed.empty()) continue;
    const bool aboutAllowed = std::any_of(allowed.begin(), allowed.end(), [&](const std::string& uid) {
      return line.find("\"" + uid + "\"") != std::string::npos || line.find("<" + uid + ">") != std::string::npos;
    });
    if (!aboutAllowed) errors.push_back(line);
  }
  return errors;
}

// One Orthanc for the kinds' results, started on first use (by its constructor).
RunningOrthanc& sharedPacs() {
  static TempDir dir;
  static RunningOrthanc orthanc(dir.path());
  return orthanc;
}

struct Written {
  std::string sr, seg;
  std::vector<Painted> painted;
};

}  // namespace

class ImageKinds : public ::testing::TestWithParam<Kind> {
 protected:
  TempDir dir;
  SourceImageSet images;
  const SourceImage* image = nullptr;

  void SetUp() override {
    const Kind& k = GetParam();
    std::filesystem::create_directories(dir / "images");
    if (!k.generator.empty()) {
      std::vector<std::string> args = k.generator;
      for (const char* a : {"--rows", "48", "--columns", "61"}) args.push_back(a);
      generateStudy(dir / "images", args);
    } else {
      const std::string from = kPublicSamples + "/" + k.publicFile;
      ASSERT_TRUE(std::filesystem::exists(from)) << from << " is missing: scripts/install-deps.sh --test installs python3-pydicom";
      std::filesystem::copy_file(from, dir / "images/sample.dcm");
    }
    images = SourceImageSet::load({dir / "images"});
    image = &images.all().front();
  }

  // Two segments painted where a reader would: on frames 2 and 3 of a multi-frame image (frame 1
  // implied when it has one), else both on the image; the box is drawn on the first of them.
  Written write() {
    const SourceImage& img = *image;
    const bool several = img.frames > 1;
    const uint32_t w = img.columns, h = img.rows;
    std::vector<Painted> painted{
        {1, {img.sopInstanceUid, several ? 2u : 0u}, w / 4, h / 4, std::max(w / 4 + 1, w / 2), std::max(h / 4 + 1, h / 2)},
        {2, {img.sopInstanceUid, several ? std::min(3u, img.frames) : 0u}, w / 2, h / 2, std::max(w / 2 + 1, w * 3 / 4), h},
    };
    // A public single-frame capture that carries Number of Frames = 1 is given "frame": 1, as a
    // viewer counting frames would send it; it must be accepted and written without a number.
    if (!img.multiFrame && GetParam().name.find("frames1") != std::string::npos) painted[0].image.frame = 1;

    json masks = json::array();
    for (const auto& p : painted) {
      json image = {{"sopInstanceUid", p.image.sopInstanceUid}};
      if (p.image.frame) image["frame"] = p.image.frame;
      masks.push_back({{"segment", p.segment}, {"image", image}, {"runs", runsOf(maskOf(p, img))}});
    }
    const json segments = {
        {"segments",
         {{{"label", "Lesion"}, {"category", codeOf("49755003", "SCT", "Morphologically Altered Structure")},
           {"type", codeOf("52988006", "SCT", "Lesion")}, {"color", {230, 60, 40}}},
          {{"label", "Lung field"}, {"category", codeOf("123037004", "SCT", "Anatomical Structure")},
           {"type", codeOf("39607008", "SCT", "Lung")}, {"color", {40, 160, 230}}}}},
        {"masks", masks}};
    json boxImage = masks[0]["image"];
    const json annotation = {
        {"observer", {{"type", "person"}, {"name", "Reader^One"}}},
        {"findings",
         {{{"finding", codeOf("52988006", "SCT", "Lesion")},
           {"geometry", {{"type", "bbox"}, {"image", boxImage},
                         {"points", {{painted[0].x0, painted[0].y0}, {painted[0].x1, painted[0].y1}}}}}}}}};
    writeFile(dir / "segments.json", segments.dump());
    writeFile(dir / "annotation.json", annotation.dump());
    Written out{dir / "sr.dcm", dir / "seg.dcm", painted};
    const CommandResult sr = runCommand({nodeBinary(), "make-sr", "--annotation", dir / "annotation.json", "--images", dir / "images",
                                         "--out", out.sr});
    EXPECT_EQ(sr.exitCode, 0) << sr.output;
    const CommandResult seg = runCommand({nodeBinary(), "make-seg", "--segments", dir / "segments.json", "--images",
                                          dir / "images", "--out", out.seg});
    EXPECT_EQ(seg.exitCode, 0) << seg.output;
    return out;
  }

  // The frame a reference lands on once the class decides: 0 single-frame, else 1..N.
  uint32_t storedFrame(const ImageRef& ref) const { return image->multiFrame ? std::max(1u, ref.frame) : 0u; }
};

INSTANTIATE_TEST_SUITE_P(
    EveryKind, ImageKinds,
    ::testing::Values(Kind{"DX", {"--modality", "DX"}, ""}, Kind{"CR", {"--modality", "CR"}, ""}, Kind{"MG", {"--modality", "MG"}, ""},
                      Kind{"XA", {"--modality", "XA"}, ""}, Kind{"XAcine", {"--modality", "XA", "--frames", "4"}, ""},
                      Kind{"US", {"--modality", "US"}, ""}, Kind{"UScineRgb", {"--modality", "US", "--frames", "3", "--rgb"}, ""},
                      Kind{"SC", {"--modality", "SC"}, ""}, Kind{"SCrgb", {"--modality", "SC", "--rgb"}, ""},
                      Kind{"NM", {"--modality", "NM"}, ""},
                      Kind{"PublicCR", {}, "dicomdirtests/77654033/CR1/6154"},
                      Kind{"PublicSCrgbframes1", {}, "SC_rgb_small_odd.dcm"},
                      Kind{"PublicSCjpeg", {}, "JPEG-lossy.dcm"}),
    [](const ::testing::TestParamInfo<Kind>& info) { return info.param.name; });

TEST_P(ImageKinds, MasksAndMarksLandOnTheRightFrameAndEveryReaderAgrees) {
  ASSERT_TRUE(image->rows > 0 && image->columns > 0);
  const Written w = write();
  ASSERT_TRUE(std::filesystem::exists(w.sr) && std::filesystem::exists(w.seg));

  // Validators: zero errors; the SEG placed by reference has no plane geometry to invent.
  EXPECT_EQ(dciodvfyErrors(w.sr, "EnhancedSR"), std::vector<std::string>{});
  EXPECT_EQ(dciodvfyErrors(w.seg, "Segmentation"), std::vector<std::string>{});
  const ValidatorResult pixelmed = pixelmedSrValidator(w.sr);
  EXPECT_TRUE(pixelmed.completed) << pixelmed.output;
  EXPECT_EQ(pixelmed.errors, 0) << pixelmed.output;
  EXPECT_EQ(hasReferencedFrameNumber(w.sr), image->multiFrame) << "frame numbers are written for multi-frame classes only";
  EXPECT_EQ(hasReferencedFrameNumber(w.seg), image->multiFrame);

  // Our reader: each segment on the frame it was painted on, bit for bit.
  const SegmentationContent read = readSegmentationFile(w.seg);
  ASSERT_EQ(read.segmentation.frames.size(), w.painted.size());
  std::map<std::pair<uint16_t, uint32_t>, std::string> expected;  // (segment, frame) -> digest
  for (const auto& p : w.painted) expected[{p.segment, storedFrame(p.image)}] = digestOf(maskOf(p, *image));
  for (const auto& f : read.segmentation.frames) {
    EXPECT_EQ(f.image.sopInstanceUid, image->sopInstanceUid);
    const uint64_t pixels = static_cast<uint64_t>(image->rows) * image->columns;
    std::vector<uint8_t> unpacked(pixels);
    for (uint64_t i = 0; i < pixels; ++i) unpacked[i] = bits::get(f.data.data(), i) ? 1 : 0;
    const std::pair<uint16_t, uint32_t> key{f.segment, f.image.frame};
    EXPECT_EQ(digestOf(unpacked), expected[key]) << "segment " << f.segment << " frame " << f.image.frame;
  }
  EXPECT_TRUE(read.frameOfReferenceUid.empty() || !image->frameOfReferenceUid.empty());

  // dcmjs (OHIF's decoder) reads the same frames on the same source frames.
  const json decoded = compat("read-seg.mjs", {w.seg});
  ASSERT_EQ(decoded.value("frameData", json::array()).size(), w.painted.size()) << decoded.dump();
  for (const auto& f : decoded["frameData"]) {
    EXPECT_EQ(f["sopInstanceUid"], image->sopInstanceUid);
    const std::pair<uint16_t, uint32_t> key{f["segment"].get<uint16_t>(), f["frame"].get<uint32_t>()};
    ASSERT_TRUE(expected.count(key)) << f.dump();
    EXPECT_EQ(f["sha256"], expected[key]) << f.dump();
  }

  // The Cornerstone adapters, as OHIF loads a SEG onto the images of a stack.
  const json loaded = compat("load-seg.mjs", {w.seg, image->path});
  std::map<std::pair<uint16_t, uint32_t>, std::string> seen;
  for (const auto& f : loaded.value("frameData", json::array())) {
    EXPECT_EQ(f["sopInstanceUid"], image->sopInstanceUid);
    // The loader counts a one-frame image as single-frame; the image is what must match.
    const uint32_t frame = f["frame"].get<uint32_t>();
    seen[{f["segment"].get<uint16_t>(), image->multiFrame ? std::max(1u, frame) : 0u}] = f["sha256"];
  }
  EXPECT_EQ(loaded.value("unmatchedSegFrames", json::array()), json::array()) << loaded.dump();
  EXPECT_EQ(seen, expected) << loaded.dump();

  // A real PACS takes the image and both results.
  RunningOrthanc& pacs = sharedPacs();
  // The image as it is (storescu offers no JPEG context for the public JPEG capture), the
  // results over C-STORE as the outbox sends them.
  const HttpResult sentImage = httpRequest(pacs.httpPort(), "POST", "/instances", readFile(image->path));
  EXPECT_EQ(sentImage.status, 200) << sentImage.body;
  const CommandResult sent = storescuUncompressedClassesOfFiles(pacs.dicomPort(), {w.sr, w.seg});
  EXPECT_EQ(sent.exitCode, 0) << sent.output;
  for (const std::string& file : {image->path, w.sr, w.seg}) {
    EXPECT_NE(pacs.findInstance(sopInstanceUidOf(file)), "") << file << " did not reach Orthanc";
  }
}

// Old archives hold UIDs that break the UI rules ("999." roots, leading zeros). A result must
// point at the instance the PACS really holds: the references are written as they are, and the
// only validator errors are about those inherited UIDs.
TEST(LegacyImages, UidsThatBreakTheRulesAreReferencedAsThePacsHoldsThem) {
  TempDir dir;
  const std::string study = generateStudy(dir / "images", {"--modality", "XA", "--frames", "2", "--legacy-uids", "--rows", "40", "--columns", "40"});
  ASSERT_EQ(study.rfind("999.", 0), 0u) << study;
  const SourceImageSet images = SourceImageSet::load({dir / "images"});
  const SourceImage& xa = images.all().front();
  writeFile(dir / "annotation.json",
            json{{"observer", {{"type", "person"}, {"name", "Reader^One"}}},
                 {"findings", {{{"finding", codedConcept("52988006", "SCT", "Lesion")},
                                {"geometry", {{"type", "point"}, {"image", {{"sopInstanceUid", xa.sopInstanceUid}, {"frame", 2}}},
                                              {"points", {{20, 20}}}}}}}}}
                .dump());
  writeFile(dir / "segments.json",
            json{{"segments", {{{"label", "Vessel"}, {"category", codedConcept("123037004", "SCT", "Anatomical Structure")},
                                {"type", codedConcept("59820001", "SCT", "Blood vessel")}}}},
                 {"masks", {{{"segment", 1}, {"image", {{"sopInstanceUid", xa.sopInstanceUid}, {"frame", 2}}}, {"runs", {{400, 30}}}}}}}
                .dump());
  const CommandResult sr = runCommand({nodeBinary(), "make-sr", "--annotation", dir / "annotation.json", "--images", dir / "images",
                                       "--out", dir / "sr.dcm"});
  ASSERT_EQ(sr.exitCode, 0) << sr.output;
  const CommandResult seg = runCommand({nodeBinary(), "make-seg", "--segments", dir / "segments.json", "--images", dir / "images",
                                        "--out", dir / "seg.dcm"});
  ASSERT_EQ(seg.exitCode, 0) << seg.output;

  const std::set<std::string> inherited{xa.sopInstanceUid, xa.seriesInstanceUid, xa.studyInstanceUid};
  EXPECT_EQ(dciodvfyErrors(dir / "sr.dcm", "EnhancedSR", inherited), std::vector<std::string>{});
  EXPECT_EQ(dciodvfyErrors(dir / "seg.dcm", "Segmentation", inherited), std::vector<std::string>{});
  EXPECT_FALSE(dciodvfyErrors(dir / "sr.dcm", "EnhancedSR").empty()) << "the check above must have had something to forgive";
  const ValidatorResult pixelmed = pixelmedSrValidator(dir / "sr.dcm");
  EXPECT_TRUE(pixelmed.completed) << pixelmed.output;
  EXPECT_EQ(pixelmed.errors, 0) << pixelmed.output;

  // The SR and SEG name the XA exactly, and sit in its (legacy) study.
  const SegmentationContent read = readSegmentationFile(dir / "seg.dcm");
  ASSERT_EQ(read.segmentation.frames.size(), 1u);
  EXPECT_EQ(read.segmentation.frames[0].image.sopInstanceUid, xa.sopInstanceUid);
  EXPECT_EQ(read.segmentation.frames[0].image.frame, 2u);
  EXPECT_EQ(read.studyInstanceUid, study);
  EXPECT_NE(readFile(dir / "sr.dcm").find(xa.sopInstanceUid), std::string::npos);

  RunningOrthanc& pacs = sharedPacs();
  const CommandResult sent = storescuUncompressedClassesOfFiles(pacs.dicomPort(), {xa.path, dir / "sr.dcm", dir / "seg.dcm"});
  EXPECT_EQ(sent.exitCode, 0) << sent.output;
  EXPECT_NE(pacs.findInstance(xa.sopInstanceUid), "");
  EXPECT_NE(pacs.findInstance(sopInstanceUidOf(dir / "sr.dcm")), "");
  EXPECT_NE(pacs.findInstance(sopInstanceUidOf(dir / "seg.dcm")), "");
}

// Objects without a picture to read are refused in the product's words, never with a bare
// library message: a dose grid (public RT Dose sample) and a waveform (public ECG sample).
TEST(UnlabelableObjects, AreRefusedWithTheReasonNotALibraryMessage) {
  for (const auto& [file, reason] : {std::pair{"rtdose.dcm", "dose grid"}, std::pair{"waveform_ecg.dcm", "waveform has no pixels"}}) {
    TempDir dir;
    const std::string from = kPublicSamples + "/" + file;
    ASSERT_TRUE(std::filesystem::exists(from)) << from;
    std::filesystem::create_directories(dir / "images");
    std::filesystem::copy_file(from, dir / "images/object.dcm");
    const std::string sop = sopInstanceUidOf(dir / "images/object.dcm");
    const json image = {{"sopInstanceUid", sop}, {"frame", 1}};
    writeFile(dir / "annotation.json",
              json{{"observer", {{"type", "person"}, {"name", "Reader^One"}}},
                   {"findings", {{{"finding", codedConcept("52988006", "SCT", "Lesion")},
                                  {"geometry", {{"type", "point"}, {"image", image}, {"points", {{2, 2}}}}}}}}}
                  .dump());
    writeFile(dir / "segments.json",
              json{{"segments", {{{"label", "Dose"}, {"category", codedConcept("123037004", "SCT", "Anatomical Structure")},
                                  {"type", codedConcept("10200004", "SCT", "Liver")}}}},
                   {"masks", {{{"segment", 1}, {"image", image}, {"runs", {{0, 4}}}}}}}
                  .dump());
    for (const auto& argv : {std::vector<std::string>{nodeBinary(), "make-sr", "--annotation", dir / "annotation.json", "--images",
                                                      dir / "images", "--out", dir / "out.dcm"},
                             std::vector<std::string>{nodeBinary(), "make-seg", "--segments", dir / "segments.json", "--images",
                                                      dir / "images", "--out", dir / "out.dcm"}}) {
      const CommandResult r = runCommand(argv);
      EXPECT_NE(r.exitCode, 0) << argv[1] << " on " << file << ":\n" << r.output;
      EXPECT_NE(r.output.find(reason), std::string::npos) << argv[1] << " on " << file << ":\n" << r.output;
      EXPECT_NE(r.output.find(sop), std::string::npos) << "the refusal names the object";
      EXPECT_EQ(r.output.find("Illegal parameter"), std::string::npos) << r.output;
      EXPECT_FALSE(std::filesystem::exists(dir / "out.dcm"));
    }
  }
}

namespace {
HttpResult as(const RunningNode& node, const std::string& token, const std::string& method, const std::string& target,
              const std::string& body = "") {
  return httpRequest(node.httpPort(), method, target, body, {{"Authorization", "Bearer " + token}});
}
}  // namespace

// The chest-radiograph protocol's whole path: a DX received over C-STORE becomes a task; a
// reader boxes a pneumothorax and paints it and a lung field; a reviewer approves; the SR and
// the SEG reach a real Orthanc PACS, valid, with the pixels where they were painted.
TEST(ChestRadiograph, BoxAndMasksOnADxGoFromCStoreThroughReviewToThePacs) {
  TempDir tmp;
  // The shipped protocol, with one reader and a reviewer so the review step is on the path.
  json protocol = json::parse(readFile(std::string(ANNOT_WORKSTATION_SOURCE_DIR) + "/../sr-templates/protocols/chest-xray-findings.json"));
  protocol["readers"] = 1;
  protocol["review"] = true;
  std::filesystem::create_directories(tmp / "protocols");
  writeFile(tmp / "protocols/chest-xray-findings.json", protocol.dump());
  RunningOrthanc pacs(tmp / "pacs");
  const std::string destination = "ORTHANC@127.0.0.1:" + std::to_string(pacs.dicomPort());
  RunningNode node(tmp / "data", NodeSettings{1, {{"Pacs", {destination}}, {"ProtocolsDirectory", tmp / "protocols"}}});
  const std::string reader = node.addUser("reader", "annotator"), reviewer = node.addUser("reviewer", "reviewer");

  const std::string study = generateStudy(tmp / "dx", {"--modality", "DX", "--rows", "64", "--columns", "80", "--body-part", "CHEST",
                                                       "--patient-id", "CXR-1"});
  const std::string dx = sopInstanceUidOf(listFiles(tmp / "dx", ".dcm").at(0));
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "dx"}).exitCode, 0);
  const std::string task = firstTaskOf(node, study);
  EXPECT_EQ(node.getJson("/api/v1/tasks/" + task)["protocol"]["id"], "chest-xray-findings");
  ASSERT_EQ(as(node, reader, "POST", "/api/v1/tasks/" + task + "/claim").status, 200);

  const json image = {{"sopInstanceUid", dx}};
  const json pneumothoraxRuns = {{20 * 80 + 50, 12}, {21 * 80 + 50, 12}, {22 * 80 + 51, 10}};
  const json lungRuns = {{30 * 80 + 10, 25}, {31 * 80 + 10, 25}, {32 * 80 + 12, 20}};
  const json doc = {
      {"observer", {{"name", "Reader^Rita"}}},
      {"findings", {{{"label", "pneumothorax"}, {"geometry", {{"type", "bbox"}, {"image", image}, {"points", {{49, 19}, {63, 24}}}}}}}},
      {"classifications", {{{"label", "overall"}, {"value", codedConcept("263654008", "SCT", "Abnormal")}, {"image", image}}}},
      {"segmentation",
       {{"segments",
         {{{"label", "Pneumothorax"}, {"category", codedConcept("49755003", "SCT", "Morphologically Abnormal Structure")},
           {"type", codedConcept("36118008", "SCT", "Pneumothorax")}, {"color", {255, 80, 60}}},
          {{"label", "Lung field"}, {"category", codedConcept("123037004", "SCT", "Anatomical Structure")},
           {"type", codedConcept("39607008", "SCT", "Lung structure")}, {"color", {80, 170, 255}}}}},
        {"masks", {{{"segment", 1}, {"image", image}, {"runs", pneumothoraxRuns}}, {{"segment", 2}, {"image", image}, {"runs", lungRuns}}}}}}};
  const HttpResult saved = as(node, reader, "PUT", "/api/v1/tasks/" + task + "/annotation", doc.dump());
  ASSERT_EQ(saved.status, 201) << saved.body;
  const HttpResult submitted = as(node, reader, "POST", "/api/v1/tasks/" + task + "/submit");
  ASSERT_EQ(submitted.status, 200) << submitted.body;

  std::string review;
  const json tasks = node.getJson("/api/v1/tasks?study=" + study);
  for (const auto& t : tasks["tasks"]) {
    if (t["step"] == "review") review = std::to_string(t["id"].get<int>());
  }
  ASSERT_FALSE(review.empty()) << node.getJson("/api/v1/tasks?study=" + study).dump();
  ASSERT_EQ(as(node, reviewer, "POST", "/api/v1/tasks/" + review + "/claim").status, 200);
  ASSERT_EQ(as(node, reviewer, "POST", "/api/v1/tasks/" + review + "/review", R"({"decision": "approve"})").status, 200);

  // Both results are sent; what the PACS holds is checked, not what the node kept.
  std::map<std::string, std::string> sent;  // kind -> SOP Instance UID
  ASSERT_TRUE(eventually([&] {
    const json outputs = node.getJson("/api/v1/tasks/" + task)["outputs"];
    sent.clear();
    for (const auto& o : outputs) {
      if (!o["exports"].empty() && o["exports"][0]["state"] == "sent") sent[o["kind"]] = o["sopInstanceUid"];
    }
    return sent.size() == 2;
  }, std::chrono::seconds(30))) << node.getJson("/api/v1/tasks/" + task).dump();
  for (const auto& [kind, uid] : sent) {
    const std::string id = pacs.findInstance(uid);
    ASSERT_FALSE(id.empty()) << kind;
    writeFile(tmp / (kind + ".dcm"), pacs.instanceFile(id));
    const json where = json::parse(httpGet(pacs.httpPort(), "/instances/" + id + "/study").body);
    EXPECT_EQ(where["MainDicomTags"]["StudyInstanceUID"], study) << kind;
    EXPECT_EQ(where["PatientMainDicomTags"]["PatientID"], "CXR-1") << kind;
  }
  EXPECT_EQ(dciodvfyErrors(tmp / "SR.dcm", "EnhancedSR"), std::vector<std::string>{});
  EXPECT_EQ(dciodvfyErrors(tmp / "SEG.dcm", "Segmentation"), std::vector<std::string>{});
  const ValidatorResult pixelmed = pixelmedSrValidator(tmp / "SR.dcm");
  EXPECT_TRUE(pixelmed.completed) << pixelmed.output;
  EXPECT_EQ(pixelmed.errors, 0) << pixelmed.output;

  const json seg = json::parse(runCommand({nodeBinary(), "read-seg", tmp / "SEG.dcm", "--runs"}).output);
  ASSERT_EQ(seg["masks"].size(), 2u) << seg.dump();
  for (const auto& m : seg["masks"]) {
    EXPECT_EQ(m["image"], image) << "no frame number for a single-frame DX";
    EXPECT_EQ(m["runs"], m["segment"] == 1 ? pneumothoraxRuns : lungRuns) << m.dump();
  }
  EXPECT_EQ(seg["segments"][1]["category"]["code"], "123037004");
  const json sr = json::parse(runCommand({nodeBinary(), "read-sr", tmp / "SR.dcm"}).output);
  EXPECT_EQ(sr["annotation"]["findings"][0]["geometry"]["image"], image);
  EXPECT_EQ(sr["annotation"]["findings"][0]["finding"]["code"], "36118008");
}
