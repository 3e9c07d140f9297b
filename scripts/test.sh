#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through CTest: unit tests and
# integration tests that start real processes (dicom-node, DCMTK tools) on free ports.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
ANNOT_FUZZ=1 scripts/build.sh
export TCP_NODELAY=1
ctest --test-dir build --output-on-failure --parallel 2 "$@"
