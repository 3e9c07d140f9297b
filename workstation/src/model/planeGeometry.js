// Image pixel coordinates <-> patient (world) coordinates for one image plane.
//
// Image coordinates follow DICOM SCOORD (PS3.3 C.18.6.1.1): (0, 0) is the top-left corner of
// the top-left pixel, x runs along a row (column index), y down the columns (row index), so the
// centre of the first pixel is (0.5, 0.5). World coordinates are the patient coordinate system
// in mm, which is what Cornerstone keeps annotations in. Pixel Spacing is [between rows, between
// columns]: x steps by the column spacing along the row direction.
//
// Pure functions with no Cornerstone import, so the round trip can be tested under Node.

// plane: {origin: [x,y,z] (Image Position of the first pixel's centre), rowDirection,
//         columnDirection (Image Orientation's two vectors), rowSpacing, columnSpacing}
export function planeFromMetadata({ imagePositionPatient, imageOrientationPatient, pixelSpacing }) {
  const iop = imageOrientationPatient && imageOrientationPatient.length === 6 ? imageOrientationPatient : [1, 0, 0, 0, 1, 0];
  const spacing = pixelSpacing && pixelSpacing.length === 2 ? pixelSpacing : [1, 1];
  return {
    origin: imagePositionPatient && imagePositionPatient.length === 3 ? imagePositionPatient.map(Number) : [0, 0, 0],
    rowDirection: iop.slice(0, 3).map(Number),
    columnDirection: iop.slice(3, 6).map(Number),
    rowSpacing: Number(spacing[0]) || 1,
    columnSpacing: Number(spacing[1]) || 1,
  };
}

export function imageToWorld(plane, [x, y]) {
  const u = (x - 0.5) * plane.columnSpacing;
  const v = (y - 0.5) * plane.rowSpacing;
  return [0, 1, 2].map((k) => plane.origin[k] + u * plane.rowDirection[k] + v * plane.columnDirection[k]);
}

export function worldToImage(plane, world) {
  const d = [0, 1, 2].map((k) => world[k] - plane.origin[k]);
  const u = d[0] * plane.rowDirection[0] + d[1] * plane.rowDirection[1] + d[2] * plane.rowDirection[2];
  const v = d[0] * plane.columnDirection[0] + d[1] * plane.columnDirection[1] + d[2] * plane.columnDirection[2];
  return [u / plane.columnSpacing + 0.5, v / plane.rowSpacing + 0.5];
}

export function planeNormal(plane) {
  const [a, b] = [plane.rowDirection, plane.columnDirection];
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

// Coordinates the product stores: a thousandth of a pixel, which the SR's 32-bit floats keep
// exactly enough that a saved shape reads back as drawn.
export function roundCoordinate(value) {
  return Math.round(value * 1000) / 1000;
}
