#!/usr/bin/env bash
# `make test`: provision services, then format check, clippy, and every test
# (unit tests and end-to-end tests against the real binary, PostgreSQL and Redis).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

if [ -z "${AOS_TEST_ADMIN_URL:-}" ]; then
    echo "AOS_TEST_ADMIN_URL is not set: the tests need a PostgreSQL superuser URL to create their databases" >&2
    exit 1
fi

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
say "building"
cargo build --workspace --all-targets

say "preparing the migrated template database"
stale=$(psql_cmd "$AOS_TEST_ADMIN_URL" -Atc "select datname from pg_database where datname like 't\_%'")
for db in $stale; do
    psql_cmd "$AOS_TEST_ADMIN_URL" -qc "drop database if exists \"$db\" with (force)" >/dev/null
done
psql_cmd "$AOS_TEST_ADMIN_URL" -qc "drop database if exists aos_template with (force)" >/dev/null
psql_cmd "$AOS_TEST_ADMIN_URL" -qc "create database aos_template owner aos_owner" >/dev/null
template_url="${AOS_MIGRATE_DATABASE_URL%/*}/aos_template"
AOS_MIGRATE_DATABASE_URL="$template_url" "$AOS_BIN" migrate

say "running the tests"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast
else
    cargo test --workspace --no-fail-fast
fi
