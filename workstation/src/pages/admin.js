// Administration: users and their roles (with a new user's token shown once), ending and
// restoring their access (disable, revoke tokens, a new token), the protocols loaded, what is
// owed to each PACS, and whether the audit trail's chain is intact.
import { api } from '../api.js';
import { clear, formatTime, h } from '../dom.js';

const ROLES = ['annotator', 'reviewer', 'admin', 'researcher'];

export function mountAdmin(root) {
  const users = h('section', { class: 'card', 'data-testid': 'admin-users' });
  const protocols = h('section', { class: 'card', 'data-testid': 'admin-protocols' });
  const outbox = h('section', { class: 'card', 'data-testid': 'admin-outbox' });
  const audit = h('section', { class: 'card', 'data-testid': 'admin-audit' });
  root.append(h('section', { class: 'admin' }, h('h1', {}, 'Administration'), h('div', { class: 'cards' }, users, outbox, audit, protocols)));

  const failed = (el, title, e) => clear(el, h('h2', {}, title), h('p', { class: 'error' }, e.message));

  async function loadUsers(issued) {
    try {
      const list = (await api('GET', 'api/v1/users')).users;
      const name = h('input', { placeholder: 'user name', 'aria-label': 'New user name', required: true });
      const role = h('select', { 'aria-label': 'Role' }, ROLES.map((r) => h('option', { value: r }, r)));
      const message = h('p', { role: 'status' });
      clear(users,
        h('h2', {}, 'Users'),
        h('table', {}, h('tr', {}, ['Name', 'Role', 'Created', 'Status', 'Tokens', 'Access'].map((t) => h('th', {}, t))),
          list.map((u) => h('tr', { 'data-user': u.name }, h('td', {}, u.name), h('td', {}, u.role), h('td', {}, formatTime(u.created)),
            h('td', { 'data-testid': 'user-status' }, u.disabled ? 'disabled' : 'active'),
            h('td', {}, tokenSummary(u.tokens || [])),
            h('td', { class: 'access' }, accessButtons(u))))),
        issued ? h('div', { class: 'token', role: 'alert' },
          h('p', {}, `Token of ${issued.name} (shown once, give it to them in person or through a secure channel):`),
          h('code', { 'data-testid': 'issued-token' }, issued.token)) : null,
        h('form', {
          class: 'inline-form',
          onsubmit: async (e) => {
            e.preventDefault();
            try {
              const created = await api('POST', 'api/v1/users', { body: { name: name.value.trim(), role: role.value } });
              loadUsers(created);
            } catch (err) {
              message.className = 'error';
              message.textContent = err.message;
            }
          },
        }, name, role, h('button', { type: 'submit' }, 'Add user')),
        message);
    } catch (e) {
      failed(users, 'Users', e);
    }
  }

  // Live tokens and when the newest was last used; the details are a hover away.
  function tokenSummary(tokens) {
    const active = tokens.filter((t) => t.state === 'active');
    const used = active.map((t) => t.lastUsed).filter(Boolean).sort().pop();
    const title = tokens.map((t) => `token ${t.tokenId}: ${t.state}, expires ${t.expires ? formatTime(t.expires) : 'never'}, last used ${t.lastUsed ? formatTime(t.lastUsed) : 'never'}`).join('\n');
    return h('span', { title }, `${active.length} active${used ? ` · used ${formatTime(used)}` : ''}`);
  }

  // Ending access takes one click and a confirmation; every change is audited by the server.
  function accessButtons(u) {
    const act = (label, question, method, path, body) => h('button', {
      type: 'button',
      'data-action': label.toLowerCase().replace(/ /g, '-'),
      onclick: async () => {
        if (question && !window.confirm(question)) return;
        try {
          const answer = await api(method, path, body ? { body } : {});
          loadUsers(answer.token ? answer : undefined);
        } catch (err) {
          failed(users, 'Users', err);
        }
      },
    }, label);
    const path = `api/v1/users/${encodeURIComponent(u.name)}`;
    return [
      u.disabled
        ? act('Enable', null, 'PUT', `${path}/disabled`, { disabled: false })
        : act('Disable', `Disable ${u.name}? Their tokens and open sessions stop working now and their claimed tasks return to the pool.`,
          'PUT', `${path}/disabled`, { disabled: true }),
      act('Revoke tokens', `Revoke every token of ${u.name}? Scripts using them stop working.`, 'DELETE', `${path}/tokens`),
      act('New token', null, 'POST', `${path}/tokens`, {}),
    ];
  }

  async function loadProtocols() {
    try {
      const list = (await api('GET', 'api/v1/protocols')).protocols;
      clear(protocols, h('h2', {}, 'Labeling protocols'),
        h('table', {}, h('tr', {}, ['Protocol', 'Version', 'Readers', 'Review', 'Labels'].map((t) => h('th', {}, t))),
          list.map((p) => h('tr', {}, h('td', {}, p.title || p.id, h('div', { class: 'muted' }, p.id)), h('td', {}, p.version), h('td', {}, String(p.readers)),
            h('td', {}, p.review ? 'yes' : 'no'), h('td', {}, p.labels.map((l) => l.finding.meaning).join(', '))))));
    } catch (e) {
      failed(protocols, 'Labeling protocols', e);
    }
  }

  async function loadOutbox() {
    try {
      const { destinations, items } = await api('GET', 'api/v1/outbox', { query: { limit: 20 } });
      const names = Object.keys(destinations);
      clear(outbox, h('h2', {}, 'Results to the PACS'),
        names.length
          ? h('table', {}, h('tr', {}, ['Destination', 'Pending', 'Failing', 'Sent', 'Skipped'].map((t) => h('th', {}, t))),
            names.map((n) => h('tr', {}, h('td', { class: 'destination' }, n), h('td', {}, String(destinations[n].pending)),
              h('td', { class: destinations[n].failed ? 'error' : '' }, String(destinations[n].failed)), h('td', {}, String(destinations[n].sent)),
              h('td', { class: destinations[n].skipped ? 'muted' : '' }, String(destinations[n].skipped ?? 0)))))
          : h('p', { class: 'muted' }, 'No result has been owed to a PACS yet (or none is configured: see Pacs / Destinations).'),
        items.length ? h('details', {}, h('summary', {}, 'Latest objects'),
          h('table', {}, items.map((i) => h('tr', {}, h('td', {}, i.destination), h('td', {}, i.state), h('td', {}, `${i.attempts} attempt(s)`),
            h('td', { class: 'muted' }, i.lastError || i.lastStatus || ''), h('td', { class: 'uid' }, i.sopInstanceUid))))) : null);
    } catch (e) {
      failed(outbox, 'Results to the PACS', e);
    }
  }

  async function loadAudit() {
    try {
      const { verification, entries } = await api('GET', 'api/v1/audit', { query: { verify: 'true', limit: 15 } });
      clear(audit, h('h2', {}, 'Audit trail'),
        h('p', { class: verification.intact ? 'ok' : 'error', 'data-testid': 'audit-verification' },
          verification.intact ? `Intact: ${verification.entries} entries, each chained to the one before.`
            : `BROKEN at entry ${verification.firstBrokenId}: an entry was changed outside the product. Keep a copy of state.sqlite and investigate.`),
        h('details', {}, h('summary', {}, 'Latest entries'),
          h('table', {}, entries.slice(-15).reverse().map((e) => h('tr', {}, h('td', {}, formatTime(e.time)), h('td', {}, e.user || '—'),
            h('td', {}, e.action), h('td', {}, `${e.objectType} ${e.objectId}`.slice(0, 60)), h('td', { class: e.outcome === 'success' ? '' : 'error' }, e.outcome))))));
    } catch (e) {
      failed(audit, 'Audit trail', e);
    }
  }

  loadUsers();
  loadProtocols();
  loadOutbox();
  loadAudit();
  return { actions: { refresh: () => { loadOutbox(); loadAudit(); } }, unmount() {} };
}
