#!/usr/bin/env bash
# Recreates the migrated template database every test database is cloned from,
# and drops test databases an interrupted run left behind. Run by `make test`;
# run it by hand after adding a migration.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

stale=$(psql_cmd "$AOS_TEST_ADMIN_URL" -Atc "select datname from pg_database where datname like 't\_%'")
for db in $stale; do
    psql_cmd "$AOS_TEST_ADMIN_URL" -qc "drop database if exists \"$db\" with (force)" >/dev/null
done
psql_cmd "$AOS_TEST_ADMIN_URL" -qc "drop database if exists aos_template with (force)" >/dev/null
psql_cmd "$AOS_TEST_ADMIN_URL" -qc "create database aos_template owner aos_owner" >/dev/null
template_url="${AOS_MIGRATE_DATABASE_URL%/*}/aos_template"
AOS_MIGRATE_DATABASE_URL="$template_url" "$AOS_BIN" migrate
