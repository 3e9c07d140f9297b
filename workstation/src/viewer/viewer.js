// One stack viewport with what a radiologist expects around it: patient/study banner, image
// number, window values, orientation markers, window presets, and the drawing and painting
// tools of the workstation bound to the mouse.
import { Enums as CoreEnums, RenderingEngine, eventTarget, utilities as coreUtilities } from '@cornerstonejs/core';
import {
  BrushTool,
  CircleROITool,
  EllipticalROITool,
  Enums as ToolEnums,
  LengthTool,
  PaintFillTool,
  PanTool,
  PlanarFreehandROITool,
  ProbeTool,
  RectangleROITool,
  StackScrollTool,
  ToolGroupManager,
  WindowLevelTool,
  ZoomTool,
  addTool,
  utilities as toolUtilities,
} from '@cornerstonejs/tools';

import { h, clear, dicomDate, personName } from '../dom.js';

const { MouseBindings } = ToolEnums;

// Window presets (width, centre) as CT readers know them.
export const PRESETS = {
  lung: { label: 'Lung', width: 1500, center: -600 },
  mediastinum: { label: 'Mediastinum', width: 350, center: 50 },
  bone: { label: 'Bone', width: 2000, center: 500 },
  brain: { label: 'Brain', width: 80, center: 40 },
};

// The tools of the toolbar: Cornerstone tool (or tool instance) names.
export const DRAWING_TOOLS = ['Probe', 'Length', 'PlanarFreehandROI', 'RectangleROI', 'EllipticalROI', 'CircleROI'];
export const MASK_TOOLS = ['Brush', 'Eraser', 'ThresholdBrush', 'PaintFill'];
export const NAVIGATION_TOOLS = ['WindowLevel', 'Pan', 'Zoom'];

let registered = false;
function registerTools() {
  if (registered) return;
  for (const tool of [PanTool, ZoomTool, WindowLevelTool, StackScrollTool, ProbeTool, LengthTool, PlanarFreehandROITool,
    RectangleROITool, EllipticalROITool, CircleROITool, BrushTool, PaintFillTool]) {
    addTool(tool);
  }
  registered = true;
}

// The letters of a patient direction (LPS) for orientation markers.
export function orientationLetters(v) {
  const letters = [
    [v[0], 'L', 'R'],
    [v[1], 'P', 'A'],
    [v[2], 'S', 'I'],
  ]
    .filter(([c]) => Math.abs(c) > 0.25)
    .sort((a, b) => Math.abs(b[0]) - Math.abs(a[0]))
    .map(([c, plus, minus]) => (c > 0 ? plus : minus));
  return letters.join('');
}

// The direction opposite a Patient Orientation value (PS3.3 C.7.6.1.1.1: A, P, R, L, H, F).
export function oppositeDirection(letters) {
  const opposite = { A: 'P', P: 'A', R: 'L', L: 'R', H: 'F', F: 'H' };
  return [...letters].map((c) => opposite[c] || '').join('');
}

let counter = 0;

export class StackViewer {
  // element: the div the viewport fills. onImage(frame, index): the image shown changed.
  constructor(element, { onImage = () => {}, onError = () => {} } = {}) {
    registerTools();
    this.id = `viewer-${++counter}`;
    this.onImage = onImage;
    this.onError = onError;
    this.frames = [];
    this.element = h('div', { class: 'viewport', oncontextmenu: (e) => e.preventDefault() });
    this.overlay = h('div', { class: 'overlay' });
    clear(element, this.element, this.overlay);
    this.engine = new RenderingEngine(`${this.id}-engine`);
    this.engine.enableElement({ viewportId: this.id, type: CoreEnums.ViewportType.STACK, element: this.element,
      defaultOptions: { background: [0, 0, 0] } });
    this.viewport = this.engine.getViewport(this.id);
    this.toolGroup = ToolGroupManager.createToolGroup(`${this.id}-tools`);
    this.setUpTools();
    this.toolGroup.addViewport(this.id, this.engine.id);
    toolUtilities.segmentation.setBrushSizeForToolGroup(this.toolGroup.id, 8);
    this.listeners = [];
    this.listen(this.element, CoreEnums.Events.STACK_NEW_IMAGE, () => this.imageChanged());
    this.listen(this.element, CoreEnums.Events.VOI_MODIFIED, () => this.updateOverlay());
    // Renders, counted for the benchmark (bench/workstation): first image and scroll rate.
    this.renders = 0;
    this.firstRenderAt = 0;
    this.listen(this.element, CoreEnums.Events.IMAGE_RENDERED, () => {
      this.renders++;
      if (!this.firstRenderAt) this.firstRenderAt = performance.now();
    });
    this.listen(this.element, CoreEnums.Events.CAMERA_MODIFIED, () => this.updateOverlay());
    this.listen(eventTarget, CoreEnums.Events.IMAGE_LOAD_ERROR, (e) => this.loadFailed(e));
    this.resizeObserver = new ResizeObserver(() => this.engine.resize(true, true));
    this.resizeObserver.observe(this.element);
    this.activeTool = 'WindowLevel';
  }

  listen(target, type, fn) {
    target.addEventListener(type, fn);
    this.listeners.push(() => target.removeEventListener(type, fn));
  }

  setUpTools() {
    const g = this.toolGroup;
    for (const name of [WindowLevelTool.toolName, PanTool.toolName, ZoomTool.toolName, StackScrollTool.toolName]) g.addTool(name);
    g.addTool(ProbeTool.toolName);
    g.addTool(LengthTool.toolName);
    g.addTool(PlanarFreehandROITool.toolName, { allowOpenContours: true, calculateStats: true });
    g.addTool(RectangleROITool.toolName);
    g.addTool(EllipticalROITool.toolName);
    g.addTool(CircleROITool.toolName);
    g.addToolInstance('Brush', BrushTool.toolName, { activeStrategy: 'FILL_INSIDE_CIRCLE' });
    g.addToolInstance('Eraser', BrushTool.toolName, { activeStrategy: 'ERASE_INSIDE_CIRCLE' });
    // Soft tissue by default; the panel sets the range.
    g.addToolInstance('ThresholdBrush', BrushTool.toolName, {
      activeStrategy: 'THRESHOLD_INSIDE_CIRCLE',
      threshold: { range: [-100, 300], isDynamic: false },
    });
    g.addTool(PaintFillTool.toolName);
    // The middle button pans, the right zooms, the wheel scrolls whatever tool is on the left.
    g.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
    g.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
    g.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
    for (const name of DRAWING_TOOLS) g.setToolPassive(name);
    g.setToolActive(WindowLevelTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary }] });
  }

  // Puts `tool` on the left button. Shapes of every drawing tool stay selectable and editable.
  setTool(tool) {
    const g = this.toolGroup;
    const previous = this.activeTool;
    if (previous === tool) return;
    if (previous === 'Pan' || previous === 'Zoom') {
      g.setToolActive(previous, { bindings: [{ mouseButton: previous === 'Pan' ? MouseBindings.Auxiliary : MouseBindings.Secondary }] });
    } else if (DRAWING_TOOLS.includes(previous)) {
      g.setToolPassive(previous);
    } else if (previous) {
      g.setToolDisabled(previous);
    }
    const bindings = [{ mouseButton: MouseBindings.Primary }];
    if (tool === 'Pan') bindings.push({ mouseButton: MouseBindings.Auxiliary });
    if (tool === 'Zoom') bindings.push({ mouseButton: MouseBindings.Secondary });
    g.setToolActive(tool, { bindings });
    this.activeTool = tool;
  }

  setBrushSize(size) {
    toolUtilities.segmentation.setBrushSizeForToolGroup(this.toolGroup.id, size);
  }

  brushSize() {
    return toolUtilities.segmentation.getBrushSizeForToolGroup(this.toolGroup.id) || 10;
  }

  setThreshold(range) {
    toolUtilities.segmentation.setBrushThresholdForToolGroup(this.toolGroup.id, range);
  }

  // What the corners say about the patient and study: {patientName, patientId, studyDate,
  // studyDescription}; and about the series shown: {modality, seriesDescription}.
  setBanner(study, series = {}) {
    this.banner = { ...study, ...series };
    this.updateOverlay();
  }

  // frames: imaging.loadSeries(); shows the image at `index`.
  async show(frames, index = 0) {
    this.frames = frames;
    this.error = '';
    await this.viewport.setStack(frames.map((f) => f.imageId), Math.min(index, frames.length - 1));
    // Neighbouring images are fetched ahead of the reader's scrolling.
    toolUtilities.stackContextPrefetch.enable(this.element);
    this.viewport.render();
    this.imageChanged();
  }

  index() {
    return this.viewport.getCurrentImageIdIndex();
  }

  currentFrame() {
    return this.frames[this.index()];
  }

  async go(index) {
    if (!this.frames.length) return;
    const target = Math.max(0, Math.min(this.frames.length - 1, index));
    if (target !== this.index()) await this.viewport.setImageIdIndex(target);
  }

  scroll(delta) {
    return this.go(this.index() + delta);
  }

  preset(name) {
    if (name === 'default') {
      this.viewport.resetProperties();
    } else {
      const p = PRESETS[name];
      this.viewport.setProperties({ voiRange: coreUtilities.windowLevel.toLowHighRange(p.width, p.center) });
    }
    this.viewport.render();
    this.updateOverlay();
  }

  reset() {
    this.viewport.resetCamera();
    this.viewport.resetProperties();
    this.viewport.render();
    this.updateOverlay();
  }

  render() {
    this.viewport.render();
  }

  imageChanged() {
    this.updateOverlay();
    const frame = this.currentFrame();
    if (frame) this.onImage(frame, this.index());
  }

  loadFailed(event) {
    const { imageId, error } = event.detail || {};
    if (!this.frames.some((f) => f.imageId === imageId)) return;
    const status = error?.request?.status || error?.status;
    this.error = `This image could not be loaded${status ? ` (the server answered ${status})` : ''}: ${error?.message || 'unknown error'}`;
    this.updateOverlay();
    this.onError(this.error);
  }

  updateOverlay() {
    const frame = this.currentFrame();
    if (!frame) return;
    const banner = this.banner || {};
    const row = frame.orientation ? frame.orientation.slice(0, 3) : null;
    const column = frame.orientation ? frame.orientation.slice(3, 6) : null;
    const marker = (v) => (v ? orientationLetters(v) : '');
    const negate = (v) => v && v.map((c) => -c);
    const props = this.viewport.getProperties ? this.viewport.getProperties() : {};
    let windowText = '';
    if (props.voiRange) {
      const { windowWidth, windowCenter } = coreUtilities.windowLevel.toWindowLevel(props.voiRange.lower, props.voiRange.upper);
      windowText = `W ${Math.round(windowWidth)} L ${Math.round(windowCenter)}`;
    }
    const zoom = this.viewport.getZoom ? this.viewport.getZoom() : 1;
    clear(
      this.overlay,
      h('div', { class: 'corner top-left' },
        h('div', { class: 'patient' }, personName(banner.patientName) || 'Unnamed patient'),
        h('div', {}, banner.patientId ? `ID ${banner.patientId}` : ''),
        h('div', {}, [dicomDate(banner.studyDate), banner.studyDescription].filter(Boolean).join(' · '))),
      h('div', { class: 'corner top-right' },
        h('div', {}, [banner.modality, banner.seriesDescription].filter(Boolean).join(' · '))),
      h('div', { class: 'corner bottom-left' },
        h('div', { class: 'slice', 'data-testid': 'slice' }, `Im ${this.index() + 1} / ${this.frames.length}`),
        frame.frame ? h('div', {}, `Frame ${frame.frame}`) : null),
      h('div', { class: 'corner bottom-right' }, h('div', {}, windowText), h('div', {}, `Zoom ${zoom.toFixed(2)}×`)),
      ...this.markers(frame, marker, negate, row, column),
      this.error ? h('div', { class: 'viewport-error', role: 'alert' }, this.error) : null,
    );
  }

  // Orientation markers at the four edges: from Image Orientation (Patient) when the image has
  // it, else from a radiograph's Patient Orientation (rows towards the first value, columns
  // towards the second).
  markers(frame, marker, negate, row, column) {
    const po = !row && frame.patientOrientation && frame.patientOrientation.length === 2 ? frame.patientOrientation : null;
    const [left, right, top, bottom] = po
      ? [oppositeDirection(po[0]), po[0], oppositeDirection(po[1]), po[1]]
      : [marker(negate(row)), marker(row), marker(negate(column)), marker(column)];
    return [
      h('div', { class: 'marker left', 'data-testid': 'marker-left' }, left),
      h('div', { class: 'marker right', 'data-testid': 'marker-right' }, right),
      h('div', { class: 'marker top', 'data-testid': 'marker-top' }, top),
      h('div', { class: 'marker bottom', 'data-testid': 'marker-bottom' }, bottom),
    ];
  }

  destroy() {
    for (const off of this.listeners) off();
    this.resizeObserver.disconnect();
    ToolGroupManager.destroyToolGroup(this.toolGroup.id);
    this.engine.destroy();
  }
}
