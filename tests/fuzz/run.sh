#!/usr/bin/env bash
# One short fuzzing run of one target (the test suite's), or a long one (bench/fuzz.sh):
#   tests/fuzz/run.sh FUZZ_BUILD_DIR MAIN_BUILD_DIR TARGET SECONDS
# Exits non-zero when libFuzzer finds a crash, a sanitizer report or a hang; the input that
# caused it is kept and named. Prints the executions done.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fuzz_build="$1"
main_build="$2"
target="$3"
seconds="$4"
binary="$fuzz_build/fuzz_$target"
if [ ! -x "$binary" ]; then
  echo "no $binary: scripts/build.sh builds the fuzzers with clang (scripts/install-deps.sh --test installs it)" >&2
  exit 1
fi
seeds="$main_build/fuzz-seeds"
(flock 9; "$here/seeds.sh" "$main_build" "$seeds") 9>"$main_build/fuzz-seeds.lock"
case "$target" in
  dicom_header|encapsulated_frames|sr_reader|seg_reader) seed_dir="$seeds/dicom" ;;
  *) seed_dir="$seeds/$target" ;;
esac
work="$main_build/fuzz-work/$target"
mkdir -p "$work/corpus" "$work/findings"
# Each run starts from the seeds and what earlier runs of this build found.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 -print_final_stats=1 \
  -artifact_prefix="$work/findings/" "$work/corpus" "$seed_dir" 2>"$work/last.log" || {
    status=$?
    tail -60 "$work/last.log" >&2
    echo "fuzz_$target found a problem (exit $status); the input is in $work/findings/" >&2
    exit 1
  }
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/last.log" || true
