// The reviewer's part of the panel: the readers' work (shown locked, each in its colour), how
// far they agree, and the decision: approve, send one reader's work back with a reason, or
// adjudicate a consensus built from a reader's work.
import { cssColor, h } from '../dom.js';

const mean = (xs) => (xs && xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const fixed = (v, digits = 2) => (v === null || v === undefined ? '—' : Number(v).toFixed(digits));

function agreementTable(agreement) {
  if (!agreement) return h('p', { class: 'muted' }, 'Agreement is computed once every reader has submitted.');
  const rows = [
    ['Regions compared', (agreement.regionIoUs || []).length],
    ['Mean IoU of regions', fixed(mean(agreement.regionIoUs))],
    ['Mask Dice (mean)', fixed(mean(agreement.maskDice))],
    ['Mask IoU (mean)', fixed(mean(agreement.maskIoU))],
    ['Point distance, px (mean)', fixed(mean(agreement.pointDistancesPixels), 1)],
    ['Findings only one reader marked', agreement.unmatchedFindings ?? 0],
  ];
  return h('table', { class: 'agreement', 'data-testid': 'agreement' }, rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, String(v)))));
}

function answersTable(page) {
  const rules = page.protocol.classifications || [];
  const readers = page.readers.filter((r) => r.document);
  if (!rules.length || !readers.length) return null;
  return h('table', { class: 'answers' },
    h('tr', {}, h('th', {}, ''), readers.map((r) => h('th', {}, h('span', { class: 'swatch', style: { background: cssColor(r.color) } }), `Reader ${r.readerSlot}`))),
    rules.map((rule) => h('tr', {}, h('th', {}, rule.concept.meaning), readers.map((r) => {
      const answers = (r.document.classifications || []).filter((c) => c.label === rule.key).map((c) => c.value.meaning);
      return h('td', {}, answers.join(', ') || '—');
    }))));
}

export function renderReviewPanel(page) {
  const comment = h('textarea', { rows: 2, 'aria-label': 'Review comment', placeholder: 'Comment (required to send back)', 'data-testid': 'review-comment' });
  const rejectTarget = h('select', { 'aria-label': 'Reader to send back', 'data-testid': 'reject-reader' },
    page.readers.map((r) => h('option', { value: r.task }, `Reader ${r.readerSlot}${r.assignee ? ` (${r.assignee})` : ''}`)));
  const editable = page.editable;
  const hasConsensus = page.work.findings.length || page.work.classifications.length || (page.maskLabels.length && page.layer.masks().length);
  return h('section', { class: 'review', 'data-testid': 'review' },
    h('h3', {}, 'Readers'),
    h('ul', { class: 'readers' }, page.readers.map((r) => h('li', {},
      h('label', {},
        h('input', { type: 'checkbox', checked: r.visible, disabled: !r.layer, onchange: (e) => { r.visible = e.target.checked; r.layer.setVisible(r.visible); } }),
        h('span', { class: 'swatch', style: { background: cssColor(r.color) } }),
        ` Reader ${r.readerSlot} · ${r.assignee || 'unassigned'} · ${r.state}`,
        r.revision ? h('span', { class: 'muted' }, ` · rev. ${r.revision}, ${r.findings.length} finding(s)`) : h('span', { class: 'muted' }, ' · nothing saved')),
      r.error ? h('div', { class: 'error' }, r.error) : null,
      editable && r.document ? h('button', { class: 'link', onclick: () => page.startConsensusFrom(r), 'data-testid': `adopt-${r.readerSlot}` }, 'Start the consensus from this reader') : null))),
    h('h3', {}, 'Agreement'),
    agreementTable(page.task.agreement),
    answersTable(page),
    editable ? h('div', { class: 'decision' },
      h('h3', {}, 'Decision'),
      comment,
      h('div', { class: 'actions' },
        h('button', { class: 'primary', 'data-testid': 'approve', onclick: () => page.decide({ decision: 'approve', comment: comment.value.trim() }) }, 'Approve and sign off'),
        h('button', {
          'data-testid': 'adjudicate',
          disabled: !hasConsensus,
          title: hasConsensus ? 'Sign off the consensus below as the case\'s result' : 'Build a consensus first (start from a reader and edit)',
          onclick: () => page.decide({ decision: 'adjudicate', comment: comment.value.trim(), annotation: page.document() }),
        }, 'Adjudicate and sign off')),
      h('div', { class: 'actions' },
        rejectTarget,
        h('button', {
          class: 'danger',
          'data-testid': 'reject',
          onclick: () => {
            if (!comment.value.trim()) {
              comment.focus();
              page.say('Say why the work goes back: the reader sees your comment.', 'warning');
              return;
            }
            page.decide({ decision: 'reject', task: Number(rejectTarget.value), comment: comment.value.trim() });
          },
        }, 'Send back'))) : null);
}
