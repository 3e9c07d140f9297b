// Ending access in the browser: a reader is signed in with the worklist open; an administrator,
// signed in elsewhere, disables the reader on the admin page. The reader's next action signs
// the page out with the reason, and signing in again is refused with the server's words.
//
// With --hospital NAME:PASSWORD (a directory is configured), that radiologist first signs in
// with the hospital password through the same form.
//
//   node access.mjs --base http://127.0.0.1:PORT/ui/ --reader NAME:TOKEN --admin NAME:TOKEN
//                   [--hospital NAME:PASSWORD] [--screenshots DIR]
import { launch } from './browser.mjs';
import { Session, fail, parseArgs, sleep } from './workstation.mjs';

const args = parseArgs(process.argv);
const [readerName, readerToken] = args.reader[0].split(':');
const [adminName, adminToken] = args.admin[0].split(':');
const shots = args.screenshots ? args.screenshots[0] : '';
const browser = await launch();
const result = {};

if (args.hospital) {
  const [name, password] = args.hospital[0].split(':');
  const staff = await Session.open(args.base[0], { browser });
  await staff.page.goto(staff.base, { waitUntil: 'domcontentloaded' });
  await staff.page.waitForSelector('#signin-name', { timeout: 30000 });
  result.passwordLabel = await staff.text('label[for=signin-token]');
  await staff.signIn(name, password);
  result.hospitalUser = await staff.text('[data-testid=who]');
  await staff.close();
}

const reader = await Session.open(args.base[0], { browser });
await reader.signIn(readerName, readerToken);
await reader.page.waitForSelector('table.tasks tbody tr', { timeout: 30000 });
result.readerSawTasks = true;

const admin = await Session.open(args.base[0], { browser });
await admin.signIn(adminName, adminToken);
await admin.page.goto(`${args.base[0].replace(/\/$/, '')}/index.html#/admin`);
const row = `tr[data-user="${readerName}"]`;
await admin.page.waitForSelector(`${row} [data-action=disable]`, { timeout: 30000 });
admin.page.on('dialog', (dialog) => dialog.accept());
await admin.page.click(`${row} [data-action=disable]`);
await admin.page.waitForFunction((row) => document.querySelector(`${row} [data-testid=user-status]`)?.textContent === 'disabled',
  { timeout: 30000 }, row).catch(async () => fail(`the admin page did not show the user disabled: ${await admin.text('[data-testid=admin-users]')}`));
result.adminSees = await admin.text(`${row} [data-testid=user-status]`);
await admin.screenshot(shots && `${shots}/workstation-admin-access.png`);

// The reader's next action: the page learns at once that the session ended.
await reader.page.click('[data-testid=open-next]');
await reader.page.waitForSelector('#signin-name', { timeout: 30000 })
  .catch(async () => fail(`the reader's page was not signed out: ${await reader.text('main')}`));
result.signedOutMessage = await reader.text('[data-testid=signin-message]');
// Signing in again with the same token is refused, saying why.
await reader.page.type('#signin-name', readerName);
await reader.page.type('#signin-token', readerToken);
await reader.page.click('form.signin button[type=submit]');
await reader.page.waitForFunction(() => /disabled/.test(document.querySelector('[data-testid=signin-message]')?.textContent || ''), { timeout: 30000 })
  .catch(async () => fail(`signing in again was not refused with the reason: ${await reader.text('[data-testid=signin-message]')}`));
result.signInAgain = await reader.text('[data-testid=signin-message]');
await sleep(100);

// Only expected refusals reached the consoles: the reader's 401s, nothing else.
const unexpected = [...reader.log.errors, ...admin.log.errors].filter((e) => !/401|Unauthorized/.test(String(e.text || e)));
if (unexpected.length) fail('the browser reported errors', unexpected);
await reader.close();
await admin.close();
await browser.close();
console.log(JSON.stringify(result));
