#!/usr/bin/env bash
# A PostgreSQL cluster of the product's own under ./var/postgres (or $ANNOT_PG_DIR), for trying
# the scale-out layout on one machine: scripts/postgres-local.sh start|stop|uri. It listens on
# 127.0.0.1 only (port $ANNOT_PG_PORT, default 55432) with trust authentication for its single
# user "annot", and holds one database, "annotation". PostgreSQL refuses to run as root: under
# root the cluster belongs to the "postgres" system user (made by Debian's postgresql package).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${ANNOT_PG_DIR:-$PWD/var/postgres}"
PORT="${ANNOT_PG_PORT:-55432}"
BIN="$(pg_config --bindir)"
URI="postgresql://annot@127.0.0.1:$PORT/annotation"

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      mkdir -p "$DIR"
      [ "$(id -u)" = 0 ] && chown postgres: "$DIR"
      as_owner "$BIN/initdb" -D "$DIR/data" -U annot --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log"
    fi
    if ! as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
      as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1" start >/dev/null
    fi
    "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U annot -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'annotation'" | grep -q 1 ||
      "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U annot annotation
    echo "$URI"
    ;;
  stop)
    if [ -f "$DIR/data/PG_VERSION" ]; then as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null || true; fi
    ;;
  uri)
    echo "$URI"
    ;;
  *)
    echo "usage: scripts/postgres-local.sh start|stop|uri" >&2
    exit 2
    ;;
esac
