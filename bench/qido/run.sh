#!/usr/bin/env bash
# QIDO-RS and series metadata latency: the node against Orthanc + its DICOMweb plugin, same
# studies, same queries, same run. Usage:
#   bench/qido/run.sh [--studies N (10000)] [--per-study N (10)] [--queries N (200)] [--build DIR]
#   bench/qido/run.sh --sweep 1000000     the node alone, study-search latency as the index grows
set -euo pipefail
studies=10000; per_study=10; queries=200; sweep=0; args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --studies) studies=$2; shift 2 ;;
    --per-study) per_study=$2; shift 2 ;;
    --queries) queries=$2; shift 2 ;;
    --sweep) sweep=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
reps=1; slices=$per_study
source "$(dirname "$0")/../common.sh" "${args[@]}"
source "$root/bench/qido/queries.sh"
export TCP_NODELAY=1

start_node() {  # $1 data dir
  node_http=$(free_port); node_dicom=$(free_port)
  token=$("$node_bin" user add bench --role admin --data-dir "$1" | tail -1)
  "$node_bin" serve --data-dir "$1" --http-port "$node_http" --dicom-port "$node_dicom" --log-level warn > "$work/node.log" 2>&1 &
  pids+=($!)
  until curl -sf "http://127.0.0.1:$node_http/healthz" > /dev/null; do sleep 0.2; done
}
start_orthanc() {
  orthanc_http=$(free_port); orthanc_dicom=$(free_port)
  mkdir -p "$work/orthanc"
  cat > "$work/orthanc.json" <<JSON
{ "Name": "BENCH", "StorageDirectory": "$work/orthanc", "IndexDirectory": "$work/orthanc", "HttpPort": $orthanc_http,
  "DicomPort": $orthanc_dicom, "DicomAet": "ORTHANC", "DicomCheckCalledAet": false, "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false, "StorageCompression": false,
  "Plugins": ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"], "DicomWeb": {"Enable": true, "Root": "/dicom-web/"} }
JSON
  Orthanc "$work/orthanc.json" > "$work/orthanc.log" 2>&1 &
  pids+=($!)
  until curl -sf "http://127.0.0.1:$orthanc_http/system" > /dev/null; do sleep 0.2; done
}
# Sends every study folder under $1 over 4 associations.
send_all() {  # $1 folder, $2 port, $3 called AE
  ls -d "$1"/study* | split -n r/4 - "$work/batch."
  local senders=()
  for b in "$work"/batch.*; do
    xargs storescu -aec "$3" +sd +r -q 127.0.0.1 "$2" < "$b" &
    senders+=($!)
  done
  wait "${senders[@]}"  # not a bare wait: the servers are children too
  rm -f "$work"/batch.*
}

if [ "$sweep" -gt 0 ]; then
  echo "size sweep, node alone, up to $sweep instances ($per_study per study)"
  start_node "$work/node"
  have=0; step=$studies
  echo "p50 / p99 ms per query kind; each step adds $step studies and queries only what is there"
  printf '%10s %8s %16s %16s %16s %16s %8s\n' instances studies PatientID DateRange30d Modality SeriesMeta ingest_s
  while [ $((have * per_study)) -lt "$sweep" ]; do
    rm -rf "$work/gen"; "$gen_bin" --out "$work/gen" --studies "$step" --slices "$per_study" --rows 16 --columns 16 --patient-id "S$have" > /dev/null
    t0=$(date +%s.%N); send_all "$work/gen" "$node_dicom" ANNOTNODE; t1=$(date +%s.%N)
    have=$((have + step))
    curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$node_http/dicomweb/series?limit=300&offset=$((have - step))" |
      node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const x of JSON.parse(s))console.log(x["0020000D"].Value[0]+" "+x["0020000E"].Value[0])})' > "$work/series.txt"
    make_queries "$work/q.json" "$step" "$work/series.txt"
    sed -i "s/PatientID=Q-/PatientID=S$((have - step))-/g" "$work/q.json"
    r=$(node "$root/bench/qido/latency.mjs" "http://127.0.0.1:$node_http/dicomweb" "$token" "$work/q.json")
    echo "$r" | node -e '
      const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
      const [n, studies, secs] = process.argv.slice(1);
      const f = (k) => `${r[k].p50.toFixed(2)} / ${r[k].p99.toFixed(2)}`.padStart(17);
      console.log(n.padStart(10) + studies.padStart(9) + f("studies by PatientID") + f("studies by 30-day StudyDate range") +
                  f("studies by ModalitiesInStudy") + f("series metadata") + Number(secs).toFixed(1).padStart(9));' \
      "$((have * per_study))" "$have" "$(awk "BEGIN{print $t1 - $t0}")"
  done
  exit 0
fi

echo "generating $studies studies x $per_study instances (16x16)"
"$gen_bin" --out "$work/gen" --studies "$studies" --slices "$per_study" --rows 16 --columns 16 --patient-id Q > /dev/null
start_node "$work/node"
start_orthanc
t0=$(date +%s.%N); send_all "$work/gen" "$node_dicom" ANNOTNODE; t1=$(date +%s.%N)
send_all "$work/gen" "$orthanc_dicom" ORTHANC; t2=$(date +%s.%N)
echo "ingest (4 associations): node $(awk "BEGIN{print $t1 - $t0}") s, Orthanc $(awk "BEGIN{print $t2 - $t1}") s"
curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$node_http/dicomweb/series?limit=100000" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const x of JSON.parse(s))console.log(x["0020000D"].Value[0]+" "+x["0020000E"].Value[0])})' > "$work/series.txt"
make_queries "$work/q.json" "$studies" "$work/series.txt"
node_r=$(node "$root/bench/qido/latency.mjs" "http://127.0.0.1:$node_http/dicomweb" "$token" "$work/q.json")
orthanc_r=$(node "$root/bench/qido/latency.mjs" "http://127.0.0.1:$orthanc_http/dicom-web" - "$work/q.json")
node -e '
  const [a, b] = [JSON.parse(process.argv[1]), JSON.parse(process.argv[2])];
  console.log("query".padEnd(36) + "node p50/p99 ms".padStart(20) + "Orthanc p50/p99 ms".padStart(22) + "p50 ratio".padStart(11));
  for (const k of Object.keys(a)) {
    const f = (r) => `${r.p50.toFixed(2)} / ${r.p99.toFixed(2)}`;
    console.log(k.padEnd(36) + f(a[k]).padStart(20) + f(b[k]).padStart(22) + (b[k].p50 / a[k].p50).toFixed(1).padStart(10) + "x");
  }' "$node_r" "$orthanc_r"
