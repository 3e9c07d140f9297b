#include "annotation/DerivedMeasurements.h"

#include <cmath>

namespace annot {
namespace concepts {
const Code Length{"410668003", "SCT", "Length"};
const Code Area{"42798000", "SCT", "Area"};
const Code LongAxis{"103339001", "SCT", "Long Axis"};
const Code ShortAxis{"103340004", "SCT", "Short Axis"};
const Code Diameter{"81827009", "SCT", "Diameter"};
const Code Millimeter{"mm", "UCUM", "millimeter"};
const Code SquareMillimeter{"mm2", "UCUM", "square millimeter"};
const Code Pixels{"{pixels}", "UCUM", "pixels"};
// UCUM annotations may not contain spaces (ASCII 33-126 only): an underscore joins the words.
const Code SquarePixels{"{square_pixels}", "UCUM", "square pixels"};
}  // namespace concepts

namespace {
constexpr double kPi = 3.14159265358979323846;

struct Scale {
  double column = 1, row = 1;  // mm per pixel along x (columns) and y (rows)
  bool physical = false;
  std::string note;
};

Scale scaleOf(const SourceImage& image) {
  Scale s;
  if (image.pixelSpacing) {
    // PixelSpacing is [row spacing, column spacing]: the distance between rows is a y step.
    s.row = (*image.pixelSpacing)[0];
    s.column = (*image.pixelSpacing)[1];
    s.physical = true;
    if (image.spacingSource == SourceImage::SpacingSource::ImagerPixelSpacing) {
      s.note = "based on Imager Pixel Spacing: measured at the detector plane, not corrected for magnification";
    }
  } else {
    s.note = "no pixel spacing in the image: value in pixels";
  }
  return s;
}

double distance(const Point2& a, const Point2& b, const Scale& s) {
  return std::hypot((a[0] - b[0]) * s.column, (a[1] - b[1]) * s.row);
}

double shoelace(const std::vector<Point2>& p, const Scale& s) {
  double sum = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const Point2& a = p[i];
    const Point2& b = p[(i + 1) % p.size()];
    sum += a[0] * s.column * b[1] * s.row - b[0] * s.column * a[1] * s.row;
  }
  return std::abs(sum) / 2;
}

Measurement make(const Code& concept, double value, bool area, const Scale& s) {
  Measurement m;
  m.concept = concept;
  m.value = value;
  m.unit = s.physical ? (area ? concepts::SquareMillimeter : concepts::Millimeter)
                      : (area ? concepts::SquarePixels : concepts::Pixels);
  m.derived = true;
  m.note = s.note;
  return m;
}
}  // namespace

double pixelExtent(const Geometry& g) {
  const Scale unit;
  const auto& p = g.points;
  switch (g.type) {
    case GeometryType::Point: return 0;
    case GeometryType::Polyline: {
      double length = 0;
      for (size_t i = 1; i < p.size(); ++i) length += distance(p[i - 1], p[i], unit);
      return length;
    }
    case GeometryType::Polygon: return shoelace(p, unit);
    case GeometryType::BBox: return std::abs(p[1][0] - p[0][0]) * std::abs(p[1][1] - p[0][1]);
    case GeometryType::Ellipse: return kPi / 4 * distance(p[0], p[1], unit) * distance(p[2], p[3], unit);
    case GeometryType::Circle: return kPi * std::pow(distance(p[0], p[1], unit), 2);
  }
  return 0;
}

std::vector<Measurement> deriveMeasurements(const Geometry& g, const SourceImage& image) {
  const Scale s = scaleOf(image);
  const auto& p = g.points;
  std::vector<Measurement> out;
  switch (g.type) {
    case GeometryType::Point:
      break;
    case GeometryType::Polyline: {
      double length = 0;
      for (size_t i = 1; i < p.size(); ++i) length += distance(p[i - 1], p[i], s);
      out.push_back(make(concepts::Length, length, false, s));
      break;
    }
    case GeometryType::Polygon:
      out.push_back(make(concepts::Area, shoelace(p, s), true, s));
      break;
    case GeometryType::BBox:
      out.push_back(make(concepts::Area, std::abs(p[1][0] - p[0][0]) * s.column * std::abs(p[1][1] - p[0][1]) * s.row, true, s));
      break;
    case GeometryType::Ellipse: {
      const double a = distance(p[0], p[1], s), b = distance(p[2], p[3], s);
      out.push_back(make(concepts::LongAxis, std::max(a, b), false, s));
      out.push_back(make(concepts::ShortAxis, std::min(a, b), false, s));
      out.push_back(make(concepts::Area, kPi / 4 * a * b, true, s));
      break;
    }
    case GeometryType::Circle: {
      const double dc = std::abs(p[1][0] - p[0][0]), dr = std::abs(p[1][1] - p[0][1]);
      const double radiusPixels = std::hypot(dc, dr);
      out.push_back(make(concepts::Diameter, 2 * distance(p[0], p[1], s), false, s));
      out.push_back(make(concepts::Area, kPi * radiusPixels * s.column * radiusPixels * s.row, true, s));
      break;
    }
  }
  return out;
}

}  // namespace annot
