// Claims per second: readers (one user each) claim tasks from the worklist as fast as their
// answers come, each over a kept-alive connection to the node it is given, the task ids handed
// out from one list so that no two readers ask for the same task. Prints JSON.
// usage: node claims.mjs SETUP.json   {"urls": [...], "tokens": [...], "taskIds": [...], "seconds": N}
import fs from 'node:fs';
import http from 'node:http';

const setup = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const deadline = Date.now() + setup.seconds * 1000;
let next = 0;
let claimed = 0;
const refused = {};
const times = [];

function post(agent, url, token, path) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(url + path, { method: 'POST', agent, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function reader(i) {
  const url = setup.urls[i % setup.urls.length];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  while (Date.now() < deadline && next < setup.taskIds.length) {
    const id = setup.taskIds[next++];
    const r = await post(agent, url, setup.tokens[i], `/api/v1/tasks/${id}/claim`);
    if (r.status === 200) {
      claimed++;
      times.push(r.ms);
    } else {
      refused[r.status] = (refused[r.status] || 0) + 1;
    }
  }
}

const started = Date.now();
await Promise.all(setup.tokens.map((_, i) => reader(i)));
const seconds = (Date.now() - started) / 1000;
times.sort((a, b) => a - b);
const at = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))];
console.log(JSON.stringify({ claimed, refused, seconds, perSecond: claimed / seconds, p50: at(50), p99: at(99) }));
