// The labeling screen: one task's images with the reader's shapes, masks and answers, saved as
// draft revisions while the reader works and submitted when complete. For a review task the same
// screen shows every reader's work locked in its own colour beside the agreement figures, and
// the reviewer approves, sends a reader's work back with a reason, or adjudicates a consensus.
import { annotation as annotationApi } from '@cornerstonejs/tools';
import { utilities as coreUtilities } from '@cornerstonejs/core';

import { ApiError, api, viewerLink } from '../api.js';
import { clear, h } from '../dom.js';
import { geometriesOfTool } from '../model/annotationModel.js';
import { frameKey } from '../model/maskModel.js';
import {
  PALETTE,
  adoptTracking,
  buildDocument,
  colorOfLabel,
  maskLabels,
  newFinding,
  placeProblem,
  readDocument,
} from '../model/labelingDocument.js';
import { renderReviewPanel } from '../panels/reviewPanel.js';
import { renderWorkPanel } from '../panels/workPanel.js';
import { shortcutsFor } from '../shortcuts.js';
import { DrawingLayer } from '../viewer/drawingLayer.js';
import { imageRefOf, initImaging, loadSeries, planeOf } from '../viewer/imaging.js';
import { imageToWorld } from '../model/planeGeometry.js';
import { DRAWING_TOOLS, MASK_TOOLS, PRESETS, StackViewer } from '../viewer/viewer.js';

const AUTOSAVE_MS = 3000;
// Colours of the readers' layers in review (the consensus keeps the protocol's label colours).
const READER_COLORS = [[255, 170, 0], [0, 190, 255], [255, 90, 200], [140, 230, 90]];
const TOOL_NAMES = {
  WindowLevel: 'Window', Pan: 'Pan', Zoom: 'Zoom',
  Probe: 'Point', Length: 'Line', PlanarFreehandROI: 'Polygon', RectangleROI: 'Box', EllipticalROI: 'Ellipse', CircleROI: 'Circle',
  Brush: 'Brush', Eraser: 'Eraser', ThresholdBrush: 'Threshold brush', PaintFill: 'Fill',
};

const { DefaultHistoryMemo } = coreUtilities.HistoryMemo;

export function mountLabeling(root, context) {
  const page = new LabelingPage(root, context);
  page.start();
  return {
    actions: page.actions(),
    unmount: () => page.unmount(),
    confirmLeave: () => page.confirmLeave(),
  };
}

class LabelingPage {
  constructor(root, { user, taskId, navigate }) {
    this.user = user;
    this.taskId = taskId;
    this.navigate = navigate;
    this.alive = true;
    this.work = { observer: { name: user.name }, findings: [], classifications: [] };
    // What a saved revision holds but this page cannot show (images outside the task): kept and
    // saved again as it was, so that no save drops it.
    this.hidden = { findings: [], masks: [] };
    this.problems = [];
    this.dirty = false;
    this.saving = null;
    this.revision = 0;
    this.maskFilled = true;
    this.readers = [];  // review: [{task, color, layer, visible, findings, document}]
    this.banner = h('div', { class: 'banner', role: 'status', 'data-testid': 'banner' });
    this.toolbar = h('div', { class: 'toolbar', role: 'toolbar' });
    this.viewerHost = h('div', { class: 'viewer-host', 'data-testid': 'viewer' });
    this.seriesStrip = h('div', { class: 'series-strip' });
    this.panel = h('aside', { class: 'panel', 'data-testid': 'panel' });
    this.saveStatus = h('span', { class: 'save-status', 'data-testid': 'save-status' });
    root.append(h('section', { class: 'labeling' },
      h('div', { class: 'main-column' }, this.banner, this.toolbar, this.viewerHost, this.seriesStrip),
      this.panel));
  }

  actions() {
    const a = {
      previousImage: () => this.viewer?.scroll(-1),
      nextImage: () => this.viewer?.scroll(1),
      previousSeries: () => this.showSeries(this.seriesIndex - 1),
      nextSeries: () => this.showSeries(this.seriesIndex + 1),
      reset: () => this.viewer?.reset(),
      undo: () => { DefaultHistoryMemo.undo(); this.viewer?.render(); },
      redo: () => { DefaultHistoryMemo.redo(); this.viewer?.render(); },
      deleteSelected: () => this.deleteSelected(),
      saveDraft: () => this.save({ draft: true }),
      brushSmaller: () => this.brushSize(-2),
      brushLarger: () => this.brushSize(2),
      toggleMaskOpacity: () => this.toggleMaskFill(),
      escape: () => annotationApi.selection.deselectAnnotation(),
    };
    for (const name of Object.keys(PRESETS)) a[`preset:${name}`] = () => this.viewer?.preset(name);
    a['preset:default'] = () => this.viewer?.preset('default');
    for (const tool of Object.keys(TOOL_NAMES)) a[`tool:${tool}`] = () => this.setTool(tool);
    return a;
  }

  say(text, kind = 'info') {
    this.banner.className = `banner ${kind}`;
    this.banner.textContent = text;
  }

  // ---------- loading ----------

  async start() {
    try {
      initImaging();
      this.say('Loading the task…');
      this.task = await api('GET', `api/v1/tasks/${this.taskId}`);
      const { protocols } = await api('GET', 'api/v1/protocols');
      this.protocol = protocols.find((p) => p.id === this.task.protocol.id && p.version === this.task.protocol.version) ||
        protocols.find((p) => p.id === this.task.protocol.id);
      if (!this.protocol) throw new Error(`protocol ${this.task.protocol.id} ${this.task.protocol.version} is not loaded on this server`);
      this.maskLabels = maskLabels(this.protocol);
      this.activeLabel = this.protocol.labels[0]?.key;
      this.reviewing = this.task.step === 'review';
      await this.claimIfMine();
      if (!this.alive) return;
      this.study = await api('GET', `api/v1/studies/${this.task.studyInstanceUid}`);
      this.series = this.study.Series.filter((s) =>
        (!this.task.seriesInstanceUid || s.SeriesInstanceUID === this.task.seriesInstanceUid) &&
        !['SR', 'SEG', 'KO', 'PR', 'RTSTRUCT'].includes(s.Modality) &&
        s.Instances.some((i) => i.Rows > 0));
      if (!this.series.length) throw new Error('this study has no images to label');
      this.say('Loading the images…');
      this.framesOfSeries = await Promise.all(this.series.map((s) => loadSeries(this.task.studyInstanceUid, s.SeriesInstanceUID)));
      this.frameByImageId = new Map();
      this.imageIdByKey = new Map();
      for (const frames of this.framesOfSeries) {
        for (const f of frames) {
          this.frameByImageId.set(f.imageId, f);
          this.imageIdByKey.set(frameKey(f), f.imageId);
        }
      }
      if (!this.alive) return;
      this.viewer = new StackViewer(this.viewerHost, {
        onImage: () => this.imageShown(),
        onError: (message) => this.say(message, 'error'),
      });
      this.layer = this.makeLayer({ editable: this.editable, color: (key) => colorOfLabel(this.protocol, key) });
      this.renderToolbar();
      this.renderSeriesStrip();
      await this.showSeries(0);
      await this.loadOwnWork();
      if (this.reviewing) await this.loadReaders();
      await this.showMasksOfSeries();
      this.setTool(this.editable ? this.defaultDrawingTool() : 'WindowLevel');
      this.renderPanel();
      this.say(this.statusLine(), this.prelabelNote ? 'warning' : 'info');
      this.keepLease();
      this.exposeForTests();
    } catch (e) {
      if (!this.alive) return;
      this.say(e instanceof ApiError && e.status === 403 ? `You may not open this task: ${e.message}` : `The task could not be opened: ${e.message}`, 'error');
      clear(this.panel, h('p', {}, h('a', { href: '#/worklist' }, 'Back to the worklist')));
    }
  }

  async claimIfMine() {
    const t = this.task;
    const mine = t.state === 'IN PROGRESS' && t.assignee === this.user.name;
    const mayClaim = t.state === 'SCHEDULED' && (t.step === 'label' ? this.user.role !== 'researcher' : ['reviewer', 'admin'].includes(this.user.role));
    this.editable = false;
    if (!mine && !mayClaim) return;
    try {
      Object.assign(this.task, await api('POST', `api/v1/tasks/${t.id}/claim`));
      this.editable = true;
    } catch (e) {
      this.say(`Shown read-only: the task could not be claimed (${e.message}).`, 'warning');
    }
  }

  // "Task 7 · Reader 2", "Task 9 · Review · read-only": which task this is. The status line
  // over the image adds the protocol; the panel shows the protocol as its heading.
  taskLine() {
    const t = this.task;
    const who = this.reviewing ? 'Review' : `Reader ${t.readerSlot}`;
    return `Task ${t.id} · ${who}${this.editable ? '' : ' · read-only'}`;
  }

  statusLine() {
    const line = `${this.taskLine()} · ${this.protocol.title || this.protocol.id}`;
    return this.prelabelNote ? `${line} · ${this.prelabelNote}` : line;
  }

  makeLayer({ editable, color }) {
    return new DrawingLayer(this.viewer, {
      editable,
      color,
      maskColors: this.maskLabels.map((l) => colorOfLabel(this.protocol, l.key)),
      frameOf: (imageId) => this.frameByImageId.get(imageId),
      imageIdOf: (image) => this.imageIdByKey.get(frameKey(image)),
      onFindingAdded: (uid, toolName) => this.findingDrawn(uid, toolName),
      onFindingRemoved: (uid) => this.findingRemoved(uid),
      onChange: () => this.changed(),
      onSelect: (uid) => this.highlight(uid),
    });
  }

  async loadOwnWork() {
    if (!this.task.revisions) {
      if (this.editable && !this.reviewing && this.task.prelabels > 0) await this.loadPrelabel();
      return;
    }
    const saved = await api('GET', `api/v1/tasks/${this.task.id}/annotation`);
    this.revision = saved.revision;
    const hidden = this.applyDocument(this.layer, saved.annotation, (work) => {
      this.work.findings = work.findings;
      this.work.classifications = work.classifications;
    });
    this.hidden = hidden;
    this.lastSaved = JSON.stringify(this.document());
    this.setSaveStatus(`Revision ${saved.revision}${saved.complete ? '' : ' (draft)'} loaded`);
  }

  // A task nobody has saved yet starts from the study's AI pre-labels, when there are any. They
  // are the reader's draft from here: nothing is saved until the reader's first save, and the
  // server marks, at every save, which items are still the algorithm's.
  async loadPrelabel() {
    let answer;
    try {
      answer = await api('GET', `api/v1/tasks/${this.task.id}/prelabel`);
    } catch (e) {
      // The reader can label without it: said, not fatal.
      this.prelabelNote = `The AI pre-label could not be loaded (${e.message}); label from scratch.`;
      return;
    }
    this.applyDocument(this.layer, answer.annotation, (work) => {
      this.work.findings = work.findings;
      this.work.classifications = work.classifications;
    });
    this.lastSaved = '';
    this.dirty = true;
    const names = [...new Set(answer.prelabels.map((p) => `${p.algorithm.name} ${p.algorithm.version}`))].join(', ');
    const masks = answer.annotation.segmentation ? answer.annotation.segmentation.masks.length : 0;
    this.setSaveStatus('Pre-label loaded, not saved yet');
    const notes = answer.notes.length ? ` Not offered: ${answer.notes.join('; ')}.` : '';
    this.prelabelNote = `Started from the AI pre-label of ${names}: ${this.work.findings.length} finding(s), ${masks} mask frame(s). ` +
      `Check each one; what you keep stays marked as the algorithm's.${notes}`;
  }

  // Draws a document's shapes and paints its masks on a layer; reports what could not be shown.
  // Drawing what was saved is not a change: the events it raises do not mark the work unsaved.
  applyDocument(layer, doc, take) {
    this.quiet = (this.quiet || 0) + 1;
    setTimeout(() => { this.quiet -= 1; }, 0);
    const work = readDocument(this.protocol, doc);
    const shown = work.findings.filter((f) => layer.place(f));
    let notPlaced = work.masks;
    this.series.forEach((s, i) => {
      if (notPlaced.length) notPlaced = layer.paint(s.SeriesInstanceUID, this.framesOfSeries[i], notPlaced);
    });
    take({ ...work, findings: shown });
    const lost = work.findings.length - shown.length;
    const hidden = { findings: work.findings.filter((f) => !shown.includes(f)), masks: notPlaced };
    const notes = [];
    if (lost) notes.push(`${lost} shape(s) refer to images not in this task`);
    if (notPlaced.length) notes.push(`${notPlaced.length} mask frame(s) refer to images not in this task`);
    if (work.unknownSegments.length) notes.push(`segments not in the protocol: ${work.unknownSegments.join(', ')}`);
    if (notes.length) this.say(`Shown with gaps: ${notes.join('; ')} (kept as they are when saving).`, 'warning');
    this.viewer.render();
    return hidden;
  }

  async loadReaders() {
    const readers = this.task.readers || [];
    for (const [i, r] of readers.entries()) {
      const color = READER_COLORS[i % READER_COLORS.length];
      const entry = { ...r, color, visible: true, findings: [], document: null };
      if (r.revisions > 0) {
        try {
          const saved = await api('GET', `api/v1/tasks/${r.task}/annotation`);
          entry.document = saved.annotation;
          entry.revision = saved.revision;
          entry.layer = this.makeLayer({ editable: false, color: () => color });
          entry.layer.o.maskColors = this.maskLabels.map(() => color);
          this.applyDocument(entry.layer, saved.annotation, (work) => { entry.findings = work.findings; });
        } catch (e) {
          entry.error = e.message;
        }
      }
      this.readers.push(entry);
    }
  }

  // The reviewer starts the consensus from one reader's work and edits it.
  async startConsensusFrom(reader) {
    if (this.work.findings.length && !window.confirm('Replace the consensus built so far with this reader\'s work?')) return;
    for (const f of [...this.work.findings]) this.layer.remove(f);
    this.work.findings = [];
    this.layer.clearMasks();
    this.hidden = this.applyDocument(this.layer, reader.document, (work) => {
      this.work.findings = work.findings;
      this.work.classifications = work.classifications;
    });
    // Tracking identifiers stay the reader's: the consensus continues those findings.
    this.renderPanel();
    await this.showMasksOfSeries();
    setTimeout(() => this.changed(), 0);
  }

  // ---------- viewing ----------

  async showSeries(index) {
    if (!this.viewer || index < 0 || index >= this.series.length) return;
    const previous = this.series[this.seriesIndex];
    if (previous && this.seriesIndex !== index) {
      for (const l of this.layers()) l.hideMasks(previous.SeriesInstanceUID);
    }
    this.seriesIndex = index;
    const frames = this.framesOfSeries[index];
    const s = this.series[index];
    this.viewer.setBanner({
      patientName: this.study.PatientName, patientId: this.study.PatientID,
      studyDate: this.study.StudyDate, studyDescription: this.study.StudyDescription,
    }, { modality: s.Modality, seriesDescription: s.SeriesDescription });
    await this.viewer.show(frames, Math.floor(frames.length / 2));
    await this.showMasksOfSeries();
    this.renderSeriesStrip();
  }

  // Shows every layer's masks of the series on screen, the reader's own on top and active for
  // painting. Called whenever the series changes or a revision painted masks into a layer. The
  // reader's own labelmaps are made when there are masks or a mask tool is first picked (a
  // labelmap per slice costs every image change, and most tasks paint none).
  async showMasksOfSeries() {
    const uid = this.series[this.seriesIndex].SeriesInstanceUID;
    const frames = this.framesOfSeries[this.seriesIndex];
    for (const l of this.layers()) {
      if (l.segmentations.has(uid) && l !== this.layer) await l.showMasks(uid, frames);
    }
    if (this.layer.segmentations.has(uid)) await this.showOwnMasks();
    else for (const l of this.layers()) l.setMaskStyle(this.maskFilled);
  }

  // The reader's own masks of the series shown, on top of the others and active for painting.
  async showOwnMasks() {
    const uid = this.series[this.seriesIndex].SeriesInstanceUID;
    await this.layer.showMasks(uid, this.framesOfSeries[this.seriesIndex]);
    this.layer.setActiveMaskLabel(uid, this.activeMaskValue || 1);
    for (const l of this.layers()) l.setMaskStyle(this.maskFilled);
  }

  layers() {
    return [...this.readers.filter((r) => r.layer).map((r) => r.layer), this.layer].filter(Boolean);
  }

  imageShown() {
    if (this.panel.querySelector('[data-image-level]')) this.renderPanel();
  }

  currentImageRef() {
    const f = this.viewer?.currentFrame();
    if (!f) return null;
    return imageRefOf(f);
  }

  renderSeriesStrip() {
    clear(this.seriesStrip, this.series.map((s, i) =>
      h('button', { class: i === this.seriesIndex ? 'series active' : 'series', onclick: () => this.showSeries(i), title: s.SeriesInstanceUID },
        `${s.Modality || ''} ${s.SeriesNumber ?? ''} ${s.SeriesDescription || ''}`.trim() || `Series ${i + 1}`,
        h('span', { class: 'muted' }, ` ${this.framesOfSeries[i].length} im.`))));
  }

  // ---------- tools ----------

  labelRule(key = this.activeLabel) {
    return this.protocol.labels.find((l) => l.key === key);
  }

  // Drawing tools the active label allows; mask tools when it may be painted.
  toolAllowed(tool) {
    if (!this.editable) return !DRAWING_TOOLS.includes(tool) && !MASK_TOOLS.includes(tool);
    const rule = this.labelRule();
    if (DRAWING_TOOLS.includes(tool)) return !!rule && geometriesOfTool(tool).some((g) => rule.geometries.includes(g));
    if (MASK_TOOLS.includes(tool)) return !!rule && rule.segmentation;
    return true;
  }

  defaultDrawingTool() {
    return DRAWING_TOOLS.find((t) => this.toolAllowed(t)) || (this.toolAllowed('Brush') ? 'Brush' : 'WindowLevel');
  }

  setTool(tool) {
    if (!this.viewer) return;
    if (!this.toolAllowed(tool)) {
      this.say(`${TOOL_NAMES[tool]} is not available for ${this.editable ? `'${this.activeLabel}' in this protocol` : 'a read-only task'}.`, 'warning');
      return;
    }
    if (MASK_TOOLS.includes(tool)) {
      const uid = this.series[this.seriesIndex].SeriesInstanceUID;
      if (!this.layer.segmentations.has(uid) || !this.layer.shown?.has(uid)) {
        this.showOwnMasks().then(() => this.setTool(tool));
        return;
      }
      this.selectMaskLabel(this.activeLabel);
    }
    this.viewer.setTool(tool);
    this.renderToolbar();
  }

  brushSize(delta) {
    if (!this.viewer) return;
    this.viewer.setBrushSize(Math.max(1, Math.min(100, this.viewer.brushSize() + delta)));
    this.renderToolbar();
  }

  toggleMaskFill() {
    this.maskFilled = !this.maskFilled;
    for (const l of this.layers()) l.setMaskStyle(this.maskFilled);
    this.renderToolbar();
  }

  renderToolbar() {
    const active = this.viewer?.activeTool;
    const button = (tool) => h('button', {
      class: tool === active ? 'tool active' : 'tool',
      disabled: !this.toolAllowed(tool),
      'data-tool': tool,
      title: `${TOOL_NAMES[tool]} (${shortcutsFor(`tool:${tool}`).join(', ')})`,
      onclick: () => this.setTool(tool),
    }, TOOL_NAMES[tool]);
    const group = (label, tools) => h('div', { class: 'tool-group', 'aria-label': label }, tools.map(button));
    const masking = this.editable && this.maskLabels.length;
    const threshold = masking ? h('span', { class: 'threshold', title: 'Range of the threshold brush (in the image\'s units, HU for CT)' },
      'Range ',
      h('input', { type: 'number', value: this.thresholdRange?.[0] ?? -100, 'aria-label': 'Threshold low', onchange: (e) => this.setThreshold(0, e.target.value) }),
      '–',
      h('input', { type: 'number', value: this.thresholdRange?.[1] ?? 300, 'aria-label': 'Threshold high', onchange: (e) => this.setThreshold(1, e.target.value) })) : null;
    clear(this.toolbar,
      group('View', ['WindowLevel', 'Pan', 'Zoom']),
      h('select', { 'aria-label': 'Window preset', onchange: (e) => { if (e.target.value) this.viewer.preset(e.target.value); e.target.value = ''; } },
        h('option', { value: '' }, 'Window…'),
        Object.entries(PRESETS).map(([k, p], i) => h('option', { value: k }, `${p.label} (${i + 1})`)),
        h('option', { value: 'default' }, 'Image default (0)')),
      h('button', { class: 'tool', title: 'Reset view (R)', onclick: () => this.viewer.reset() }, 'Reset'),
      this.editable ? group('Draw', DRAWING_TOOLS) : null,
      masking ? group('Paint', MASK_TOOLS) : null,
      masking ? h('label', { class: 'brush-size', title: 'Brush size ([ and ])' }, 'Size ',
        h('input', { type: 'range', min: 1, max: 100, value: this.viewer?.brushSize() || 10, 'aria-label': 'Brush size',
          oninput: (e) => this.viewer.setBrushSize(Number(e.target.value)) })) : null,
      threshold,
      masking ? h('button', { class: 'tool', title: 'Masks filled or outlined (O)', onclick: () => this.toggleMaskFill() }, this.maskFilled ? 'Outline masks' : 'Fill masks') : null,
      this.editable ? h('button', { class: 'tool', title: 'Undo (Ctrl+Z)', onclick: () => this.actions().undo() }, 'Undo') : null,
      this.editable ? h('button', { class: 'tool', title: 'Redo (Ctrl+Y)', onclick: () => this.actions().redo() }, 'Redo') : null,
      h('span', { class: 'spacer' }),
      this.saveStatus);
  }

  setThreshold(which, value) {
    this.thresholdRange = this.thresholdRange || [-100, 300];
    this.thresholdRange[which] = Number(value);
    this.viewer.setThreshold([...this.thresholdRange].sort((a, b) => a - b));
  }

  selectLabel(key) {
    this.activeLabel = key;
    if (!this.toolAllowed(this.viewer.activeTool)) this.setTool(this.defaultDrawingTool());
    if (this.labelRule()?.segmentation) this.selectMaskLabel(key);
    this.renderToolbar();
    this.renderPanel();
  }

  selectMaskLabel(key) {
    const value = this.maskLabels.findIndex((l) => l.key === key) + 1;
    if (value < 1) return;
    this.activeMaskValue = value;
    this.layer.setActiveMaskLabel(this.series[this.seriesIndex].SeriesInstanceUID, value);
  }

  // ---------- findings ----------

  findingDrawn(uid, toolName) {
    if (!this.editable) return null;
    const rule = this.labelRule();
    const geometries = geometriesOfTool(toolName);
    if (!rule || !geometries.some((g) => rule.geometries.includes(g))) {
      this.say(`A ${TOOL_NAMES[toolName] || toolName} is not a shape '${this.activeLabel}' may have in this protocol.`, 'warning');
      return null;
    }
    const finding = newFinding(uid, rule.key);
    this.work.findings.push(finding);
    this.selectedUid = uid;
    this.renderPanel();
    return finding;
  }

  findingRemoved(uid) {
    this.work.findings = this.work.findings.filter((f) => f.annotationUID !== uid);
    this.renderPanel();
  }

  deleteSelected() {
    const f = this.layer?.selectedFinding();
    if (f) this.layer.remove(f);
  }

  deleteFinding(f) {
    this.layer.remove(f);
  }

  async goTo(f, layer = this.layer) {
    const imageId = layer.imageIdOf(f);
    const seriesIndex = this.framesOfSeries.findIndex((frames) => frames.some((x) => x.imageId === imageId));
    if (seriesIndex < 0) return;
    if (seriesIndex !== this.seriesIndex) await this.showSeries(seriesIndex);
    await this.viewer.go(this.framesOfSeries[seriesIndex].findIndex((x) => x.imageId === imageId));
    layer.select(f);
    this.highlight(f.annotationUID);
  }

  highlight(uid) {
    this.selectedUid = uid;
    for (const el of this.panel.querySelectorAll('.finding')) el.classList.toggle('selected', el.dataset.uid === uid);
  }

  // ---------- saving ----------

  changed() {
    if (!this.editable || this.quiet) return;
    this.dirty = true;
    this.setSaveStatus('Unsaved changes');
    clearTimeout(this.autosave);
    this.autosave = setTimeout(() => this.save({ draft: true }), AUTOSAVE_MS);
  }

  setSaveStatus(text) {
    this.saveStatus.textContent = text;
  }

  // The document of the reader's work; `findings` (default: all) lets a save keep the list it
  // sent, to adopt what the server made of it onto the same findings.
  document(findings = this.work.findings) {
    const masks = [...(this.maskLabels.length ? this.layer.masks() : []), ...this.hidden.masks];
    return buildDocument(this.protocol, { ...this.work, findings: [...findings, ...this.hidden.findings], masks },
      (f) => (this.hidden.findings.includes(f) ? f.geometry : this.layer.geometryOf(f)));
  }

  // Saves a revision: a draft (what is present must be right) or complete (nothing missing).
  // Returns true when saved.
  async save({ draft }) {
    if (!this.editable) return false;
    clearTimeout(this.autosave);
    // One save at a time, each based on the revision the previous one made.
    while (this.saving) {
      await this.saving;
      if (draft && !this.dirty) return true;
    }
    let body;
    const findings = [...this.work.findings];
    try {
      body = this.document(findings);
    } catch (e) {
      this.setSaveStatus(`Not saved: ${e.message}`);
      this.say(`Not saved: ${e.message}`, 'error');
      return false;
    }
    const text = JSON.stringify(body);
    // A draft identical to the last revision saves nothing (a finding drawn and undone, a
    // window changed): revisions are for what the reader changed.
    if (draft && text === this.lastSaved) {
      this.dirty = false;
      this.setSaveStatus(`Revision ${this.revision} is up to date`);
      return true;
    }
    let done;
    this.saving = new Promise((resolve) => { done = resolve; });
    const wasDirty = this.dirty;
    this.dirty = false;
    this.setSaveStatus(draft ? 'Saving draft…' : 'Saving…');
    try {
      const saved = await api('PUT', `api/v1/tasks/${this.task.id}/annotation`, {
        body,
        query: { draft: draft ? 'true' : 'false', basedOn: this.revision },
      });
      this.everSaved = true;
      this.revision = saved.revision;
      this.task.revisions = saved.revision;
      adoptTracking(findings, saved.annotation);
      // What the next unchanged draft would send: with the tracking identifiers just adopted.
      this.lastSaved = findings.length === this.work.findings.length ? JSON.stringify(this.document()) : text;
      this.problems = (saved.missing || []).map((p) => ({ ...placeProblem(p), missing: true }));
      const time = new Date().toLocaleTimeString();
      this.setSaveStatus(saved.complete ? `Saved revision ${saved.revision} at ${time}` : `Draft revision ${saved.revision} saved at ${time}`);
      this.renderPanelUnlessTyping();
      return true;
    } catch (e) {
      this.dirty = this.dirty || wasDirty;
      if (e instanceof ApiError && e.status === 422) {
        this.problems = (e.problems.length ? e.problems : [e.message]).map(placeProblem);
        this.setSaveStatus(draft ? 'Not saved: fix the items marked in red' : 'Not complete: see the items marked in red');
        this.renderPanel();
      } else if (e instanceof ApiError && e.status === 409) {
        this.setSaveStatus('Not saved');
        this.say(`Not saved: ${e.message}`, 'error');
      } else {
        this.setSaveStatus(`Not saved: ${e.message}`);
        if (draft) this.autosave = setTimeout(() => this.save({ draft: true }), AUTOSAVE_MS * 3);
      }
      return false;
    } finally {
      this.saving = null;
      done();
    }
  }

  renderPanelUnlessTyping() {
    const focused = document.activeElement;
    if (focused && this.panel.contains(focused) && ['INPUT', 'TEXTAREA'].includes(focused.tagName)) {
      focused.addEventListener('blur', () => this.renderPanel(), { once: true });
      return;
    }
    this.renderPanel();
  }

  async submit() {
    if (!(await this.save({ draft: false }))) return;
    try {
      await api('POST', `api/v1/tasks/${this.task.id}/submit`);
      this.finished('Submitted. Thank you — the task is complete.');
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        this.problems = e.problems.map(placeProblem);
        this.renderPanel();
      }
      this.say(`Not submitted: ${e.message}`, 'error');
    }
  }

  async release() {
    if (this.dirty && !(await this.save({ draft: true }))) return;
    try {
      await api('POST', `api/v1/tasks/${this.task.id}/release`);
      this.finished('Released: the task is back in the pool.');
    } catch (e) {
      this.say(`Not released: ${e.message}`, 'error');
    }
  }

  async decide(body) {
    try {
      await api('POST', `api/v1/tasks/${this.task.id}/review`, { body });
      const words = { approve: 'Approved and signed off: the results go to the PACS.', reject: 'Sent back to the reader with your reason.',
        adjudicate: 'Consensus signed off: the results go to the PACS.' };
      this.finished(words[body.decision]);
    } catch (e) {
      if (e instanceof ApiError && e.status === 422 && e.problems.length) {
        this.problems = e.problems.map(placeProblem);
        this.renderPanel();
      }
      this.say(`The decision was not recorded: ${e.message}`, 'error');
    }
  }

  finished(message) {
    this.editable = false;
    this.dirty = false;
    sessionStorage.setItem('annotation.flash', message);
    this.navigate('#/worklist');
  }

  keepLease() {
    if (!this.editable) return;
    const renew = async () => {
      if (!this.alive || !this.editable) return;
      try {
        Object.assign(this.task, await api('POST', `api/v1/tasks/${this.task.id}/claim`));
      } catch (e) {
        this.editable = false;
        this.say(`Your claim on this task ended (${e.message}). Saving is not possible; reopen the task from the worklist.`, 'error');
        this.renderToolbar();
      }
    };
    const remaining = (this.task.leaseExpiresMs || Date.now() + 600000) - Date.now();
    const every = Math.max(20000, Math.min(300000, remaining / 3));
    this.leaseTimer = setInterval(renew, every);
  }

  // ---------- panel ----------

  renderPanel() {
    if (!this.protocol) return;
    const work = renderWorkPanel(this);
    clear(this.panel,
      h('div', { class: 'task-head' },
        h('h2', {}, this.protocol.title || this.protocol.id),
        h('div', { class: 'muted' }, this.taskLine()),
        this.user.viewer ? h('a', { href: viewerLink(this.task.studyInstanceUid), target: '_blank', rel: 'noopener',
          'data-testid': 'ohif-link' }, 'Open the study and its results in OHIF') : null),
      (this.task.reviews || []).filter((r) => r.decision === 'reject' && r.task === this.task.id).slice(-1).map((r) =>
        h('div', { class: 'returned', role: 'note' }, h('strong', {}, `Sent back by ${r.reviewer}: `), r.comment || '(no reason given)')),
      this.reviewing ? renderReviewPanel(this) : null,
      work);
  }

  // Where an image pixel is on the page and what is shown: the end-to-end tests click at image
  // coordinates through this, and read the state they check against the saved revisions.
  exposeForTests() {
    window.labelingWorkstation = {
      ready: true,
      imageToClient: (x, y) => {
        const frame = this.viewer.currentFrame();
        const [cx, cy] = this.viewer.viewport.worldToCanvas(imageToWorld(planeOf(frame.imageId), [x, y]));
        const box = this.viewer.element.getBoundingClientRect();
        return [box.left + cx, box.top + cy];
      },
      imageIndex: () => this.viewer.index(),
      firstImageMs: () => this.viewer.firstRenderAt,
      go: (index) => this.viewer.go(index),
      series: () => this.series.map((s, i) => ({ uid: s.SeriesInstanceUID, modality: s.Modality, frames: this.framesOfSeries[i].length })),
      seriesIndex: () => this.seriesIndex,
      image: () => {
        const image = this.viewer.viewport.getCornerstoneImage();
        const frame = this.viewer.currentFrame();
        return image && { rows: image.rows, columns: image.columns, color: !!image.color, sopInstanceUid: frame.sopInstanceUid,
          frame: frame.frame || 0, min: image.minPixelValue, max: image.maxPixelValue };
      },
      currentImage: () => this.currentImageRef(),
      revision: () => this.revision,
      dirty: () => this.dirty,
      findings: () => this.work.findings.map((f) => ({ label: f.label, geometry: this.layer.geometryOf(f), provenance: f.provenance ? f.provenance.source : '' })),
      masks: () => this.layer.masks(),
      classifications: () => this.work.classifications.map((c) => ({ ...c })),
      readers: () => this.readers.map((r) => ({ task: r.task, findings: r.findings.length, shown: !!r.layer })),
    };
  }

  // ---------- leaving ----------

  async confirmLeave() {
    while (this.saving) await this.saving;
    if (!this.dirty) return true;
    if (this.editable && (await this.save({ draft: true }))) return true;
    return window.confirm('Your latest changes are not saved (see the message at the top). Leave anyway and lose them?');
  }

  unmount() {
    this.alive = false;
    delete window.labelingWorkstation;
    clearTimeout(this.autosave);
    clearInterval(this.leaseTimer);
    // Nothing saved, nothing being saved: give the task back so that it does not wait for the
    // lease to lapse.
    if (this.editable && this.task && !this.task.revisions && !this.dirty && !this.saving && !this.everSaved) {
      api('POST', `api/v1/tasks/${this.task.id}/release`, { keepalive: true }).catch(() => {});
    }
    for (const r of this.readers) r.layer?.destroy();
    this.layer?.destroy();
    this.viewer?.destroy();
  }
}

export { PALETTE };
