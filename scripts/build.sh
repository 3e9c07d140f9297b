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
