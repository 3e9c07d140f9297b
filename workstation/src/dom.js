// A few DOM helpers: the workstation builds its pages from plain elements.

// h('div', {class: 'x', onclick: fn}, child, 'text', [more]) -> element
export function h(tag, attributes = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'style' && typeof value === 'object') Object.assign(el.style, value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.textContent = '';
  append(el, children);
  return el;
}

// A <select> of coded values; value '' is "not answered".
export function codeSelect(codes, selected, { placeholder = '—', onchange, label } = {}) {
  const select = h('select', { 'aria-label': label },
    h('option', { value: '' }, placeholder),
    codes.map((c, i) => h('option', { value: String(i), selected: !!selected && c.code === selected.code && c.scheme === selected.scheme }, c.meaning)));
  select.addEventListener('change', () => onchange && onchange(select.value === '' ? null : codes[Number(select.value)]));
  return select;
}

export function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

// DICOM person name "Family^Given^Middle" as people read it.
export function personName(pn) {
  if (!pn) return '';
  const [family = '', given = '', middle = ''] = String(pn).split('^');
  return [family && family + ',', given, middle].filter(Boolean).join(' ').replace(/,$/, '');
}

// DICOM date YYYYMMDD as an ISO date.
export function dicomDate(d) {
  return d && /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : d || '';
}

// An [r, g, b] colour as CSS.
export function cssColor([r, g, b]) {
  return `rgb(${r}, ${g}, ${b})`;
}
