#!/usr/bin/env bash
# End-to-end tests of the web UI: Debian's Chromium, driven by playwright-core
# (chat-ui/e2e/), against the real `aos` serving the demo tenant on its own
# fresh databases. Run by `make test` after the Rust tests; on its own:
#
#   bash scripts/ui-e2e.sh [name-filter]
#
# Needs what scripts/test.sh prepares: the migrated template database
# (scripts/prepare-test-db.sh) and a built `aos` (built here when missing).
# Screenshots of every screen go to $AOS_UI_ARTIFACTS (default
# ${AOS_CACHE_DIR:-/tmp}/ui-artifacts); each run replaces the last one's.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
mark=$SECONDS
. scripts/env.sh

# Prints how long the step just finished took.
lap() {
    say "UI e2e: $1 in $((SECONDS - mark)) s"
    mark=$SECONDS
}

if [ -z "${AOS_TEST_ADMIN_URL:-}" ]; then
    echo "AOS_TEST_ADMIN_URL is not set: the UI tests need a PostgreSQL superuser URL to create their databases" >&2
    exit 1
fi

chromium_bin="${AOS_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium_bin" ]; then
    if [ "$(id -u)" -ne 0 ] || [ "$chromium_bin" != /usr/bin/chromium ]; then
        echo "$chromium_bin is missing: install Debian's chromium (apt-get install chromium) as root" >&2
        exit 1
    fi
    say "installing Debian's chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
export AOS_CHROMIUM="$chromium_bin"

if [ ! -d chat-ui/node_modules/playwright-core ]; then
    say "web UI: npm ci"
    (cd chat-ui && npm ci --no-audit --no-fund --loglevel=error)
fi
# A stale build would test old code: rebuild when a source is newer than dist/.
if [ ! -f chat-ui/dist/index.html ] ||
    [ -n "$(find chat-ui/src chat-ui/index.html chat-ui/public chat-ui/package-lock.json \
        -newer chat-ui/dist/index.html -print -quit 2>/dev/null)" ]; then
    say "web UI: production build"
    (cd chat-ui && npm run build --silent)
fi
if [ ! -x "$AOS_BIN" ]; then
    say "building aos"
    cargo build -p server --bin aos
fi
say "UI e2e: testing $AOS_BIN (built $(date -r "$AOS_BIN" '+%F %T'))"

run_id="$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
app_db="t_ui_$run_id"
source_db="t_uisrc_$run_id"
work_dir="$(mktemp -d "${TMPDIR:-/tmp}/aos-ui-e2e.XXXXXX")"
artifacts="${AOS_UI_ARTIFACTS:-${AOS_CACHE_DIR:-/tmp}/ui-artifacts}"
export AOS_REDIS_PREFIX="ui-e2e:$run_id:"
server_pid=""

cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if command -v redis-cli >/dev/null 2>&1; then
        redis-cli -u "$REDIS_URL" --scan --pattern "$AOS_REDIS_PREFIX*" 2>/dev/null |
            xargs -r redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
    fi
    for db in "$app_db" "$source_db"; do
        psql_cmd "$AOS_TEST_ADMIN_URL" -qc "drop database if exists \"$db\" with (force)" >/dev/null 2>&1 || true
    done
    rm -rf "$work_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

lap "ready to start (services, browser, UI build)"
# Two clones of the template at the same instant collide on its lock: retry.
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    if psql_cmd "$AOS_TEST_ADMIN_URL" -qc \
        "create database \"$app_db\" template aos_template owner aos_owner" >/dev/null 2>"$work_dir/clone.err"; then
        break
    fi
    if [ "$attempt" -eq 10 ]; then
        cat "$work_dir/clone.err" >&2
        exit 1
    fi
    sleep "0.$attempt"
done
psql_cmd "$AOS_TEST_ADMIN_URL" -qc "create database \"$source_db\" owner aos_owner" >/dev/null
lap "fresh databases $app_db and $source_db made"

owner_url="${AOS_MIGRATE_DATABASE_URL:-$DATABASE_URL}"
export DATABASE_URL="${DATABASE_URL%/*}/$app_db"
export AOS_MIGRATE_DATABASE_URL="${owner_url%/*}/$app_db"
export AOS_DEMO_SOURCE_URL="${owner_url%/*}/$source_db"
export AOS_DATA_DIR="$work_dir/data"
export AOS_UI_DIR="$PWD/chat-ui/dist"
export AOS_BIND="127.0.0.1:0"
export AOS_LOG="${AOS_LOG:-info}"
# No LLM: the offline composer answers, the same on every machine. `aos`
# runs in the work folder so that a developer's ./aos.toml is not read.
unset OPENAI_BASE_URL OPENAI_API_KEY AOS_LLM_MODEL AOS_EMBEDDER AOS_CONFIG

# A template older than the newest migration is brought up to date.
(cd "$work_dir" && "$AOS_BIN" migrate >/dev/null)
say "UI e2e: seeding the demo tenant"
(cd "$work_dir" && "$AOS_BIN" demo seed) >"$work_dir/seed.log" 2>&1 || {
    cat "$work_dir/seed.log" >&2
    exit 1
}
lap "demo tenant seeded"

(cd "$work_dir" && exec "$AOS_BIN" serve) >"$work_dir/serve.out" 2>"$work_dir/serve.log" &
server_pid=$!
base=""
for _ in $(seq 1 300); do
    base="$(sed -n 's/^aos listening on //p' "$work_dir/serve.out" | head -n 1)"
    [ -n "$base" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "aos serve exited before listening:" >&2
        cat "$work_dir/serve.log" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$base" ]; then
    echo "aos serve did not start within 30 s:" >&2
    tail -n 20 "$work_dir/serve.log" >&2
    exit 1
fi

mkdir -p "$artifacts"
rm -f "$artifacts"/*.png
say "UI e2e: testing $base (screenshots: $artifacts)"
status=0
(cd chat-ui && node e2e/run.mjs "$base" "$artifacts" "${1:-}") || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- aos serve log (last 40 lines) ---" >&2
    tail -n 40 "$work_dir/serve.log" >&2
fi
lap "server started and tested"
say "UI e2e: $((SECONDS - started)) s in all; screenshots in $artifacts"
exit "$status"
