#!/usr/bin/env bash
# bench/crash: the crash campaigns (bench/crash/campaign.py says what each checks). The server
# is killed with SIGKILL at random moments while it works and restarted on the same data each
# time; afterwards nothing it acknowledged may be missing or changed. Prints a Markdown table
# (for docs/reliability.md); exits 1 on any loss.
#
# usage: bench/crash/run.sh [--build DIR] [--reps KILLS] [--slices N]
#                           [--deployment node|plugin] [--loop ingest|labeling] [--cases N]
#   ingest (default): a new study of --slices instances (default 500) per kill, sent with storescu
#   labeling: --cases studies (default 150) labeled by two readers and approved by a reviewer
set -euo pipefail

reps=20
slices=500
passthrough=()
common=()
while [ $# -gt 0 ]; do
  case "$1" in
    --deployment|--loop|--cases|--seed) passthrough+=("$1" "$2"); shift 2 ;;
    *) common+=("$1"); shift ;;
  esac
done
set -- "${common[@]:-}"
[ -n "${1:-}" ] || set --
source "$(dirname "$0")/../common.sh"
for t in storescu dcmdump Orthanc python3; do command -v "$t" >/dev/null || { echo "missing $t: run scripts/install-deps.sh" >&2; exit 1; }; done
export TCP_NODELAY=1
python3 "$(dirname "$0")/campaign.py" --node "$node_bin" --plugin "$build/plugin/libAnnotationNode.so" --generator "$gen_bin" \
  --work "$work" --kills "$reps" --slices "$slices" "${passthrough[@]}"
