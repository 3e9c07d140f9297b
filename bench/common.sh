# Shared by the bench/*/run.sh scripts: options, the build under test, medians.
# Sets: root, build, reps, slices (callers set defaults for reps and slices before sourcing).

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

# Median of whitespace-separated numbers (mean of the middle two for an even count).
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
