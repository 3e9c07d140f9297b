#!/usr/bin/env bash
# The long fuzzing campaign: every libFuzzer target for SECONDS each (default 600), one after
# the other, continuing from the corpus earlier runs of this build kept. Prints executions and
# findings per target as a Markdown table (for docs/reliability.md).
#   bench/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
[ -x build/fuzz/fuzz_jwt ] || scripts/build.sh
echo "| target | seconds | executions | corpus | findings |"
echo "|---|---|---|---|---|"
for binary in build/fuzz/fuzz_*; do
  target="${binary#build/fuzz/fuzz_}"
  status=ok
  tests/fuzz/run.sh build/fuzz build "$target" "$seconds" >/dev/null 2>&1 || status="FOUND (build/fuzz-work/$target/findings)"
  runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "build/fuzz-work/$target/last.log" | grep -o '[0-9]*$' || echo '?')"
  corpus="$(find "build/fuzz-work/$target/corpus" -type f | wc -l)"
  echo "| $target | $seconds | $runs | $corpus | $status |"
done
