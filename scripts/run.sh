#!/usr/bin/env bash
# Installs what is missing, builds (Release) and starts the standalone node with embedded
# defaults: SQLite index and file storage under ./var, DICOM port 11112 (AE title ANNOTNODE),
# HTTP port 8080. Extra arguments go to `dicom-node serve` (see `dicom-node --help`).
#
# scripts/run.sh --orthanc [options] starts Debian's Orthanc with the labeling plugin and the
# DICOMweb plugin instead (orthanc-config/start.sh: data in ./var/orthanc, HTTP 8042, DICOM 4242).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
if [[ "${1:-}" == "--orthanc" ]]; then
  shift
  exec orthanc-config/start.sh "$@"
fi
exec build/dicom-node/dicom-node serve --data-dir ./var "$@"
