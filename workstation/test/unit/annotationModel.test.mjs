import assert from 'node:assert/strict';
import { test } from 'node:test';

import { annotationFor, geometryOf, toolForGeometry } from '../../src/model/annotationModel.js';
import { imageToWorld, planeFromMetadata, worldToImage } from '../../src/model/planeGeometry.js';

// An oblique, anisotropic plane: what a careless conversion gets wrong.
const oblique = planeFromMetadata({
  imagePositionPatient: [-120.5, 33.25, 402.0],
  imageOrientationPatient: [0.8660254, 0.5, 0, 0, 0, -1],
  pixelSpacing: [0.7, 0.45],
});
const axial = planeFromMetadata({ imagePositionPatient: [-100, -100, 50], imageOrientationPatient: [1, 0, 0, 0, 1, 0], pixelSpacing: [0.5, 0.5] });
const image = { sopInstanceUid: '1.2.3.4' };

function roundTrip(geometry, plane) {
  const annotation = annotationFor(geometry, { imageId: 'wadors:x/frames/1', plane, frameOfReferenceUid: '1.2', annotationUID: 'a1' });
  return { annotation, back: geometryOf(annotation, image, plane) };
}

test('image coordinates follow the DICOM convention: (0,0) is the corner of the first pixel', () => {
  // The first pixel's centre is Image Position (Patient).
  assert.deepEqual(imageToWorld(axial, [0.5, 0.5]), [-100, -100, 50]);
  // One column to the right moves by the column spacing along the row direction; one row down
  // by the row spacing along the column direction.
  const w = imageToWorld(oblique, [1.5, 1.5]);
  const expected = [-120.5 + 0.45 * 0.8660254, 33.25 + 0.45 * 0.5, 402.0 - 0.7];
  w.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-9, `${v} vs ${expected[i]}`));
  const [x, y] = worldToImage(oblique, w);
  assert.ok(Math.abs(x - 1.5) < 1e-6 && Math.abs(y - 1.5) < 1e-6, `${x}, ${y}`);
});

test('every geometry survives document -> Cornerstone -> document exactly', () => {
  const shapes = [
    { type: 'point', image, points: [[12.345, 67.891]] },
    { type: 'polyline', image, points: [[10, 10], [40.5, 22.125]] },
    { type: 'polyline', image, points: [[10, 10], [20, 15], [30, 12.5], [44.001, 30]] },
    { type: 'polygon', image, points: [[10, 10], [50, 12], [45.5, 40.25], [12, 38]] },
    { type: 'bbox', image, points: [[100.25, 80], [152, 121.5]] },
    { type: 'ellipse', image, points: [[210.5, 180], [236.5, 180], [223.5, 171], [223.5, 189]] },
    { type: 'ellipse', image, points: [[50, 20], [50, 80], [40, 50], [60, 50]] },
    { type: 'circle', image, points: [[64, 64], [70.5, 64]] },
  ];
  for (const plane of [axial, oblique]) {
    for (const g of shapes) {
      const { back } = roundTrip(g, plane);
      assert.deepEqual(back, g, `${g.type} with ${g.points.length} points`);
    }
  }
});

test('shapes map to the tools OHIF and Cornerstone use', () => {
  assert.equal(toolForGeometry({ type: 'point', points: [[1, 1]] }), 'Probe');
  assert.equal(toolForGeometry({ type: 'polyline', points: [[1, 1], [2, 2]] }), 'Length');
  assert.equal(toolForGeometry({ type: 'polyline', points: [[1, 1], [2, 2], [3, 1]] }), 'PlanarFreehandROI');
  assert.equal(toolForGeometry({ type: 'polygon', points: [[1, 1], [2, 2], [3, 1]] }), 'PlanarFreehandROI');
  assert.equal(toolForGeometry({ type: 'bbox', points: [[1, 1], [2, 2]] }), 'RectangleROI');
  assert.equal(toolForGeometry({ type: 'ellipse', points: [] }), 'EllipticalROI');
  assert.equal(toolForGeometry({ type: 'circle', points: [] }), 'CircleROI');
  assert.throws(() => toolForGeometry({ type: 'hexagon', points: [] }), /unknown geometry type/);
});

test('a rectangle dragged from any corner is one box, min corner first', () => {
  const { annotation } = roundTrip({ type: 'bbox', image, points: [[10, 20], [30, 40]] }, axial);
  // As if dragged from bottom-right to top-left: the handles come in another order.
  annotation.data.handles.points.reverse();
  assert.deepEqual(geometryOf(annotation, image, axial).points, [[10, 20], [30, 40]]);
});

test('an ellipse drawn taller than wide lists its vertical axis first', () => {
  // Cornerstone's handles: bottom, top, left, right.
  const world = (p) => imageToWorld(axial, p);
  const drawn = {
    metadata: { toolName: 'EllipticalROI' },
    data: { handles: { points: [[50, 90], [50, 10], [40, 50], [60, 50]].map(world) } },
  };
  assert.deepEqual(geometryOf(drawn, image, axial).points, [[50, 10], [50, 90], [40, 50], [60, 50]]);
});

test('a freehand contour drops repeated points and its closing point', () => {
  const world = (p) => imageToWorld(axial, p);
  const drawn = {
    metadata: { toolName: 'PlanarFreehandROI' },
    data: { handles: { points: [] }, contour: { closed: true, polyline: [[1, 1], [1, 1], [5, 1], [5, 5], [1.0001, 1]].map(world) } },
  };
  assert.deepEqual(geometryOf(drawn, image, axial), { type: 'polygon', image, points: [[1, 1], [5, 1], [5, 5]] });
});

test('the referenced frame of a multi-frame image is kept', () => {
  const frame = { sopInstanceUid: '1.2.3.9', frame: 7 };
  const a = annotationFor({ type: 'point', image: frame, points: [[3, 4]] }, { imageId: 'x', plane: axial, frameOfReferenceUid: '', annotationUID: 'u' });
  assert.deepEqual(geometryOf(a, frame, axial).image, frame);
});

test('tools that draw nothing the document holds are refused', () => {
  assert.throws(() => geometryOf({ metadata: { toolName: 'Angle' }, data: { handles: { points: [] } } }, image, axial), /draws nothing/);
});

test('a freehand outline keeps its corners, not the points resampled along its edges', () => {
  const world = (p) => imageToWorld(axial, p);
  const edge = (a, b, n) => Array.from({ length: n }, (_, i) => [a[0] + ((b[0] - a[0]) * i) / n, a[1] + ((b[1] - a[1]) * i) / n]);
  const outline = [...edge([10, 10], [30, 10], 40), ...edge([30, 10], [30, 30], 40), ...edge([30, 30], [10, 30], 40), ...edge([10, 30], [10, 10], 40)];
  const drawn = { metadata: { toolName: 'PlanarFreehandROI' }, data: { handles: { points: [] }, contour: { closed: true, polyline: outline.map(world) } } };
  const g = geometryOf(drawn, image, axial);
  assert.deepEqual(g.points, [[10, 10], [30, 10], [30, 30], [10, 30]]);
  // Saved and drawn again, it stays the same.
  assert.deepEqual(roundTrip(g, axial).back, g);
});
