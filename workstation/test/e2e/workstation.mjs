// What the end-to-end scripts do with the workstation, in a reader's words: sign in, open the
// next task, pick a label, draw at image coordinates, answer a question, save, submit.
import { launch, openPage } from './browser.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function parseArgs(argv) {
  const args = {};
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    (args[key] = args[key] || []).push(argv[i + 1]);
  }
  return args;
}

// The hue of a colour in degrees, -1 for a grey.
export function hue(r, g, b) {
  const max = Math.max(r, g, b), min = Math.min(r, g, b);
  if (max === min) return -1;
  const d = max - min;
  const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return (h * 60 + 360) % 360;
}

export function fail(message, extra) {
  const error = new Error(message);
  error.extra = extra;
  throw error;
}

export class Session {
  static async open(base, options = {}) {
    const browser = options.browser || (await launch());
    const context = await browser.createBrowserContext();
    const { page, log } = await openPage(context, options);
    const s = new Session(base, browser, context, page, log, !options.browser);
    return s;
  }

  constructor(base, browser, context, page, log, ownsBrowser) {
    Object.assign(this, { base, browser, context, page, log, ownsBrowser });
  }

  async close() {
    await this.context.close();
    if (this.ownsBrowser) await this.browser.close();
  }

  async signIn(name, token) {
    const { page } = this;
    await page.goto(this.base, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#signin-name', { timeout: 30000 });
    await page.type('#signin-name', name);
    await page.type('#signin-token', token);
    await page.click('form.signin button[type=submit]');
    await page.waitForSelector('[data-testid=who]', { timeout: 30000 });
  }

  async openNextTask() {
    await this.page.waitForSelector('table.tasks tbody tr', { timeout: 30000 });
    await this.page.click('[data-testid=open-next]');
    await this.waitForTask();
  }

  async waitForTask() {
    await this.page.waitForFunction(() => window.labelingWorkstation && window.labelingWorkstation.ready, { timeout: 60000 })
      .catch(async () => fail(`the task page did not open: ${await this.text('[data-testid=banner]')}`, this.log));
    await sleep(500);
  }

  async text(selector) {
    return this.page.$eval(selector, (e) => e.textContent).catch(() => '');
  }

  ws(fn, ...args) {
    return this.page.evaluate(fn, ...args);
  }

  async at(x, y) {
    return this.ws((x, y) => window.labelingWorkstation.imageToClient(x, y), x, y);
  }

  // A shortcut, as a reader presses it with the image (not a text field) in focus.
  async key(k) {
    await this.ws(() => document.activeElement && document.activeElement.blur());
    await this.page.keyboard.press(k);
    await sleep(150);
  }

  async label(key) {
    await this.page.click(`[data-label="${key}"]`);
    await sleep(150);
  }

  // A mouse drag through image coordinates (a box, an ellipse, a freehand outline, a brush stroke).
  async drag(points, steps = 6) {
    const { mouse } = this.page;
    const [x0, y0] = await this.at(...points[0]);
    await mouse.move(x0, y0);
    await mouse.down();
    await sleep(80);
    for (const p of points.slice(1)) {
      const [x, y] = await this.at(...p);
      await mouse.move(x, y, { steps });
    }
    await sleep(80);
    await mouse.up();
    await sleep(400);
  }

  async click(x, y) {
    const [cx, cy] = await this.at(x, y);
    await this.page.mouse.move(cx, cy);
    await this.page.mouse.down();
    await sleep(120);
    await this.page.mouse.up();
    await sleep(400);
  }

  // Picks the option whose text is `text` in the select labelled `label`.
  async choose(label, text) {
    const done = await this.ws((label, text) => {
      const select = document.querySelector(`select[aria-label="${label}"]`);
      if (!select) return `no select labelled '${label}'`;
      const option = [...select.options].find((o) => o.textContent === text);
      if (!option) return `no option '${text}' in '${label}'`;
      select.value = option.value;
      select.dispatchEvent(new Event('change', { bubbles: true }));
      return '';
    }, label, text);
    if (done) fail(done);
    await sleep(100);
  }

  async type(label, text) {
    const selector = `[aria-label="${label}"]`;
    await this.page.waitForSelector(selector);
    await this.page.click(selector, { clickCount: 3 });
    await this.page.type(selector, text);
    await this.page.keyboard.press('Tab');
    await sleep(100);
  }

  // Saves now and waits for the answer; returns the save status line.
  async saveDraft() {
    const before = await this.ws(() => window.labelingWorkstation.revision());
    await this.page.click('[data-testid=save]');
    await this.page.waitForFunction((before) => window.labelingWorkstation.revision() > before && !window.labelingWorkstation.dirty(),
      { timeout: 30000 }, before).catch(async () => fail(`the draft was not saved: ${await this.text('[data-testid=save-status]')} ${await this.text('[data-testid=panel]')}`));
    return this.text('[data-testid=save-status]');
  }

  async state() {
    return this.ws(() => ({
      findings: window.labelingWorkstation.findings(),
      masks: window.labelingWorkstation.masks(),
      classifications: window.labelingWorkstation.classifications(),
      revision: window.labelingWorkstation.revision(),
    }));
  }

  // After a decision or a submission the worklist comes back with what happened.
  async waitForWorklist() {
    await this.page.waitForFunction(() => window.location.hash === '#/worklist' && document.querySelector('[data-testid=flash]'), { timeout: 60000 })
      .catch(async () => fail(`did not return to the worklist: ${await this.text('[data-testid=banner]')} | ${await this.text('[data-testid=panel]')}`));
    return this.text('[data-testid=flash]');
  }

  // How the element looks on the screen: the spread of its grey levels (an image is drawn), how
  // colourful it is, and (given a colour) the share of pixels with that colour's hue.
  async screenStats(selector, colour = null) {
    const box = await this.page.$eval(selector, (e) => { const r = e.getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; });
    const png = await this.page.screenshot({ clip: box, encoding: 'base64' });
    // The page decodes the screenshot; every eighth pixel comes back as [r, g, b, ...].
    const rgb = await this.ws(async (png) => {
      const img = new Image();
      img.src = `data:image/png;base64,${png}`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const { data } = ctx.getImageData(0, 0, img.width, img.height);
      const out = [];
      for (let i = 0; i < data.length; i += 32) out.push(data[i], data[i + 1], data[i + 2]);
      return out;
    }, png);
    const wanted = colour ? hue(...colour) : -1;
    let sum = 0, sum2 = 0, chroma = 0, inHue = 0;
    const n = rgb.length / 3;
    for (let i = 0; i < rgb.length; i += 3) {
      const [r, g, b] = [rgb[i], rgb[i + 1], rgb[i + 2]];
      const y = (r + g + b) / 3;
      sum += y;
      sum2 += y * y;
      const c = Math.max(r, g, b) - Math.min(r, g, b);
      chroma += c;
      const h = hue(r, g, b);
      if (colour && h >= 0 && c > 60 && Math.min(Math.abs(h - wanted), 360 - Math.abs(h - wanted)) < 20) inHue++;
    }
    const mean = sum / n;
    return { mean, spread: Math.sqrt(sum2 / n - mean * mean), chroma: chroma / n, colourFraction: inHue / n };
  }

  async screenshot(path) {
    if (path) await this.page.screenshot({ path });
  }
}
