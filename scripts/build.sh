#!/usr/bin/env bash
# Configures and builds the project (Release by default) into ./build.
#   scripts/build.sh                 Release build
#   scripts/build.sh --sanitize      AddressSanitizer + UBSan build into ./build-asan
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
flags=(-DCMAKE_BUILD_TYPE=Release)
if [ "${1:-}" = "--sanitize" ]; then
  build_dir=build-asan
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DANNOT_SANITIZE=ON)
fi
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" "${generator[@]}" "${flags[@]}"
fi
# Two cores on the reference machine: one compile job per core.
cmake --build "$build_dir" --parallel "$(nproc)"

# The fuzzers (tests/fuzz), for the test suite (scripts/test.sh sets ANNOT_FUZZ=1): clang with
# libFuzzer and the sanitizers over core, into build/fuzz. Without clang they are not built and
# their tests fail saying so.
if [ "$build_dir" = build ] && [ "${ANNOT_FUZZ:-0}" = 1 ] && command -v clang++ >/dev/null 2>&1; then
  if [ ! -f build/fuzz/CMakeCache.txt ]; then
    cmake -S tests/fuzz -B build/fuzz "${generator[@]}" -DCMAKE_CXX_COMPILER=clang++ >/dev/null
  fi
  cmake --build build/fuzz --parallel "$(nproc)"
fi
