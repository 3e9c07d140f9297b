// A real OpenID Connect provider (oidc-provider) for the sign-in tests.
// usage: node oidc-provider.mjs --port PORT --client-id ID --client-secret SECRET
//          --redirect-uri URL [--redirect-uri URL2 ...] --users USERS.json
// USERS.json: {"rad1": {"password": "pw1", "groups": ["radiologists"], "name": "Rita Ray"}, ...}
// Issuer http://127.0.0.1:PORT (no trailing slash). One confidential client (client_secret_basic,
// authorization_code + PKCE S256). Login form at /interaction/<uid> checks USERS.json; consent is
// granted automatically. ID tokens carry preferred_username, name and groups.
// Prints {"ready": true, "issuer": "..."} on stdout once listening; exits on SIGTERM/SIGINT.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';

// oidc-provider prints notices with console.info (stdout); keep stdout for the ready line only.
console.info = (...a) => console.error(...a);
console.log = (...a) => console.error(...a);

const { default: Provider } = await import('oidc-provider');

function parseArgs(argv) {
  const opts = { redirectUris: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const key = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value for ${key}`);
    i += 1;
    switch (key) {
      case '--port': opts.port = Number(value); break;
      case '--client-id': opts.clientId = value; break;
      case '--client-secret': opts.clientSecret = value; break;
      case '--redirect-uri': opts.redirectUris.push(value); break;
      case '--users': opts.users = value; break;
      default: throw new Error(`unknown option ${key}`);
    }
  }
  for (const k of ['port', 'clientId', 'clientSecret', 'users']) {
    if (opts[k] === undefined) throw new Error(`missing --${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  }
  if (!opts.redirectUris.length) throw new Error('missing --redirect-uri');
  if (!Number.isInteger(opts.port) || opts.port <= 0 || opts.port > 65535) throw new Error('bad --port');
  return opts;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`oidc-provider.mjs: ${e.message}\n`
    + 'usage: node oidc-provider.mjs --port PORT --client-id ID --client-secret SECRET '
    + '--redirect-uri URL [--redirect-uri URL2] --users USERS.json\n');
  process.exit(2);
}

const users = JSON.parse(fs.readFileSync(opts.users, 'utf8'));
const issuer = `http://127.0.0.1:${opts.port}`;

// RSA 2048 signing key, published at the JWKS endpoint.
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = {
  ...privateKey.export({ format: 'jwk' }),
  kid: crypto.randomBytes(8).toString('hex'),
  alg: 'RS256',
  use: 'sig',
};

const configuration = {
  clients: [{
    client_id: opts.clientId,
    client_secret: opts.clientSecret,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: opts.redirectUris,
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [jwk] },
  scopes: ['openid', 'profile', 'groups'],
  claims: {
    acr: null,
    sid: null,
    auth_time: null,
    iss: null,
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  // Put scope-granted claims into the ID token too, not only into userinfo.
  conformIdTokenClaims: false,
  // PKCE: library default (required for every client), S256 only.
  pkce: { methods: ['S256'] },
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
  },
  cookies: {
    keys: [crypto.randomBytes(32).toString('hex')],
    long: { httpOnly: true, sameSite: 'lax' },
    short: { httpOnly: true, sameSite: 'lax' },
  },
  interactions: {
    url: (ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  async findAccount(ctx, sub) {
    const user = Object.hasOwn(users, sub) ? users[sub] : undefined;
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          preferred_username: sub,
          name: user.name ?? sub,
          groups: Array.isArray(user.groups) ? user.groups : [],
        };
      },
    };
  },
  // Skip consent: grant whatever OIDC scopes/claims the (only, first-party) client asks for.
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const accountId = oidc.account.accountId;
    const clientId = oidc.client.clientId;
    const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(clientId);
    let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (!grant || grant.accountId !== accountId || grant.clientId !== clientId) {
      grant = new oidc.provider.Grant({ accountId, clientId });
    }
    const scopes = [...oidc.requestParamOIDCScopes];
    if (scopes.length) grant.addOIDCScope(scopes.join(' '));
    const claims = [...oidc.requestParamClaims];
    if (claims.length) grant.addOIDCClaims(claims);
    await grant.save();
    return grant;
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><html><head><title>oops</title></head><body><h1>oops, something went wrong</h1>
<pre id="oidc-error">${escapeHtml(JSON.stringify(out, null, 2))}</pre></body></html>`;
  },
  clientBasedCORS: () => false,
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (ctx, err) => console.error('oidc-provider server_error:', err));

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  }[c]));
}

function loginPage(uid, { login = '', error = '' } = {}) {
  return `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Sign in</title></head>
<body>
<h1>Sign in</h1>
${error ? `<p id="error" style="color:#c00">${escapeHtml(error)}</p>` : ''}
<form id="login-form" method="post" action="/interaction/${escapeHtml(uid)}" autocomplete="off">
  <label for="login">User name</label>
  <input type="text" id="login" name="login" value="${escapeHtml(login)}" autofocus required>
  <label for="password">Password</label>
  <input type="password" id="password" name="password" required>
  <button type="submit" id="submit">Sign in</button>
</form>
</body>
</html>
`;
}

function send(res, status, body, type = 'text/html; charset=utf-8') {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function autoConsent(req, res, details) {
  // Normally never reached (loadExistingGrant grants everything), kept as a fallback.
  const { prompt: { details: missing = {} }, params, session } = details;
  const grantId = details.grantId;
  const grant = grantId ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const newGrantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId: newGrantId } },
    { mergeWithLastSubmission: true });
}

async function handleInteraction(req, res, uid) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (e) {
    send(res, 400, `<!DOCTYPE html><html><body><p id="error">interaction expired or not found: ${escapeHtml(e.message)}</p></body></html>`);
    return;
  }
  if (details.uid !== uid) {
    send(res, 400, '<!DOCTYPE html><html><body><p id="error">interaction mismatch</p></body></html>');
    return;
  }
  const promptName = details.prompt.name;
  if (promptName === 'consent') {
    await autoConsent(req, res, details);
    return;
  }
  if (promptName !== 'login') {
    send(res, 400, `<!DOCTYPE html><html><body><p id="error">unsupported prompt ${escapeHtml(promptName)}</p></body></html>`);
    return;
  }
  if (req.method === 'GET') {
    send(res, 200, loginPage(uid, { login: details.params.login_hint || '' }));
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(405, { Allow: 'GET, POST' });
    res.end();
    return;
  }
  const form = await readForm(req);
  const login = form.get('login') || '';
  const password = form.get('password') || '';
  const user = Object.hasOwn(users, login) ? users[login] : undefined;
  const ok = user && typeof user.password === 'string'
    && crypto.timingSafeEqual(
      crypto.createHash('sha256').update(password).digest(),
      crypto.createHash('sha256').update(user.password).digest(),
    );
  if (!ok) {
    send(res, 200, loginPage(uid, { login, error: 'wrong user name or password' }));
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: login } },
    { mergeWithLastSubmission: false });
}

const providerCallback = provider.callback();

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, issuer);
  const m = /^\/interaction\/([^/]+)\/?$/.exec(pathname);
  if (m) {
    handleInteraction(req, res, decodeURIComponent(m[1])).catch((err) => {
      console.error('interaction error:', err);
      if (!res.headersSent) send(res, 500, 'internal error', 'text/plain; charset=utf-8');
      else res.end();
    });
    return;
  }
  providerCallback(req, res);
});

server.on('error', (err) => {
  process.stderr.write(`oidc-provider.mjs: ${err.message}\n`);
  process.exit(1);
});

server.listen(opts.port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ ready: true, issuer })}\n`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
