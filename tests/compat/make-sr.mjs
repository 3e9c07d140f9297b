#!/usr/bin/env node
// make-sr.mjs - write a DICOM TID 1500 Measurement Report SR exactly the way
// OHIF / Cornerstone3D does it: build Cornerstone3D annotations (world
// coordinates) and call adaptersSR.Cornerstone3D.MeasurementReport.generateReport
// from @cornerstonejs/adapters, then serialise with dcmjs.
//
// Usage:
//   node make-sr.mjs <out-sr.dcm> [--image ref.dcm] [--pixel-spacing 0.7,0.7]
//                    [--explicit] [--tools Length,RectangleROI,...]
//
// Without --image a minimal synthetic 64x64 CT slice is written next to the SR
// (<out>-ct.dcm) and referenced. Annotations are defined in *image pixel
// coordinates* (DICOM SCOORD convention: (0,0) = top-left corner of the top-left
// pixel, pixel centres at .5) and converted to world coordinates with
// @cornerstonejs/core utilities.imageToWorldCoords, so the SCOORD GraphicData in
// the SR equals the pixel coordinates below (up to float rounding).
// Also writes <out>.expected.json (used by verify.mjs).

import fs from 'node:fs';
import path from 'node:path';
import { utilities as csUtils } from '@cornerstonejs/core';
import { adaptersSR } from '@cornerstonejs/adapters';
import { dcmjs, metaData, readNaturalized, writeNaturalized, registerImage } from './sr-common.mjs';

const { MeasurementReport } = adaptersSR.Cornerstone3D;
const { DicomMetaDictionary } = dcmjs.data;

// ---------------------------------------------------------------- CLI
const args = process.argv.slice(2);
const opt = name => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const flag = name => {
  const i = args.indexOf(name);
  if (i < 0) return false;
  args.splice(i, 1);
  return true;
};
const imagePath = opt('--image');
const pixelSpacingArg = opt('--pixel-spacing');
const toolsArg = opt('--tools');
const explicit = flag('--explicit');
const outPath = args[0];
if (!outPath) {
  console.error('usage: node make-sr.mjs <out-sr.dcm> [--image ref.dcm] [--pixel-spacing r,c] [--explicit] [--tools A,B]');
  process.exit(2);
}

// ---------------------------------------------------------------- reference image
function synthesizeCT(file, pixelSpacing) {
  const rows = 64, cols = 64;
  const px = new Int16Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
    const d = Math.hypot(r - 32, c - 32);
    px[r * cols + c] = d < 20 ? 1064 : 24; // disc of ~+40 HU in -1000 HU (stored = HU + 1024)
  }
  const uid = () => DicomMetaDictionary.uid();
  const ds = {
    _meta: {}, // datasetToBuffer() regenerates the file meta (explicit VR LE here)
    _vrMap: { PixelData: 'OW' },
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.2', // CT Image Storage
    SOPInstanceUID: uid(),
    StudyInstanceUID: uid(),
    SeriesInstanceUID: uid(),
    FrameOfReferenceUID: uid(),
    Modality: 'CT',
    PatientName: 'SRCompat^Synthetic',
    PatientID: 'SRCOMPAT0001',
    PatientBirthDate: '',
    PatientSex: 'O',
    StudyDate: '20240101', StudyTime: '120000', StudyID: '1',
    AccessionNumber: 'ACC0001', ReferringPhysicianName: '',
    SeriesNumber: 1, InstanceNumber: 1,
    ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    ImagePositionPatient: [-22.05, -22.05, 10],
    ImageOrientationPatient: [1, 0, 0, 0, 1, 0],
    PixelSpacing: pixelSpacing,
    SliceThickness: 1,
    Rows: rows, Columns: cols,
    SamplesPerPixel: 1, PhotometricInterpretation: 'MONOCHROME2',
    BitsAllocated: 16, BitsStored: 16, HighBit: 15, PixelRepresentation: 1,
    RescaleIntercept: -1024, RescaleSlope: 1, RescaleType: 'HU',
    PixelData: [px.buffer],
  };
  writeNaturalized(ds, file);
  return readNaturalized(file); // re-read, so we use exactly what is on disk
}

const pixelSpacing = (pixelSpacingArg || '0.7,0.7').split(',').map(Number);
let refPath = imagePath;
let image;
if (refPath) {
  image = readNaturalized(refPath);
} else {
  refPath = outPath.replace(/\.dcm$/i, '') + '-ct.dcm';
  image = synthesizeCT(refPath, pixelSpacing);
  console.error(`wrote synthetic CT ${refPath} (PixelSpacing ${pixelSpacing.join('\\')})`);
}
const [imageId] = registerImage(image, `dicomfile:${path.resolve(refPath)}`);
const FrameOfReferenceUID = image.FrameOfReferenceUID;

// ---------------------------------------------------------------- annotations
const W = ([x, y]) => csUtils.imageToWorldCoords(imageId, [x, y]); // pixel -> world (LPS mm)
const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
const statsKey = `imageId:${imageId}`;

// the pixel coordinates we intend to see in the SR's SCOORD GraphicData
const PX = {
  Length: [[10.5, 20.5], [40.5, 30.5]],
  RectangleROI: [[12, 14], [36, 14], [12, 40], [36, 40]], // CS3D order: TL, TR, BL, BR
  EllipticalROI: [[32, 10], [32, 54], [20, 32], [44, 32]], // top, bottom, left, right
  CircleROI: [[32, 32], [32, 20]], // centre, point on circumference
  Probe: [[16.5, 48.5]],
  PlanarFreehandROI: [[20, 20], [30, 16], [40, 22], [42, 34], [30, 42], [18, 34]], // closed
  ArrowAnnotate: [[50, 10], [58, 2]], // arrow head first (arrowFirst: true)
  Bidirectional: [[10, 30], [50, 30], [30, 22], [30, 38]], // long axis ends, then short axis ends
};

function base(toolName, data, extra = {}) {
  return {
    annotationUID: DicomMetaDictionary.uid(),
    metadata: { toolName, referencedImageId: imageId, FrameOfReferenceUID },
    data,
    ...extra,
  };
}

const builders = {
  Length() {
    const points = PX.Length.map(W);
    return base('Length', {
      label: 'Lesion 1 long axis',
      handles: {
        points,
        // a moved text box is stored as SCOORD POINT (99CS3D, TextPosition)
        textBox: { hasMoved: true, worldPosition: W([44, 24]) },
      },
      cachedStats: { [statsKey]: { length: dist(points[0], points[1]), unit: 'mm' } },
    }, {
      finding: { CodeValue: '108369006', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Neoplasm' },
      findingSites: [{ CodeValue: '39607008', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Lung' }],
    });
  },
  RectangleROI() {
    const points = PX.RectangleROI.map(W);
    const w = dist(points[0], points[1]), h = dist(points[0], points[2]);
    return base('RectangleROI', {
      label: 'Bounding box',
      handles: { points, textBox: { hasMoved: false } },
      cachedStats: {
        [statsKey]: {
          area: w * h, areaUnit: 'mm2', perimeter: 2 * (w + h),
          mean: 40.1, stdDev: 3.2, max: 48, modalityUnit: "[hnsf'U]",
        },
      },
    });
  },
  EllipticalROI() {
    const points = PX.EllipticalROI.map(W);
    const a = dist(points[0], points[1]) / 2, b = dist(points[2], points[3]) / 2;
    return base('EllipticalROI', {
      label: 'Ellipse',
      handles: { points, textBox: { hasMoved: false } },
      cachedStats: {
        [statsKey]: { area: Math.PI * a * b, areaUnit: 'mm2', mean: 12.5, stdDev: 1.5, max: 20, min: -3, modalityUnit: "[hnsf'U]" },
      },
    });
  },
  CircleROI() {
    const points = PX.CircleROI.map(W);
    const r = dist(points[0], points[1]);
    return base('CircleROI', {
      label: 'Circle',
      handles: { points, textBox: { hasMoved: false } },
      cachedStats: {
        [statsKey]: {
          area: Math.PI * r * r, areaUnit: 'mm2', radius: r, radiusUnit: 'mm',
          mean: 30, stdDev: 2, max: 35, min: 25, modalityUnit: "[hnsf'U]",
        },
      },
    });
  },
  Probe() {
    return base('Probe', {
      label: 'Probe point',
      handles: { points: PX.Probe.map(W), textBox: { hasMoved: false } },
      cachedStats: { [statsKey]: { value: 40 } }, // NOT written to the SR (NUM value is always 0)
    });
  },
  PlanarFreehandROI() {
    const polyline = PX.PlanarFreehandROI.map(W);
    return base('PlanarFreehandROI', {
      label: 'Freehand',
      contour: { polyline, closed: true },
      handles: { points: [], textBox: { hasMoved: false } },
      cachedStats: { [statsKey]: { area: 321.5, areaUnit: 'mm2', perimeter: 70.2, mean: 5, stdDev: 1, max: 9, modalityUnit: "[hnsf'U]" } },
    });
  },
  Bidirectional() {
    const points = PX.Bidirectional.map(W);
    return base('Bidirectional', {
      label: 'Bidirectional',
      handles: { points, textBox: { hasMoved: false } },
      cachedStats: { [statsKey]: { length: dist(points[0], points[1]), width: dist(points[2], points[3]), unit: 'mm' } },
    });
  },
  ArrowAnnotate() {
    return base('ArrowAnnotate', {
      label: 'Look here', // the SR stores data.label (not data.text) as TEXT "Comment"
      text: 'Look here',
      handles: { points: PX.ArrowAnnotate.map(W), arrowFirst: true, textBox: { hasMoved: false } },
    });
  },
};

const toolNames = toolsArg ? toolsArg.split(',') : Object.keys(builders);
// toolState shape expected by generateReport: { [imageId]: { [toolName]: { data: [annotation, ...] } } }
const toolState = { [imageId]: {} };
for (const t of toolNames) {
  if (!builders[t]) throw new Error(`unknown tool ${t}`);
  toolState[imageId][t] = { data: [builders[t]()] };
}

// ---------------------------------------------------------------- generate + write
// 3rd argument MUST be an object (generateReport reads options.InstanceNumber / options.predecessorImageId)
const report = MeasurementReport.generateReport(toolState, metaData, {
  SeriesDescription: 'CS3D adapters compat SR',
  Manufacturer: 'sr-compat-research',
});
const sr = report.dataset;
sr.SpecificCharacterSet = 'ISO_IR 192'; // generateReport sets it on the report object, not on the dataset
if (explicit) sr._meta.TransferSyntaxUID = { Value: ['1.2.840.10008.1.2.1'] };
const transferSyntax = sr._meta.TransferSyntaxUID.Value[0]; // adapter default: 1.2.840.10008.1.2 (implicit VR LE)
writeNaturalized(sr, outPath); // NB: datasetToBuffer replaces sr._meta

// expected values for verify.mjs
const expected = {
  srPath: path.resolve(outPath),
  imagePath: path.resolve(refPath),
  referencedSOPInstanceUID: image.SOPInstanceUID,
  pixelSpacing: image.PixelSpacing,
  tools: Object.fromEntries(toolNames.map(t => [t, { imagePoints: PX[t], label: toolState[imageId][t].data[0].data.label }])),
};
fs.writeFileSync(outPath.replace(/\.dcm$/i, '') + '.expected.json', JSON.stringify(expected, null, 2));

console.error(`wrote SR ${outPath}: SOPClassUID ${sr.SOPClassUID}, transfer syntax ${transferSyntax}, tools: ${toolNames.join(', ')}`);
