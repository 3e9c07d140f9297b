// Every keyboard shortcut of the workstation, as data: the help screen (?) is generated from
// this table and the pages bind their keys from it, so the two cannot disagree.

export const SHORTCUTS = [
  { group: 'Worklist', keys: ['n'], action: 'openNext', text: 'Claim and open the next task' },
  { group: 'Worklist', keys: ['r'], action: 'refresh', text: 'Refresh the list' },

  { group: 'Viewing', keys: ['ArrowUp', 'ArrowLeft'], action: 'previousImage', text: 'Previous image (also the mouse wheel)' },
  { group: 'Viewing', keys: ['ArrowDown', 'ArrowRight'], action: 'nextImage', text: 'Next image' },
  { group: 'Viewing', keys: ['PageUp'], action: 'previousSeries', text: 'Previous series' },
  { group: 'Viewing', keys: ['PageDown'], action: 'nextSeries', text: 'Next series' },
  { group: 'Viewing', keys: ['w'], action: 'tool:WindowLevel', text: 'Window/level with the left button' },
  { group: 'Viewing', keys: ['p'], action: 'tool:Pan', text: 'Pan with the left button (middle button always pans)' },
  { group: 'Viewing', keys: ['z'], action: 'tool:Zoom', text: 'Zoom with the left button (right button always zooms)' },
  { group: 'Viewing', keys: ['r'], action: 'reset', text: 'Reset zoom, pan and window' },
  { group: 'Viewing', keys: ['1'], action: 'preset:lung', text: 'Window preset: CT lung' },
  { group: 'Viewing', keys: ['2'], action: 'preset:mediastinum', text: 'Window preset: CT mediastinum' },
  { group: 'Viewing', keys: ['3'], action: 'preset:bone', text: 'Window preset: CT bone' },
  { group: 'Viewing', keys: ['4'], action: 'preset:brain', text: 'Window preset: CT brain' },
  { group: 'Viewing', keys: ['0'], action: 'preset:default', text: 'Window of the image' },

  { group: 'Drawing', keys: ['.'], action: 'tool:Probe', text: 'Point' },
  { group: 'Drawing', keys: ['l'], action: 'tool:Length', text: 'Line' },
  { group: 'Drawing', keys: ['f'], action: 'tool:PlanarFreehandROI', text: 'Polygon / freehand outline' },
  { group: 'Drawing', keys: ['b'], action: 'tool:RectangleROI', text: 'Box' },
  { group: 'Drawing', keys: ['e'], action: 'tool:EllipticalROI', text: 'Ellipse' },
  { group: 'Drawing', keys: ['c'], action: 'tool:CircleROI', text: 'Circle' },
  { group: 'Drawing', keys: ['Delete', 'Backspace'], action: 'deleteSelected', text: 'Delete the selected shape' },
  { group: 'Drawing', keys: ['Ctrl+z'], action: 'undo', text: 'Undo' },
  { group: 'Drawing', keys: ['Ctrl+y', 'Ctrl+Shift+z'], action: 'redo', text: 'Redo' },

  { group: 'Masks', keys: ['m'], action: 'tool:Brush', text: 'Brush' },
  { group: 'Masks', keys: ['x'], action: 'tool:Eraser', text: 'Eraser' },
  { group: 'Masks', keys: ['t'], action: 'tool:ThresholdBrush', text: 'Brush limited to the threshold range (CT)' },
  { group: 'Masks', keys: ['g'], action: 'tool:PaintFill', text: 'Fill the enclosed region in this slice' },
  { group: 'Masks', keys: ['['], action: 'brushSmaller', text: 'Smaller brush' },
  { group: 'Masks', keys: [']'], action: 'brushLarger', text: 'Larger brush' },
  { group: 'Masks', keys: ['o'], action: 'toggleMaskOpacity', text: 'Show masks filled / outlined' },

  { group: 'Work', keys: ['Ctrl+s'], action: 'saveDraft', text: 'Save a draft now (drafts are also saved as you work)' },
  { group: 'Work', keys: ['Escape'], action: 'escape', text: 'Close this help; cancel a drawing' },
  { group: 'Work', keys: ['?'], action: 'help', text: 'Show the shortcuts' },
];

// "Ctrl+Shift+z" style name of a keydown event.
export function keyName(event) {
  const parts = [];
  if (event.ctrlKey || event.metaKey) parts.push('Ctrl');
  if (event.shiftKey && event.key.length > 1) parts.push('Shift');
  if (event.shiftKey && (event.ctrlKey || event.metaKey) && event.key.length === 1) parts.push('Shift');
  parts.push(event.key.length === 1 ? event.key.toLowerCase() : event.key);
  return parts.join('+');
}

// The action of a key among those a page offers (`actions`: a set of action names).
export function actionFor(event, actions) {
  const name = keyName(event);
  const hit = SHORTCUTS.find((s) => actions.has(s.action) && s.keys.includes(name));
  if (hit) return hit.action;
  // "?" is Shift+/ on most layouts.
  if (event.key === '?' && actions.has('help')) return 'help';
  return null;
}

export function shortcutsFor(action) {
  return SHORTCUTS.filter((s) => s.action === action).flatMap((s) => s.keys);
}
