#!/usr/bin/env bash
# Starts Debian's Orthanc with the labeling plugin from this build tree and the DICOMweb plugin.
# Usage: orthanc-config/start.sh [--data-dir DIR] [--http-port N] [--dicom-port N] [--build-dir DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
data="$root/var/orthanc"; build="$root/build"; http=8042; dicom=4242
while [[ $# -gt 0 ]]; do
  case "$1" in
    --data-dir) data="$2"; shift 2 ;;
    --http-port) http="$2"; shift 2 ;;
    --dicom-port) dicom="$2"; shift 2 ;;
    --build-dir) build="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
plugin="$build/plugin/libAnnotationNode.so"
[[ -f "$plugin" ]] || { echo "no plugin at $plugin: run scripts/build.sh first" >&2; exit 1; }
mkdir -p "$data"
data="$(cd "$data" && pwd)"
umask 077   # the password and the configuration holding it are the operator's only
password_file="$data/orthanc-admin.password"
if [[ ! -s "$password_file" ]]; then
  head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$password_file"
fi
password="$(cat "$password_file")"
sed -e "s|@STORAGE@|$data|g" -e "s|@PLUGIN@|$plugin|g" -e "s|@ADMIN_PASSWORD@|$password|" \
    -e "s|\"HttpPort\" : 8042|\"HttpPort\" : $http|" -e "s|\"DicomPort\" : 4242|\"DicomPort\" : $dicom|" \
    "$root/orthanc-config/orthanc.json" > "$data/orthanc.json"
export TCP_NODELAY=1   # DCMTK inside Orthanc keeps Nagle's algorithm on otherwise
echo "Orthanc with the labeling plugin: http://localhost:$http/app/explorer.html, worklist http://localhost:$http/annotation/ui"
echo "API under http://localhost:$http/annotation/api/v1; DICOM port $dicom; data in $data"
echo "Orthanc's HTTP user: admin, password in $password_file (the plugin's token goes in X-Annotation-Token)"
[[ -f "$data/annotation/initial-admin.token" ]] && echo "admin token file: $data/annotation/initial-admin.token"
exec Orthanc "$data/orthanc.json"
