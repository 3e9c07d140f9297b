# Shared by the bench/*/run.sh scripts: options, the build under test, a scratch directory,
# free ports, medians. Sets: root, build, reps, slices, work, pids (callers set defaults for
# reps and slices before sourcing).

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build"
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --slices) slices=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--reps N] [--slices N]" >&2; exit 2 ;;
  esac
done
node_bin="$build/dicom-node/dicom-node"
gen_bin="$build/tests/annot-testdata"
for b in "$node_bin" "$gen_bin"; do
  [ -x "$b" ] || { echo "missing $b: build first (scripts/build.sh)" >&2; exit 1; }
done

# A scratch directory ($work) and the background processes a run starts ($pids): both are gone
# when the script exits, however it exits.
work=$(mktemp -d "/tmp/annot-bench-$(basename "$(dirname "$0")").XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# An unused TCP port on loopback, asked of the kernel.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Touches and frees a gigabyte (warm_memory_mb) just before a timed run. This VM's balloon
# reports free memory to the host after about two seconds, and the host then drops it: the
# next process to fill the page cache (storescp, Orthanc) takes a host fault for every page
# and ran up to 2.5x slower, depending only on how long the machine had been idle before.
# Every target gets the same warm-up; on bare metal it changes nothing.
warm_memory_mb=${warm_memory_mb:-1024}
warm_memory() {
  [ "$warm_memory_mb" -gt 0 ] || return 0
  dd if=/dev/zero of=/dev/null bs="${warm_memory_mb}M" count=1 2>/dev/null
}

# Median of the numbers among the words on stdin; "fail" when any word is not a number (a run
# that failed must not vanish into the median of the others), "n/a" when there are none.
median() {
  tr ' ' '\n' | sort -g | awk 'NF == 0 {next} $1 !~ /^-?[0-9]+(\.[0-9]+)?$/ {bad = 1; next} {a[++n] = $1}
    END {if (bad) print "fail"; else if (n == 0) print "n/a";
         else if (n % 2) print a[(n + 1) / 2]; else print (a[n / 2] + a[n / 2 + 1]) / 2}'
}

# Ratios of two equally long word lists, pairwise ("a1/b1 a2/b2 ..."): each repetition's own
# ratio, so that the disk drifting during a run moves numerator and denominator together.
pairwise_ratios() {  # "$numerators" "$denominators"
  awk -v a="$1" -v b="$2" 'BEGIN {n = split(a, x, " "); split(b, y, " ");
    for (i = 1; i <= n; i++) printf "%s ", (x[i] ~ /^[0-9.]+$/ && y[i] ~ /^[0-9.]+$/ && y[i] > 0) ? x[i] / y[i] : "fail"}'
}

# "fastest–slowest" of the numbers among the words given ("fail" when one is not a number).
spread() {  # "$numbers"
  echo "$1" | tr ' ' '\n' | awk 'NF == 0 {next} $1 !~ /^-?[0-9]+(\.[0-9]+)?$/ {bad = 1; next}
    {if (n == 0 || $1 < lo) lo = $1; if (n == 0 || $1 > hi) hi = $1; n++}
    END {if (bad) print "fail"; else if (n == 0) print "n/a"; else printf "%.0f–%.0f\n", lo, hi}'
}

# A number with two decimals, or the word as it is ("fail", "n/a").
two_decimals() { if [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then printf "%.2f" "$1"; else printf "%s" "$1"; fi; }
