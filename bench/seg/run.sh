#!/usr/bin/env bash
# bench/seg: a 512x512x300 CT; 1, 10 and 100 spherical segments; dicom-node make-seg against
# dcmjs's SEG generation (what OHIF uses) on the same masks, in one run. Reports wall time and
# peak memory (max RSS) of each, and the output size.
#   bench/seg/run.sh [--build DIR] [--reps N] [--slices N]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
reps=3
slices=300
source "$here/../common.sh"
[ -d "$root/tests/compat/node_modules" ] || { echo "run scripts/install-deps.sh --test first" >&2; exit 1; }
"$gen_bin" --out "$work/ct" --slices "$slices" --rows 512 --columns 512 >/dev/null

measure() {  # command... -> "seconds maxrss_kb"
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; echo "fail fail"; return; }
  cat "$work/time"
}

echo "| segments | frames | SEG size (MB) | dicom-node (s) | node peak (MB) | dcmjs (s) | dcmjs SEG only (s) | dcmjs peak (MB) | dcmjs / node | node peak / output |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for segments in 1 10 100; do
  node "$here/masks.mjs" runs "$work/ct" "$segments" "$work/masks-$segments.json" >"$work/frames"
  frames=$(sed 's/.*"frames":\([0-9]*\).*/\1/' "$work/frames")
  ours=() ourmem=() theirs=() theirmem=() inner=()
  for r in $(seq 1 "$reps"); do
    read -r t m < <(measure "$node_bin" make-seg --segments "$work/masks-$segments.json" --images "$work/ct" --out "$work/ours.dcm")
    ours+=("$t"); ourmem+=("$m")
    read -r t m < <(measure node --max-old-space-size=16000 "$here/masks.mjs" dcmjs "$work/ct" "$segments" "$work/theirs.dcm")
    theirs+=("$t"); theirmem+=("$m")
    seconds=$(sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' "$work/out")
    inner+=("${seconds:-fail}")  # dcmjs gave no timing: that run failed
  done
  size=$(stat -c %s "$work/ours.dcm")
  o=$(echo "${ours[*]}" | median); om=$(echo "${ourmem[*]}" | median)
  d=$(echo "${theirs[*]}" | median); dm=$(echo "${theirmem[*]}" | median); di=$(echo "${inner[*]}" | median)
  printf "| %s | %s | %.1f | %.2f | %.0f | %s | %s | %s | %s | %.2f |\n" "$segments" "$frames" "$(echo "$size/1048576" | bc -l)" "$o" \
    "$(echo "$om/1024" | bc -l)" "$d" "$( [ "$di" = fail ] && echo fail || printf %.2f "$di")" "$( [ "$dm" = fail ] && echo fail || printf %.0f "$(echo "$dm/1024" | bc -l)")" \
    "$( [ "$d" = fail ] && echo - || printf %.1f "$(echo "$d/$o" | bc -l)")" "$(echo "$om*1024/$size" | bc -l)"
done
echo
echo "dicom-node: whole make-seg process (reading the $slices source headers and the JSON runs included)."
echo "dcmjs: whole node process (reading the $slices source images included); 'SEG only' excludes reading the"
echo "images (dcmjs needs them whole; make-seg reads headers only). Medians of $reps runs."
