#include "reports/Agreement.h"

#include "seg/Segmentation.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>

namespace annot {
namespace {

bool closed(GeometryType t) {
  return t == GeometryType::BBox || t == GeometryType::Polygon || t == GeometryType::Ellipse || t == GeometryType::Circle;
}

// Whether pixel centre (x, y) lies inside the region.
bool contains(const Geometry& g, double x, double y) {
  const auto& p = g.points;
  switch (g.type) {
    case GeometryType::BBox:
      return x >= std::min(p[0][0], p[1][0]) && x <= std::max(p[0][0], p[1][0]) && y >= std::min(p[0][1], p[1][1]) &&
             y <= std::max(p[0][1], p[1][1]);
    case GeometryType::Circle:
      return std::hypot(x - p[0][0], y - p[0][1]) <= std::hypot(p[1][0] - p[0][0], p[1][1] - p[0][1]);
    case GeometryType::Ellipse: {
      const double cx = (p[0][0] + p[1][0]) / 2, cy = (p[0][1] + p[1][1]) / 2;
      const double a = std::hypot(p[1][0] - p[0][0], p[1][1] - p[0][1]) / 2, b = std::hypot(p[3][0] - p[2][0], p[3][1] - p[2][1]) / 2;
      if (a <= 0 || b <= 0) return false;
      const double ux = (p[1][0] - p[0][0]) / (2 * a), uy = (p[1][1] - p[0][1]) / (2 * a);
      const double dx = x - cx, dy = y - cy;
      const double along = dx * ux + dy * uy, across = -dx * uy + dy * ux;
      return (along * along) / (a * a) + (across * across) / (b * b) <= 1;
    }
    case GeometryType::Polygon: {
      bool inside = false;
      for (size_t i = 0, j = p.size() - 1; i < p.size(); j = i++) {
        if (((p[i][1] > y) != (p[j][1] > y)) && (x < (p[j][0] - p[i][0]) * (y - p[i][1]) / (p[j][1] - p[i][1]) + p[i][0])) inside = !inside;
      }
      return inside;
    }
    default:
      return false;
  }
}

std::array<double, 4> extent(const Geometry& g) {
  double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
  auto grow = [&](double x, double y) {
    x0 = std::min(x0, x);
    y0 = std::min(y0, y);
    x1 = std::max(x1, x);
    y1 = std::max(y1, y);
  };
  if (g.type == GeometryType::Circle) {
    const double r = std::hypot(g.points[1][0] - g.points[0][0], g.points[1][1] - g.points[0][1]);
    grow(g.points[0][0] - r, g.points[0][1] - r);
    grow(g.points[0][0] + r, g.points[0][1] + r);
  } else {
    for (const auto& p : g.points) grow(p[0], p[1]);
  }
  return {x0, y0, x1, y1};
}
}  // namespace

std::optional<double> regionIoU(const Geometry& a, const Geometry& b) {
  if (!closed(a.type) || !closed(b.type)) return std::nullopt;
  if (a.image.sopInstanceUid != b.image.sopInstanceUid || a.image.frame != b.image.frame) return std::nullopt;
  const auto ea = extent(a), eb = extent(b);
  const int x0 = static_cast<int>(std::floor(std::min(ea[0], eb[0]))), y0 = static_cast<int>(std::floor(std::min(ea[1], eb[1])));
  const int x1 = static_cast<int>(std::ceil(std::max(ea[2], eb[2]))), y1 = static_cast<int>(std::ceil(std::max(ea[3], eb[3])));
  uint64_t both = 0, either = 0;
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      const bool inA = contains(a, x + 0.5, y + 0.5), inB = contains(b, x + 0.5, y + 0.5);
      both += inA && inB;
      either += inA || inB;
    }
  }
  if (either == 0) return std::nullopt;
  return static_cast<double>(both) / static_cast<double>(either);
}

double diceFromIoU(double iou) { return 2 * iou / (1 + iou); }

std::optional<double> cohensKappa(const std::vector<std::pair<std::string, std::string>>& ratings) {
  if (ratings.empty()) return std::nullopt;
  std::map<std::string, double> a, b;
  double agree = 0;
  for (const auto& [x, y] : ratings) {
    a[x] += 1;
    b[y] += 1;
    agree += x == y;
  }
  const double n = static_cast<double>(ratings.size());
  const double po = agree / n;
  double pe = 0;
  for (const auto& [category, count] : a) pe += (count / n) * (b.count(category) ? b.at(category) / n : 0);
  if (pe >= 1) return po >= 1 ? std::optional<double>(1.0) : std::nullopt;
  return (po - pe) / (1 - pe);
}

std::optional<double> fleissKappa(const std::vector<std::vector<std::string>>& subjects) {
  if (subjects.empty() || subjects[0].size() < 2) return std::nullopt;
  const double raters = static_cast<double>(subjects[0].size());
  std::map<std::string, double> totals;
  double meanP = 0;
  for (const auto& s : subjects) {
    if (s.size() != subjects[0].size()) return std::nullopt;
    std::map<std::string, double> counts;
    for (const auto& c : s) counts[c] += 1;
    double agreement = 0;
    for (const auto& [c, n] : counts) {
      agreement += n * (n - 1);
      totals[c] += n;
    }
    meanP += agreement / (raters * (raters - 1));
  }
  const double n = static_cast<double>(subjects.size());
  meanP /= n;
  double pe = 0;
  for (const auto& [c, count] : totals) pe += std::pow(count / (n * raters), 2);
  if (pe >= 1) return meanP >= 1 ? std::optional<double>(1.0) : std::nullopt;
  return (meanP - pe) / (1 - pe);
}

namespace {
// Union of every mask of one segment type, per source frame, as packed bits.
using MaskMap = std::map<std::pair<std::string, std::string>, std::vector<uint8_t>>;  // (type, image:frame) -> bits

MaskMap masksOf(const AnnotationDocument& doc, const SourceImageSet& images) {
  MaskMap out;
  if (!doc.segmentation) return out;
  const Segmentation seg = parseSegmentation(*doc.segmentation, images);
  for (const auto& f : seg.frames) {
    if (seg.fractional) continue;
    const auto& type = seg.segments[f.segment - 1].type;
    auto& bits = out[{type.scheme + ":" + type.value, f.image.sopInstanceUid + ":" + std::to_string(f.image.frame)}];
    if (bits.empty()) bits.assign(f.data.size(), 0);
    for (size_t i = 0; i < f.data.size(); ++i) bits[i] |= f.data[i];
  }
  return out;
}

void compareMasks(const MaskMap& a, const MaskMap& b, CaseAgreement& out) {
  for (const auto& [key, bitsA] : a) {
    const auto it = b.find(key);
    if (it == b.end()) continue;
    uint64_t both = 0, sumA = 0, sumB = 0;
    for (size_t i = 0; i < bitsA.size() && i < it->second.size(); ++i) {
      both += static_cast<uint64_t>(__builtin_popcount(bitsA[i] & it->second[i]));
      sumA += static_cast<uint64_t>(__builtin_popcount(bitsA[i]));
      sumB += static_cast<uint64_t>(__builtin_popcount(it->second[i]));
    }
    if (sumA + sumB == 0) continue;
    out.maskDice.push_back(2.0 * static_cast<double>(both) / static_cast<double>(sumA + sumB));
    out.maskIoU.push_back(static_cast<double>(both) / static_cast<double>(sumA + sumB - both));
  }
}
}  // namespace

CaseAgreement compareReaders(const std::vector<AnnotationDocument>& readers, const SourceImageSet* images) {
  CaseAgreement out;
  if (images) {
    std::vector<MaskMap> masks;
    for (const auto& r : readers) masks.push_back(masksOf(r, *images));
    for (size_t i = 0; i < masks.size(); ++i) {
      for (size_t j = i + 1; j < masks.size(); ++j) compareMasks(masks[i], masks[j], out);
    }
  }
  for (size_t i = 0; i < readers.size(); ++i) {
    for (size_t j = i + 1; j < readers.size(); ++j) {
      for (const auto& f : readers[i].findings) {
        if (!f.geometry) continue;
        std::optional<double> best;
        for (const auto& g : readers[j].findings) {
          if (!g.geometry || !g.finding.sameConcept(f.finding)) continue;
          if (g.geometry->image.sopInstanceUid != f.geometry->image.sopInstanceUid || g.geometry->image.frame != f.geometry->image.frame) continue;
          if (f.geometry->type == GeometryType::Point && g.geometry->type == GeometryType::Point) {
            const double d = std::hypot(f.geometry->points[0][0] - g.geometry->points[0][0], f.geometry->points[0][1] - g.geometry->points[0][1]);
            if (!best || d < *best) best = d;
          } else if (auto iou = regionIoU(*f.geometry, *g.geometry)) {
            if (!best || *iou > *best) best = iou;
          }
        }
        if (!best) {
          ++out.unmatchedFindings;
        } else if (f.geometry->type == GeometryType::Point) {
          out.pointDistances.push_back(*best);
        } else {
          out.regionIoUs.push_back(*best);
        }
      }
    }
  }
  return out;
}

}  // namespace annot
