// A reader starts from an algorithm's pre-label: opening the task shows the algorithm's findings
// marked "AI" and its mask painted, with a banner that says where they came from. The reader
// deletes one finding, draws one of their own, saves (the server marks what is still the
// algorithm's), and submits. Prints what the page showed, for the caller to compare with the
// results.
//
//   node prelabel.mjs --base http://127.0.0.1:PORT/ui/ --reader NAME:TOKEN [--screenshots DIR]
import { launch } from './browser.mjs';
import { Session, fail, parseArgs } from './workstation.mjs';

const args = parseArgs(process.argv);
const [name, token] = args.reader[0].split(':');
const shots = args.screenshots ? args.screenshots[0] : '';
const browser = await launch();
const session = await Session.open(args.base[0], { browser });
await session.signIn(name, token);
await session.openNextTask();
const task = await session.ws(() => Number(window.location.hash.split('/')[2]));

const badges = () => session.ws(() => [...document.querySelectorAll('[data-testid^=finding-]')]
  .map((card) => (card.querySelector('.badge.ai') || { textContent: '' }).textContent));
const colourOf = (key) => session.ws((key) =>
  getComputedStyle(document.querySelector(`[data-label="${key}"] .swatch`)).backgroundColor.match(/\d+/g).slice(0, 3).map(Number), key);

const banner = await session.text('[data-testid=banner]');
const opened = await session.state();
const shownBadges = await badges();
const maskOnScreen = (await session.screenStats('.viewport', await colourOf('nodule'))).colourFraction;
await session.screenshot(shots && `${shots}/workstation-prelabel.png`);
if (!banner.includes('pre-label of NoduleNet 3.1')) fail('the banner does not say where the draft came from', banner);
if (opened.findings.length !== 2) fail(`expected the algorithm's 2 findings, the page has ${opened.findings.length}`, opened.findings);
if (shownBadges.join() !== 'AI,AI') fail('the algorithm\'s findings are not marked', shownBadges);
if (opened.masks.length === 0) fail('the algorithm\'s mask is not in the draft', opened);

// The second finding is wrong: delete it. Draw a nodule of one's own.
await session.page.click('[data-testid=finding-1] .link.danger');
await session.label('nodule');
await session.key('b');
await session.drag([[40, 40], [52, 50]]);
const status = await session.saveDraft();
const saved = await session.state();
const savedBadges = await badges();
if (savedBadges.join() !== 'AI,') fail('after saving, the kept finding is the algorithm\'s and the new one the reader\'s', savedBadges);

await session.page.click('[data-testid=submit]');
const flash = await session.waitForWorklist();
if (session.log.errors.length) fail('the browser reported errors', session.log.errors);
await session.close();
await browser.close();
console.log(JSON.stringify({ task, banner, opened, shownBadges, maskOnScreen, status, saved, savedBadges, flash }));
