// sr-common.mjs - helpers shared by make-sr.mjs / read-sr.mjs / verify.mjs
//
// Runs under plain Node 20 (ESM). No DOM/jsdom shims are needed: the
// @cornerstonejs/{core,tools,adapters} ESM builds import cleanly in Node and
// the SR code paths used here never touch window/document.
//
// What Cornerstone3D needs from us is a *metadata provider* registered with
// @cornerstonejs/core's global `metaData` registry, because the adapters call
//   - utilities.imageToWorldCoords / worldToImageCoords (core), which internally
//     call metaData.get('imagePlaneModule', imageId)  (global registry!), and
//   - metadata.get('imagePlaneModule' | 'imagePixelModule' | 'sopCommonModule' |
//     'instance' | 'frameNumber', imageId)  on the object passed in as argument.
// Passing core's `metaData` as that argument (as OHIF does) makes both the same.

import fs from 'node:fs';
import path from 'node:path';
import dcmjs from 'dcmjs';
import { metaData } from '@cornerstonejs/core';

const { DicomMessage, DicomMetaDictionary } = dcmjs.data;

/** Read a DICOM Part 10 file into a dcmjs *naturalized* dataset (+ _meta). */
export function readNaturalized(filePath) {
  const buf = fs.readFileSync(filePath);
  // dcmjs wants an ArrayBuffer, not a Node Buffer (slice out the exact bytes).
  const arrayBuffer = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const dicomData = DicomMessage.readFile(arrayBuffer);
  const dataset = DicomMetaDictionary.naturalizeDataset(dicomData.dict);
  dataset._meta = DicomMetaDictionary.namifyDataset(dicomData.meta);
  return dataset;
}

/** Write a naturalized dataset as Part 10 (dcmjs fills the File Meta group). */
export function writeNaturalized(dataset, filePath) {
  fs.mkdirSync(path.dirname(path.resolve(filePath)), { recursive: true });
  fs.writeFileSync(filePath, dcmjs.data.datasetToBuffer(dataset));
}

const first = v => (Array.isArray(v) ? v[0] : v);
const toNums = v => (v == null ? undefined : (Array.isArray(v) ? v : [v]).map(Number));

/**
 * Geometry for one frame, in the exact shape Cornerstone3D's own provider
 * (@cornerstonejs/metadata .../imagePlaneCalibrated.js) produces:
 * rowPixelSpacing = PixelSpacing[0], columnPixelSpacing = PixelSpacing[1],
 * rowCosines = IOP[0..2], columnCosines = IOP[3..5].
 * Handles classic single-frame and enhanced multi-frame (functional groups).
 */
export function imagePlaneModuleFor(ds, frameNumber = 1) {
  const shared = first(ds.SharedFunctionalGroupsSequence) || {};
  const perFrame = (ds.PerFrameFunctionalGroupsSequence || [])[frameNumber - 1] || {};
  const pick = (seqName, attr) =>
    first(perFrame[seqName])?.[attr] ?? first(shared[seqName])?.[attr];

  const ipp = toNums(ds.ImagePositionPatient ?? pick('PlanePositionSequence', 'ImagePositionPatient')) || [0, 0, 0];
  const iop = toNums(ds.ImageOrientationPatient ?? pick('PlaneOrientationSequence', 'ImageOrientationPatient')) || [1, 0, 0, 0, 1, 0];
  const ps = toNums(ds.PixelSpacing ?? pick('PixelMeasuresSequence', 'PixelSpacing') ?? ds.ImagerPixelSpacing) || [1, 1];
  return {
    frameOfReferenceUID: ds.FrameOfReferenceUID,
    rows: Number(ds.Rows),
    columns: Number(ds.Columns),
    imageOrientationPatient: iop,
    rowCosines: iop.slice(0, 3),
    columnCosines: iop.slice(3, 6),
    imagePositionPatient: ipp,
    pixelSpacing: ps,
    rowPixelSpacing: ps[0],
    columnPixelSpacing: ps[1],
    sliceThickness: ds.SliceThickness != null ? Number(ds.SliceThickness) : undefined,
  };
}

/** Identity geometry used when the referenced image is not available. */
export function identityPlaneModule(frameOfReferenceUID) {
  return {
    frameOfReferenceUID,
    rows: 0, columns: 0,
    imageOrientationPatient: [1, 0, 0, 0, 1, 0],
    rowCosines: [1, 0, 0], columnCosines: [0, 1, 0],
    imagePositionPatient: [0, 0, 0],
    pixelSpacing: [1, 1], rowPixelSpacing: 1, columnPixelSpacing: 1,
    usingIdentityGeometry: true,
  };
}

// imageId -> { dataset, frameNumber, plane }
const registry = new Map();
let providerInstalled = false;

function provider(type, imageId) {
  const entry = registry.get(imageId);
  if (!entry) return undefined;
  const { dataset: ds, frameNumber, plane } = entry;
  switch (type) {
    case 'imagePlaneModule':
      return plane;
    case 'imagePixelModule':
      return { rows: plane.rows, columns: plane.columns };
    case 'sopCommonModule':
      return { sopClassUID: ds.SOPClassUID, sopInstanceUID: ds.SOPInstanceUID };
    case 'generalSeriesModule':
      return { modality: ds.Modality, seriesInstanceUID: ds.SeriesInstanceUID, studyInstanceUID: ds.StudyInstanceUID };
    case 'instance':
      return ds; // naturalized dataset, as OHIF's DicomMetadataStore provides
    case 'frameNumber':
      return frameNumber;
    default:
      return undefined;
  }
}

export function installProvider() {
  if (!providerInstalled) {
    metaData.addProvider(provider, 10000);
    providerInstalled = true;
  }
}

/**
 * Register all frames of an image dataset. Returns the imageIds and adds
 * `${SOPInstanceUID}:${frame}` -> imageId entries to uidMap (frame is 1 for
 * single-frame images: the adapter looks up ReferencedFrameNumber ?? 1).
 */
export function registerImage(ds, baseImageId, uidMap = {}) {
  installProvider();
  const nFrames = Number(ds.NumberOfFrames || 1);
  const imageIds = [];
  for (let f = 1; f <= nFrames; f++) {
    const imageId = nFrames > 1 ? `${baseImageId}?frame=${f}` : baseImageId;
    registry.set(imageId, {
      dataset: ds,
      frameNumber: nFrames > 1 ? f : undefined,
      plane: imagePlaneModuleFor(ds, f),
    });
    uidMap[`${ds.SOPInstanceUID}:${f}`] = imageId;
    imageIds.push(imageId);
  }
  return imageIds;
}

/** Register a placeholder (identity geometry) for an image we do not have. */
export function registerPlaceholder(sopInstanceUID, frameNumber, sopClassUID, uidMap = {}) {
  installProvider();
  const imageId = `placeholder:${sopInstanceUID}:${frameNumber}`;
  registry.set(imageId, {
    dataset: { SOPInstanceUID: sopInstanceUID, SOPClassUID: sopClassUID },
    frameNumber,
    plane: identityPlaneModule(undefined),
  });
  uidMap[`${sopInstanceUID}:${frameNumber}`] = imageId;
  return imageId;
}

export { metaData, dcmjs };
