// Hospital sign-in through an OpenID provider, in the browser: the sign-in page offers the
// hospital account; the provider's own login form takes the password; the browser comes back
// signed in with the role the provider's groups grant. Someone in no labeling group comes back
// to the sign-in page with the reason.
//
//   node oidc.mjs --base http://127.0.0.1:PORT/ui/ --user NAME:PASSWORD --outsider NAME:PASSWORD [--screenshots DIR]
import { launch } from './browser.mjs';
import { Session, fail, parseArgs } from './workstation.mjs';

const args = parseArgs(process.argv);
const shots = args.screenshots ? args.screenshots[0] : '';
const browser = await launch();
const result = {};

async function throughTheProvider(nameAndPassword) {
  const [name, password] = nameAndPassword.split(':');
  const s = await Session.open(args.base[0], { browser });
  await s.page.goto(s.base, { waitUntil: 'domcontentloaded' });
  await s.page.waitForSelector('[data-testid=signin-oidc]', { timeout: 30000 })
    .catch(async () => fail(`the sign-in page offers no hospital account: ${await s.text('form.signin')}`));
  if (shots && !result.shown) {
    await s.screenshot(`${shots}/workstation-signin-hospital.png`);
    result.shown = true;
  }
  await Promise.all([s.page.waitForNavigation({ waitUntil: 'domcontentloaded' }), s.page.click('[data-testid=signin-oidc]')]);
  await s.page.waitForSelector('#login', { timeout: 30000 }).catch(async () => fail(`no provider login form at ${s.page.url()}`, s.log));
  result.providerPage = new URL(s.page.url()).port;
  await s.page.type('#login', name);
  await s.page.type('#password', password);
  await Promise.all([s.page.waitForNavigation({ waitUntil: 'domcontentloaded' }), s.page.click('#submit')]);
  return s;
}

const staff = await throughTheProvider(args.user[0]);
await staff.page.waitForSelector('[data-testid=who]', { timeout: 30000 })
  .catch(async () => fail(`not signed in after the provider: ${staff.page.url()} ${await staff.text('body')}`));
result.who = await staff.text('[data-testid=who]');
result.landedOn = new URL(staff.page.url()).pathname;
result.session = await staff.ws(async () => (await fetch('../api/v1/session')).json());
await staff.close();

const outsider = await throughTheProvider(args.outsider[0]);
await outsider.page.waitForFunction(() => /not in a group/.test(document.querySelector('[data-testid=signin-message]')?.textContent || ''),
  { timeout: 30000 }).catch(async () => fail(`the outsider was not told why: ${outsider.page.url()} ${await outsider.text('body')}`));
result.outsiderMessage = await outsider.text('[data-testid=signin-message]');
result.outsiderSession = await outsider.ws(async () => (await fetch('../api/v1/session')).json());
await outsider.close();
await browser.close();
console.log(JSON.stringify(result));
