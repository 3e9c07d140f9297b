// Sign-in: a user name and the token an administrator issued, or, where the hospital directory
// is connected, the hospital password. Either is exchanged for a browser session (an HttpOnly
// cookie); the page never keeps it.
import { ApiError, api, apiRoot } from '../api.js';
import { h } from '../dom.js';

// A product token reads "an_<id>_<secret>"; anything else typed is a password.
const looksLikeToken = (text) => /^an_\d+_[0-9a-f]{64}$/.test(text);

export function mountSignIn(root, { message, onSignedIn, methods = ['token'] }) {
  const passwords = methods.includes('password');
  // Back from the hospital's sign-in page with a refusal: the server put the reason in the address.
  const returned = new URLSearchParams(window.location.search).get('signin_error');
  if (returned && !message) message = `Hospital sign-in: ${returned}`;
  const name = h('input', { id: 'signin-name', name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const token = h('input', { id: 'signin-token', name: 'token', type: 'password', autocomplete: 'current-password', required: true });
  const status = h('p', { class: message && !message.startsWith('Signed out') ? 'error' : 'info', role: 'alert', 'data-testid': 'signin-message' }, message || '');
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', { class: 'signin', onsubmit: submit },
    h('h1', {}, 'Labeling workstation'),
    h('label', { for: 'signin-name' }, 'User name'), name,
    h('label', { for: 'signin-token' }, passwords ? 'Hospital password (or API token)' : 'Token'), token,
    button,
    methods.includes('oidc')
      ? h('button', { type: 'button', class: 'secondary', 'data-testid': 'signin-oidc', onclick: () => {
        const next = new URLSearchParams(window.location.search).get('next') || '';
        window.location.assign(`${apiRoot}api/v1/session/oidc/start${next ? `?next=${encodeURIComponent(next)}` : ''}`);
      } }, 'Sign in with the hospital account')
      : null,
    status,
    h('p', { class: 'hint' }, passwords
      ? 'Sign in with your hospital account. An API token from your administrator works too. The session ends when you sign out or after a while without activity.'
      : 'Your administrator gives you a user name and a token (dicom-node user add NAME, or the Administration page). The session ends when you sign out or after a while without activity.'));

  async function submit(event) {
    event.preventDefault();
    button.disabled = true;
    status.className = 'info';
    status.textContent = 'Signing in…';
    try {
      const secret = passwords && !looksLikeToken(token.value.trim()) ? { password: token.value } : { token: token.value.trim() };
      const session = await api('POST', 'api/v1/session', { body: { name: name.value.trim(), ...secret }, quietUnauthorized: true });
      token.value = '';
      onSignedIn(session);
    } catch (e) {
      status.className = 'error';
      // A guess gets the plain answer; a token that ended (disabled, revoked, expired) or a
      // lockout gets the server's words, which say what to do.
      status.textContent = e instanceof ApiError && e.status === 401 && /do not match/.test(e.message)
        ? (passwords ? 'The user name and password (or token) do not match. Check both, or ask your administrator.' : 'The user name and token do not match an active user. Check both, or ask your administrator for a new token.')
        : `Signing in failed: ${e.message}`;
      button.disabled = false;
    }
  }

  root.append(h('div', { class: 'signin-page' }, form));
  return { unmount() {} };
}
