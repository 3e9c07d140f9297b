// Bundles the labeling workstation with esbuild into one folder the node (and the Orthanc plugin)
// serve at /ui:
//   index.html                     the page, naming the hashed bundles below
//   app-HASH.js, app-HASH.css      the application (ES module)
//   decodeImageFrameWorker.js      the image decoder worker; the loader starts it by this name,
//                                  relative to the bundle, so it keeps its name
//   codecs/*.wasm                  the decoders' WebAssembly (found through wasmBasePath)
//
//   node build.mjs --out DIR [--dev]
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error('workstation: its npm packages are missing; run "npm ci" in workstation/ (scripts/install-deps.sh does)');
  process.exit(1);
}
const require = createRequire(import.meta.url);

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const out = path.resolve(option('--out', path.join(here, 'dist')));
const dev = process.argv.includes('--dev');

// The Emscripten glue of the codecs and some of Cornerstone's dependencies name Node built-ins.
// fs, path and crypto are only used behind "are we in Node" checks: an empty module will do.
// events and url run at load time: the npm packages of the same names stand in.
const nodeBuiltins = {
  name: 'node-builtins',
  setup(build) {
    build.onResolve({ filter: /^(fs|path|crypto|module|worker_threads|perf_hooks)$/ }, (args) => ({
      path: args.path,
      namespace: 'empty',
    }));
    build.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export default {};', loader: 'js' }));
  },
};

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: !dev,
  sourcemap: dev ? 'inline' : false,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [nodeBuiltins],
  alias: { events: require.resolve('events/'), url: require.resolve('url/') },
  define: { 'process.env.NODE_ENV': dev ? '"development"' : '"production"' },
};

await rm(out, { recursive: true, force: true });
await mkdir(path.join(out, 'codecs'), { recursive: true });

const app = await esbuild.build({
  ...common,
  entryPoints: { app: path.join(here, 'src/main.js') },
  entryNames: '[name]-[hash]',
  outdir: out,
  metafile: true,
  loader: { '.css': 'css' },
});

await esbuild.build({
  ...common,
  entryPoints: {
    decodeImageFrameWorker: path.join(
      path.dirname(require.resolve('@cornerstonejs/dicom-image-loader/package.json')),
      'dist/esm/decodeImageFrameWorker.js',
    ),
  },
  entryNames: '[name]',
  outdir: out,
});

// The decoders' WebAssembly, under the names the loader asks for.
const codecs = [
  '@cornerstonejs/codec-charls/decodewasm',
  '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm',
  '@cornerstonejs/codec-openjpeg/decodewasm',
  '@cornerstonejs/codec-openjph/wasm',
  '@cornerstonejs/codec-libjxl/decodewasm',
];
for (const codec of codecs) {
  const file = require.resolve(codec);
  await copyFile(file, path.join(out, 'codecs', path.basename(file)));
}

// index.html names the hashed bundles.
const outputs = Object.keys(app.metafile.outputs).map((f) => path.basename(f));
const script = outputs.find((f) => /^app-.*\.js$/.test(f));
const style = outputs.find((f) => /^app-.*\.css$/.test(f));
let html = await readFile(path.join(here, 'src/index.html'), 'utf8');
html = html.replace('%APP_JS%', script).replace('%APP_CSS%', style);
await writeFile(path.join(out, 'index.html'), html);
await copyFile(path.join(here, 'src/favicon.svg'), path.join(out, 'favicon.svg'));
// Not part of the page: the Orthanc plugin hands this to Orthanc Explorer at start-up.
await copyFile(path.join(here, 'src/orthanc-explorer.js'), path.join(out, 'orthanc-explorer.js'));
console.log(`workstation built into ${out} (${script}, ${style})`);
