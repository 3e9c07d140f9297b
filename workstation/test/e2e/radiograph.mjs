// Masks on a radiograph, which has no plane geometry: a reader opens a chest DX task, boxes a
// pneumothorax, paints it and a lung field with the brush, answers the image's overall
// assessment, saves, reloads and finds the masks on the screen again, and submits.
// Prints what was drawn and painted, for the caller to compare with the SR and SEG that reach
// the PACS.
//
//   node radiograph.mjs --base http://127.0.0.1:PORT/ui/ --reader NAME:TOKEN [--screenshots DIR]
import { launch } from './browser.mjs';
import { Session, fail, parseArgs, sleep } from './workstation.mjs';

const args = parseArgs(process.argv);
const [name, token] = args.reader[0].split(':');
const shots = args.screenshots ? args.screenshots[0] : '';
const browser = await launch();
const session = await Session.open(args.base[0], { browser });
await session.signIn(name, token);
await session.openNextTask();
const task = await session.ws(() => Number(window.location.hash.split('/')[2]));

const colourOf = (key) => session.ws((key) =>
  getComputedStyle(document.querySelector(`[data-label="${key}"] .swatch`)).backgroundColor.match(/\d+/g).slice(0, 3).map(Number), key);
const shownFraction = async (key) => (await session.screenStats('.viewport', await colourOf(key))).colourFraction;

// The radiograph's Patient Orientation (L, F) puts its markers at the edges.
const markers = {};
for (const edge of ['left', 'right', 'top', 'bottom']) markers[edge] = await session.text(`[data-testid=marker-${edge}]`);
if (JSON.stringify(markers) !== JSON.stringify({ left: 'R', right: 'L', top: 'H', bottom: 'F' })) fail('orientation markers', markers);

// The image is wider than tall: a mask put back with rows and columns swapped would show.
await session.label('pneumothorax');
await session.key('b');
await session.drag([[150, 30], [200, 70]]);
await session.key('m');
await session.drag([[160, 40], [190, 45], [185, 60], [165, 58]]);
await session.label('lung-field');
await session.drag([[40, 60], [80, 70], [90, 120], [50, 140], [45, 100]]);
await session.choose('Overall assessment', 'Abnormal');
const status = await session.saveDraft();
const before = await session.state();
const painted = { pneumothorax: await shownFraction('pneumothorax'), lungField: await shownFraction('lung-field') };
await session.screenshot(shots && `${shots}/workstation-radiograph.png`);
if (before.findings.length !== 1) fail(`expected 1 finding, the page has ${before.findings.length}`, before);
if (before.masks.length !== 2) fail(`expected 2 masks (two segments on the radiograph), the page has ${before.masks.length}`, before.masks);

await session.page.reload({ waitUntil: 'domcontentloaded' });
await session.waitForTask();
await sleep(500);
const after = await session.state();
for (const part of ['findings', 'masks', 'classifications']) {
  if (JSON.stringify(before[part]) !== JSON.stringify(after[part])) fail(`${part} differ after a reload`, { before: before[part], after: after[part] });
}
const reopened = { pneumothorax: await shownFraction('pneumothorax'), lungField: await shownFraction('lung-field') };
for (const k of Object.keys(painted)) {
  if (!(painted[k] > 0.002)) fail(`the ${k} mask is not on the screen after painting`, painted);
  if (!(reopened[k] > 0.7 * painted[k])) fail(`the ${k} mask is not shown when the task is reopened`, { painted, reopened });
}
await session.page.click('[data-testid=submit]');
const flash = await session.waitForWorklist();
if (session.log.errors.length) fail('the browser reported errors', session.log.errors);
await session.close();
await browser.close();
console.log(JSON.stringify({ task, status, flash, painted, reopened, ...after }));
