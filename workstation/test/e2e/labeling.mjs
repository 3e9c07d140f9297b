// The labeling loop in a real browser, as the product's users go through it:
//   every reader signs in, opens the next task, draws a box and a point (nodules) and a polygon
//   (a mass) with the mouse, paints the mass on two slices, answers the protocol's questions,
//   types free text, saves, reloads the page and finds everything back, and submits;
//   the reviewer opens the review, sees every reader's work and the agreement, starts the
//   consensus from reader 1, removes that reader's point and adjudicates.
// Prints (and writes to --out) what was drawn, for the caller to compare with the SR and SEG
// that reach the PACS.
//
//   node labeling.mjs --base http://127.0.0.1:PORT/ui/ --reader NAME:TOKEN [--reader ...]
//                     --reviewer NAME:TOKEN [--out FILE] [--screenshots DIR]
import { writeFileSync } from 'node:fs';
import { launch } from './browser.mjs';
import { Session, fail, parseArgs, sleep } from './workstation.mjs';

const args = parseArgs(process.argv);
const base = args.base[0];
const readers = (args.reader || []).map((r) => r.split(':'));
const [reviewerName, reviewerToken] = args.reviewer[0].split(':');
const shots = args.screenshots ? args.screenshots[0] : '';
const browser = await launch();
const result = { readers: [], consensus: null };

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

async function label(session, slot) {
  const d = slot * 6;  // the readers draw close to, not on top of, each other
  if (slot === 0) {
    await session.openNextTask();
  } else {
    // The second reader opens the next task with the keyboard.
    await session.page.waitForSelector('table.tasks tbody tr', { timeout: 30000 });
    await session.key('n');
    await session.waitForTask();
  }
  const task = await session.ws(() => Number(window.location.hash.split('/')[2]));

  // A nodule drawn as a box, with its answers and a measured long axis.
  await session.label('nodule');
  await session.key('b');
  await session.drag([[40 + d, 40], [60 + d, 56]]);
  await session.choose('Nodule composition of finding 1', 'Solid');
  await session.choose('Lung-RADS assessment category of finding 1', slot === 0 ? 'Lung-RADS 3: probably benign' : 'Lung-RADS 4A: suspicious');
  await session.type('Long Axis of finding 1 in mm', '14.5');
  await session.type('Margin description of finding 1', 'smooth, well defined');
  // A second nodule as a point.
  await session.key('.');
  await session.click(30.5 + d, 90.5);
  await session.choose('Nodule composition of finding 2', 'Part-solid');
  await session.choose('Lung-RADS assessment category of finding 2', 'Lung-RADS 2: benign appearance');
  await session.type('Long Axis of finding 2 in mm', '4');
  await session.type('Comment on finding 2', 'stable since the outside CT');
  // A mass outlined freehand, and painted on this slice and the next.
  await session.label('mass');
  await session.key('f');
  await session.drag([[70 + d, 70], [96 + d, 70], [96 + d, 94], [70 + d, 94], [70.2 + d, 70.2]]);
  await session.type('Long Axis of finding 3 in mm', '26');
  await session.key('m');
  await session.drag([[76 + d, 76], [88 + d, 80], [84 + d, 88]]);
  await session.key('ArrowDown');
  await sleep(300);
  await session.drag([[78 + d, 78], [86 + d, 84]]);
  // Part of it erased again.
  await session.key('x');
  await session.drag([[86 + d, 84], [88 + d, 86]]);
  await session.key('ArrowUp');
  // The study-level question.
  await session.choose('Pulmonary emphysema', slot === 0 ? 'Absent' : 'Present');
  const status = await session.saveDraft();
  const before = await session.state();
  // How much of the image is in the mass's colour (its outline and its mask) on this slice.
  const massColour = await session.ws(() =>
    getComputedStyle(document.querySelector('[data-label=mass] .swatch')).backgroundColor.match(/\d+/g).slice(0, 3).map(Number));
  const massOnScreen = async () => (await session.screenStats('.viewport', massColour)).colourFraction;
  const paintedShown = await massOnScreen();
  if (before.findings.length !== 3) fail(`expected 3 findings, the page has ${before.findings.length}`);
  if (before.masks.length < 2) fail(`expected masks on two slices, the page has ${before.masks.length}`);

  // Reloaded, the page shows the same work.
  await session.page.reload({ waitUntil: 'domcontentloaded' });
  await session.waitForTask();
  const after = await session.state();
  for (const part of ['findings', 'masks', 'classifications']) {
    if (!same(before[part], after[part])) fail(`${part} differ after a reload`, { before: before[part], after: after[part] });
  }
  // Showing what was saved is not a change: nothing is saved again.
  await sleep(4000);
  const idle = await session.state();
  if (idle.revision !== before.revision) fail(`reopening the task saved revision ${idle.revision} over ${before.revision}`);
  if (await session.ws(() => window.labelingWorkstation.dirty())) fail('reopening the task marked the work unsaved');
  // The masks are on the screen again, not only in memory (the outline alone covers far less).
  const reopenedShown = await massOnScreen();
  if (!(reopenedShown > 0.7 * paintedShown)) fail('the saved masks are not shown when the task is reopened', { paintedShown, reopenedShown });
  const margin = await session.ws(() => document.querySelector('[aria-label="Margin description of finding 1"]').value);
  if (margin !== 'smooth, well defined') fail(`the margin description came back as '${margin}'`);
  if (slot === 0) await session.screenshot(shots && `${shots}/workstation-labeling.png`);

  await session.page.click('[data-testid=submit]');
  const flash = await session.waitForWorklist();
  return { task, status, flash, massOnScreen: { painted: paintedShown, reopened: reopenedShown }, ...after };
}

for (const [slot, [name, token]] of readers.entries()) {
  const session = await Session.open(base, { browser });
  await session.signIn(name, token);
  const work = await label(session, slot);
  result.readers.push({ name, ...work });
  if (session.log.errors.length) fail(`the browser reported errors for ${name}`, session.log.errors);
  await session.close();
}

// The reviewer.
const review = await Session.open(base, { browser });
await review.signIn(reviewerName, reviewerToken);
await review.openNextTask();
await review.page.waitForSelector('[data-testid=agreement]', { timeout: 30000 });
const shown = await review.ws(() => window.labelingWorkstation.readers());
if (shown.length !== readers.length || shown.some((r) => !r.shown)) fail('the review does not show every reader\'s work', shown);
result.agreement = await review.text('[data-testid=agreement]');
await review.screenshot(shots && `${shots}/workstation-review.png`);
await review.page.click('[data-testid=adopt-1]');
await sleep(800);
// The consensus keeps reader 1's box and mass, not the point.
await review.ws(() => {
  const card = document.querySelector('[data-testid=finding-1] .finding-head button.danger');
  card.click();
});
await sleep(500);
result.consensus = await review.state();
if (result.consensus.findings.length !== 2) fail(`the consensus should hold 2 findings, it has ${result.consensus.findings.length}`);
await review.type('Review comment', 'consensus: the point is not a nodule');
await review.page.click('[data-testid=adjudicate]');
result.reviewFlash = await review.waitForWorklist();
if (review.log.errors.length) fail('the browser reported errors for the reviewer', review.log.errors);
await review.close();

// The administrator sees the users, the protocols, what went to the PACS and the audit chain.
if (args.admin) {
  const [adminName, adminToken] = args.admin[0].split(':');
  const admin = await Session.open(base, { browser });
  await admin.signIn(adminName, adminToken);
  await admin.page.goto(`${base}/index.html#/admin`);
  await admin.page.waitForFunction(() => /Intact/.test(document.querySelector('[data-testid=audit-verification]')?.textContent || ''), { timeout: 30000 })
    .catch(async () => fail(`the admin page shows no intact audit chain: ${await admin.text('[data-testid=admin-audit]')}`));
  // The sections load independently: wait for the users too before reading the page.
  await admin.page.waitForFunction(() => (document.querySelector('[data-testid=admin-users]')?.textContent || '').includes('rita'), { timeout: 30000 })
    .catch(async () => fail(`the admin page lists no users: ${await admin.text('[data-testid=admin-users]')}`));
  result.admin = {
    users: await admin.text('[data-testid=admin-users]'),
    outbox: await admin.text('[data-testid=admin-outbox]'),
    audit: await admin.text('[data-testid=audit-verification]'),
    protocols: await admin.text('[data-testid=admin-protocols]'),
  };
  await admin.screenshot(shots && `${shots}/workstation-admin.png`);
  if (admin.log.errors.length) fail('the browser reported errors for the admin', admin.log.errors);
  await admin.close();
}
await browser.close();

const text = JSON.stringify(result);
if (args.out) writeFileSync(args.out[0], text);
console.log(text);
