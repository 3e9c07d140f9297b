// The workstation's only way to the server: the product's HTTP API, relative to where the page
// is served (the node's "/ui/" or the plugin's "/annotation/ui/"), so one build serves both.
// Requests carry the session cookie; changes carry the session's CSRF token.

export const apiRoot = new URL('../', window.location.href);
export const dicomwebRoot = new URL('dicomweb', apiRoot).href;

let csrfToken = sessionStorage.getItem('annotation.csrf') || '';
const signedOutListeners = new Set();

export function setCsrfToken(token) {
  csrfToken = token || '';
  if (csrfToken) sessionStorage.setItem('annotation.csrf', csrfToken);
  else sessionStorage.removeItem('annotation.csrf');
}

export function onSignedOut(listener) {
  signedOutListeners.add(listener);
}

// An API refusal: status, the server's message and, for annotations, every problem.
export class ApiError extends Error {
  constructor(status, message, problems = []) {
    super(message);
    this.status = status;
    this.problems = problems;
  }
}

export async function api(method, path, { body, query, keepalive = false, quietUnauthorized = false } = {}) {
  const url = new URL(path.replace(/^\//, ''), apiRoot);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      keepalive,
    });
  } catch (e) {
    throw new ApiError(0, `the server could not be reached (${e.message}); check the connection and try again`);
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const error = (json && json.error) || {};
    const message = error.message || `the server answered ${response.status}`;
    if (response.status === 401 && !quietUnauthorized) for (const l of signedOutListeners) l(message);
    throw new ApiError(response.status, message, error.problems || []);
  }
  return json;
}

// The OHIF viewer on this server, opened on one study (when the server has it installed).
export function viewerLink(studyUid) {
  return new URL(`viewer/viewer?StudyInstanceUIDs=${encodeURIComponent(studyUid)}`, apiRoot).href;
}
