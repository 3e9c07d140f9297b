#!/usr/bin/env bash
# Installs what is missing, builds (Release) and starts the standalone node with embedded
# defaults: SQLite index and file storage under ./var, DICOM port 11112 (AE title ANNOTNODE),
# HTTP port 8080. Extra arguments go to `dicom-node serve` (see `dicom-node --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/dicom-node/dicom-node serve --data-dir ./var "$@"
