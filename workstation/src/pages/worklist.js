// My worklist: the tasks I may claim or already hold (annotators see label tasks only), filtered
// by protocol, state, priority and due date; N claims and opens the next one.
import { ApiError, api, viewerLink } from '../api.js';
import { clear, dicomDate, h, personName } from '../dom.js';

const STATES = ['SCHEDULED', 'IN PROGRESS', 'COMPLETED'];
const PRIORITIES = ['HIGH', 'MEDIUM', 'LOW'];

export function mountWorklist(root, { user, navigate }) {
  const saved = JSON.parse(sessionStorage.getItem('annotation.worklistFilters') || '{}');
  // Orthanc Explorer links to one study's tasks with ?study=UID.
  const study = new URLSearchParams(window.location.search).get('study') || '';
  const filters = {
    study,
    protocol: saved.protocol || '',
    state: saved.state ?? '',
    priority: saved.priority || '',
    dueBefore: saved.dueBefore || '',
    step: saved.step ?? (user.role === 'reviewer' ? 'review' : ''),
  };
  const status = h('p', { class: 'status', role: 'status', 'data-testid': 'worklist-status' });
  // What the last task page said when it closed ("Submitted…").
  const flashText = sessionStorage.getItem('annotation.flash');
  sessionStorage.removeItem('annotation.flash');
  const flash = flashText ? h('p', { class: 'flash', role: 'status', 'data-testid': 'flash' }, flashText) : null;
  const body = h('tbody');
  const protocolSelect = h('select', { 'aria-label': 'Protocol', onchange: (e) => setFilter('protocol', e.target.value) }, h('option', { value: '' }, 'All protocols'));
  const select = (name, label, values, names = values) =>
    h('select', { 'aria-label': label, onchange: (e) => setFilter(name, e.target.value) },
      h('option', { value: '' }, `Any ${label.toLowerCase()}`),
      values.map((v, i) => h('option', { value: v, selected: filters[name] === v }, names[i])));
  const due = h('input', { type: 'date', value: filters.dueBefore, 'aria-label': 'Due on or before', onchange: (e) => setFilter('dueBefore', e.target.value) });
  const controls = h('div', { class: 'filters' },
    protocolSelect,
    select('state', 'State', STATES, ['Open', 'In progress', 'Completed']),
    user.role === 'annotator' ? null : select('step', 'Step', ['label', 'review'], ['Labeling', 'Review']),
    select('priority', 'Priority', PRIORITIES, ['High', 'Medium', 'Low']),
    h('label', { class: 'inline' }, 'Due by ', due),
    h('button', { onclick: load, title: 'Refresh (R)' }, 'Refresh'),
    h('button', { class: 'primary', onclick: openNext, 'data-testid': 'open-next', title: 'Claim and open the next task (N)' }, 'Open next task'));
  root.append(
    h('section', { class: 'worklist' },
      h('h1', {}, 'My worklist'),
      study ? h('p', { class: 'muted' }, `Tasks of study ${study} `, h('a', { href: 'index.html' }, '(all studies)')) : null,
      flash,
      controls,
      status,
      h('table', { class: 'tasks' },
        h('thead', {}, h('tr', {}, ['Priority', 'Due', 'Patient', 'Study', 'Protocol', 'Step', 'State', 'Reader', 'Saved', ''].map((t) => h('th', {}, t)))),
        body)));

  let tasks = [];
  const studies = new Map();
  let alive = true;

  function setFilter(name, value) {
    filters[name] = value;
    const { study: _, ...kept } = filters;
    sessionStorage.setItem('annotation.worklistFilters', JSON.stringify(kept));
    load();
  }

  async function loadProtocols() {
    try {
      const { protocols } = await api('GET', 'api/v1/protocols');
      for (const p of protocols) protocolSelect.append(h('option', { value: p.id, selected: filters.protocol === p.id }, p.title || p.id));
    } catch (e) {
      status.textContent = e.message;
    }
  }

  async function studyOf(uid) {
    if (!studies.has(uid)) studies.set(uid, api('GET', `api/v1/studies/${uid}`).catch(() => null));
    return studies.get(uid);
  }

  async function load() {
    status.className = 'status';
    status.textContent = 'Loading…';
    try {
      const query = { study: filters.study, protocol: filters.protocol, state: filters.state, priority: filters.priority, dueBefore: filters.dueBefore, step: filters.step };
      ({ tasks } = await api('GET', 'api/v1/tasks', { query }));
      if (!alive) return;
      status.textContent = tasks.length ? `${tasks.length} task${tasks.length === 1 ? '' : 's'}` : 'No task matches. New studies appear here once they are complete.';
      clear(body, tasks.map(row));
      for (const t of tasks) {
        studyOf(t.studyInstanceUid).then((s) => {
          const cell = body.querySelector(`[data-study-cell="${t.id}"]`);
          if (!s || !cell) return;
          clear(cell,
            h('div', { class: 'patient' }, personName(s.PatientName) || '—', s.PatientID ? h('span', { class: 'muted' }, ` (${s.PatientID})`) : null),
            h('div', { class: 'muted' }, [dicomDate(s.StudyDate), s.StudyDescription, (s.ModalitiesInStudy || []).join('/')].filter(Boolean).join(' · ')));
        });
      }
    } catch (e) {
      status.className = 'status error';
      status.textContent = e instanceof ApiError && e.status === 403 ? `Your role may not see this list: ${e.message}` : e.message;
    }
  }

  function mine(t) {
    return t.assignee === user.name && t.state === 'IN PROGRESS';
  }

  function row(t) {
    const action = mine(t) ? 'Continue' : t.state === 'SCHEDULED' ? (t.step === 'review' ? 'Review' : 'Label') : 'View';
    return h('tr', { class: `priority-${t.priority.toLowerCase()}`, 'data-task': t.id },
      h('td', {}, h('span', { class: `badge ${t.priority.toLowerCase()}` }, t.priority)),
      h('td', {}, t.due ? t.due.slice(0, 10) : ''),
      h('td', { 'data-study-cell': t.id }, h('span', { class: 'muted' }, t.studyInstanceUid)),
      h('td', {}, t.seriesInstanceUid ? 'one series' : 'whole study'),
      h('td', {}, t.protocol.id),
      h('td', {}, t.step === 'review' ? 'Review' : `Reader ${t.readerSlot}`),
      h('td', {}, h('span', { class: `state ${t.state.replace(' ', '-').toLowerCase()}` }, t.state)),
      h('td', {}, t.assignee || ''),
      h('td', {}, t.revisions ? `${t.revisions} rev.` : ''),
      h('td', { class: 'row-actions' },
        h('button', { class: mine(t) || t.state === 'SCHEDULED' ? 'primary' : '', onclick: () => open(t), 'data-testid': `open-${t.id}` }, action),
        user.viewer ? h('a', { href: viewerLink(t.studyInstanceUid), target: '_blank', rel: 'noopener', title: 'Open the study, with its SR and SEG results, in the OHIF viewer' }, 'OHIF') : null));
  }

  async function open(t) {
    navigate(`#/task/${t.id}`);
  }

  async function openNext() {
    const next = tasks.find(mine) || tasks.find((t) => t.state === 'SCHEDULED');
    if (!next) {
      status.textContent = 'Nothing to open: no task of this list is open or yours.';
      return;
    }
    try {
      if (!mine(next)) await api('POST', `api/v1/tasks/${next.id}/claim`);
      navigate(`#/task/${next.id}`);
    } catch (e) {
      status.className = 'status error';
      status.textContent = `Task ${next.id} could not be claimed: ${e.message}`;
      load();
    }
  }

  loadProtocols();
  load();
  const timer = setInterval(load, 60000);
  return {
    actions: { openNext, refresh: load },
    unmount() {
      alive = false;
      clearInterval(timer);
    },
  };
}
