#!/usr/bin/env node
// make-seg.mjs - write a DICOM Segmentation (SEG) the way a typical third-party AI pipeline does
// it with plain dcmjs: Normalizer.normalizeToDataset(sources) -> new derivations.Segmentation ->
// setNumberOfFrames / addSegment / bitPackPixelData -> DicomDict.write(). The compatibility tests
// import the result as a pre-label ("an AI model run elsewhere wrote this SEG"), so the script
// deliberately stays on dcmjs's own code paths and only patches what dcmjs cannot express.
//
// usage: node make-seg.mjs <out-seg.dcm> --box c0,r0,c1,r1 [--algorithm NAME] [--version V]
//                          [--label LABEL] [--type CODE,SCHEME,MEANING] <source1.dcm> [source2.dcm ...]
//
//   --box        0-based pixel box, half open: column in [c0, c1), row in [r0, r1). The same box is
//                set on every source slice; everything else is clear.
//   --algorithm  SegmentAlgorithmName (default NoduleNet); SegmentAlgorithmType is AUTOMATIC.
//   --version    also write SegmentationAlgorithmIdentificationSequence (family 123110 DCM
//                "Artificial Intelligence", AlgorithmName, AlgorithmVersion).
//   --label      SegmentLabel (default Lesion).
//   --type       SegmentedPropertyTypeCodeSequence (default 52988006,SCT,Lesion); the meaning is
//                everything after the second comma, so it may itself contain commas.
//
// Sources: single-frame images of one series (same Rows/Columns). One BINARY frame per source.
// Output: <out-seg.dcm> (Explicit VR Little Endian) and one JSON line on stdout:
//   {"sopInstanceUid", "seriesInstanceUid", "frames", "pixelsPerFrame"}
// Exit 0: written; 1: failure (unreadable source, dcmjs error, ...); 2: usage error.

import fs from 'node:fs';
import path from 'node:path';
import dcmjs from 'dcmjs';

const { DicomMessage, DicomMetaDictionary, DicomDict } = dcmjs.data;
const { Segmentation } = dcmjs.derivations;
const { Normalizer } = dcmjs.normalizers;

const toArray = x => (Array.isArray(x) ? x : x !== undefined && x !== null ? [x] : []);
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

const USAGE =
  'usage: node make-seg.mjs <out-seg.dcm> --box c0,r0,c1,r1 [--algorithm NAME] [--version V] ' +
  '[--label LABEL] [--type CODE,SCHEME,MEANING] <source1.dcm> [source2.dcm ...]';

function usage(message) {
  if (message) console.error(`make-seg: ${message}`);
  console.error(USAGE);
  process.exit(2);
}

function fail(message) {
  console.error(`make-seg: ${message}`);
  process.exit(1);
}

// ---------------------------------------------------------------- CLI
const args = process.argv.slice(2);
const VALUE_OPTIONS = ['--box', '--algorithm', '--version', '--label', '--type'];
const opts = {};
const positional = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (VALUE_OPTIONS.includes(a)) {
    if (i + 1 >= args.length) usage(`${a} needs a value`);
    opts[a.slice(2)] = args[++i];
  } else if (a === '-h' || a === '--help') {
    console.log(USAGE);
    process.exit(0);
  } else if (a.startsWith('--')) {
    usage(`unknown option ${a}`);
  } else {
    positional.push(a);
  }
}
const [outPath, ...sourcePaths] = positional;
if (!outPath) usage('missing <out-seg.dcm>');
if (!sourcePaths.length) usage('missing source images');
if (opts.box === undefined) usage('missing --box');

const box = opts.box.split(',').map(s => (/^\s*\d+\s*$/.test(s) ? Number(s) : NaN));
if (box.length !== 4 || box.some(Number.isNaN)) usage(`--box must be four non-negative integers c0,r0,c1,r1, got "${opts.box}"`);
const [c0, r0, c1, r1] = box;
// An empty box would give a SEG frame without pixels, which is not what a pre-label test wants.
if (!(c0 < c1 && r0 < r1)) usage(`--box must satisfy c0 < c1 and r0 < r1, got "${opts.box}"`);

function parseCode(text, what) {
  const m = /^([^,]+),([^,]+),(.+)$/.exec(text);
  if (!m) usage(`${what} must be CODE,SCHEME,MEANING, got "${text}"`);
  return { CodeValue: m[1].trim(), CodingSchemeDesignator: m[2].trim(), CodeMeaning: m[3].trim() };
}
const algorithmName = opts.algorithm ?? 'NoduleNet';
const algorithmVersion = opts.version;
const segmentLabel = opts.label ?? 'Lesion';
const propertyType = parseCode(opts.type ?? '52988006,SCT,Lesion', '--type');
if (!algorithmName) usage('--algorithm must not be empty');
if (!segmentLabel) usage('--label must not be empty');
if (algorithmVersion === '') usage('--version must not be empty');

// ---------------------------------------------------------------- sources
function readNaturalized(filePath) {
  const buf = fs.readFileSync(filePath);
  // dcmjs wants an ArrayBuffer holding exactly the file (a Node Buffer may be a pooled slice).
  const dicomData = DicomMessage.readFile(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const ds = DicomMetaDictionary.naturalizeDataset(dicomData.dict);
  ds._meta = DicomMetaDictionary.namifyDataset(dicomData.meta);
  return ds;
}

let sources;
try {
  sources = sourcePaths.map(p => {
    try {
      return readNaturalized(p);
    } catch (e) {
      throw new Error(`cannot read ${p}: ${e.message}`);
    }
  });
} catch (e) {
  fail(e.message);
}

const rows = Number(sources[0].Rows), columns = Number(sources[0].Columns);
for (const [i, ds] of sources.entries()) {
  const where = sourcePaths[i];
  if (!ds.PixelData) fail(`${where}: no PixelData`);
  if (Number(ds.NumberOfFrames || 1) !== 1) fail(`${where}: multi-frame sources are not supported`);
  if (!ds.ImagePositionPatient || !ds.ImageOrientationPatient) fail(`${where}: no plane geometry (ImagePositionPatient/ImageOrientationPatient)`);
  if (Number(ds.Rows) !== rows || Number(ds.Columns) !== columns) fail(`${where}: ${ds.Rows}x${ds.Columns} differs from ${rows}x${columns}`);
  if (ds.SeriesInstanceUID !== sources[0].SeriesInstanceUID) fail(`${where}: not in series ${sources[0].SeriesInstanceUID}`);
}
if (new Set(sources.map(ds => ds.SOPInstanceUID)).size !== sources.length) usage('the same source is given twice');
if (c1 > columns || r1 > rows) usage(`--box ${opts.box} exceeds the ${columns}x${rows} (columns x rows) image`);

// ---------------------------------------------------------------- normalized multi-frame
// derivations.Segmentation derives from a dcmjs "normalized" multi-frame (Enhanced CT shape), which
// is what Normalizer.normalizeToDataset makes of a single-frame series. Its ImageNormalizer reads
// the spacing from the 2nd slice (distanceDatasetPairs[1]) and throws for one slice, so for a
// single source we build the same shape by hand (only what Segmentation.derive/addSegment read).
function singleSliceMultiframe(ds) {
  const mf = {
    ...ds,
    _vrMap: { PixelData: 'OW' },
    NumberOfFrames: 1,
    SharedFunctionalGroupsSequence: {
      PlaneOrientationSequence: { ImageOrientationPatient: ds.ImageOrientationPatient },
      PixelMeasuresSequence: { PixelSpacing: ds.PixelSpacing, SliceThickness: ds.SliceThickness },
    },
    PerFrameFunctionalGroupsSequence: [{ PlanePositionSequence: { ImagePositionPatient: ds.ImagePositionPatient } }],
    ReferencedSeriesSequence: {
      SeriesInstanceUID: ds.SeriesInstanceUID,
      ReferencedInstanceSequence: [{ ReferencedSOPClassUID: ds.SOPClassUID, ReferencedSOPInstanceUID: ds.SOPInstanceUID }],
    },
  };
  if (ds.SliceThickness === undefined || ds.SliceThickness === '') delete mf.SharedFunctionalGroupsSequence.PixelMeasuresSequence.SliceThickness;
  return mf;
}

let multiframe;
try {
  multiframe = sources.length === 1 ? singleSliceMultiframe(sources[0]) : Normalizer.normalizeToDataset(sources);
} catch (e) {
  fail(`dcmjs Normalizer failed: ${e.message}`);
}
if (!multiframe) fail(`dcmjs has no normalizer for SOP Class ${sources[0].SOPClassUID}`);
// The normalizer sorts the slices along the scan axis; SEG frame k refers to multi-frame frame k,
// i.e. to ReferencedInstanceSequence[k-1], never to the command-line order.
const frameSources = toArray(multiframe.ReferencedSeriesSequence?.ReferencedInstanceSequence);
if (frameSources.length !== sources.length) fail('dcmjs normalized multi-frame lost track of the source instances');

// ---------------------------------------------------------------- segmentation
let seg;
try {
  seg = new Segmentation([multiframe], {
    // Passing any options replaces dcmjs's default { includeSliceSpacing: true }; keep it, since
    // dcmqi/Slicer want SpacingBetweenSlices and it is a legal (type 3) Pixel Measures attribute.
    includeSliceSpacing: true,
    Manufacturer: 'AI Vendor',
    ManufacturerModelName: algorithmName,
    SoftwareVersions: algorithmVersion ?? '1',
    DeviceSerialNumber: '1',
    SeriesDescription: `${algorithmName} segmentation`,
    SeriesNumber: '300',
    ContentCreatorName: '',
    ContentDescription: `${algorithmName} output`,
  });

  const frameCount = frameSources.length;
  seg.setNumberOfFrames(frameCount);
  // One byte per pixel for all frames, as addSegment expects; bitPackPixelData packs it afterwards
  // as one continuous bit stream (PS3.5 8.1.1: 1-bit frames are not padded to byte boundaries).
  const pixels = new Uint8Array(rows * columns * frameCount);
  for (let f = 0; f < frameCount; f++) {
    const base = f * rows * columns;
    for (let r = r0; r < r1; r++) pixels.fill(1, base + r * columns + c0, base + r * columns + c1);
  }
  const segment = {
    SegmentLabel: segmentLabel,
    SegmentedPropertyCategoryCodeSequence: {
      CodeValue: '49755003',
      CodingSchemeDesignator: 'SCT',
      CodeMeaning: 'Morphologically Abnormal Structure',
    },
    SegmentedPropertyTypeCodeSequence: propertyType,
    SegmentAlgorithmType: 'AUTOMATIC',
    SegmentAlgorithmName: algorithmName,
    // Optional, but without it every viewer picks its own colour; red, as scaled CIELab (PS3.3 C.10.7.1.1)
    RecommendedDisplayCIELabValue: [34885, 53485, 50171],
  };
  seg.addSegment(segment, pixels, Array.from({ length: frameCount }, (_, i) => i + 1));
  seg.bitPackPixelData();
} catch (e) {
  fail(`dcmjs Segmentation failed: ${e.message}`);
}

const ds = seg.dataset;
// dcmjs's _addSegmentMetadata copies a fixed list of Segment attributes and drops the rest, so the
// algorithm identification has to be added to the SegmentSequence item it produced.
if (algorithmVersion !== undefined) {
  toArray(ds.SegmentSequence)[0].SegmentationAlgorithmIdentificationSequence = {
    AlgorithmFamilyCodeSequence: { CodeValue: '123110', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Artificial Intelligence' },
    AlgorithmName: algorithmName,
    AlgorithmVersion: algorithmVersion,
  };
}
// 1-bit pixel data is a byte stream; OB is the natural VR (the inherited _vrMap says OW, from the CT).
ds._vrMap = { ...(ds._vrMap || {}), PixelData: 'OB' };

// ---------------------------------------------------------------- write
try {
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: ds.SOPClassUID,
    MediaStorageSOPInstanceUID: ds.SOPInstanceUID,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: '2.25.80302813137786398554742050926734630921603366648225212145404', // dcmjs's
    ImplementationVersionName: 'dcmjs-0.0',
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  const { _meta, _vrMap, ...body } = ds;
  dict.dict = DicomMetaDictionary.denaturalizeDataset({ ...body, _vrMap });
  fs.mkdirSync(path.dirname(path.resolve(outPath)), { recursive: true });
  fs.writeFileSync(outPath, Buffer.from(dict.write()));
} catch (e) {
  fail(`writing ${outPath} failed: ${e.message}`);
}

console.log(JSON.stringify({
  sopInstanceUid: ds.SOPInstanceUID,
  seriesInstanceUid: ds.SeriesInstanceUID,
  frames: Number(ds.NumberOfFrames),
  pixelsPerFrame: (c1 - c0) * (r1 - r0),
}));
