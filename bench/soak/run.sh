#!/usr/bin/env bash
# bench/soak: mixed load for a bounded time (default 30 minutes) on loopback, with the node's
# memory (RSS) and open file descriptors sampled every 10 s:
#   - 4 storescu senders, each sending a new small study again and again;
#   - a DICOMweb reader (QIDO-RS searches, WADO-RS metadata) and a labeler (claims the next
#     task, saves a box, submits; results go to the PACS through the outbox);
#   - the PACS (a real Orthanc) goes down for 30 s every 3 minutes and comes back.
# Prints a Markdown summary; exits 1 when memory or descriptors grew past the stated bound,
# an unexpected error was answered, or a result was not delivered once the PACS was back.
#
# usage: bench/soak/run.sh [--build DIR] [--reps MINUTES]
set -euo pipefail

reps=30
slices=10
source "$(dirname "$0")/../common.sh"
for t in storescu echoscu Orthanc python3; do command -v "$t" >/dev/null || { echo "missing $t: run scripts/install-deps.sh" >&2; exit 1; }; done
export TCP_NODELAY=1

pacs_dicom=$(free_port)
pacs_http=$(free_port)
mkdir -p "$work/pacs" "$work/protocols"
cat >"$work/pacs/orthanc.json" <<JSON
{ "Name": "soak-pacs", "StorageDirectory": "$work/pacs/storage", "IndexDirectory": "$work/pacs/storage",
  "DicomAet": "ORTHANC", "DicomPort": $pacs_dicom, "HttpPort": $pacs_http, "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false, "DicomCheckCalledAet": false, "Plugins": [] }
JSON
cat >"$work/protocols/ct-soak.json" <<'JSON'
{"id": "ct-soak", "version": "1.0.0", "title": "Soak: one reader boxes a nodule",
 "procedure": {"code": "25045-6", "scheme": "LN", "meaning": "CT unspecified body region"},
 "appliesTo": {"modalities": ["CT"]}, "readers": 1, "review": false,
 "labels": [{"key": "nodule", "finding": {"code": "27925004", "scheme": "SCT", "meaning": "Nodule"},
             "findingSite": {"code": "39607008", "scheme": "SCT", "meaning": "Lung structure"}, "geometries": ["bbox"]}]}
JSON
dicom_port=$(free_port)
http_port=$(free_port)
cat >"$work/node.json" <<JSON
{ "DataDirectory": "$work/data", "DicomPort": $dicom_port, "HttpPort": $http_port, "HttpBindAddress": "127.0.0.1",
  "StableAge": 2, "LogLevel": "warn", "ProtocolsDirectory": "$work/protocols",
  "Pacs": ["ORTHANC@127.0.0.1:$pacs_dicom"], "OutboxMaxBackoffSeconds": 5 }
JSON
admin=$("$node_bin" user add soak-admin --role admin --config "$work/node.json" | tail -1)
reader=$("$node_bin" user add soak-reader --role annotator --config "$work/node.json" | tail -1)
# NODE_WRAPPER (e.g. "heaptrack -o FILE") runs the node under a profiler.
${NODE_WRAPPER:-} "$node_bin" serve --config "$work/node.json" >"$work/node.log" 2>&1 &
node_pid=$!
pids+=("$node_pid")
up=""
for _ in $(seq 1 400); do
  if echoscu -aec ANNOTNODE 127.0.0.1 "$dicom_port" >/dev/null 2>&1 && curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null; then up=1; break; fi
  sleep 0.05
done
[ -n "$up" ] || { echo "the node did not start:" >&2; cat "$work/node.log" >&2; exit 1; }

python3 "$(dirname "$0")/drive.py" --minutes "$reps" --node-pid "$node_pid" --dicom-port "$dicom_port" --http-port "$http_port" \
  --admin "$admin" --reader "$reader" --generator "$gen_bin" --work "$work" --orthanc-config "$work/pacs/orthanc.json" \
  --pacs-http "$pacs_http"
