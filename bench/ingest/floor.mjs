// A durable copy of the same bytes: what the disk charges at this moment for making the files
// durable, without network, parsing or indexing (a reference beside the receivers; on a virtual
// disk it swings as much as they do). Copies the same files into a fresh folder from the page
// cache and makes them durable:
//   per-file  each file written, fdatasync'd and renamed, its folder fsync'd, one after another
//             (one association: every C-STORE response waits for its own flush)
//   grouped   every file written and renamed, then one syncfs (`sync -f`) for all (group commit,
//             the best case for concurrent associations)
// usage: node floor.mjs SOURCE_DIR TARGET_DIR per-file|grouped   -> prints elapsed ms
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const [source, target, mode] = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.isFile() || e.isSymbolicLink()) files.push(p);
  }
};
walk(source);
const contents = files.map((f) => fs.readFileSync(f));  // read before timing: the receivers get bytes from the network
fs.mkdirSync(target, { recursive: true });
const started = process.hrtime.bigint();
const dirFd = fs.openSync(target, 'r');
contents.forEach((bytes, i) => {
  const final = path.join(target, `${i}.dcm`);
  const fd = fs.openSync(`${final}.part`, 'w');
  fs.writeSync(fd, bytes);
  if (mode === 'per-file') fs.fdatasyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(`${final}.part`, final);
  if (mode === 'per-file') fs.fsyncSync(dirFd);
});
if (mode === 'grouped') execFileSync('sync', ['-f', target]);
fs.closeSync(dirFd);
console.log(Math.round(Number(process.hrtime.bigint() - started) / 1e6));
