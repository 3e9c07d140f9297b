#!/usr/bin/env node
// read-seg.mjs - decode a DICOM Segmentation the way OHIF's dcmjs-based loaders do: dcmjs
// readFile -> naturalizeDataset -> BitArray.unpack (BINARY) or bytes (FRACTIONAL), then report
// per frame: segment number, referenced source image/frame, set-pixel count, and a digest of
// the mask so a caller can compare it with its own decoding.
//
// usage: node read-seg.mjs SEG.dcm
import crypto from 'node:crypto';
import { dcmjs, readNaturalized } from './sr-common.mjs';

const toArray = x => (Array.isArray(x) ? x : x !== undefined && x !== null ? [x] : []);
const path = process.argv[2];
if (!path) {
  console.error('usage: node read-seg.mjs SEG.dcm');
  process.exit(2);
}
const ds = readNaturalized(path);
const rows = Number(ds.Rows), columns = Number(ds.Columns), frames = Number(ds.NumberOfFrames);
const pixelsPerFrame = rows * columns;
const raw = new Uint8Array(toArray(ds.PixelData)[0]);
let unpacked;
if (ds.SegmentationType === 'BINARY') {
  unpacked = dcmjs.data.BitArray.unpack(raw); // one byte per pixel, all frames
} else {
  unpacked = raw;
}
const perFrame = toArray(ds.PerFrameFunctionalGroupsSequence);
const out = {
  sopClassUid: ds.SOPClassUID,
  segmentationType: ds.SegmentationType,
  rows, columns, frames,
  referencedSeries: toArray(ds.ReferencedSeriesSequence).map(s => s.SeriesInstanceUID),
  segments: toArray(ds.SegmentSequence).map(s => ({
    number: Number(s.SegmentNumber),
    label: s.SegmentLabel,
    algorithmType: s.SegmentAlgorithmType,
    algorithmFamily: toArray(toArray(s.SegmentationAlgorithmIdentificationSequence)[0]?.AlgorithmFamilyCodeSequence)[0]?.CodeValue ?? null,
    algorithmVersion: toArray(s.SegmentationAlgorithmIdentificationSequence)[0]?.AlgorithmVersion ?? null,
    category: toArray(s.SegmentedPropertyCategoryCodeSequence)[0]?.CodeValue,
    type: toArray(s.SegmentedPropertyTypeCodeSequence)[0]?.CodeValue,
  })),
  frameData: perFrame.map((fg, i) => {
    const source = toArray(toArray(fg.DerivationImageSequence)[0]?.SourceImageSequence)[0] || {};
    const mask = unpacked.subarray(i * pixelsPerFrame, (i + 1) * pixelsPerFrame);
    let set = 0;
    for (const v of mask) if (v) set++;
    const normalized = Uint8Array.from(mask, v => (ds.SegmentationType === 'BINARY' ? (v ? 1 : 0) : v));
    return {
      segment: Number(toArray(fg.SegmentIdentificationSequence)[0]?.ReferencedSegmentNumber),
      sopInstanceUid: source.ReferencedSOPInstanceUID,
      frame: source.ReferencedFrameNumber !== undefined ? Number(source.ReferencedFrameNumber) : 0,
      position: toArray(toArray(fg.PlanePositionSequence)[0]?.ImagePositionPatient).map(Number),
      setPixels: set,
      sha256: crypto.createHash('sha256').update(normalized).digest('hex'),
    };
  }),
};
console.log(JSON.stringify(out, null, 2));
