#!/usr/bin/env node
// load-seg.mjs - load a DICOM Segmentation into Cornerstone3D labelmaps the way OHIF 3.x's
// cornerstone-dicom-seg extension does, with @cornerstonejs/adapters 5.14, and report what landed
// where: per segment, per source image/frame, the set-pixel count and a digest of the 0/1 mask.
//
// usage: node load-seg.mjs SEG.dcm SOURCE.dcm [SOURCE.dcm ...] [--buffer] [--verbose]
//
//   (default)  OHIF 3.13's call (extensions/cornerstone-dicom-seg getSopClassHandlerModule
//              _loadSegments): adaptersSEG.Cornerstone3D.Segmentation.createFromDicomSegImageId(
//              referencedImageIds, segImageId, { metadataProvider: metaData, tolerance: 0.001,
//              parserType, frameImageIds, concurrency: 16 }), the SEG registered as the
//              'instance' of segImageId exactly as naturalized (no dcmjs Normalizer), its frames
//              decoded as dicom-image-loader does (1 bit: bit-contiguous frames, LSB first -> 0/1).
//   --buffer   createFromDICOMSegBuffer(referencedImageIds, arrayBuffer, { metadataProvider,
//              tolerance }) instead (older OHIF 3.x; dcmjs Normalizer + the adapter's own decoder).
//   --verbose  also print the adapter's warnings on stderr (they are always in the JSON).
//
// referencedImageIds: one per frame of the sources, in the order given:
//   wadouri:file://<abs path> (single-frame), wadouri:file://<abs path>?frame=N (multi-frame, 1-based).
// Metadata: a provider registered on @cornerstonejs/core's metaData that answers like OHIF's
// MetadataProvider (@ohif/core classes/MetadataProvider, priority 9999) does from the naturalized
// instances: 'instance' (per frame: combineFrameInstance), imagePlaneModule (for images without
// ImageOrientationPatient: rowCosines [1,0,0], columnCosines [0,1,0], imagePositionPatient [0,0,0]
// - multi-frame without position: [0,0,frame] - spacing 1, usingDefaultValues), generalSeriesModule,
// generalImageModule, sopCommonModule, imagePixelModule, generalStudyModule, and any naturalized
// attribute name.
//
// Output (stdout, JSON): frameData[] = { segment, sopInstanceUid, frame, imageId, setPixels, sha256 }
// for every (segment, source image/frame) where the labelmap(s) the adapter produced hold that
// segment; sha256 is over Rows*Columns bytes, 1 where the segment is, 0 elsewhere (row-major, source
// pixel order) - the same definition as read-seg.mjs's per-frame sha256 for BINARY SEGs, so the two
// can be joined on (segment, sopInstanceUid, frame). frame is the 1-based frame number for
// multi-frame sources and 0 for single-frame sources (as read-seg prints a reference without
// ReferencedFrameNumber). Also: segments (number, label, pixel and frame totals), unmatchedSegFrames
// (SEG frames with pixels whose source reference matches none of the given sources), and the
// adapter's warnings.
// Exit 0: loaded; 1: the adapter threw, or put no pixel anywhere; 2: usage / unreadable input.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { metaData, cache } from '@cornerstonejs/core';
import { adaptersSEG } from '@cornerstonejs/adapters';
import { dcmjs, readNaturalized } from './sr-common.mjs';

const { Segmentation } = adaptersSEG.Cornerstone3D;
const toArray = x => (Array.isArray(x) ? x : x !== undefined && x !== null ? [x] : []);
const first = x => toArray(x)[0];
const num = v => (v === undefined || v === null || v === '' ? undefined : Number(v));
const nums = v => (v === undefined || v === null ? undefined : toArray(v).map(Number));
const LABELMAP_SEG = '1.2.840.10008.5.1.4.1.1.66.7';
const NATIVE_TRANSFER_SYNTAXES = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.2']);

function usage(message) {
  if (message) console.error(`load-seg: ${message}`);
  console.error('usage: node load-seg.mjs SEG.dcm SOURCE.dcm [SOURCE.dcm ...] [--buffer] [--verbose]');
  process.exit(2);
}

// ------------------------------------------------------------------ adapter warnings
// The adapter logs through dcmjs's loglevel ('cs3d.adapters....'); collect what it says.
const warnings = [];
let verbose = false;
function captureLogger(name) {
  const logger = dcmjs.log.getLogger(name);
  const original = logger.methodFactory;
  logger.methodFactory = (methodName, level, loggerName) => {
    const raw = original(methodName, level, loggerName);
    return (...args) => {
      if (methodName === 'warn' || methodName === 'error') {
        warnings.push(`${methodName}: ${args.map(a => (typeof a === 'string' ? a : a?.message ?? JSON.stringify(a))).join(' ')}`);
      }
      if (verbose) raw(...args);
    };
  };
  logger.setLevel('warn');
}
for (const name of ['cs3d.adapters.Cornerstone3D.Segmentation.labelmapImagesFromBuffer', 'cs3d.adapters.Cornerstone.Segmentation_4X']) {
  captureLogger(name);
}

// ------------------------------------------------------------------ OHIF-like metadata provider
// Port of @ohif/core utils/combineFrameInstance (3.13): a frame of a multi-frame instance inherits
// the instance and gets the items of its shared, then per-frame functional group sequences merged
// in; a frame without ImagePositionPatient gets [0, 0, frameNumber].
function combineFrameInstance(frameNumber, instance) {
  if (!(Number(instance.NumberOfFrames) > 1)) return instance;
  const merge = (parent, groups) => {
    const out = Object.create(parent);
    if (!groups) return out;
    for (const item of Object.values(groups).filter(Boolean).map(v => (Array.isArray(v) ? v[0] : undefined))) {
      if (!item || typeof item !== 'object' || item.SOPInstanceUID) continue;
      for (const [k, v] of Object.entries(item)) out[k] = v;
    }
    return out;
  };
  const shared = merge(instance, first(instance.SharedFunctionalGroupsSequence));
  const frame = merge(shared, toArray(instance.PerFrameFunctionalGroupsSequence)[frameNumber - 1]);
  frame.ImagePositionPatient = instance.ImagePositionPatient ?? frame.ImagePositionPatient ?? [0, 0, frameNumber];
  return frame;
}

// Port of @ohif/core MetadataProvider WADO_IMAGE_LOADER.imagePlaneModule (3.13).
function imagePlaneModule(instance) {
  const { ImageOrientationPatient, ImagePositionPatient } = instance;
  // getPixelSpacingInformation: PixelSpacing, else ImagerPixelSpacing (projection radiography).
  const PixelSpacing = nums(instance.PixelSpacing) ?? nums(instance.ImagerPixelSpacing);
  let rowPixelSpacing, columnPixelSpacing, rowCosines, columnCosines, imageOrientationPatient;
  let usingDefaultValues = false, isDefaultValueSetForRowCosine = false, isDefaultValueSetForColumnCosine = false;
  if (PixelSpacing) {
    [rowPixelSpacing, columnPixelSpacing] = PixelSpacing;
  } else {
    rowPixelSpacing = columnPixelSpacing = 1;
    usingDefaultValues = true;
  }
  if (ImageOrientationPatient) {
    imageOrientationPatient = nums(ImageOrientationPatient);
    rowCosines = imageOrientationPatient.slice(0, 3);
    columnCosines = imageOrientationPatient.slice(3, 6);
  } else {
    rowCosines = [1, 0, 0];
    columnCosines = [0, 1, 0];
    imageOrientationPatient = [1, 0, 0, 0, 1, 0];
    usingDefaultValues = true;
    isDefaultValueSetForRowCosine = true;
    isDefaultValueSetForColumnCosine = true;
  }
  const imagePositionPatient = nums(ImagePositionPatient) || [0, 0, 0];
  if (!ImagePositionPatient) usingDefaultValues = true;
  return {
    frameOfReferenceUID: instance.FrameOfReferenceUID,
    rows: num(instance.Rows),
    columns: num(instance.Columns),
    spacingBetweenSlices: num(instance.SpacingBetweenSlices),
    imageOrientationPatient,
    rowCosines,
    isDefaultValueSetForRowCosine,
    columnCosines,
    isDefaultValueSetForColumnCosine,
    imagePositionPatient,
    sliceThickness: num(instance.SliceThickness),
    sliceLocation: num(instance.SliceLocation),
    pixelSpacing: PixelSpacing || 1,
    rowPixelSpacing: rowPixelSpacing ? Number(rowPixelSpacing) : null,
    columnPixelSpacing: columnPixelSpacing ? Number(columnPixelSpacing) : null,
    usingDefaultValues,
  };
}

const registry = new Map(); // imageId -> naturalized instance (per-frame combined)
const customMetadata = new Map(); // `${type}\0${imageId}` -> value (OHIF addCustomMetadata)

function moduleFor(type, instance) {
  switch (type) {
    case 'imagePlaneModule': return imagePlaneModule(instance);
    case 'generalSeriesModule':
      return { modality: instance.Modality, seriesInstanceUID: instance.SeriesInstanceUID, seriesNumber: num(instance.SeriesNumber),
        studyInstanceUID: instance.StudyInstanceUID, seriesDescription: instance.SeriesDescription,
        seriesDate: instance.SeriesDate, seriesTime: instance.SeriesTime };
    case 'generalImageModule':
      return { sopInstanceUID: instance.SOPInstanceUID, instanceNumber: num(instance.InstanceNumber),
        lossyImageCompression: instance.LossyImageCompression };
    case 'generalStudyModule':
      return { studyInstanceUID: instance.StudyInstanceUID, studyDate: instance.StudyDate, studyTime: instance.StudyTime,
        studyDescription: instance.StudyDescription, accessionNumber: instance.AccessionNumber };
    case 'sopCommonModule':
      return { sopClassUID: instance.SOPClassUID, sopInstanceUID: instance.SOPInstanceUID };
    case 'imagePixelModule':
      return { samplesPerPixel: num(instance.SamplesPerPixel), photometricInterpretation: instance.PhotometricInterpretation,
        rows: num(instance.Rows), columns: num(instance.Columns), bitsAllocated: num(instance.BitsAllocated),
        bitsStored: num(instance.BitsStored), highBit: num(instance.HighBit), pixelRepresentation: num(instance.PixelRepresentation),
        planarConfiguration: num(instance.PlanarConfiguration), pixelAspectRatio: num(instance.PixelAspectRatio) };
    case 'cineModule':
      return { frameTime: instance.FrameTime, numberOfFrames: instance.NumberOfFrames ? Number(instance.NumberOfFrames) : 1 };
    default:
      return undefined;
  }
}

const provider = {
  get(type, imageId) {
    if (Array.isArray(imageId)) return undefined;
    const custom = customMetadata.get(`${type}\0${imageId}`);
    const instance = registry.get(imageId);
    if (type === 'instance') return custom ?? instance;
    if (custom) return custom;
    if (!instance) return undefined;
    if (instance[type]) return instance[type]; // a naturalized attribute name, as OHIF answers
    return moduleFor(type, instance);
  },
};
metaData.addProvider((type, imageId) => provider.get(type, imageId), 9999);

/** Register every frame of a source file; returns its imageIds (one per frame). */
function registerSource(filePath) {
  const ds = readNaturalized(filePath);
  const base = `wadouri:file://${path.resolve(filePath)}`;
  const frames = Number(ds.NumberOfFrames) > 1 ? Number(ds.NumberOfFrames) : 1;
  const ids = [];
  for (let f = 1; f <= frames; f++) {
    const imageId = frames > 1 ? `${base}?frame=${f}` : base;
    registry.set(imageId, combineFrameInstance(f, ds));
    ids.push({ imageId, sopInstanceUid: ds.SOPInstanceUID, frame: frames > 1 ? f : 0, rows: Number(ds.Rows), columns: Number(ds.Columns) });
  }
  return ids;
}

// ------------------------------------------------------------------ SEG frame decoding
// As dicom-image-loader returns a SEG frame: 1 bit -> Uint8Array of 0/1 read from the
// bit-contiguous PixelData at bit offset frameIndex*Rows*Columns (LSB first); 8 bit -> bytes;
// 16 bit -> Uint16Array.
function segFrameDecoder(seg) {
  const ts = seg._meta?.TransferSyntaxUID && first(seg._meta.TransferSyntaxUID.Value ?? seg._meta.TransferSyntaxUID);
  if (ts && !NATIVE_TRANSFER_SYNTAXES.has(ts)) {
    throw new Error(`SEG transfer syntax ${ts} is encapsulated; load-seg decodes native (uncompressed) PixelData only`);
  }
  const raw = new Uint8Array(first(seg.PixelData));
  const sliceLength = Number(seg.Rows) * Number(seg.Columns);
  const bits = Number(seg.BitsAllocated);
  return async (_frameImageId, frameNumber) => {
    const i = frameNumber - 1;
    if (bits === 1) {
      const out = new Uint8Array(sliceLength);
      const offset = i * sliceLength;
      for (let k = 0; k < sliceLength; k++) {
        const b = offset + k;
        out[k] = (raw[b >> 3] >> (b & 7)) & 1;
      }
      return out;
    }
    if (bits === 16) return new Uint16Array(raw.buffer.slice(raw.byteOffset + i * sliceLength * 2, raw.byteOffset + (i + 1) * sliceLength * 2));
    return raw.slice(i * sliceLength, (i + 1) * sliceLength);
  };
}

/** SEG frames with set pixels whose source reference matches none of the sources. */
function unmatchedFrames(seg, sources) {
  const known = new Set(sources.map(s => `${s.sopInstanceUid}:${s.frame || 1}`));
  const rows = Number(seg.Rows), columns = Number(seg.Columns), n = rows * columns;
  const decode = segFrameDecoder(seg);
  const out = [];
  return Promise.all(toArray(seg.PerFrameFunctionalGroupsSequence).map(async (fg, i) => {
    const src = first(first(fg.DerivationImageSequence)?.SourceImageSequence) || {};
    const key = `${src.ReferencedSOPInstanceUID}:${Number(src.ReferencedFrameNumber ?? 1)}`;
    if (known.has(key)) return;
    const data = await decode(null, i + 1);
    let set = 0;
    for (let k = 0; k < n; k++) if (data[k]) set++;
    if (set) out.push({ segFrame: i + 1, segment: num(first(fg.SegmentIdentificationSequence)?.ReferencedSegmentNumber),
      sopInstanceUid: src.ReferencedSOPInstanceUID ?? null, frame: num(src.ReferencedFrameNumber) ?? 0, setPixels: set });
  })).then(() => out.sort((a, b) => a.segFrame - b.segFrame));
}

// ------------------------------------------------------------------ main
// The adapter processes SEG frames in chunks on setTimeout: an error after the first chunk is
// not a rejection of its promise but an uncaught exception (in OHIF the load never settles).
let stage = 'start';
let api = 'adapter';
function fail(what, e) {
  console.error(`load-seg: ${api} ${what}: ${e?.stack || e}`);
  for (const w of warnings) console.error(`load-seg: adapter ${w}`);
  process.exit(1);
}
process.on('uncaughtException', e => fail('threw asynchronously (uncaught; OHIF\'s load promise would never settle)', e));
process.on('unhandledRejection', e => fail('rejected (unhandled)', e));
process.on('exit', code => {
  if (stage !== 'done' && code === 0) {
    console.error(`load-seg: ${api} never settled (stage: ${stage})`);
    process.exitCode = 1;
  }
});

async function main() {
  const args = process.argv.slice(2);
  const flags = new Set(args.filter(a => a.startsWith('--')));
  for (const f of flags) if (!['--buffer', '--verbose'].includes(f)) usage(`unknown option ${f}`);
  verbose = flags.has('--verbose');
  const files = args.filter(a => !a.startsWith('--'));
  if (files.length < 2) usage();
  const [segPath, ...sourcePaths] = files;

  let seg, sources;
  try {
    seg = readNaturalized(segPath);
    sources = sourcePaths.flatMap(registerSource);
  } catch (e) {
    console.error(`load-seg: cannot read input: ${e.message}`);
    process.exit(2);
  }
  const referencedImageIds = sources.map(s => s.imageId);
  api = flags.has('--buffer') ? 'createFromDICOMSegBuffer' : 'createFromDicomSegImageId';
  stage = 'loading';

  let decodeImageData;
  if (api === 'createFromDicomSegImageId') {
    try {
      decodeImageData = segFrameDecoder(seg);
    } catch (e) {
      console.error(`load-seg: ${e.message} (try --buffer: the adapter decodes RLE itself)`);
      process.exit(2);
    }
  }

  let result;
  try {
    if (api === 'createFromDICOMSegBuffer') {
      const buf = fs.readFileSync(segPath);
      const arrayBuffer = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      result = await Segmentation.createFromDICOMSegBuffer(referencedImageIds, arrayBuffer, { metadataProvider: metaData, tolerance: 0.001 });
    } else {
      const segImageId = `wadouri:file://${path.resolve(segPath)}`;
      const frames = Number(seg.NumberOfFrames) > 0 ? Number(seg.NumberOfFrames) : toArray(seg.PerFrameFunctionalGroupsSequence).length || 1;
      const frameImageIds = frames > 1 ? Array.from({ length: frames }, (_, i) => `${segImageId}?frame=${i + 1}`) : [segImageId];
      // OHIF: MetadataProvider.addCustomMetadata(segImageId and each frame id, 'instance', stored instance)
      for (const id of [segImageId, ...frameImageIds]) customMetadata.set(`instance\0${id}`, seg);
      result = await Segmentation.createFromDicomSegImageId(referencedImageIds, segImageId, {
        metadataProvider: metaData,
        tolerance: 0.001,
        parserType: seg.SOPClassUID === LABELMAP_SEG ? 'labelmap' : 'bitmap',
        frameImageIds,
        decodeImageData,
        concurrency: 16,
      });
    }
  } catch (e) {
    fail('threw', e);
  }
  stage = 'reporting';

  // Every layer (more than one when segments overlap) holds one labelmap image per referenced image.
  const layers = toArray(result?.labelMapImages);
  const bySource = new Map(sources.map(s => [s.imageId, s]));
  const masks = new Map(); // `${segment}\0${imageId}` -> Uint8Array 0/1
  for (const layer of layers) {
    for (const image of toArray(layer)) {
      const src = bySource.get(image.referencedImageId);
      if (!src) continue;
      const data = image.voxelManager ? image.voxelManager.getScalarData() : image.getPixelData();
      for (let k = 0; k < data.length; k++) {
        const s = data[k];
        if (!s) continue;
        const key = `${s}\0${image.referencedImageId}`;
        let m = masks.get(key);
        if (!m) masks.set(key, (m = new Uint8Array(src.rows * src.columns)));
        m[k] = 1;
      }
    }
  }
  const order = new Map(referencedImageIds.map((id, i) => [id, i]));
  const frameData = [...masks.entries()].map(([key, mask]) => {
    const [segment, imageId] = key.split('\0');
    const src = bySource.get(imageId);
    let set = 0;
    for (const v of mask) set += v;
    return { segment: Number(segment), sopInstanceUid: src.sopInstanceUid, frame: src.frame, imageId, setPixels: set,
      sha256: crypto.createHash('sha256').update(mask).digest('hex') };
  }).sort((a, b) => a.segment - b.segment || order.get(a.imageId) - order.get(b.imageId));

  const segments = toArray(seg.SegmentSequence).map(s => {
    const mine = frameData.filter(f => f.segment === Number(s.SegmentNumber));
    return { number: Number(s.SegmentNumber), label: s.SegmentLabel, framesWithPixels: mine.length,
      setPixels: mine.reduce((a, f) => a + f.setPixels, 0) };
  });
  const out = {
    api,
    seg: { path: path.resolve(segPath), sopClassUid: seg.SOPClassUID, sopInstanceUid: seg.SOPInstanceUID,
      segmentationType: seg.SegmentationType, rows: Number(seg.Rows), columns: Number(seg.Columns),
      frames: Number(seg.NumberOfFrames), frameOfReferenceUid: seg.FrameOfReferenceUID ?? null },
    referencedImageIds: referencedImageIds.length,
    layers: layers.length,
    overlappingSegments: Boolean(result?.overlappingSegments),
    segments,
    frameData,
    unmatchedSegFrames: await unmatchedFrames(seg, sources).catch(e => [{ error: e.message }]),
    adapterWarnings: warnings,
  };
  console.log(JSON.stringify(out, null, 2));
  if (!frameData.length) {
    stage = 'done';
    console.error(`load-seg: ${api} returned without error but put no segment pixel on any of the ${referencedImageIds.length} source images`);
    for (const w of warnings) console.error(`load-seg: adapter ${w}`);
    process.exit(1);
  }
  if (out.unmatchedSegFrames.length) {
    console.error(`load-seg: warning: ${out.unmatchedSegFrames.length} SEG frame(s) with pixels reference images not given`);
  }
  stage = 'done';
  // cornerstone's cache and the adapter's throttled progress timer would keep the process alive a moment
  cache.purgeCache?.();
  process.exit(0);
}

main();
