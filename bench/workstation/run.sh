#!/usr/bin/env bash
# The labeling workstation against the published OHIF viewer, same node, same study, same
# headless Chromium, in one run: time from opening a task to its first image, and scroll rate
# through the series (first pass fetching, second from memory). Reported as ratios.
#   bench/workstation/run.sh [--slices N (300)] [--reps N (3)] [--build DIR]
set -euo pipefail
reps=3; slices=300
source "$(dirname "$0")/../common.sh" "$@"
export TCP_NODELAY=1

study=$("$gen_bin" --out "$work/ct" --slices "$slices" --rows 512 --columns 512 --body-part CHEST)
http=$(free_port); dicom=$(free_port)
"$node_bin" user add bench --role admin --data-dir "$work/data" > "$work/token"
token=$(tail -1 "$work/token")
"$node_bin" serve --data-dir "$work/data" --http-port "$http" --dicom-port "$dicom" --stable-age 1 --log-level warn > "$work/node.log" 2>&1 &
pids+=($!)
until curl -sf "http://127.0.0.1:$http/healthz" > /dev/null; do sleep 0.2; done
storescu -aec ANNOTNODE +sd +r -q 127.0.0.1 "$dicom" "$work/ct"
auth=(-H "Authorization: Bearer $token")
task=""
until [ -n "$task" ]; do
  sleep 0.5
  task=$(curl -sf "${auth[@]}" "http://127.0.0.1:$http/api/v1/tasks?study=$study" | node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>{const j=JSON.parse(t);console.log(j.tasks.length?j.tasks[0].id:"")})')
done
curl -sf -X POST "${auth[@]}" "http://127.0.0.1:$http/api/v1/tasks/$task/claim" > /dev/null

echo "workstation vs OHIF, $slices slices of 512x512 CT, $reps repetitions (times in ms, rates in images/s)"
ws_first=""; ohif_first=""; ws_cold=""; ohif_cold=""; ws_warm=""; ohif_warm=""
for r in $(seq "$reps"); do
  warm_memory
  line=$(node "$root/bench/workstation/timing.mjs" --base "http://127.0.0.1:$http/ui" --user "bench:$token" --task "$task" \
         --study "$study" --images "$slices" | tail -1)
  echo "  run $r: $line"
  get() { echo "$line" | node -e "let t='';process.stdin.on('data',d=>t+=d).on('end',()=>{try{const j=JSON.parse(t);console.log(j.$1)}catch{console.log('fail')}})"; }
  ws_first+="$(get workstation.firstImageMs) "; ohif_first+="$(get ohif.firstImageMs) "
  ws_cold+="$(get workstation.scrollColdPerSec) "; ohif_cold+="$(get ohif.scrollColdPerSec) "
  ws_warm+="$(get workstation.scrollWarmPerSec) "; ohif_warm+="$(get ohif.scrollWarmPerSec) "
done
printf '%-28s %12s %12s %10s\n' "" workstation OHIF ratio
row() {  # label, workstation values, OHIF values, ratio direction (ohif/ws for times, ws/ohif for rates)
  local a b; a=$(echo "$2" | median); b=$(echo "$3" | median)
  local ratio; if [ "$4" = time ]; then ratio=$(pairwise_ratios "$3" "$2" | median); else ratio=$(pairwise_ratios "$2" "$3" | median); fi
  printf '%-28s %12s %12s %10s\n' "$1" "$a" "$b" "$(two_decimals "$ratio")"
}
row "first image (ms)" "$ws_first" "$ohif_first" time
row "scroll, fetching (img/s)" "$ws_cold" "$ohif_cold" rate
row "scroll, in memory (img/s)" "$ws_warm" "$ohif_warm" rate
echo "ratio > 1: the workstation is faster (OHIF's time / ours; our rate / OHIF's)"
