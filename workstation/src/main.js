// The labeling workstation: sign-in, then the worklist, the labeling and review screen and the
// admin page, chosen by the address's fragment (#/worklist, #/task/ID, #/admin).
import './styles.css';

import { api, onSignedOut, setCsrfToken } from './api.js';
import { h, clear } from './dom.js';
import { helpOverlay } from './help.js';
import { viewerReturnAddress } from './model/returnAddress.js';
import { actionFor } from './shortcuts.js';
import { mountAdmin } from './pages/admin.js';
import { mountLabeling } from './pages/labeling.js';
import { mountSignIn } from './pages/signIn.js';
import { mountWorklist } from './pages/worklist.js';

const root = document.getElementById('app');
let user = null;
let page = null;  // {unmount(), actions: {name: fn}, confirmLeave?()}
let signInMethods = ['token'];
let signedOutMessage = '';

// Where to go once signed in: the OHIF viewer sends browsers without a session here with
// ?next=<its address>; only the viewer of this server is followed (model/returnAddress.js).
function nextAddress() {
  return viewerReturnAddress(new URLSearchParams(window.location.search).get('next') || '', window.location.href);
}

async function boot() {
  try {
    const session = await api('GET', 'api/v1/session', { quietUnauthorized: true });
    user = session.signedIn ? session : null;
    signInMethods = session.signInMethods || signInMethods;
    setCsrfToken(session.csrfToken);
  } catch (e) {
    user = null;
    if (e.status !== 401) signedOutMessage = e.message;
  }
  if (user && nextAddress()) {
    window.location.assign(nextAddress());
    return;
  }
  render();
}

onSignedOut((message) => {
  if (!user) return;
  user = null;
  setCsrfToken('');
  signedOutMessage = `You were signed out: ${message}. Sign in again; work saved as drafts is kept.`;
  render();
});

function header() {
  const nav = [
    h('a', { href: '#/worklist' }, 'Worklist'),
    user.role === 'admin' ? h('a', { href: '#/admin' }, 'Administration') : null,
  ];
  return h('header', { class: 'topbar' },
    h('span', { class: 'brand' }, 'Labeling workstation'),
    h('nav', {}, nav),
    h('span', { class: 'spacer' }),
    h('span', { class: 'who', 'data-testid': 'who' }, `${user.name} · ${user.role}`),
    h('button', { class: 'link', title: 'Keyboard shortcuts (?)', onclick: () => helpOverlay.toggle(page) }, '?'),
    h('button', { class: 'link', onclick: signOut }, 'Sign out'));
}

async function signOut() {
  if (page && page.confirmLeave && !(await page.confirmLeave())) return;
  try {
    await api('DELETE', 'api/v1/session');
  } catch {
    /* signed out either way */
  }
  setCsrfToken('');
  user = null;
  signedOutMessage = 'Signed out.';
  render();
}

function render() {
  if (page) page.unmount();
  page = null;
  helpOverlay.hide();
  if (!user) {
    clear(root);
    page = mountSignIn(root, {
      methods: signInMethods,
      message: signedOutMessage || (nextAddress() ? 'Sign in to open the viewer.' : ''),
      onSignedIn: (session) => {
        user = session;
        setCsrfToken(session.csrfToken);
        signedOutMessage = '';
        if (nextAddress()) window.location.assign(nextAddress());
        else render();
      },
    });
    return;
  }
  const main = h('main', { class: 'page' });
  clear(root, header(), main);
  const [, name, id] = (window.location.hash || '#/worklist').split('/');
  const context = { user, navigate: (hash) => { window.location.hash = hash; } };
  if (name === 'task' && id) page = mountLabeling(main, { ...context, taskId: Number(id) });
  else if (name === 'admin' && user.role === 'admin') page = mountAdmin(main, context);
  else page = mountWorklist(main, context);
}

// Leaving a task with unsaved work asks first.
let lastHash = window.location.hash;
window.addEventListener('hashchange', async () => {
  if (page && page.confirmLeave && !(await page.confirmLeave())) {
    history.replaceState(null, '', lastHash);
    return;
  }
  lastHash = window.location.hash;
  render();
});

// One keyboard dispatcher: the page says which actions it has; typing in a field is never a shortcut.
document.addEventListener('keydown', (event) => {
  const target = event.target;
  const typing = target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT' || target.isContentEditable);
  if (typing && event.key !== 'Escape') return;
  const actions = new Set(['help', 'escape', ...Object.keys((page && page.actions) || {})]);
  const action = actionFor(event, actions);
  if (!action) return;
  event.preventDefault();
  if (action === 'help') helpOverlay.toggle(page);
  else if (action === 'escape' && helpOverlay.visible()) helpOverlay.hide();
  else if (page && page.actions && page.actions[action]) page.actions[action]();
});

boot();
