#include "SegmentationCommands.h"

#include <malloc.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "seg/BitPacking.h"
#include "seg/SegmentationReader.h"
#include "seg/SegmentationWriter.h"

namespace annot::node {
namespace {
const char* kMakeSegUsage =
    "usage: dicom-node make-seg --segments S.json --images PATH... --out SEG.dcm [options]\n"
    "  --images PATH...          files or folders holding the source images\n"
    "  --volume FILE             masks as a packed-bit volume instead of JSON runs: per segment,\n"
    "  --volume-shape C,R,F      F frames of C x R bits (LSB first, bit-contiguous) in slice order\n"
    "                            (ascending along the slice normal)\n"
    "  --keep-empty-frames       store frames whose mask is empty (omitted by default)\n";

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read '" + path + "'");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool parseShape(const std::string& text, uint32_t& c, uint32_t& r, uint32_t& f) {
  return std::sscanf(text.c_str(), "%u,%u,%u", &c, &r, &f) == 3 && c && r && f;
}
}  // namespace

int makeSegCommand(const std::vector<std::string>& args) {
  std::string segmentsPath, outPath, volumePath, shape;
  std::vector<std::string> imagePaths;
  SegWriteOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string { return i + 1 < args.size() ? args[++i] : std::string(); };
    if (a == "--segments") segmentsPath = value();
    else if (a == "--out") outPath = value();
    else if (a == "--volume") volumePath = value();
    else if (a == "--volume-shape") shape = value();
    else if (a == "--keep-empty-frames") options.keepEmptyFrames = true;
    else if (a == "--images") {
      while (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) imagePaths.push_back(args[++i]);
    } else if (a == "--help") {
      std::cout << kMakeSegUsage;
      return 0;
    } else {
      std::cerr << "dicom-node make-seg: unknown option '" << a << "'\n" << kMakeSegUsage;
      return 2;
    }
  }
  uint32_t columns = 0, rows = 0, frames = 0;
  if (segmentsPath.empty() || outPath.empty() || imagePaths.empty() || (!volumePath.empty() && !parseShape(shape, columns, rows, frames))) {
    std::cerr << "dicom-node make-seg: --segments, --images and --out are required; --volume needs --volume-shape C,R,F\n"
              << kMakeSegUsage;
    return 2;
  }
  try {
    const SourceImageSet images = SourceImageSet::load(imagePaths);
    // The JSON text and its parse tree are dropped as soon as the masks are packed.
    Segmentation seg = [&] {
      nlohmann::json doc;
      try {
        doc = nlohmann::json::parse(readAll(segmentsPath));
      } catch (const nlohmann::json::parse_error& e) {
        throw SegmentationError({segmentsPath + ": not valid JSON (" + e.what() + ")"});
      }
      return parseSegmentation(doc, images, /*masksRequired=*/volumePath.empty());
    }();
    if (!volumePath.empty()) {
      const std::string bytes = readAll(volumePath);
      addVolumeMasks(seg, images, std::vector<uint8_t>(bytes.begin(), bytes.end()), columns, rows, frames);
    }
    // The parse tree was many small allocations; hand that memory back before Pixel Data is
    // allocated, so peak memory follows the output size rather than input + output.
    ::malloc_trim(0);
    const SegWriteResult r = writeSegmentationFile(std::move(seg), images, options, outPath);
    std::cout << nlohmann::json{{"file", outPath}, {"sopInstanceUid", r.sopInstanceUid}, {"seriesInstanceUid", r.seriesInstanceUid},
                                {"studyInstanceUid", r.studyInstanceUid}, {"frames", r.frames}}
                     .dump(2)
              << '\n';
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "dicom-node make-seg: " << e.what() << '\n';
    return 1;
  }
}

int readSegCommand(const std::vector<std::string>& args) {
  std::string path, volumeOut;
  bool runs = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--runs") runs = true;
    else if (args[i] == "--volume" && i + 1 < args.size()) volumeOut = args[++i];
    else if (args[i].rfind("--", 0) != 0 && path.empty()) path = args[i];
    else {
      std::cerr << "usage: dicom-node read-seg SEG.dcm [--runs] [--volume OUT]\n";
      return 2;
    }
  }
  if (path.empty()) {
    std::cerr << "usage: dicom-node read-seg SEG.dcm [--runs] [--volume OUT]\n";
    return 2;
  }
  try {
    const SegmentationContent content = readSegmentationFile(path);
    const Segmentation& seg = content.segmentation;
    nlohmann::json out = describe(seg, runs);
    out["sopInstanceUid"] = content.sopInstanceUid;
    out["seriesInstanceUid"] = content.seriesInstanceUid;
    out["studyInstanceUid"] = content.studyInstanceUid;
    out["frameOfReferenceUid"] = content.frameOfReferenceUid;
    out["referencedSeries"] = content.referencedSeries;
    nlohmann::json index = nlohmann::json::array();
    for (const auto& f : seg.frames) {
      nlohmann::json image = {{"sopInstanceUid", f.image.sopInstanceUid}};
      if (f.image.frame) image["frame"] = f.image.frame;
      index.push_back({{"segment", f.segment}, {"image", image}});
    }
    out["frames"] = index;
    if (!volumeOut.empty()) {
      // The stored frames, in stored order, as one packed-bit (or byte) volume.
      const uint64_t frameBits = static_cast<uint64_t>(seg.rows) * seg.columns;
      std::vector<uint8_t> volume(seg.fractional ? frameBits * seg.frames.size() : bits::packedLength(frameBits * seg.frames.size()), 0);
      for (size_t i = 0; i < seg.frames.size(); ++i) {
        if (seg.fractional) std::copy(seg.frames[i].data.begin(), seg.frames[i].data.end(), volume.begin() + static_cast<long>(i * frameBits));
        else bits::appendBits(volume.data(), i * frameBits, seg.frames[i].data.data(), frameBits);
      }
      std::ofstream file(volumeOut, std::ios::binary);
      file.write(reinterpret_cast<const char*>(volume.data()), static_cast<std::streamsize>(volume.size()));
      if (!file) throw std::runtime_error("cannot write '" + volumeOut + "'");
      out["volume"] = {{"file", volumeOut}, {"shape", {seg.columns, seg.rows, seg.frames.size()}},
                       {"layout", seg.fractional ? "one byte per pixel" : "bits, LSB first, bit-contiguous frames"}};
    }
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "dicom-node read-seg: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace annot::node
