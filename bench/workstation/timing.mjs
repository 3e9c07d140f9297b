// Opens one study in the labeling workstation and in the published OHIF viewer (both served by
// the node, same images, same browser) and measures, from the navigation:
//   firstImageMs   until the first image of the series is on screen
//   scrollPerSec   images shown per second when scrolling the whole series with the arrow key
//                  (a first pass fetches the images, a second shows them from memory)
//   node timing.mjs --base URL-of-/ui --user NAME:TOKEN --task ID --study UID --images N
import { Session, parseArgs, sleep } from '../../workstation/test/e2e/workstation.mjs';

const args = parseArgs(process.argv);
const base = args.base[0];
const [name, token] = args.user[0].split(':');
const images = Number(args.images[0]);
const result = {};

async function scrollPass(session, indexOf) {
  const start = Date.now();
  for (let i = 1; i < images; i++) {
    await session.page.keyboard.press('ArrowDown');
    await session.page.waitForFunction(indexOf, { timeout: 60000, polling: 'raf' }, i);
  }
  return (images - 1) / ((Date.now() - start) / 1000);
}

// The workstation: the task page, opened at its first image.
{
  const s = await Session.open(base);
  await s.signIn(name, token);
  await s.page.goto(`${base}/index.html#/task/${args.task[0]}`, { waitUntil: 'domcontentloaded' });
  await s.page.waitForFunction(() => window.labelingWorkstation && window.labelingWorkstation.firstImageMs() > 0, { timeout: 120000, polling: 'raf' });
  result.workstation = { firstImageMs: Math.round(await s.ws(() => window.labelingWorkstation.firstImageMs())) };
  await s.ws(() => window.labelingWorkstation.go(0));
  await sleep(500);
  await s.ws(() => document.activeElement && document.activeElement.blur());
  const at = (i) => window.labelingWorkstation.imageIndex() === i;
  result.workstation.scrollColdPerSec = +(await scrollPass(s, at)).toFixed(1);
  await s.ws(() => window.labelingWorkstation.go(0));
  await sleep(500);
  result.workstation.scrollWarmPerSec = +(await scrollPass(s, at)).toFixed(1);
  await s.close();
}

// OHIF, the same study, from its viewer route.
{
  const s = await Session.open(base);
  await s.signIn(name, token);
  const url = new URL(`../viewer/viewer?StudyInstanceUIDs=${args.study[0]}`, `${base}/`).href;
  await s.page.goto(url, { waitUntil: 'domcontentloaded' });
  const shown = () => /I:\s*\d+/.test(document.querySelector('[data-cy=viewport-overlay-bottom-right]')?.textContent || '')
    && [...document.querySelectorAll('[data-cy=viewport-pane] canvas')].length > 0;
  await s.page.waitForFunction(shown, { timeout: 120000, polling: 'raf' });
  result.ohif = { firstImageMs: Math.round(await s.ws(() => performance.now())) };
  await sleep(1500);
  await s.ws(() => { const b = [...document.querySelectorAll('button, a, span')].find((e) => e.textContent.trim() === 'Skip all'); if (b) b.click(); });
  await sleep(500);
  await s.page.click('[data-cy=viewport-pane]');
  // OHIF's overlay reads "I:k (k/N)" from the first image on.
  const at = (i) => new RegExp(`\\(${i + 1}/`).test(document.querySelector('[data-cy=viewport-overlay-bottom-right]')?.textContent || '');
  const firstIndex = await s.ws(() => document.querySelector('[data-cy=viewport-overlay-bottom-right]')?.textContent || '');
  result.ohif.startsAt = firstIndex;
  result.ohif.scrollColdPerSec = +(await scrollPass(s, at)).toFixed(1);
  for (let i = 0; i < images - 1; i++) await s.page.keyboard.press('ArrowUp');
  await s.page.waitForFunction(at, { timeout: 60000 }, 0);
  result.ohif.scrollWarmPerSec = +(await scrollPass(s, at)).toFixed(1);
  await s.close();
}
console.log(JSON.stringify(result));
