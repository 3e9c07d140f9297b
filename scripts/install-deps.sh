#!/usr/bin/env bash
# Installs every Debian package the product and its tests need, only when missing.
# Safe to run repeatedly; uses sudo when not root. Works on a fresh Debian bookworm.
#   scripts/install-deps.sh          packages to build and run the node (and the workstation's npm
#                                    packages, pinned by workstation/package-lock.json)
#   scripts/install-deps.sh --test   also Chromium and the npm packages of the compatibility tests
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # build
  build-essential cmake pkg-config ninja-build
  # libraries
  libdcmtk-dev libboost-dev libsqlite3-dev libssl-dev nlohmann-json3-dev
  libgtest-dev googletest orthanc-dev libldap-dev libpq-dev
  # runtime tools and test peers
  dcmtk orthanc orthanc-dicomweb dicom3tools pixelmed-apps default-jre-headless
  sqlite3 curl openssl procps
  # the scale-out store: PostgreSQL (its tests start a private cluster with initdb and pg_ctl),
  # and Orthanc's own PostgreSQL index for several Orthancs with the plugin
  postgresql orthanc-postgresql
)

# The browser tests drive Debian's Chromium (never a browser an npm package downloads); the
# image-kind tests read public sample files (a radiograph, captures, an RT Dose, an ECG) that
# Debian ships with python3-pydicom (only the files are used). The hospital sign-in tests run
# their own throwaway LDAP directory with Debian's slapd. The ATNA tests validate every audit
# message against the PS3.15 A.5.1 RELAX NG schema with jing.
# The fuzzers are built with clang and libFuzzer (compiler-rt).
if [ "${1:-}" = "--test" ]; then PACKAGES+=(chromium fonts-dejavu-core python3-pydicom slapd ldap-utils jing clang libclang-rt-14-dev); fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js and npm (for the viewer-compatibility tests) may come from another repository;
# only ask Debian for them when no npm is on the PATH at all.
if ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's orthanc package starts a system service on install; the product runs its own
# instances on free ports, so keep the packaged one out of the way of ports 4242/8042.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet orthanc 2>/dev/null; then
  $SUDO systemctl stop orthanc || true
fi
if [ -x /etc/init.d/orthanc ] && pgrep -x Orthanc >/dev/null 2>&1; then
  $SUDO /etc/init.d/orthanc stop >/dev/null 2>&1 || true
fi
# The same for the packaged slapd: the tests start their own directory on a free port.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet slapd 2>/dev/null; then
  $SUDO systemctl stop slapd || true
fi
if [ -x /etc/init.d/slapd ] && pgrep -x slapd >/dev/null 2>&1; then
  $SUDO /etc/init.d/slapd stop >/dev/null 2>&1 || true
fi

# The labeling workstation is bundled by the normal build from its pinned npm packages.
if [ ! -d workstation/node_modules ] || [ workstation/package-lock.json -nt workstation/node_modules ]; then
  echo "install-deps: npm ci in workstation" >&2
  (cd workstation && npm ci --no-audit --no-fund --loglevel=error)
  touch workstation/node_modules
fi

# The published OHIF viewer the node serves at /viewer: pinned version, integrity checked.
node workstation/ohif/install.mjs fetch

# The viewer-compatibility tests read our SR/SEG with the libraries OHIF uses (npm, pinned in
# tests/compat/package-lock.json).
if [ "${1:-}" = "--test" ]; then
  if [ ! -d tests/compat/node_modules ] || [ tests/compat/package-lock.json -nt tests/compat/node_modules ]; then
    echo "install-deps: npm ci in tests/compat" >&2
    (cd tests/compat && npm ci --no-audit --no-fund --loglevel=error)
    touch tests/compat/node_modules
  fi
fi
