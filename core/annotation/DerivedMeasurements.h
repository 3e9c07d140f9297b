#pragma once
// Measurements the product computes from a region and the image's pixel spacing: length of
// polylines, area of closed shapes and boxes, long/short axis of ellipses, diameter of
// circles. Pixel Spacing gives mm; Imager Pixel Spacing gives mm at the detector (noted);
// without spacing the values are in pixels.
#include <vector>

#include "annotation/AnnotationDocument.h"
#include "dicom/SourceImages.h"

namespace annot {

namespace concepts {
extern const Code Length;      // (410668003, SCT, "Length")
extern const Code Area;        // (42798000, SCT, "Area")
extern const Code LongAxis;    // (103339001, SCT, "Long Axis")
extern const Code ShortAxis;   // (103340004, SCT, "Short Axis")
extern const Code Diameter;    // (81827009, SCT, "Diameter")
extern const Code Millimeter;  // (mm, UCUM)
extern const Code SquareMillimeter;
extern const Code Pixels;
extern const Code SquarePixels;
}  // namespace concepts

// Size of the region in pixel space, used to refuse degenerate shapes: length for open
// shapes and points (0), area for closed shapes.
double pixelExtent(const Geometry& geometry);
std::vector<Measurement> deriveMeasurements(const Geometry& geometry, const SourceImage& image);

}  // namespace annot
