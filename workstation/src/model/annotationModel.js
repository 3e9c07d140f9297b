// Cornerstone3D tool annotations <-> the annotation document's geometries: the one place where
// the UI's drawing state meets the product's JSON model (docs/annotation.schema.json).
//
//   point    <-> Probe               one handle
//   polyline <-> Length              two handles (a line)
//            <-> PlanarFreehandROI   an open contour (more than two points)
//   polygon  <-> PlanarFreehandROI   a closed contour (the first point is not repeated)
//   bbox     <-> RectangleROI        four corners in, [min corner, max corner] out
//   ellipse  <-> EllipticalROI       handles [bottom, top, left, right]; the document lists the
//                                    major axis' ends, then the minor axis' ends
//   circle   <-> CircleROI           [centre, a point on the circle]
//
// Coordinates are image pixels (planeGeometry.js) rounded to a thousandth, so a shape saved,
// written into an SR, read back and drawn again lands where it was drawn.
import { imageToWorld, planeNormal, roundCoordinate, worldToImage } from './planeGeometry.js';

export const GEOMETRY_TOOLS = {
  point: ['Probe'],
  polyline: ['Length', 'PlanarFreehandROI'],
  polygon: ['PlanarFreehandROI'],
  bbox: ['RectangleROI'],
  ellipse: ['EllipticalROI'],
  circle: ['CircleROI'],
};

// The geometry types a tool can produce.
export function geometriesOfTool(toolName) {
  return Object.keys(GEOMETRY_TOOLS).filter((type) => GEOMETRY_TOOLS[type].includes(toolName));
}

const toImage = (plane, world) => worldToImage(plane, world).map(roundCoordinate);

// Consecutive points closer than this (pixels) add nothing but size to a freehand contour.
const SAME_POINT = 0.01;

function withoutRepeats(points) {
  const out = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (!last || Math.hypot(p[0] - last[0], p[1] - last[1]) >= SAME_POINT) out.push(p);
  }
  return out;
}

// A freehand outline is resampled every fraction of a pixel; points on the straight line between
// their neighbours describe nothing and are left out (idempotent: a saved outline keeps them out).
function withoutCollinear(points, closed) {
  if (points.length < 3) return points;
  const out = [];
  const n = points.length;
  for (let i = 0; i < n; i++) {
    if (!closed && (i === 0 || i === n - 1)) {
      out.push(points[i]);
      continue;
    }
    const prev = out.length ? out[out.length - 1] : points[n - 1];
    const next = points[(i + 1) % n];
    const p = points[i];
    const length = Math.hypot(next[0] - prev[0], next[1] - prev[1]);
    const distance = length === 0 ? Math.hypot(p[0] - prev[0], p[1] - prev[1])
      : Math.abs((next[0] - prev[0]) * (prev[1] - p[1]) - (prev[0] - p[0]) * (next[1] - prev[1])) / length;
    if (distance >= SAME_POINT) out.push(p);
  }
  return out.length >= (closed ? 3 : 2) ? out : points;
}

// The document geometry of a Cornerstone annotation.
//   image: the {sopInstanceUid, frame?} the annotation's referencedImageId stands for
//   plane: that image's plane (planeGeometry.planeFromMetadata)
export function geometryOf(annotation, image, plane) {
  const tool = annotation.metadata.toolName;
  const points = annotation.data.handles?.points || [];
  const ref = { ...image };
  switch (tool) {
    case 'Probe':
      return { type: 'point', image: ref, points: [toImage(plane, points[0])] };
    case 'Length':
      return { type: 'polyline', image: ref, points: [toImage(plane, points[0]), toImage(plane, points[1])] };
    case 'PlanarFreehandROI': {
      const contour = annotation.data.contour || {};
      const outline = withoutRepeats((contour.polyline || []).map((p) => toImage(plane, p)));
      const closed = contour.closed !== false;
      if (closed && outline.length > 1) {
        const [first, last] = [outline[0], outline[outline.length - 1]];
        if (Math.hypot(first[0] - last[0], first[1] - last[1]) < SAME_POINT) outline.pop();
      }
      return { type: closed ? 'polygon' : 'polyline', image: ref, points: withoutCollinear(outline, closed) };
    }
    case 'RectangleROI': {
      const corners = points.map((p) => toImage(plane, p));
      const xs = corners.map((c) => c[0]);
      const ys = corners.map((c) => c[1]);
      return { type: 'bbox', image: ref, points: [[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]] };
    }
    case 'EllipticalROI': {
      const [bottom, top, left, right] = points.map((p) => toImage(plane, p));
      const vertical = [top, bottom];
      const horizontal = [left, right];
      const length = ([a, b]) => Math.hypot(b[0] - a[0], b[1] - a[1]);
      const [major, minor] = length(horizontal) >= length(vertical) ? [horizontal, vertical] : [vertical, horizontal];
      return { type: 'ellipse', image: ref, points: [...major, ...minor] };
    }
    case 'CircleROI':
      return { type: 'circle', image: ref, points: [toImage(plane, points[0]), toImage(plane, points[1])] };
    default:
      throw new Error(`the ${tool} tool draws nothing the annotation document can hold`);
  }
}

// Which tool shows a document geometry.
export function toolForGeometry(geometry) {
  if (geometry.type === 'polyline') return geometry.points.length === 2 ? 'Length' : 'PlanarFreehandROI';
  const tools = GEOMETRY_TOOLS[geometry.type];
  if (!tools) throw new Error(`unknown geometry type '${geometry.type}'`);
  return tools[0];
}

// A Cornerstone annotation (plain object, for annotation.state.addAnnotation) showing a document
// geometry on the image with this imageId.
//   context: {imageId, plane, frameOfReferenceUid, annotationUID}
export function annotationFor(geometry, { imageId, plane, frameOfReferenceUid, annotationUID }) {
  const toolName = toolForGeometry(geometry);
  const world = (p) => imageToWorld(plane, p);
  const pts = geometry.points;
  let handles = [];
  let contour;
  switch (toolName) {
    case 'Probe':
    case 'Length':
    case 'CircleROI':
      handles = pts.map(world);
      break;
    case 'PlanarFreehandROI': {
      const closed = geometry.type === 'polygon';
      contour = { polyline: pts.map(world), closed };
      handles = closed ? [] : [world(pts[0]), world(pts[pts.length - 1])];
      break;
    }
    case 'RectangleROI': {
      const [[x0, y0], [x1, y1]] = pts;
      // Cornerstone's order: top-left, top-right, bottom-left, bottom-right.
      handles = [[x0, y0], [x1, y0], [x0, y1], [x1, y1]].map(world);
      break;
    }
    case 'EllipticalROI': {
      const axes = [[pts[0], pts[1]], [pts[2], pts[3]]];
      // The more horizontal axis (in image space) is left-right, the other bottom-top.
      const slope = ([a, b]) => Math.abs(b[1] - a[1]) / (Math.abs(b[0] - a[0]) + 1e-12);
      const [horizontal, vertical] = slope(axes[0]) <= slope(axes[1]) ? axes : [axes[1], axes[0]];
      const [left, right] = horizontal;
      const [top, bottom] = vertical;
      handles = [bottom, top, left, right].map(world);
      break;
    }
    default:
      throw new Error(`no tool for ${geometry.type}`);
  }
  const normal = planeNormal(plane);
  const annotation = {
    annotationUID,
    highlighted: false,
    isLocked: false,
    isVisible: true,
    invalidated: true,
    metadata: {
      toolName,
      referencedImageId: imageId,
      FrameOfReferenceUID: frameOfReferenceUid,
      viewPlaneNormal: normal,
      viewUp: plane.columnDirection.map((v) => -v),
    },
    data: {
      label: '',
      handles: { points: handles, activeHandleIndex: null, textBox: { hasMoved: false } },
      cachedStats: {},
    },
  };
  if (contour) annotation.data.contour = contour;
  return annotation;
}
