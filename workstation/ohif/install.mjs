// The published OHIF viewer (npm @ohif/app: its dist/ is the whole built viewer), pinned by
// version and integrity in ohif.json, served by the product at /viewer for its own DICOMweb.
//
//   node install.mjs fetch              npm pack the pinned tarball into .cache/ (network; once)
//                                       and check its sha512 against ohif.json
//   node install.mjs build --out DIR    unpack dist/ into DIR with the product's app-config.js.
//
// The published build was made for the site root ("/"), the product serves it below a path
// ("/viewer", "/annotation/viewer"). Two things move with it, as a build with that PUBLIC_URL
// would have them: index.html names "%VIEWER_BASE%/" (the server fills in where it serves the
// viewer), and webpack's public path, written "/" into the bundles' runtime, becomes the page's
// PUBLIC_URL (the directory of the worker script in workers).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const pin = JSON.parse(readFileSync(path.join(here, 'ohif.json'), 'utf8'));
const cache = path.join(here, '.cache');
const tarball = path.join(cache, `ohif-app-${pin.version}.tgz`);

function integrityOf(file) {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

function fetchPinned() {
  if (existsSync(tarball) && integrityOf(tarball) === pin.integrity) return;
  mkdirSync(cache, { recursive: true });
  execFileSync('npm', ['pack', `${pin.package}@${pin.version}`, '--pack-destination', cache, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const got = integrityOf(tarball);
  if (got !== pin.integrity) {
    rmSync(tarball, { force: true });
    throw new Error(`${pin.package}@${pin.version}: integrity ${got} is not the pinned ${pin.integrity}`);
  }
}

function build(out) {
  if (!existsSync(tarball)) {
    console.error(`ohif: ${tarball} is missing; run scripts/install-deps.sh (it fetches the pinned OHIF build)`);
    process.exit(1);
  }
  const staging = `${out}.new`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', staging, '--strip-components=2', 'package/dist']);
  const index = path.join(staging, 'index.html');
  const html = readFileSync(index, 'utf8')
    .replaceAll('window.PUBLIC_URL="/"', 'window.PUBLIC_URL="%VIEWER_BASE%/"')
    .replace(/(href|src)="\/(?!\/)/g, '$1="%VIEWER_BASE%/');
  writeFileSync(index, html);
  const rootPath = '__webpack_require__.p = "/";';
  const ownPath = '__webpack_require__.p = (typeof window !== "undefined" && window.PUBLIC_URL) || new URL("./", self.location.href).pathname;';
  let moved = 0;
  for (const name of readdirSync(staging).filter((n) => n.endsWith('.js'))) {
    const file = path.join(staging, name);
    const text = readFileSync(file, 'utf8');
    if (!text.includes(rootPath)) continue;
    writeFileSync(file, text.replaceAll(rootPath, ownPath));
    moved++;
  }
  if (!moved) throw new Error('no webpack public path found in the bundles: the OHIF build changed, check install.mjs');
  // Style sheets name fonts and images from the root too; they sit beside the style sheets.
  for (const name of readdirSync(staging).filter((n) => n.endsWith('.css'))) {
    const file = path.join(staging, name);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/url\(\/(?!\/)/g, 'url(./'));
  }
  copyFileSync(path.join(here, 'app-config.js'), path.join(staging, 'app-config.js'));
  rmSync(out, { recursive: true, force: true });
  renameSync(staging, out);
  console.log(`ohif ${pin.version} unpacked into ${out}`);
}

const [command] = process.argv.slice(2);
if (command === 'fetch') fetchPinned();
else if (command === 'build') build(path.resolve(process.argv[process.argv.indexOf('--out') + 1]));
else {
  console.error('usage: node install.mjs fetch | build --out DIR');
  process.exit(2);
}
