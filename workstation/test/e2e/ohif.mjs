// The published OHIF viewer, served by the product at <prefix>/viewer, opening a study with the
// node's results, as a radiologist does from the worklist: without a session the viewer sends
// the browser to sign in and back; the CT is drawn; the SR's measurements are drawn with their
// values; the SEG's segments are painted in their colours; no request fails.
//
//   node ohif.mjs --base URL-of-/ui --user NAME:TOKEN --study UID --sr TEXT --seg TEXT
//                 --color R,G,B --expect VALUE [--expect VALUE...] [--screenshots DIR]
// --sr/--seg: text of the result series' descriptions to open; --expect: text the SR must show.
import { Session, fail, parseArgs, sleep } from './workstation.mjs';

const args = parseArgs(process.argv);
const base = args.base[0];
const [name, token] = args.user[0].split(':');
const study = args.study[0];
const shots = args.screenshots ? args.screenshots[0] : '';
const viewerUrl = new URL(`viewer/viewer?StudyInstanceUIDs=${study}`, new URL('./', base.endsWith('/ui') ? base.slice(0, -2) : base)).href;
const session = await Session.open(base);
const { page } = session;
const report = {};

// Not signed in: the viewer sends the browser to the sign-in, which sends it back.
await page.goto(viewerUrl, { waitUntil: 'domcontentloaded' });
await page.waitForSelector('#signin-name', { timeout: 30000 });
report.signInAsked = await session.text('[data-testid=signin-message]');
await page.type('#signin-name', name);
await page.type('#signin-token', token);
await page.click('form.signin button[type=submit]');
await page.waitForSelector('[data-cy=study-browser-thumbnail]', { timeout: 90000 })
  .catch(async () => fail(`OHIF did not list the study: ${page.url()}`, session.log));
report.backAt = page.url();

// OHIF's first-visit tour covers the viewport.
async function press(text) {
  return page.evaluate((text) => {
    const b = [...document.querySelectorAll('button, a, span')].find((e) => e.textContent.trim() === text);
    if (b) b.click();
    return !!b;
  }, text);
}
const colour = args.color[0].split(',').map(Number);
const viewportStats = async () => {
  const { spread, colourFraction } = await session.screenStats('[data-cy=viewport-pane]', colour);
  return { spread, segmentColourFraction: colourFraction };
};

// Opens a result series in the viewport by double-clicking its thumbnail, as users do, and
// waits until the viewport shows it (its modality badge), then answers OHIF's question.
async function openSeries(text, modality, answer) {
  const handles = await page.$$('[data-cy=study-browser-thumbnail-no-image]');
  let found = null;
  for (const h of handles) {
    if ((await h.evaluate((e) => e.textContent)).includes(text) && (await h.evaluate((e) => e.textContent)).startsWith(modality)) found = h;
  }
  if (!found) fail(`no ${modality} series '${text}' in OHIF's study browser`);
  await found.click({ clickCount: 2 });
  await page.waitForFunction((m) => [...document.querySelectorAll('[data-cy=viewport-pane] span, [data-cy=viewport-pane] div')]
    .some((e) => e.children.length === 0 && e.textContent.trim() === m), { timeout: 60000 }, modality)
    .catch(() => fail(`OHIF did not show the ${modality} in the viewport`));
  await page.waitForFunction((a) => [...document.querySelectorAll('button')].some((e) => e.textContent.trim() === a), { timeout: 30000 }, answer)
    .catch(() => {});
  await press(answer);
  await sleep(1500);
}

await sleep(2000);
await press('Skip all');
await page.waitForFunction(() => /I:\s*\d+/.test(document.querySelector('[data-cy=viewport-overlay-bottom-right]')?.textContent || ''), { timeout: 60000 });
await sleep(1500);
report.ct = await viewportStats();

// The SR, read-only (OHIF asks whether to track its measurements: not now). OHIF opens it on the
// series' middle image; the reader scrolls (the wheel) through the series to its measurements.
await openSeries(args.sr[0], 'SR', 'No');
const svgText = () => page.evaluate(() => [...document.querySelectorAll('[data-cy=viewport-pane] svg text')].map((t) => t.textContent).join(' | '));
const imageCount = await page.evaluate(() => Number((/\/(\d+)\)/.exec(document.querySelector('[data-cy=viewport-overlay-bottom-right]')?.textContent || '') || [])[1] || 1));
const pane = await page.$eval('[data-cy=viewport-pane]', (e) => { const r = e.getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + r.height / 2 }; });
await page.mouse.move(pane.x, pane.y);
for (let i = 0; i < imageCount; i++) await page.mouse.wheel({ deltaY: -120 });
await sleep(800);
const seen = new Set();
for (let i = 0; i < imageCount && !args.expect.every((w) => [...seen].join(' ').includes(w)); i++) {
  const text = await svgText();
  if (text) seen.add(text);
  if (args.expect.every((w) => text.includes(w))) break;
  await page.mouse.wheel({ deltaY: 120 });
  await sleep(700);
}
report.srText = [...seen].join(' | ');
if (shots) await page.screenshot({ path: `${shots}/ohif-sr.png` });

// The SEG, loaded: its segments painted in their colours.
await openSeries(args.seg[0], 'SEG', 'Yes');
await sleep(3000);
report.seg = await viewportStats();
if (shots) await page.screenshot({ path: `${shots}/ohif-seg.png` });

report.httpErrors = session.log.httpErrors;
report.errors = session.log.errors.filter((e) => !/Warning|deprecat/i.test(e));
console.log(JSON.stringify(report));
await session.close();
