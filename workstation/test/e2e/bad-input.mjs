// Bad input from the browser, as a faulty client (or a tampered request) would send it: a
// polygon with two points, a mask that does not fit its image, a label the protocol does not
// have. Each save is refused by the API, the workstation shows the reason next to the item it
// concerns, and the revision saved before is untouched, on the server and after a reload.
//
//   node bad-input.mjs --base URL --reader NAME:TOKEN
import { Session, fail, parseArgs, sleep } from './workstation.mjs';

const args = parseArgs(process.argv);
const [name, token] = args.reader[0].split(':');
const session = await Session.open(args.base[0], { ignore: [/status of 422/, /^422 /, /status of 401/, /^401 /] });
const { page } = session;
// A wrong token first: the sign-in says so, and nothing else happens.
await page.goto(args.base[0], { waitUntil: 'domcontentloaded' });
await page.waitForSelector('#signin-name');
await page.type('#signin-name', name);
await page.type('#signin-token', `${token}x`);
await page.click('form.signin button[type=submit]');
await page.waitForFunction(() => /do not match/.test(document.querySelector('[data-testid=signin-message]')?.textContent || ''), { timeout: 20000 });
const wrongToken = await session.text('[data-testid=signin-message]');
await session.signIn(name, token);
await session.openNextTask();
const task = await session.ws(() => Number(window.location.hash.split('/')[2]));

// A good draft first: a nodule box and a mass outline with a painted mask.
await session.label('nodule');
await session.key('b');
await session.drag([[20, 20], [40, 36]]);
await session.label('mass');
await session.key('f');
await session.drag([[60, 60], [90, 60], [90, 90], [60, 90], [60.2, 60.2]]);
await session.key('m');
await session.drag([[70, 70], [80, 76]]);
await session.saveDraft();
const good = await session.state();
const savedOnServer = () => session.ws(async (task) => (await (await fetch(`../api/v1/tasks/${task}/annotation`)).json()), task);
const goodOnServer = await savedOnServer();

// The next save's body is changed on its way out, as a faulty client would send it. A real
// edit comes first: a draft identical to the last revision is not sent at all.
let edits = 0;
async function saveTampered(tamper) {
  await session.type('Comment on finding 1', `edit ${++edits}`);
  await page.setRequestInterception(true);
  const handler = (request) => {
    if (request.method() === 'PUT' && request.url().includes('/annotation')) {
      const doc = JSON.parse(request.postData());
      tamper(doc);
      request.continue({ postData: JSON.stringify(doc) });
    } else {
      request.continue();
    }
  };
  page.on('request', handler);
  await page.click('[data-testid=save]');
  await page.waitForFunction(() => /Not saved/.test(document.querySelector('[data-testid=save-status]').textContent), { timeout: 20000 })
    .catch(async () => fail(`the tampered save was not refused: ${await session.text('[data-testid=save-status]')}`));
  page.off('request', handler);
  await page.setRequestInterception(false);
  await sleep(300);
}

const shown = {};
await saveTampered((doc) => { doc.findings[1].geometry.points = doc.findings[1].geometry.points.slice(0, 2); });
shown.twoPointPolygon = await session.text('[data-testid=finding-1] .problems');
await saveTampered((doc) => { doc.segmentation.masks[0].runs.push([1000000, 5]); });
shown.maskOffTheImage = await session.text('.masks .problems');
await saveTampered((doc) => { doc.findings[0].label = 'tumour'; });
shown.labelNotInProtocol = await session.text('[data-testid=finding-0] .problems');

// Nothing saved is lost: the server still has the good draft, and a reload shows it.
const after = await savedOnServer();
await page.reload({ waitUntil: 'domcontentloaded' });
await session.waitForTask();
const reloaded = await session.state();
console.log(JSON.stringify({
  wrongToken,
  shown,
  revisionBefore: goodOnServer.revision,
  revisionAfter: after.revision,
  sameOnServer: JSON.stringify(goodOnServer.annotation) === JSON.stringify(after.annotation),
  sameAfterReload: JSON.stringify({ f: good.findings, m: good.masks }) === JSON.stringify({ f: reloaded.findings, m: reloaded.masks }),
  errors: session.log.errors,
}));
await session.close();
