// The images of a task as a reader sees them: every series of the study, whatever the node
// stores (JPEG-LS, a multi-frame Enhanced CT, a colour JPEG secondary capture), is drawn, and a
// shape on a frame of a multi-frame image is saved with its frame number.
//
//   node viewing.mjs --base URL --reader NAME:TOKEN --task ID [--screenshots DIR]
// Prints per series: modality, frames, what Cornerstone decoded and what the screen shows.
import { Session, fail, parseArgs, sleep } from './workstation.mjs';

const args = parseArgs(process.argv);
const [name, token] = args.reader[0].split(':');
const shots = args.screenshots ? args.screenshots[0] : '';
const session = await Session.open(args.base[0]);
await session.signIn(name, token);
await session.page.goto(`${args.base[0]}#/task/${args.task[0]}`);
await session.waitForTask();

const series = await session.ws(() => window.labelingWorkstation.series());
const report = [];
for (let i = 0; i < series.length; i++) {
  if (i > 0) await session.key('PageDown');
  await session.page.waitForFunction((i) => window.labelingWorkstation.seriesIndex() === i, {}, i);
  await session.page.waitForFunction(() => window.labelingWorkstation.image(), { timeout: 30000 });
  await sleep(800);
  const image = await session.ws(() => window.labelingWorkstation.image());
  const screen = await session.screenStats('.viewport');
  const entry = { ...series[i], image, screen, overlay: await session.text('.overlay .bottom-left') };
  if (series[i].frames > 1 && image.frame) {
    // Scrolled to the next frame of the multi-frame image, a box there keeps its frame number.
    await session.key('ArrowDown');
    await sleep(500);
    entry.frameAfterScroll = (await session.ws(() => window.labelingWorkstation.image())).frame;
    await session.label('nodule');
    await session.key('b');
    await session.drag([[8, 8], [20, 18]]);
    entry.drawn = (await session.ws(() => window.labelingWorkstation.findings())).at(-1);
  }
  if (shots) await session.screenshot(`${shots}/series-${i + 1}.png`);
  report.push(entry);
}
if (session.log.errors.length) fail('the browser reported errors', session.log.errors);
console.log(JSON.stringify({ series: report, httpErrors: session.log.httpErrors }));
await session.close();
