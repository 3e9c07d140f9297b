#!/usr/bin/env bash
# The scale-out layout against the embedded one, in one run: the same studies ingested, the same
# DICOMweb searches and the same worklist claims on
#   sqlite   one node, SQLite index and state (the default)
#   pg1      one node on PostgreSQL (a private cluster started here)
#   pg3      three nodes on that PostgreSQL and one storage folder
# Reports QIDO p50/p99 per query kind (on pg3 three clients at once, one per node) and claims
# per second (16 readers, each a user of their own; on pg3 spread over the three nodes), and
# each as a ratio to sqlite. Usage:
#   bench/scaleout/run.sh [--studies N (10000)] [--per-study N (2)] [--queries N (200)] [--seconds N (10)] [--build DIR]
set -euo pipefail
studies=10000; per_study=2; queries=200; seconds=10; args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --studies) studies=$2; shift 2 ;;
    --per-study) per_study=$2; shift 2 ;;
    --queries) queries=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
reps=1; slices=$per_study
source "$(dirname "$0")/../common.sh" "${args[@]}"
source "$root/bench/qido/queries.sh"
export TCP_NODELAY=1
readers=16

# A private PostgreSQL cluster (as nobody under root: PostgreSQL refuses root).
pg_bin=$(pg_config --bindir)
as_owner() { if [ "$(id -u)" = 0 ]; then setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; else "$@"; fi; }
start_postgres() {
  pg_port=$(free_port)
  mkdir -p "$work/pg"
  if [ "$(id -u)" = 0 ]; then chmod 711 "$work"; chown 65534:65534 "$work/pg"; fi
  as_owner "$pg_bin/initdb" -D "$work/pg/data" -U annot --auth=trust -E UTF8 --locale=C > /dev/null
  as_owner "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c max_connections=200" start > /dev/null
}
stop_postgres() { as_owner "$pg_bin/pg_ctl" -D "$work/pg/data" -m fast -w stop > /dev/null || true; }
trap 'stop_postgres 2>/dev/null || true; cleanup' EXIT

# One protocol for every generated study (CT and MR), one reader, no review.
mkdir -p "$work/protocols"
cat > "$work/protocols/bench.json" <<'JSON'
{ "id": "bench", "version": "1", "title": "Benchmark", "appliesTo": {"modalities": ["CT", "MR"]},
  "procedure": {"code": "25045-6", "scheme": "LN", "meaning": "CT unspecified body region"}, "readers": 1, "review": false,
  "labels": [{"key": "nodule", "finding": {"code": "27925004", "scheme": "SCT", "meaning": "Nodule"}, "geometries": ["point"]}] }
JSON

# Starts node $1 (0, 1, 2) of a layout: $2 data folder, $3 extra serve options.
start_node() {
  local http; http=$(free_port); dicom[$1]=$(free_port); urls[$1]="http://127.0.0.1:$http"
  "$node_bin" serve --data-dir "$2" --http-port "$http" --dicom-port "${dicom[$1]}" --stable-age 1 --log-level warn \
    --config "$work/node.json" $3 > "$work/node$1.log" 2>&1 &
  pids+=($!)
  until curl -sf "${urls[$1]}/healthz" > /dev/null; do sleep 0.2; done
}
echo "{\"ProtocolsDirectory\": \"$work/protocols\"}" > "$work/node.json"

# Study folders to the layout's nodes in turn, four associations in all.
send_all() {  # $1 number of nodes
  ls -d "$work/gen"/study* | split -n r/4 - "$work/batch."
  local senders=() k=0
  for b in "$work"/batch.*; do
    xargs storescu -aec ANNOTNODE +sd +r -q 127.0.0.1 "${dicom[$((k % $1))]}" < "$b" &
    senders+=($!); k=$((k + 1))
  done
  wait "${senders[@]}"
  rm -f "$work"/batch.*
}

# Runs one layout: $1 name, $2 number of nodes, $3 data folder, $4 extra serve options.
run_layout() {
  local name=$1 n=$2
  echo "== $name: $n node(s)" >&2
  for ((k = 0; k < n; k++)); do start_node "$k" "$3" "$4"; done
  local who="--data-dir $3 $4"
  admin=$("$node_bin" user add admin --role admin $who --config "$work/node.json" 2> /dev/null | tail -1)
  tokens=()
  for ((r = 0; r < readers; r++)); do tokens+=("$("$node_bin" user add "reader$r" --role annotator $who --config "$work/node.json" 2> /dev/null | tail -1)"); done
  local t0 t1; t0=$(date +%s.%N); send_all "$n"; t1=$(date +%s.%N)
  ingest[$name]=$(awk "BEGIN{printf \"%.1f\", $t1 - $t0}")
  # Every study's task scheduled (stable after a second), then the worklist's ids.
  until [ "$(curl -sf -H "Authorization: Bearer $admin" "${urls[0]}/api/v1/tasks?state=SCHEDULED&limit=1&offset=$((studies - 1))" |
            node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).tasks.length))')" = 1 ]; do sleep 1; done
  : > "$work/ids.txt"
  for ((o = 0; o < studies; o += 1000)); do
    curl -sf -H "Authorization: Bearer $admin" "${urls[0]}/api/v1/tasks?state=SCHEDULED&limit=1000&offset=$o" |
      node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const t of JSON.parse(s).tasks)console.log(t.id)})' >> "$work/ids.txt"
  done
  curl -sf -H "Authorization: Bearer $admin" "${urls[0]}/dicomweb/series?limit=100000" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const x of JSON.parse(s))console.log(x["0020000D"].Value[0]+" "+x["0020000E"].Value[0])})' > "$work/series.txt"
  make_queries "$work/q.json" "$studies" "$work/series.txt"
  # QIDO: one client per node at once.
  local clients=()
  for ((k = 0; k < n; k++)); do
    node "$root/bench/qido/latency.mjs" "${urls[$k]}/dicomweb" "$admin" "$work/q.json" > "$work/qido$k.json" &
    clients+=($!)
  done
  wait "${clients[@]}"
  node -e '
    const fs = require("fs"); const files = process.argv.slice(2);
    const all = files.map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
    const out = {};
    for (const k of Object.keys(all[0])) out[k] = { p50: Math.max(...all.map((r) => r[k].p50)), p99: Math.max(...all.map((r) => r[k].p99)) };
    fs.writeFileSync(process.argv[1], JSON.stringify(out));' "$work/qido-$name.json" "$work"/qido[0-9].json
  rm -f "$work"/qido[0-9].json
  node -e '
    const fs = require("fs"); const [out, ids, secs, ...rest] = process.argv.slice(1);
    const n = Number(rest.shift()); const urls = rest.slice(0, n); const tokens = rest.slice(n);
    fs.writeFileSync(out, JSON.stringify({ urls, tokens, seconds: Number(secs),
      taskIds: fs.readFileSync(ids, "utf8").trim().split("\n").map(Number) }));' \
    "$work/claims.json" "$work/ids.txt" "$seconds" "$n" "${urls[@]:0:$n}" "${tokens[@]}"
  node "$root/bench/scaleout/claims.mjs" "$work/claims.json" > "$work/claims-$name.json"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
}


echo "generating $studies studies x $per_study instances (16x16)" >&2
"$gen_bin" --out "$work/gen" --studies "$studies" --slices "$per_study" --rows 16 --columns 16 --patient-id Q > /dev/null
declare -A ingest
declare -a dicom urls
start_postgres
for db in pg1 pg3; do "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U annot "$db"; done
warm_memory; run_layout sqlite 1 "$work/sqlite" ""
warm_memory; run_layout pg1 1 "$work/pg1" "--database postgresql://annot@127.0.0.1:$pg_port/pg1"
warm_memory; run_layout pg3 3 "$work/pg3" "--database postgresql://annot@127.0.0.1:$pg_port/pg3"

node -e '
  const fs = require("fs"); const w = process.argv[1]; const ingest = JSON.parse(process.argv[2]);
  const layouts = ["sqlite", "pg1", "pg3"];
  const qido = Object.fromEntries(layouts.map((l) => [l, JSON.parse(fs.readFileSync(`${w}/qido-${l}.json`, "utf8"))]));
  const claims = Object.fromEntries(layouts.map((l) => [l, JSON.parse(fs.readFileSync(`${w}/claims-${l}.json`, "utf8"))]));
  const f = (r) => `${r.p50.toFixed(2)} / ${r.p99.toFixed(2)}`;
  console.log("query (p50 / p99 ms)".padEnd(36) + layouts.map((l) => l.padStart(18)).join("") + "pg1/sqlite p50".padStart(16) + "pg3/sqlite p50".padStart(16));
  for (const k of Object.keys(qido.sqlite)) {
    console.log(k.padEnd(36) + layouts.map((l) => f(qido[l][k]).padStart(18)).join("") +
      (qido.pg1[k].p50 / qido.sqlite[k].p50).toFixed(2).padStart(15) + "x" + (qido.pg3[k].p50 / qido.sqlite[k].p50).toFixed(2).padStart(15) + "x");
  }
  console.log("claims per second (16 readers)".padEnd(36) + layouts.map((l) => claims[l].perSecond.toFixed(0).padStart(18)).join("") +
    (claims.pg1.perSecond / claims.sqlite.perSecond).toFixed(2).padStart(15) + "x" + (claims.pg3.perSecond / claims.sqlite.perSecond).toFixed(2).padStart(15) + "x");
  console.log("claim p50 / p99 ms".padEnd(36) + layouts.map((l) => f(claims[l]).padStart(18)).join(""));
  console.log("refused claims".padEnd(36) + layouts.map((l) => JSON.stringify(claims[l].refused).padStart(18)).join(""));
  console.log("ingest seconds (4 associations)".padEnd(36) + layouts.map((l) => String(ingest[l]).padStart(18)).join(""));
' "$work" "$(for k in sqlite pg1 pg3; do printf '"%s":%s,' "$k" "${ingest[$k]}"; done | sed 's/^/{/; s/,$/}/')"
