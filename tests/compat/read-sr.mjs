#!/usr/bin/env node
// read-sr.mjs - read a DICOM TID 1500 Measurement Report SR the way OHIF
// re-hydrates it: dcmjs readFile -> naturalizeDataset ->
// adaptersSR.Cornerstone3D.MeasurementReport.generateToolState(dataset,
// sopInstanceUIDToImageIdMap, metaData).  Prints JSON on stdout.
//
// Usage:
//   node read-sr.mjs <sr.dcm> [referenced-image.dcm ...] [--tree] [--no-placeholders]
//                    [--raw] [--verbose]
//
//   referenced images  give the real geometry (IPP/IOP/PixelSpacing) needed to turn
//                      SCOORD pixel coordinates into world (patient, mm) coordinates.
//   (default)          any referenced image NOT supplied gets a placeholder imageId
//                      with identity geometry (IPP 0, IOP 1\0\0\0\1\0, spacing 1), so
//                      the tool state can still be produced; world = (x-0.5, y-0.5, 0).
//   --no-placeholders  don't do that -> such measurements are dropped, exactly as
//                      OHIF drops them when the image is not loaded.
//   --tree             also print the SR content tree (relationship / value type / code).
//   --raw              include the complete generateToolState() return value.
//   --verbose          let the adapter log the (normally swallowed) per-group errors.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { utilities as csUtils } from '@cornerstonejs/core';
import { adaptersSR } from '@cornerstonejs/adapters';
import {
  dcmjs, metaData, readNaturalized, registerImage, registerPlaceholder,
} from './sr-common.mjs';

const { MeasurementReport } = adaptersSR.Cornerstone3D;
const toArray = x => (Array.isArray(x) ? x : x !== undefined && x !== null ? [x] : []);
const code = seq => {
  const c = toArray(seq)[0];
  return c ? { CodeValue: c.CodeValue, CodingSchemeDesignator: c.CodingSchemeDesignator, CodeMeaning: c.CodeMeaning } : undefined;
};

/** Every IMAGE reference (SOP instance + frame) anywhere in the content tree. */
function collectImageRefs(node, out = new Map()) {
  for (const item of toArray(node.ContentSequence)) {
    if (item.ValueType === 'IMAGE') {
      for (const ref of toArray(item.ReferencedSOPSequence)) {
        const frames = toArray(ref.ReferencedFrameNumber);
        for (const f of frames.length ? frames : [1]) {
          out.set(`${ref.ReferencedSOPInstanceUID}:${Number(f)}`, {
            sopInstanceUID: ref.ReferencedSOPInstanceUID, frame: Number(f), sopClassUID: ref.ReferencedSOPClassUID,
          });
        }
      }
    }
    collectImageRefs(item, out);
  }
  return out;
}

/** Human-readable content tree, one line per content item. */
export function contentTree(node, depth = 0, lines = []) {
  for (const item of toArray(node.ContentSequence)) {
    const c = code(item.ConceptNameCodeSequence);
    const name = c ? `(${c.CodeValue},${c.CodingSchemeDesignator},"${c.CodeMeaning}")` : '(no concept name)';
    let value = '';
    switch (item.ValueType) {
      case 'TEXT': value = JSON.stringify(item.TextValue); break;
      case 'UIDREF': value = item.UID; break;
      case 'PNAME': value = JSON.stringify(toArray(item.PersonName)[0]); break;
      case 'CODE': { const v = code(item.ConceptCodeSequence); value = v && `(${v.CodeValue},${v.CodingSchemeDesignator},"${v.CodeMeaning}")`; break; }
      case 'NUM': {
        const mv = toArray(item.MeasuredValueSequence)[0];
        const u = mv && code(mv.MeasurementUnitsCodeSequence);
        value = mv ? `${mv.NumericValue} [${u?.CodeValue}]` : '(no MeasuredValueSequence)';
        break;
      }
      case 'SCOORD': case 'SCOORD3D':
        value = `${item.GraphicType} ${JSON.stringify(toArray(item.GraphicData))}`; break;
      case 'IMAGE': {
        const r = toArray(item.ReferencedSOPSequence)[0] || {};
        value = `${r.ReferencedSOPClassUID} ${r.ReferencedSOPInstanceUID}${r.ReferencedFrameNumber ? ' frame ' + r.ReferencedFrameNumber : ''}`;
        break;
      }
      case 'CONTAINER': value = item.ContinuityOfContent || ''; break;
      default: value = '';
    }
    lines.push(`${'  '.repeat(depth)}<${item.RelationshipType}> ${item.ValueType} ${name} = ${value}`);
    contentTree(item, depth + 1, lines);
  }
  return lines;
}

/**
 * Per-measurement-group diagnosis: reproduces generateToolState's adapter choice
 * and calls the same getMeasurementData, but records the error that
 * generateToolState itself only logs (it swallows per-group exceptions).
 */
function diagnoseGroups(dataset, uidMap) {
  const report = toArray(dataset.ContentSequence).find(i => code(i.ConceptNameCodeSequence)?.CodeMeaning === 'Imaging Measurements');
  const groups = toArray(report?.ContentSequence).filter(i => code(i.ConceptNameCodeSequence)?.CodeMeaning === 'Measurement Group');
  return groups.map((g, index) => {
    const items = toArray(g.ContentSequence);
    const tid = items.find(i => code(i.ConceptNameCodeSequence)?.CodeMeaning === 'Tracking Identifier')?.TextValue;
    let adapter;
    try {
      adapter = (tid !== undefined && MeasurementReport.getAdapterForTrackingIdentifier(tid)) || MeasurementReport.getAdapterForCodeType(g);
    } catch (e) {
      return { index, trackingIdentifier: tid, adapter: null, ok: false, error: `adapter lookup: ${e.message}` };
    }
    if (!adapter) return { index, trackingIdentifier: tid, adapter: null, ok: false, error: 'no adapter matches (ignored silently by generateToolState)' };
    try {
      adapter.getMeasurementData(g, uidMap, metaData, tid);
      return { index, trackingIdentifier: tid, adapter: adapter.toolType, ok: true };
    } catch (e) {
      return { index, trackingIdentifier: tid, adapter: adapter.toolType, ok: false, error: e.message };
    }
  });
}

function summarize(toolType, m) {
  const { annotation } = m;
  const data = annotation.data || {};
  const imageId = annotation.metadata.referencedImageId;
  const world = data.contour?.polyline || data.handles?.points || [];
  const toImage = p => (imageId ? csUtils.worldToImageCoords(imageId, p).map(v => +v.toFixed(4)) : undefined);
  const stats = data.cachedStats && (data.cachedStats[`imageId:${imageId}`] || Object.values(data.cachedStats)[0]);
  return {
    toolType,
    label: data.label,
    text: data.text,
    description: m.description,
    finding: m.finding && code(m.finding),
    findingSites: (m.findingSites || []).map(code),
    trackingUniqueIdentifier: m.TrackingUniqueIdentifier,
    referencedSOPInstanceUID: m.sopInstanceUid,
    frameNumber: data.frameNumber,
    referencedImageId: imageId,
    frameOfReferenceUID: annotation.metadata.FrameOfReferenceUID,
    closed: data.contour ? data.contour.closed : undefined,
    worldPoints: world.map(p => p.map(v => +v.toFixed(4))),
    imagePoints: world.map(toImage),
    textBoxWorldPosition: data.handles?.textBox?.hasMoved ? data.handles.textBox.worldPosition : undefined,
    cachedStats: stats,
  };
}

export function readSR(srPath, imagePaths = [], { placeholders = true, tree = false, raw = false, verbose = false } = {}) {
  // the adapter logs every swallowed per-group error with the whole group object; keep stdout/stderr clean
  dcmjs.log.getLogger('cs3d.adapters.Cornerstone3D.MeasurementReport').setLevel(verbose ? 'info' : 'silent');

  const dataset = readNaturalized(srPath);

  // sopInstanceUIDToImageIdMap: key `${SOPInstanceUID}:${frameNumber}` (frame 1 for single-frame)
  const uidMap = {};
  for (const p of imagePaths) registerImage(readNaturalized(p), `dicomfile:${path.resolve(p)}`, uidMap);
  const placeholderKeys = [];
  if (placeholders) {
    for (const [key, ref] of collectImageRefs(dataset)) {
      if (!uidMap[key]) {
        registerPlaceholder(ref.sopInstanceUID, ref.frame, ref.sopClassUID, uidMap);
        placeholderKeys.push(key);
      }
    }
  }

  // Exactly OHIF's call (extensions/cornerstone-dicom-sr .../hydrateStructuredReport): 3 args, hooks undefined.
  const toolState = MeasurementReport.generateToolState(dataset, uidMap, metaData);

  const measurements = [];
  for (const [toolType, list] of Object.entries(toolState)) for (const m of list) measurements.push(summarize(toolType, m));

  const diagnostics = diagnoseGroups(dataset, uidMap);
  const result = {
    sr: {
      path: path.resolve(srPath),
      SOPClassUID: dataset.SOPClassUID,
      SOPInstanceUID: dataset.SOPInstanceUID,
      TemplateIdentifier: toArray(dataset.ContentTemplateSequence)[0]?.TemplateIdentifier,
    },
    sopInstanceUIDToImageIdMap: uidMap,
    placeholderGeometryUsedFor: placeholderKeys,
    measurementGroupCount: diagnostics.length,
    measurementCount: measurements.length,
    droppedGroups: diagnostics.filter(d => !d.ok),
    measurements,
  };
  if (tree) result.contentTree = contentTree(dataset);
  if (raw) result.toolState = toolState;
  return result;
}

// ---------------------------------------------------------------- CLI
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const flags = new Set(args.filter(a => a.startsWith('--')));
  const files = args.filter(a => !a.startsWith('--'));
  if (!files.length) {
    console.error('usage: node read-sr.mjs <sr.dcm> [image.dcm ...] [--tree] [--raw] [--no-placeholders] [--verbose]');
    process.exit(2);
  }
  try {
    const res = readSR(files[0], files.slice(1), {
      placeholders: !flags.has('--no-placeholders'),
      tree: flags.has('--tree'),
      raw: flags.has('--raw'),
      verbose: flags.has('--verbose'),
    });
    if (res.contentTree) {
      // print the tree readably, then the JSON without it
      console.log(res.contentTree.join('\n'));
      delete res.contentTree;
    }
    console.log(JSON.stringify(res, null, 2));
    process.exitCode = res.droppedGroups.length ? 3 : 0;
  } catch (e) {
    // generateToolState throws (rather than swallowing) for document-level problems
    console.error(`generateToolState failed: ${e.stack || e}`);
    process.exit(1);
  }
}
