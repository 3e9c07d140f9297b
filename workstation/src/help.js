// The shortcut screen (?), generated from the shortcut table for the page on screen.
import { h } from './dom.js';
import { SHORTCUTS } from './shortcuts.js';

let element = null;

function keyLabel(key) {
  return key.replace('Arrow', '').replace('Ctrl+', 'Ctrl ').replace('Shift+', 'Shift ');
}

export const helpOverlay = {
  visible: () => !!element,
  hide() {
    if (element) element.remove();
    element = null;
  },
  toggle(page) {
    if (element) return this.hide();
    const actions = new Set(['help', 'escape', ...Object.keys((page && page.actions) || {})]);
    const rows = SHORTCUTS.filter((s) => actions.has(s.action));
    const groups = [...new Set(rows.map((r) => r.group))];
    element = h('div', { class: 'modal-backdrop', onclick: (e) => e.target === element && this.hide() },
      h('div', { class: 'modal help', role: 'dialog', 'aria-label': 'Keyboard shortcuts' },
        h('h2', {}, 'Keyboard shortcuts'),
        h('div', { class: 'help-groups' }, groups.map((g) =>
          h('section', {}, h('h3', {}, g), h('table', {}, rows.filter((r) => r.group === g).map((r) =>
            h('tr', {}, h('td', { class: 'keys' }, r.keys.map((k) => h('kbd', {}, keyLabel(k)))), h('td', {}, r.text))))))),
        h('p', { class: 'hint' }, 'Mouse: wheel scrolls images, middle button pans, right button zooms, the left button uses the selected tool. Shapes can be selected and dragged with any tool.'),
        h('button', { onclick: () => this.hide() }, 'Close')));
    document.body.append(element);
  },
};
