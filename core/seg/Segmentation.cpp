#include "seg/Segmentation.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/JsonFieldReader.h"
#include "dicom/Uid.h"
#include "seg/BitPacking.h"

namespace annot {
namespace {
using nlohmann::json;

using Reader = JsonFieldReader;

SegmentAlgorithm algorithmFrom(const std::string& name, Reader& r, const std::string& path) {
  if (name == "MANUAL" || name.empty()) return SegmentAlgorithm::Manual;
  if (name == "SEMIAUTOMATIC") return SegmentAlgorithm::Semiautomatic;
  if (name == "AUTOMATIC") return SegmentAlgorithm::Automatic;
  r.problem(path, "must be MANUAL, SEMIAUTOMATIC or AUTOMATIC");
  return SegmentAlgorithm::Manual;
}

// CID 7162 Surface Processing Algorithm Families (DICOM PS3.16).
const Code kAlgorithmFamilies[] = {
    {"123101", "DCM", "Neighborhood Analysis"},    {"123102", "DCM", "Adaptive Filtering"},
    {"123103", "DCM", "Edge Detection"},           {"123104", "DCM", "Morphological Operations"},
    {"123105", "DCM", "Histogram Analysis"},       {"123106", "DCM", "Multi-Scale/Resolution Filtering"},
    {"123107", "DCM", "Cluster Analysis"},         {"123108", "DCM", "Multispectral Processing"},
    {"123109", "DCM", "Manual Processing"},        {"123110", "DCM", "Artificial Intelligence"},
    {"123111", "DCM", "Deformable Models"},
};

double dot(const std::array<double, 3>& a, const std::array<double, 3>& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
}  // namespace

const char* segmentAlgorithmName(SegmentAlgorithm a) {
  switch (a) {
    case SegmentAlgorithm::Manual: return "MANUAL";
    case SegmentAlgorithm::Semiautomatic: return "SEMIAUTOMATIC";
    case SegmentAlgorithm::Automatic: return "AUTOMATIC";
  }
  return "MANUAL";
}

std::optional<Code> algorithmFamilyFor(const Code& code) {
  for (const Code& family : kAlgorithmFamilies) {
    if (family.sameConcept(code)) return family;
  }
  return std::nullopt;
}

Segmentation parseSegmentation(const json& j, const SourceImageSet& images, bool masksRequired) {
  Reader r;
  Segmentation seg;
  if (!j.is_object()) throw SegmentationError({"document: must be a JSON object"});
  const std::string type = j.contains("type") && j.at("type").is_string() ? j.at("type").get<std::string>() : "BINARY";
  if (type != "BINARY" && type != "FRACTIONAL") r.problem("type", "must be BINARY or FRACTIONAL");
  seg.fractional = type == "FRACTIONAL";
  if (j.contains("fractionalType")) {
    seg.fractionalType = r.string(j, "fractionalType", "document", false);
    if (seg.fractionalType != "PROBABILITY" && seg.fractionalType != "OCCUPANCY") r.problem("fractionalType", "must be PROBABILITY or OCCUPANCY");
  }
  if (j.contains("maxFractionalValue")) {
    if (!j.at("maxFractionalValue").is_number_integer() || j.at("maxFractionalValue").get<int>() < 1 || j.at("maxFractionalValue").get<int>() > 255) {
      r.problem("maxFractionalValue", "must be a whole number from 1 to 255");
    } else {
      seg.maxFractionalValue = static_cast<uint8_t>(j.at("maxFractionalValue").get<int>());
    }
  }
  if (j.contains("contentLabel")) {
    seg.contentLabel = r.string(j, "contentLabel", "document", false);
    // Content Label is a Code String (CS, Type 1): 1-16 of A-Z, 0-9, space and underscore.
    const bool codeString = !seg.contentLabel.empty() && seg.contentLabel.size() <= 16 &&
                            seg.contentLabel.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _") == std::string::npos;
    if (!codeString) r.problem("contentLabel", "must be 1 to 16 characters of A-Z, 0-9, space and underscore (a DICOM code string), e.g. \"LIVER_SEG_V2\"");
  }
  if (j.contains("contentDescription")) seg.contentDescription = r.string(j, "contentDescription", "document", false);
  if (j.contains("contentCreator")) seg.contentCreator = r.string(j, "contentCreator", "document", false);
  if (j.contains("seriesDescription")) seg.seriesDescription = r.string(j, "seriesDescription", "document", false);

  if (!j.contains("segments") || !j.at("segments").is_array() || j.at("segments").empty()) {
    r.problem("segments", "at least one segment is required");
  } else {
    const json& list = j.at("segments");
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string path = "segments[" + std::to_string(i) + "]";
      const json& s = list[i];
      SegmentDescription d;
      d.label = r.string(s, "label", path, true);
      // Segment Label is a Long String: at most 64 characters, no backslash or control characters.
      if (d.label.size() > 64) r.problem(path + ".label", "is " + std::to_string(d.label.size()) + " characters long; at most 64 fit");
      if (std::any_of(d.label.begin(), d.label.end(), [](char ch) { return ch == '\\' || (static_cast<unsigned char>(ch) < 0x20); })) {
        r.problem(path + ".label", "must not contain a backslash or control characters");
      }
      d.description = r.string(s, "description", path, false);
      d.category = r.codeAt(s, "category", path, true);
      d.type = r.codeAt(s, "type", path, true);
      if (s.contains("anatomicRegion")) d.anatomicRegion = r.codeAt(s, "anatomicRegion", path, true);
      if (s.contains("algorithm")) {
        const json& a = s.at("algorithm");
        d.algorithm = algorithmFrom(r.string(a, "type", path + ".algorithm", true), r, path + ".algorithm.type");
        d.algorithmName = r.string(a, "name", path + ".algorithm", false);
        d.algorithmVersion = r.string(a, "version", path + ".algorithm", false);
        if (d.algorithm != SegmentAlgorithm::Manual && d.algorithmName.empty()) {
          r.problem(path + ".algorithm", "'name' is required unless the type is MANUAL");
        }
        // Version and family are written together in the Segmentation Algorithm Identification
        // item, where family, name and version are all Type 1: a version alone has no place.
        if (a.contains("family")) {
          const Code given = r.codeAt(a, "family", path + ".algorithm", true);
          d.algorithmFamily = algorithmFamilyFor(given);
          if (!d.algorithmFamily && !given.empty()) {
            r.problem(path + ".algorithm.family", given.str() + " is not in CID 7162 (Surface Processing Algorithm "
                                                  "Families), e.g. (123110, DCM, \"Artificial Intelligence\")");
          }
          if (d.algorithmName.empty()) r.problem(path + ".algorithm", "'name' is required with 'family'");
          if (d.algorithmVersion.empty()) r.problem(path + ".algorithm", "'version' is required with 'family'");
        } else if (!d.algorithmVersion.empty()) {
          r.problem(path + ".algorithm", "'version' needs 'family' (a CID 7162 code such as (123110, DCM, "
                                         "\"Artificial Intelligence\")): DICOM records them together");
        }
      }
      if (s.contains("color")) {
        const json& c = s.at("color");
        if (!c.is_array() || c.size() != 3) {
          r.problem(path + ".color", "must be [red, green, blue] from 0 to 255");
        } else {
          for (size_t k = 0; k < 3; ++k) {
            if (!c[k].is_number_integer() || c[k].get<int>() < 0 || c[k].get<int>() > 255) r.problem(path + ".color", "components must be 0..255");
            else d.color[k] = static_cast<uint8_t>(c[k].get<int>());
          }
        }
      }
      d.trackingId = r.string(s, "trackingId", path, false);
      d.trackingUid = r.string(s, "trackingUid", path, false);
      if (!d.trackingUid.empty() && !isValidUid(d.trackingUid)) r.problem(path + ".trackingUid", "is not a valid UID");
      // Each is required when the other is present (Segment Description macro, Type 1C).
      if (d.trackingId.empty() != d.trackingUid.empty()) {
        r.problem(path + (d.trackingId.empty() ? ".trackingId" : ".trackingUid"),
                  "trackingId and trackingUid are given together or not at all");
      }
      seg.segments.push_back(d);
    }
  }

  if (j.contains("masks")) {
    const json& masks = j.at("masks");
    if (!masks.is_array()) r.problem("masks", "must be an array");
    for (size_t i = 0; masks.is_array() && i < masks.size(); ++i) {
      const std::string path = "masks[" + std::to_string(i) + "]";
      const json& m = masks[i];
      SegmentFrame frame;
      if (!m.contains("segment") || !m.at("segment").is_number_integer() || m.at("segment").get<int>() < 1 ||
          m.at("segment").get<size_t>() > seg.segments.size()) {
        r.problem(path + ".segment", "must be a segment number from 1 to " + std::to_string(seg.segments.size()));
        continue;
      }
      frame.segment = static_cast<uint16_t>(m.at("segment").get<int>());
      if (!m.contains("image") || !m.at("image").is_object()) {
        r.problem(path, "'image' is required {\"sopInstanceUid\", \"frame\"}");
        continue;
      }
      frame.image.sopInstanceUid = r.string(m.at("image"), "sopInstanceUid", path + ".image", true);
      if (m.at("image").contains("frame") && m.at("image").at("frame").is_number_integer()) {
        frame.image.frame = static_cast<uint32_t>(std::max(0, m.at("image").at("frame").get<int>()));
      }
      const SourceImage* img = images.find(frame.image.sopInstanceUid);
      if (!img) {
        r.problem(path + ".image", "SOP Instance UID " + frame.image.sopInstanceUid + " is not among the referenced images");
        continue;
      }
      if (auto why = unlabelableReason(*img)) {
        r.problem(path + ".image", *why);
        continue;
      }
      if (auto wrong = resolveFrame(*img, frame.image.frame)) {
        r.problem(path + ".image.frame", *wrong);
        continue;
      }
      const uint64_t pixels = static_cast<uint64_t>(img->rows) * img->columns;
      if (seg.rows == 0) {
        seg.rows = img->rows;
        seg.columns = img->columns;
      }
      if (img->rows != seg.rows || img->columns != seg.columns) {
        r.problem(path + ".image", "image is " + std::to_string(img->columns) + "x" + std::to_string(img->rows) +
                                       " but other masks are " + std::to_string(seg.columns) + "x" + std::to_string(seg.rows) +
                                       ": one segmentation has one frame size");
        continue;
      }
      const char* key = seg.fractional ? "values" : "runs";
      if (!m.contains(key) || !m.at(key).is_array()) {
        r.problem(path, std::string("'") + key + "' is required (" +
                            (seg.fractional ? "[[offset, length, value]...]" : "[[offset, length]...]") + ")");
        continue;
      }
      frame.data.assign(seg.fractional ? pixels : (pixels + 7) / 8, 0);
      for (const auto& run : m.at(key)) {
        const size_t want = seg.fractional ? 3 : 2;
        auto natural = [](const json& v) { return v.is_number_integer() && v.get<int64_t>() >= 0; };
        if (!run.is_array() || run.size() != want || !natural(run[0]) || !natural(run[1])) {
          r.problem(path + "." + key, seg.fractional ? "each entry is [offset, length, value]" : "each run is [offset, length]");
          break;
        }
        const uint64_t offset = run[0].get<uint64_t>(), length = run[1].get<uint64_t>();
        if (offset + length > pixels) {
          r.problem(path + "." + key, "run [" + std::to_string(offset) + ", " + std::to_string(length) + "] goes past the " +
                                          std::to_string(pixels) + " pixels of the frame (mask larger than the image?)");
          break;
        }
        if (seg.fractional) {
          if (!natural(run[2]) || run[2].get<int64_t>() > seg.maxFractionalValue) {
            r.problem(path + ".values", "values must be from 0 to maxFractionalValue (" + std::to_string(seg.maxFractionalValue) + ")");
            break;
          }
          std::fill(frame.data.begin() + static_cast<long>(offset), frame.data.begin() + static_cast<long>(offset + length),
                    static_cast<uint8_t>(run[2].get<unsigned>()));
        } else {
          for (uint64_t b = offset; b < offset + length; ++b) bits::set(frame.data.data(), b);
        }
      }
      seg.frames.push_back(std::move(frame));
    }
  } else if (masksRequired) {
    r.problem("masks", "is required (or give a packed volume)");
  }
  if (!r.problems.empty()) throw SegmentationError(r.problems);
  return seg;
}

std::vector<ImageRef> framesInSliceOrder(const SourceImageSet& images) {
  struct Entry {
    ImageRef ref;
    double along;
  };
  std::vector<Entry> entries;
  for (const auto& img : images.all()) {
    if (!img.orientation || img.framePositions.size() != img.frames) {
      throw SegmentationError({"image " + img.sopInstanceUid + ": no plane geometry (Image Position/Orientation) to order its frames"});
    }
    const auto& o = *img.orientation;
    const std::array<double, 3> normal{o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]};
    for (uint32_t f = 0; f < img.frames; ++f) {
      entries.push_back({{img.sopInstanceUid, img.multiFrame ? f + 1 : 0}, dot(normal, img.framePositions[f])});
    }
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.along < b.along; });
  std::vector<ImageRef> out;
  for (const auto& e : entries) out.push_back(e.ref);
  return out;
}

void addVolumeMasks(Segmentation& seg, const SourceImageSet& images, const std::vector<uint8_t>& volume, uint32_t columns,
                    uint32_t rows, uint32_t frameCount) {
  const std::vector<ImageRef> order = framesInSliceOrder(images);
  const SourceImage& first = *images.find(order.front().sopInstanceUid);
  std::vector<std::string> problems;
  if (columns != first.columns || rows != first.rows) {
    problems.push_back("volume: frames are " + std::to_string(columns) + "x" + std::to_string(rows) + " but the images are " +
                       std::to_string(first.columns) + "x" + std::to_string(first.rows));
  }
  if (frameCount != order.size()) {
    problems.push_back("volume: " + std::to_string(frameCount) + " frames declared but the images have " + std::to_string(order.size()));
  }
  const uint64_t frameBits = static_cast<uint64_t>(rows) * columns;
  const uint64_t needed = frameBits * frameCount * seg.segments.size();
  if (volume.size() * 8 < needed) {
    problems.push_back("volume: " + std::to_string(volume.size()) + " bytes hold fewer than the " + std::to_string(needed) +
                       " bits of " + std::to_string(seg.segments.size()) + " segment(s) x " + std::to_string(frameCount) + " frames");
  }
  if (seg.fractional) problems.push_back("volume: a packed-bit volume is binary; use JSON values for FRACTIONAL");
  if (!problems.empty()) throw SegmentationError(problems);
  seg.rows = rows;
  seg.columns = columns;
  for (size_t s = 0; s < seg.segments.size(); ++s) {
    for (uint32_t f = 0; f < frameCount; ++f) {
      SegmentFrame frame;
      frame.segment = static_cast<uint16_t>(s + 1);
      frame.image = order[f];
      frame.data = bits::extractBits(volume.data(), (s * frameCount + f) * frameBits, frameBits);
      seg.frames.push_back(std::move(frame));
    }
  }
}

json describe(const Segmentation& seg, bool withRuns) {
  json segments = json::array();
  for (size_t i = 0; i < seg.segments.size(); ++i) {
    const auto& s = seg.segments[i];
    json j = {{"number", i + 1}, {"label", s.label}, {"category", toJson(s.category)}, {"type", toJson(s.type)},
              {"algorithm", {{"type", segmentAlgorithmName(s.algorithm)}}}, {"color", s.color}};
    if (!s.algorithmName.empty()) j["algorithm"]["name"] = s.algorithmName;
    if (!s.algorithmVersion.empty()) j["algorithm"]["version"] = s.algorithmVersion;
    if (s.algorithmFamily) j["algorithm"]["family"] = toJson(*s.algorithmFamily);
    if (s.anatomicRegion) j["anatomicRegion"] = toJson(*s.anatomicRegion);
    if (!s.description.empty()) j["description"] = s.description;
    uint64_t frames = 0, pixels = 0;
    for (const auto& f : seg.frames) {
      if (f.segment != i + 1) continue;
      ++frames;
      pixels += seg.fractional ? static_cast<uint64_t>(std::count_if(f.data.begin(), f.data.end(), [](uint8_t v) { return v > 0; }))
                               : bits::countSetBits(f.data.data(), static_cast<uint64_t>(seg.rows) * seg.columns);
    }
    j["frames"] = frames;
    j["pixels"] = pixels;
    segments.push_back(j);
  }
  json out = {{"type", seg.fractional ? "FRACTIONAL" : "BINARY"}, {"rows", seg.rows}, {"columns", seg.columns},
              {"segments", segments}, {"frameCount", seg.frames.size()}};
  if (seg.fractional) {
    out["fractionalType"] = seg.fractionalType;
    out["maxFractionalValue"] = seg.maxFractionalValue;
  }
  if (withRuns) {
    json masks = json::array();
    const uint64_t pixels = static_cast<uint64_t>(seg.rows) * seg.columns;
    for (const auto& f : seg.frames) {
      json image = {{"sopInstanceUid", f.image.sopInstanceUid}};
      if (f.image.frame) image["frame"] = f.image.frame;
      json runs = json::array();
      uint64_t p = 0;
      while (p < pixels) {
        const unsigned value = seg.fractional ? f.data[p] : bits::get(f.data.data(), p);
        if (!value) {
          ++p;
          continue;
        }
        uint64_t end = p + 1;
        while (end < pixels && (seg.fractional ? f.data[end] : bits::get(f.data.data(), end)) == value) ++end;
        if (seg.fractional) runs.push_back({p, end - p, value});
        else runs.push_back({p, end - p});
        p = end;
      }
      masks.push_back({{"segment", f.segment}, {"image", image}, {seg.fractional ? "values" : "runs", runs}});
    }
    out["masks"] = masks;
  }
  return out;
}

}  // namespace annot
