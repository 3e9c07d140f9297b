#!/usr/bin/env bash
# Installs what is missing, builds (Release) and starts the standalone node with embedded
# defaults: SQLite index and file storage under ./var, DICOM port 11112 (AE title ANNOTNODE),
# HTTP port 8080. Extra arguments go to `dicom-node serve` (see `dicom-node --help`).
#
# scripts/run.sh --orthanc [options] starts Debian's Orthanc with the labeling plugin and the
# DICOMweb plugin instead (orthanc-config/start.sh: data in ./var/orthanc, HTTP 8042, DICOM 4242).
#
# scripts/run.sh --postgres [options] starts the node on a PostgreSQL cluster of its own under
# ./var/postgres (scripts/postgres-local.sh; stopped again when the node stops), files in
# ./var/shared: the scale-out layout on one machine. More nodes join with the same --database
# and --data-dir and ports of their own, e.g.
#   build/dicom-node/dicom-node serve --database "$(scripts/postgres-local.sh uri)" \
#     --data-dir ./var/shared --dicom-port 11113 --http-port 8081
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
if [[ "${1:-}" == "--orthanc" ]]; then
  shift
  exec orthanc-config/start.sh "$@"
fi
if [[ "${1:-}" == "--postgres" ]]; then
  shift
  uri="$(scripts/postgres-local.sh start)"
  trap 'scripts/postgres-local.sh stop' EXIT
  echo "state and index in $uri; files in ./var/shared"
  build/dicom-node/dicom-node serve --database "$uri" --data-dir ./var/shared "$@"
  exit $?
fi
exec build/dicom-node/dicom-node serve --data-dir ./var "$@"
