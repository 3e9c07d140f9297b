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

// What the viewport shows: mean, spread and colourfulness of its pixels on the screen.
async function screenStats() {
  const box = await session.page.$eval('.viewport', (e) => { const r = e.getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; });
  const png = await session.page.screenshot({ clip: box, encoding: 'base64' });
  return session.ws(async (png) => {
    const img = new Image();
    img.src = `data:image/png;base64,${png}`;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const { data } = ctx.getImageData(0, 0, img.width, img.height);
    let sum = 0, sum2 = 0, chroma = 0, n = 0;
    for (let i = 0; i < data.length; i += 16) {
      const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
      const y = (r + g + b) / 3;
      sum += y; sum2 += y * y; n++;
      chroma += Math.max(r, g, b) - Math.min(r, g, b);
    }
    const mean = sum / n;
    return { mean, spread: Math.sqrt(sum2 / n - mean * mean), chroma: chroma / n };
  }, png);
}

const series = await session.ws(() => window.labelingWorkstation.series());
const report = [];
for (let i = 0; i < series.length; i++) {
  if (i > 0) await session.key('PageDown');
  await session.page.waitForFunction((i) => window.labelingWorkstation.seriesIndex() === i, {}, i);
  await session.page.waitForFunction(() => window.labelingWorkstation.image(), { timeout: 30000 });
  await sleep(800);
  const image = await session.ws(() => window.labelingWorkstation.image());
  const screen = await screenStats();
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
