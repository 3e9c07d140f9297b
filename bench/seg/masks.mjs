#!/usr/bin/env node
// bench/seg/masks.mjs - the benchmark's masks, computed identically for both contenders:
// S spheres in a CT series. Two modes:
//   node masks.mjs runs  IMAGES_DIR SEGMENTS OUT.json   segments + per-frame runs for dicom-node make-seg
//   node masks.mjs dcmjs IMAGES_DIR SEGMENTS OUT.dcm    the same SEG generated with dcmjs (OHIF's library)
// The second mode prints the time spent in dcmjs (excluding reading the images) as JSON.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../tests/compat/package.json'));
const dcmjs = require('dcmjs');
const { DicomMessage, DicomMetaDictionary } = dcmjs.data;

const [mode, imagesDir, segmentCountText, out] = process.argv.slice(2);
if (!['runs', 'dcmjs'].includes(mode) || !imagesDir || !out) {
  console.error('usage: node masks.mjs runs|dcmjs IMAGES_DIR SEGMENTS OUT');
  process.exit(2);
}
const segmentCount = Number(segmentCountText);

function listDicom(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory() ? listDicom(path.join(dir, e.name)) : e.name.endsWith('.dcm') ? [path.join(dir, e.name)] : []);
}
function readDataset(file) {
  const buf = fs.readFileSync(file);
  const dict = DicomMessage.readFile(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const ds = DicomMetaDictionary.naturalizeDataset(dict.dict);
  ds._meta = DicomMetaDictionary.namifyDataset(dict.meta);
  return ds;
}

const files = listDicom(imagesDir);
const datasets = files.map(readDataset).sort((a, b) => Number(a.ImagePositionPatient[2]) - Number(b.ImagePositionPatient[2]));
const rows = Number(datasets[0].Rows), columns = Number(datasets[0].Columns), depth = datasets.length;

// Deterministic spheres: few large ones for few segments, many small ones for many.
let seed = 12345;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const spheres = [];
for (let s = 0; s < segmentCount; s++) {
  // One liver-sized structure; ten organ-sized ones; a hundred lesions.
  const r = segmentCount === 1 ? 110 : segmentCount <= 10 ? 60 + random() * 50 : 6 + random() * 18;
  spheres.push({
    r,
    cx: r + random() * (columns - 2 * r),
    cy: r + random() * (rows - 2 * r),
    cz: Math.min(depth - 1, Math.max(0, r / 2 + random() * (depth - r))),
  });
}
// Voxels are 0.7 x 0.7 x 1.25 mm in the generator's CT; spheres are round in mm.
const zScale = 1.25 / 0.7;
function framesOf(sphere) {
  const frames = [];
  for (let z = 0; z < depth; z++) {
    const dz = (z - sphere.cz) * zScale;
    if (Math.abs(dz) >= sphere.r) continue;
    const rr = Math.sqrt(sphere.r * sphere.r - dz * dz);
    frames.push({ z, rr });
  }
  return frames;
}
function* rowRuns(sphere, rr) {
  for (let y = Math.max(0, Math.ceil(sphere.cy - rr)); y <= Math.min(rows - 1, Math.floor(sphere.cy + rr)); y++) {
    const half = Math.sqrt(Math.max(0, rr * rr - (y - sphere.cy) ** 2));
    const x0 = Math.max(0, Math.ceil(sphere.cx - half)), x1 = Math.min(columns - 1, Math.floor(sphere.cx + half));
    if (x1 >= x0) yield [y * columns + x0, x1 - x0 + 1];
  }
}
const segmentMeta = i => ({
  SegmentedPropertyCategoryCodeSequence: { CodeValue: '49755003', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Morphologically Abnormal Structure' },
  SegmentNumber: i + 1,
  SegmentLabel: `Lesion ${i + 1}`,
  SegmentAlgorithmType: 'MANUAL',
  RecommendedDisplayCIELabValue: [43802, 26566, 37721],
  SegmentedPropertyTypeCodeSequence: { CodeValue: '52988006', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Lesion' },
});

if (mode === 'runs') {
  const segments = spheres.map((s, i) => ({
    label: `Lesion ${i + 1}`,
    category: { code: '49755003', scheme: 'SCT', meaning: 'Morphologically Abnormal Structure' },
    type: { code: '52988006', scheme: 'SCT', meaning: 'Lesion' },
    color: [200, 80, 80],
  }));
  const masks = [];
  spheres.forEach((s, i) => {
    for (const { z, rr } of framesOf(s)) {
      masks.push({ segment: i + 1, image: { sopInstanceUid: datasets[z].SOPInstanceUID }, runs: [...rowRuns(s, rr)] });
    }
  });
  fs.writeFileSync(out, JSON.stringify({ segments, masks }));
  console.log(JSON.stringify({ frames: masks.length }));
} else {
  const t0 = performance.now();
  const multiframe = dcmjs.normalizers.Normalizer.normalizeToDataset(datasets);
  const seg = new dcmjs.derivations.Segmentation([multiframe], { includeSliceSpacing: true });
  const perSegment = spheres.map(framesOf);
  seg.setNumberOfFrames(perSegment.reduce((n, f) => n + f.length, 0));
  spheres.forEach((s, i) => {
    const frames = perSegment[i];
    const pixels = new Uint8Array(frames.length * rows * columns);
    frames.forEach(({ rr }, k) => {
      for (const [offset, length] of rowRuns(s, rr)) pixels.fill(1, k * rows * columns + offset, k * rows * columns + offset + length);
    });
    seg.addSegment(segmentMeta(i), pixels, frames.map(f => f.z + 1));
  });
  seg.bitPackPixelData();
  const buffer = dcmjs.data.datasetToBuffer(seg.dataset);
  fs.writeFileSync(out, Buffer.from(buffer));
  console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, frames: seg.dataset.NumberOfFrames }));
}
