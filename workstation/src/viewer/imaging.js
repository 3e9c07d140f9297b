// Cornerstone3D set-up and the images of a study: series metadata from the node's own WADO-RS,
// one imageId per frame ("wadors:<root>/studies/../instances/<sop>/frames/<n>"), and for every
// imageId the image it stands for and its plane, which the annotation model needs.
import { init as coreInit, metaData } from '@cornerstonejs/core';
import { init as dicomImageLoaderInit, wadors } from '@cornerstonejs/dicom-image-loader';
import { utilities as metadataUtilities } from '@cornerstonejs/metadata';
import { init as toolsInit } from '@cornerstonejs/tools';

import { dicomwebRoot } from '../api.js';

let initialised = false;

export function initImaging() {
  if (initialised) return;
  coreInit();
  dicomImageLoaderInit({
    maxWebWorkers: Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 1)),
    // The decoders' WebAssembly is served beside the workstation (build.mjs copies it).
    decodeConfig: { wasmBasePath: new URL('codecs/', window.location.href).href },
  });
  toolsInit();
  initialised = true;
}

const tag = (dataset, t) => {
  const e = dataset[t];
  return e && e.Value ? e.Value : undefined;
};
const first = (dataset, t) => (tag(dataset, t) || [])[0];
const numbers = (v) => (v ? v.map(Number) : undefined);

async function dicomJson(url) {
  const response = await fetch(url, { headers: { Accept: 'application/dicom+json' }, credentials: 'same-origin' });
  if (!response.ok) {
    let message = `the server answered ${response.status}`;
    try {
      message = (await response.json()).error.message || message;
    } catch {
      /* keep the status */
    }
    const error = new Error(`images of the study could not be listed: ${message}`);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

// Where a frame lies along the series' normal, for slice order.
function positionAlongNormal(position, orientation) {
  if (!position || !orientation) return undefined;
  const [r, c] = [orientation.slice(0, 3), orientation.slice(3, 6)];
  const n = [r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]];
  return position[0] * n[0] + position[1] * n[1] + position[2] * n[2];
}

// The frames of one series, in viewing order, each with its imageId and the image it shows.
//   -> [{imageId, sopInstanceUid, frame (multi-frame only), rows, columns, frameOfReferenceUid,
//        modality, instanceNumber, orientation, patientOrientation}]
export async function loadSeries(studyUid, seriesUid) {
  const base = `${dicomwebRoot}/studies/${studyUid}/series/${seriesUid}`;
  const instances = await dicomJson(`${base}/metadata`);
  const frames = [];
  for (const instance of instances) {
    const sop = first(instance, '00080018');
    const rows = first(instance, '00280010');
    if (!sop || !rows) continue;  // no pixels: an SR, a SEG's own series is shown as masks
    const sopClass = first(instance, '00080016');
    if (sopClass === '1.2.840.10008.5.1.4.1.1.66.4') continue;
    const count = Number(first(instance, '00280008') || 1);
    const shared = (tag(instance, '52009229') || [])[0] || {};
    const perFrame = tag(instance, '52009230') || [];
    const orientation =
      numbers(tag(instance, '00200037')) || numbers(tag((tag(shared, '00209116') || [])[0] || {}, '00200037'));
    for (let f = 1; f <= count; f++) {
      const imageId = `wadors:${base}/instances/${sop}/frames/${f}`;
      wadors.metaDataManager.add(imageId, instance);
      metadataUtilities.addDicomWebInstance(imageId, instance);
      const frameGroup = perFrame[f - 1] || {};
      const position =
        numbers(tag((tag(frameGroup, '00209113') || [])[0] || {}, '00200032')) || numbers(tag(instance, '00200032'));
      frames.push({
        imageId,
        sopInstanceUid: sop,
        frame: count > 1 ? f : undefined,
        rows,
        columns: first(instance, '00280011'),
        frameOfReferenceUid: first(instance, '00200052') || '',
        modality: first(instance, '00080060') || '',
        instanceNumber: Number(first(instance, '00200013') || 0),
        order: positionAlongNormal(position, orientation),
        // Without Image Orientation (a capture, a radiograph) nothing says where the patient is
        // in space, but a radiograph's Patient Orientation names the directions of its rows and
        // columns (e.g. L, F).
        orientation: orientation || null,
        patientOrientation: tag(instance, '00200020') || null,
      });
    }
  }
  // Slices by position along the normal (head first as radiologists scroll), else by number.
  const positioned = frames.every((f) => f.order !== undefined) && new Set(frames.map((f) => f.order)).size === frames.length;
  frames.sort((a, b) =>
    positioned ? b.order - a.order : a.instanceNumber - b.instanceNumber || (a.frame || 0) - (b.frame || 0));
  return frames;
}

// The annotation document's reference to the image a frame record shows: {sopInstanceUid} or,
// for a frame of a multi-frame image, {sopInstanceUid, frame}.
export function imageRefOf(frame) {
  return frame.frame ? { sopInstanceUid: frame.sopInstanceUid, frame: frame.frame } : { sopInstanceUid: frame.sopInstanceUid };
}

// The image plane Cornerstone renders this imageId on (origin at the first pixel's centre).
export function planeOf(imageId) {
  const m = metaData.get('imagePlaneModule', imageId) || {};
  return {
    origin: m.imagePositionPatient || [0, 0, 0],
    rowDirection: m.rowCosines || [1, 0, 0],
    columnDirection: m.columnCosines || [0, 1, 0],
    rowSpacing: m.rowPixelSpacing || 1,
    columnSpacing: m.columnPixelSpacing || 1,
  };
}
