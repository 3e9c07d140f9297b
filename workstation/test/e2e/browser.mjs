// Starts Debian's Chromium headless through puppeteer-core (never a downloaded browser) with
// the flags this machine needs, and collects what the page logs, so a test can fail on any
// console error, CSP violation or failed request.
import puppeteer from 'puppeteer-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export async function launch({ width = 1500, height = 950 } = {}) {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu-sandbox', '--enable-unsafe-swiftshader', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', `--window-size=${width},${height}`,
    ],
    defaultViewport: { width, height },
  });
  return browser;
}

// A page whose console errors, uncaught exceptions and HTTP failures are recorded in `log`.
export async function openPage(browser, { ignore = [] } = {}) {
  const page = await browser.newPage();
  const log = { errors: [], requests: [], httpErrors: [] };
  const ignored = (text) => ignore.some((r) => r.test(text));
  page.on('console', (m) => {
    if (m.type() === 'error' && !ignored(m.text())) log.errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => {
    if (!ignored(e.message)) log.errors.push(`page: ${e.message}`);
  });
  page.on('requestfailed', (r) => {
    const text = `${r.method()} ${r.url()}: ${r.failure()?.errorText}`;
    if (!ignored(text)) log.errors.push(`request failed: ${text}`);
  });
  page.on('response', (r) => {
    log.requests.push(`${r.status()} ${r.request().method()} ${r.url()}`);
    if (r.status() >= 400 && !ignored(`${r.status()} ${r.url()}`)) log.httpErrors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  return { page, log };
}
