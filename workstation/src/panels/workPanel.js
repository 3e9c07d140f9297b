// The reader's side panel: which label to draw, every finding with the protocol's questions
// about it, the classifications, the masks, and save/submit. Problems the API reports are shown
// next to the item they concern.
import { codeSelect, cssColor, h } from '../dom.js';
import { colorOfLabel, provenanceBadge, sameCode } from '../model/labelingDocument.js';

const GEOMETRY_NAMES = { point: 'point', polyline: 'line', polygon: 'polygon', bbox: 'box', ellipse: 'ellipse', circle: 'circle' };

function problemList(items) {
  if (!items.length) return null;
  return h('ul', { class: 'problems', role: 'alert' }, items.map((p) =>
    h('li', { class: p.missing ? 'missing' : 'wrong' }, p.field && !['evaluations', 'measurements'].includes(p.field) ? `${p.field}: ${p.message}` : p.message)));
}

function imageLabel(page, finding) {
  const imageId = page.layer.imageIdOf(finding);
  for (const [s, frames] of page.framesOfSeries.entries()) {
    const i = frames.findIndex((f) => f.imageId === imageId);
    if (i >= 0) return `${page.series.length > 1 ? `S${s + 1} ` : ''}Im ${i + 1}`;
  }
  return '';
}

function findingCard(page, finding, index) {
  const rule = page.labelRule(finding.label);
  const editable = page.editable;
  const problems = page.problems.filter((p) => p.area === 'finding' && p.index === index);
  let geometry = null;
  try {
    geometry = page.layer.geometryOf(finding);
  } catch {
    geometry = null;
  }
  const changed = () => page.changed();
  const labelsForShape = page.protocol.labels.filter((l) => !geometry || l.geometries.includes(geometry.type));
  const body = [];
  body.push(h('label', {}, 'Label ',
    h('select', {
      disabled: !editable,
      'aria-label': `Label of finding ${index + 1}`,
      onchange: (e) => {
        finding.label = e.target.value;
        finding.evaluations = [];
        finding.findingSite = null;
        page.layer.styleFinding(finding);
        page.viewer.render();
        changed();
        page.renderPanel();
      },
    }, labelsForShape.map((l) => h('option', { value: l.key, selected: l.key === finding.label }, `${l.finding.meaning} (${l.key})`)))));
  if (rule && rule.allowedSites && rule.allowedSites.length) {
    body.push(h('label', {}, 'Site ', codeSelect(rule.allowedSites, finding.findingSite || rule.findingSite, {
      label: `Site of finding ${index + 1}`,
      onchange: (code) => { finding.findingSite = code; changed(); },
    })));
  }
  for (const e of (rule && rule.evaluations) || []) {
    const current = finding.evaluations.find((x) => sameCode(x.concept, e.concept));
    const set = (value) => {
      finding.evaluations = finding.evaluations.filter((x) => !sameCode(x.concept, e.concept));
      if (value) finding.evaluations.push({ concept: e.concept, ...value });
      changed();
    };
    const name = `${e.concept.meaning}${e.required ? ' *' : ''}`;
    if (e.values && e.values.length) {
      body.push(h('label', {}, `${name} `, codeSelect(e.values, current && current.value, {
        label: `${e.concept.meaning} of finding ${index + 1}`,
        onchange: (code) => set(code ? { value: code } : null),
      })));
    } else if (e.allowText) {
      body.push(h('label', {}, `${name} `, h('input', {
        type: 'text',
        value: (current && current.text) || '',
        'aria-label': `${e.concept.meaning} of finding ${index + 1}`,
        oninput: (ev) => set(ev.target.value.trim() ? { text: ev.target.value } : null),
      })));
    }
  }
  for (const m of (rule && rule.measurements) || []) {
    const derived = finding.measurements.find((x) => x.derived && sameCode(x.concept, m.concept));
    const typed = finding.measurements.find((x) => !x.derived && sameCode(x.concept, m.concept));
    const name = `${m.concept.meaning}${m.required ? ' *' : ''}`;
    if (derived && !typed) {
      body.push(h('div', { class: 'measure' }, `${name}: `, h('strong', {}, `${Number(derived.value).toFixed(1)} ${derived.unit.code}`), h('span', { class: 'muted' }, ' from the shape')));
    } else {
      body.push(h('label', {}, `${name} `, h('input', {
        type: 'number',
        step: 'any',
        min: 0,
        value: typed ? typed.value : '',
        'aria-label': `${m.concept.meaning} of finding ${index + 1} in ${m.unit.code}`,
        oninput: (ev) => {
          finding.measurements = finding.measurements.filter((x) => x.derived || !sameCode(x.concept, m.concept));
          const v = parseFloat(ev.target.value);
          if (Number.isFinite(v)) finding.measurements.push({ concept: m.concept, value: v, unit: m.unit });
          changed();
        },
      }), ` ${m.unit.code}`));
    }
  }
  body.push(h('label', {}, 'Comment ', h('textarea', {
    rows: 1,
    'aria-label': `Comment on finding ${index + 1}`,
    value: finding.comment || '',
    oninput: (ev) => { finding.comment = ev.target.value; changed(); },
  })));
  const color = colorOfLabel(page.protocol, finding.label);
  const badge = provenanceBadge(finding);
  return h('div', {
    class: `finding${finding.annotationUID === page.selectedUid ? ' selected' : ''}${problems.length ? ' has-problems' : ''}`,
    'data-uid': finding.annotationUID,
    'data-testid': `finding-${index}`,
  },
  h('div', { class: 'finding-head' },
    h('span', { class: 'swatch', style: { background: cssColor(color) } }),
    h('button', { class: 'link', title: 'Show it', onclick: () => page.goTo(finding) },
      `${index + 1}. ${rule ? rule.finding.meaning : finding.label}`),
    h('span', { class: 'muted' }, ` ${geometry ? GEOMETRY_NAMES[geometry.type] : ''} · ${imageLabel(page, finding)}`),
    badge ? h('span', { class: 'badge ai', title: badge.title, 'data-testid': `provenance-${index}` }, badge.text) : null,
    h('span', { class: 'spacer' }),
    editable ? h('button', { class: 'link danger', title: 'Delete (Del)', onclick: () => page.deleteFinding(finding) }, 'Delete') : null),
  h('fieldset', { disabled: !editable }, body),
  problemList(problems));
}

function classificationsSection(page) {
  const rules = page.protocol.classifications || [];
  if (!rules.length) return null;
  const problems = page.problems.filter((p) => p.area === 'classifications');
  const image = page.currentImageRef();
  const rows = rules.map((rule) => {
    const imageLevel = rule.level === 'image';
    const matches = (c) => c.label === rule.key && (!imageLevel || (c.image && image && c.image.sopInstanceUid === image.sopInstanceUid && (c.image.frame || 0) === (image.frame || 0)));
    const current = page.work.classifications.find(matches);
    return h('label', imageLevel ? { 'data-image-level': '1' } : {}, `${rule.concept.meaning}${rule.required ? ' *' : ''}${imageLevel ? ' (this image)' : ''} `,
      codeSelect(rule.values, current && current.value, {
        label: rule.concept.meaning,
        onchange: (code) => {
          page.work.classifications = page.work.classifications.filter((c) => !matches(c));
          if (code) page.work.classifications.push(imageLevel ? { label: rule.key, value: code, image } : { label: rule.key, value: code });
          page.changed();
        },
      }));
  });
  return h('section', { class: 'classifications', 'data-testid': 'classifications' },
    h('h3', {}, 'Classifications'), h('fieldset', { disabled: !page.editable }, rows), problemList(problems));
}

function labelPicker(page) {
  if (!page.editable) return null;
  return h('section', { class: 'labels' },
    h('h3', {}, 'Label to draw or paint'),
    h('div', { class: 'chips', role: 'radiogroup' }, page.protocol.labels.map((l) =>
      h('button', {
        class: l.key === page.activeLabel ? 'chip active' : 'chip',
        role: 'radio',
        'aria-checked': String(l.key === page.activeLabel),
        'data-label': l.key,
        onclick: () => page.selectLabel(l.key),
        title: `${l.geometries.map((g) => GEOMETRY_NAMES[g]).join(', ')}${l.segmentation ? `${l.geometries.length ? ', ' : ''}mask` : ''}`,
      }, h('span', { class: 'swatch', style: { background: cssColor(colorOfLabel(page.protocol, l.key)) } }), l.finding.meaning))));
}

function masksSection(page) {
  if (!page.maskLabels.length) return null;
  const problems = page.problems.filter((p) => p.area === 'segmentation');
  return h('section', { class: 'masks' },
    h('h3', {}, 'Masks'),
    h('p', { class: 'muted' }, page.editable
      ? `Pick a label that allows masks (${page.maskLabels.map((l) => l.finding.meaning).join(', ')}) and paint with the brush (M); X erases, T paints only within the range.`
      : 'Masks are shown filled in their label colours.'),
    problemList(problems));
}

export function renderWorkPanel(page) {
  const documentProblems = page.problems.filter((p) => p.area === 'document');
  const findings = page.work.findings;
  const actions = page.editable && !page.reviewing
    ? h('div', { class: 'actions' },
      h('button', { onclick: () => page.save({ draft: true }), title: 'Ctrl+S', 'data-testid': 'save' }, 'Save draft'),
      h('button', { class: 'primary', onclick: () => page.submit(), 'data-testid': 'submit' }, 'Submit'),
      h('button', { class: 'link', onclick: () => page.release(), title: 'Give the task back to the pool' }, 'Release'))
    : null;
  return h('div', { class: 'work' },
    labelPicker(page),
    h('section', { class: 'findings', 'data-testid': 'findings' },
      h('h3', {}, page.reviewing ? 'Consensus findings' : 'Findings', h('span', { class: 'muted' }, ` (${findings.length})`)),
      findings.length ? findings.map((f, i) => findingCard(page, f, i))
        : h('p', { class: 'muted' }, page.editable ? 'Draw on the image with a tool of the toolbar: each shape is a finding.' : 'No findings.')),
    classificationsSection(page),
    masksSection(page),
    problemList(documentProblems),
    actions);
}
