// What is drawn and painted on the viewer, kept in step with the reader's findings and masks.
//
// Shapes: every Cornerstone annotation of the page belongs to one layer (the reader's own,
// editable; or another reader's, locked, in that reader's colour). New shapes drawn by the
// reader become findings of the active label; undo and redo bring a finding back with what was
// answered about it.
//
// Masks: one labelmap per source frame (Cornerstone's derived labelmap images), grouped in one
// segmentation per layer and series; the painted value is the protocol mask label's number
// (labelingDocument.maskLabels).
import { cache, eventTarget, imageLoader } from '@cornerstonejs/core';
import { AnnotationTool, Enums as ToolEnums, annotation as annotationApi, segmentation } from '@cornerstonejs/tools';

import { cssColor } from '../dom.js';
import { annotationFor, geometryOf } from '../model/annotationModel.js';
import { frameKey, masksFromLabelmaps, paintMasks } from '../model/maskModel.js';
import { imageRefOf, planeOf } from './imaging.js';

const { Events, SegmentationRepresentations } = ToolEnums;

function scalarData(image) {
  return image.voxelManager ? image.voxelManager.getScalarData() : image.getPixelData();
}

let layers = 0;

export class DrawingLayer {
  //   viewer: StackViewer
  //   frameOf(imageId) -> the frame record (imaging.loadSeries) of any series of the study
  //   imageIdOf(image) -> the imageId showing {sopInstanceUid, frame?}, when loaded
  //   editable: the reader's own layer (new shapes and paint land in it)
  //   color(labelKey) -> [r, g, b]; maskColors: [[r, g, b]...] by mask label number
  //   onFindingAdded(uid, toolName) -> finding | null, onFindingRemoved(uid), onChange(), onSelect(uid)
  constructor(viewer, options) {
    this.id = `layer-${++layers}`;
    this.viewer = viewer;
    this.o = options;
    this.findings = new Map();  // annotationUID -> finding
    this.retired = new Map();   // removed findings, for redo
    this.segmentations = new Map();  // seriesUid -> {segmentationId, labelmapOf: Map(imageId -> labelmap imageId)}
    this.shown = new Set();          // series whose masks are on the viewer
    this.listeners = [];
    if (options.editable) this.listenToTools();
  }

  listen(type, fn) {
    eventTarget.addEventListener(type, fn);
    this.listeners.push(() => eventTarget.removeEventListener(type, fn));
  }

  listenToTools() {
    this.listen(Events.ANNOTATION_COMPLETED, (e) => {
      const a = e.detail.annotation;
      if (!a || this.findings.has(a.annotationUID) || !this.isOurs(a)) return;
      const finding = this.retired.get(a.annotationUID) || this.o.onFindingAdded(a.annotationUID, a.metadata.toolName);
      if (!finding) {
        annotationApi.state.removeAnnotation(a.annotationUID);
        this.viewer.render();
        return;
      }
      this.retired.delete(a.annotationUID);
      this.adopt(a.annotationUID, finding);
      this.o.onChange();
    });
    // Undo of a deletion, redo of a drawing: the annotation comes back, its finding with it.
    this.listen(Events.ANNOTATION_ADDED, (e) => {
      const a = e.detail.annotation;
      if (!a || !this.retired.has(a.annotationUID)) return;
      const finding = this.retired.get(a.annotationUID);
      this.retired.delete(a.annotationUID);
      this.adopt(a.annotationUID, finding);
      this.o.onChange();
    });
    // Statistics computed for display change nothing the reader did.
    this.listen(Events.ANNOTATION_MODIFIED, (e) => {
      const a = e.detail.annotation;
      if (a && this.findings.has(a.annotationUID) && e.detail.changeType !== ToolEnums.ChangeTypes.StatsUpdated) this.o.onChange();
    });
    this.listen(Events.ANNOTATION_REMOVED, (e) => {
      const a = e.detail.annotation;
      if (!a || !this.findings.has(a.annotationUID)) return;
      this.retired.set(a.annotationUID, this.findings.get(a.annotationUID));
      this.findings.delete(a.annotationUID);
      this.o.onFindingRemoved(a.annotationUID);
      this.o.onChange();
    });
    this.listen(Events.ANNOTATION_SELECTION_CHANGE, (e) => {
      const selected = e.detail.selection || [];
      const ours = selected.find((uid) => this.findings.has(uid));
      if (ours) this.o.onSelect(ours);
    });
    this.listen(Events.SEGMENTATION_DATA_MODIFIED, (e) => {
      const id = e.detail.segmentationId;
      if ([...this.segmentations.values()].some((s) => s.segmentationId === id)) this.o.onChange();
    });
  }

  // Annotations of other layers are locked; an unlocked one drawn on this page is ours.
  isOurs(a) {
    return !a.isLocked && this.o.frameOf(a.metadata.referencedImageId);
  }

  adopt(uid, finding) {
    finding.annotationUID = uid;
    this.findings.set(uid, finding);
    this.styleFinding(finding);
  }

  styleFinding(finding) {
    const color = cssColor(this.o.color(finding.label));
    // Another reader's shapes: dashed, in that reader's colour, without the statistics boxes
    // that would cover the image twice over (the panel compares the readers).
    annotationApi.config.style.setAnnotationStyles(finding.annotationUID, {
      color,
      colorLocked: color,
      lineWidth: 2,
      lineDash: this.o.editable ? '' : '6,3',
      textBoxVisibility: this.o.editable,
    });
    if (!this.o.editable) annotationApi.locking.setAnnotationLocked(finding.annotationUID, true);
  }

  // Draws a finding read from a revision; false when its image is not part of the study shown.
  place(finding) {
    const imageId = this.o.imageIdOf(finding.geometry.image);
    const frame = imageId && this.o.frameOf(imageId);
    if (!frame) return false;
    const uid = `${this.id}-${Math.random().toString(36).slice(2, 10)}`;
    const a = annotationFor(finding.geometry, {
      imageId,
      plane: planeOf(imageId),
      frameOfReferenceUid: frame.frameOfReferenceUid,
      annotationUID: uid,
    });
    if (!this.o.editable) a.isLocked = true;
    finding.annotationUID = uid;
    this.findings.set(uid, finding);
    annotationApi.state.addAnnotation(a, this.viewer.element);
    this.styleFinding(finding);
    return true;
  }

  geometryOf(finding) {
    const a = annotationApi.state.getAnnotation(finding.annotationUID);
    if (!a) throw new Error(`the shape of ${finding.label} is gone from the viewer`);
    const frame = this.o.frameOf(a.metadata.referencedImageId);
    return geometryOf(a, imageRefOf(frame), planeOf(a.metadata.referencedImageId));
  }

  // The image a finding is drawn on (its imageId), to go there.
  imageIdOf(finding) {
    return annotationApi.state.getAnnotation(finding.annotationUID)?.metadata.referencedImageId;
  }

  select(finding) {
    annotationApi.selection.setAnnotationSelected(finding.annotationUID, true, false);
    this.viewer.render();
  }

  remove(finding) {
    const a = annotationApi.state.getAnnotation(finding.annotationUID);
    if (!a) return;
    // Recorded for undo like a deletion with Cornerstone's own eraser.
    AnnotationTool.createAnnotationMemo(this.viewer.element, a, { deleting: true });
    annotationApi.state.removeAnnotation(finding.annotationUID);
    this.viewer.render();
  }

  selectedFinding() {
    const uid = (annotationApi.selection.getAnnotationsSelected() || []).find((u) => this.findings.has(u));
    return uid ? this.findings.get(uid) : null;
  }

  setVisible(visible) {
    for (const uid of this.findings.keys()) annotationApi.visibility.setAnnotationVisibility(uid, visible);
    for (const s of this.segmentations.values()) {
      segmentation.config.visibility.setSegmentationRepresentationVisibility(this.viewer.id, { segmentationId: s.segmentationId, type: SegmentationRepresentations.Labelmap }, visible);
    }
    this.visible = visible;
    this.viewer.render();
  }

  // --- masks ---

  // The segmentation of this layer for a series (made on first use) with its labelmaps.
  segmentationFor(seriesUid, frames) {
    let s = this.segmentations.get(seriesUid);
    if (s) return s;
    const sourceIds = frames.map((f) => f.imageId);
    const labelmaps = imageLoader.createAndCacheDerivedLabelmapImages(sourceIds);
    const labelmapOf = new Map(sourceIds.map((id, i) => [id, labelmaps[i].imageId]));
    const segmentationId = `${this.id}-${seriesUid}`;
    segmentation.addSegmentations([{
      segmentationId,
      representation: { type: SegmentationRepresentations.Labelmap, data: { imageIds: labelmaps.map((l) => l.imageId) } },
    }]);
    s = { segmentationId, labelmapOf, frames };
    this.segmentations.set(seriesUid, s);
    return s;
  }

  // Shows this layer's masks of the series on the viewer (call after the series is shown); once.
  async showMasks(seriesUid, frames) {
    const s = this.segmentationFor(seriesUid, frames);
    if (this.shown.has(seriesUid)) {
      this.viewer.render();
      return;
    }
    await segmentation.addSegmentationRepresentations(this.viewer.id, [{ segmentationId: s.segmentationId, type: SegmentationRepresentations.Labelmap }]);
    this.o.maskColors.forEach((c, i) => {
      segmentation.config.color.setSegmentIndexColor(this.viewer.id, s.segmentationId, i + 1, [...c, 255]);
    });
    // Only the active segmentation is painted: other readers' masks stay as they were.
    if (this.o.editable) segmentation.activeSegmentation.setActiveSegmentation(this.viewer.id, s.segmentationId);
    this.shown.add(seriesUid);
    this.viewer.render();
  }

  hideMasks(seriesUid) {
    const s = this.segmentations.get(seriesUid);
    if (!s) return;
    this.shown.delete(seriesUid);
    segmentation.removeSegmentationRepresentation(this.viewer.id, { segmentationId: s.segmentationId, type: SegmentationRepresentations.Labelmap });
  }

  setActiveMaskLabel(seriesUid, value) {
    const s = this.segmentations.get(seriesUid);
    if (s) segmentation.segmentIndex.setActiveSegmentIndex(s.segmentationId, value);
  }

  // Every painted frame of every series: [{segment, image, runs}]. A labelmap gone from
  // Cornerstone's cache refuses the save rather than leaving its mask out.
  masks() {
    const frames = [];
    for (const s of this.segmentations.values()) {
      for (const f of s.frames) {
        const image = cache.getImage(s.labelmapOf.get(f.imageId));
        if (!image) throw new Error(`the mask of image ${f.sopInstanceUid} is no longer in memory: reload the task`);
        frames.push({
          image: imageRefOf(f),
          labelmap: scalarData(image),
        });
      }
    }
    return masksFromLabelmaps(frames);
  }

  // Paints masks read from a revision into the labelmaps of a series; returns the masks whose
  // image is not in that series.
  paint(seriesUid, frames, masks) {
    const s = this.segmentationFor(seriesUid, frames);
    const byKey = new Map(frames.map((f) => [frameKey(f), f]));
    const notPlaced = paintMasks(masks, (image) => {
      const f = byKey.get(frameKey(image));
      const labelmap = f && cache.getImage(s.labelmapOf.get(f.imageId));
      return labelmap ? scalarData(labelmap) : null;
    });
    segmentation.triggerSegmentationEvents.triggerSegmentationDataModified(s.segmentationId);
    return notPlaced;
  }

  // Clears every labelmap of this layer (a consensus started again from another reader).
  clearMasks() {
    for (const s of this.segmentations.values()) {
      for (const f of s.frames) {
        const image = cache.getImage(s.labelmapOf.get(f.imageId));
        if (image) scalarData(image).fill(0);
      }
      segmentation.triggerSegmentationEvents.triggerSegmentationDataModified(s.segmentationId);
    }
  }

  setMaskStyle(filled) {
    for (const s of this.segmentations.values()) {
      segmentation.segmentationStyle.setStyle(
        { type: SegmentationRepresentations.Labelmap, segmentationId: s.segmentationId },
        { renderFill: filled, renderOutline: true, fillAlpha: 0.45, outlineWidth: 2, renderFillInactive: filled, fillAlphaInactive: 0.35 },
      );
    }
    this.viewer.render();
  }

  destroy() {
    for (const off of this.listeners) off();
    for (const uid of [...this.findings.keys()]) annotationApi.state.removeAnnotation(uid);
    for (const s of this.segmentations.values()) {
      try {
        segmentation.removeSegmentation(s.segmentationId);
      } catch {
        /* already gone with the viewport */
      }
    }
  }
}
