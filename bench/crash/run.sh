#!/usr/bin/env bash
# bench/crash: the crash campaign for ingest. A 500-instance study is sent with storescu while
# the node is killed with SIGKILL at a random moment, again and again (default 20 kills, each
# round a new study so that every kill lands in the middle of new work), the node restarted on
# the same data each time. Afterwards every instance storescu saw
# acknowledged in any round must be listed by the node (QIDO-RS) and its stored file must hold
# the dataset byte for byte. Prints a Markdown summary (for docs/reliability.md); exits 1 when
# anything acknowledged was lost or changed.
#
# usage: bench/crash/run.sh [--build DIR] [--reps KILLS] [--slices N]
set -euo pipefail

reps=20
slices=500
source "$(dirname "$0")/../common.sh"
for t in storescu echoscu curl python3; do command -v "$t" >/dev/null || { echo "missing $t: run scripts/install-deps.sh" >&2; exit 1; }; done
export TCP_NODELAY=1

data="$work/data"
token=$("$node_bin" user add bench --role admin --data-dir "$data" | tail -1)
dicom_port=$(free_port)
http_port=$(free_port)
node_pid=""
start_node() {
  "$node_bin" serve --data-dir "$data" --dicom-port "$dicom_port" --http-port "$http_port" --log-level warn >>"$work/node.log" 2>&1 &
  node_pid=$!
  pids+=("$node_pid")
  for _ in $(seq 1 400); do
    echoscu -aec ANNOTNODE 127.0.0.1 "$dicom_port" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "the node did not come back up" >&2
  exit 1
}

# storescu's log -> the files it saw acknowledged (a Success response after "Sending file").
acknowledged() {
  awk '/Sending file:/ {f = $NF} /Received Store Response \(Success\)/ {if (f != "") print f; f = ""}' "$1"
}

: >"$work/acked"
start_node
rounds=""
studies=""
for k in $(seq 1 "$reps"); do
  studies+="$("$gen_bin" --out "$work/ct$k" --slices "$slices" --rows 64 --columns 64 --patient-id "CRASH-$k") "
  cat "$work/ct$k"/series1/*.dcm >/dev/null
  storescu -v -aec ANNOTNODE +sd +r 127.0.0.1 "$dicom_port" "$work/ct$k" >"$work/send-$k.log" 2>&1 &
  sender=$!
  # A random moment within the send (500 small instances take about a second here).
  sleep "0.$((RANDOM % 9))$((RANDOM % 10))"
  kill -9 "$node_pid" 2>/dev/null || true
  wait "$node_pid" 2>/dev/null || true
  wait "$sender" 2>/dev/null || true
  n=$(acknowledged "$work/send-$k.log" | tee -a "$work/acked" | wc -l)
  rounds+="$n "
  echo "kill $k: $n instances acknowledged before it" >&2
  start_node
done
# Finish the studies, then check everything ever acknowledged.
for k in $(seq 1 "$reps"); do storescu -aec ANNOTNODE +sd +r 127.0.0.1 "$dicom_port" "$work/ct$k" >>"$work/final.log" 2>&1; done
sort -u "$work/acked" -o "$work/acked"
python3 - "$work/acked" "$data" "$http_port" "$token" "$studies" "$slices" "$reps" "$rounds" <<'PY'
import hashlib, json, subprocess, sys, urllib.request
acked_file, data, port, token, studies, slices, kills, rounds = sys.argv[1:]
def sop_of(path):
    out = subprocess.run(["dcmdump", "+P", "SOPInstanceUID", path], capture_output=True, text=True).stdout
    return out.split("[", 1)[1].split("]", 1)[0]
def dataset(path):
    b = open(path, "rb").read()
    if b[128:132] != b"DICM":
        return b
    group = int.from_bytes(b[140:144], "little")
    return b[144 + group:]
listed, complete = set(), 0
for study in studies.split():
    req = urllib.request.Request(f"http://127.0.0.1:{port}/dicomweb/studies/{study}/instances?limit=100000",
                                 headers={"Authorization": f"Bearer {token}", "Accept": "application/dicom+json"})
    found = {i["00080018"]["Value"][0] for i in json.load(urllib.request.urlopen(req))}
    listed |= found
    complete += len(found) == int(slices)
acked = [l.strip() for l in open(acked_file) if l.strip()]
lost, changed = [], []
for f in acked:
    sop = sop_of(f)
    stored = f"{data}/instances/" + (lambda d: d[:2] + "/" + d)(hashlib.sha256(sop.encode()).hexdigest()) + ".dcm"
    if sop not in listed:
        lost.append(f)
        continue
    try:
        if dataset(stored) != dataset(f):
            changed.append(f)
    except FileNotFoundError:
        lost.append(f)
print(f"| kills (SIGKILL) | {kills} |")
print(f"| instances acknowledged before a kill, per round | {rounds.strip()} |")
print(f"| instances acknowledged before the kills, in all | {len(acked)} |")
print(f"| acknowledged but not listed, or file missing | {len(lost)} |")
print(f"| acknowledged but stored bytes differ | {len(changed)} |")
print(f"| studies complete after the final send (of {kills}, {slices} instances each) | {complete} |")
sys.exit(1 if lost or changed or complete != int(kills) else 0)
PY
