// Sends the same kinds of DICOMweb queries to one server, one at a time over a kept-alive
// connection, and prints the latency percentiles per kind as JSON.
// usage: node latency.mjs BASE_URL TOKEN|- QUERIES.json
// QUERIES.json: {"kind": ["/studies?PatientID=...", ...], ...} (paths below BASE_URL)
import fs from 'node:fs';
import http from 'node:http';

const [base, token, queriesFile] = process.argv.slice(2);
const queries = JSON.parse(fs.readFileSync(queriesFile, 'utf8'));
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const headers = token && token !== '-' ? { Authorization: `Bearer ${token}` } : {};

function get(path) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.get(base + path, { agent, headers }, (res) => {
      let size = 0;
      res.on('data', (chunk) => { size += chunk.length; });
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${path}: ${res.statusCode}`));
        else resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, size });
      });
    });
    req.on('error', reject);
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const result = {};
for (const [kind, paths] of Object.entries(queries)) {
  await get(paths[0]);  // one warm-up request per kind
  const times = [];
  let bytes = 0;
  for (const p of paths) {
    const r = await get(p);
    times.push(r.ms);
    bytes += r.size;
  }
  times.sort((a, b) => a - b);
  result[kind] = { n: times.length, p50: percentile(times, 50), p99: percentile(times, 99), meanBytes: Math.round(bytes / times.length) };
}
console.log(JSON.stringify(result));
