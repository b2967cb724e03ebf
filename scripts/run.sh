#!/usr/bin/env bash
# `make run`: provision what is missing, build, migrate, seed the demo tenant
# and serve on http://127.0.0.1:8080 (AOS_BIND to change).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

say "building the web UI"
(cd chat-ui && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
say "building aos"
cargo build -p server --bin aos
say "migrating the database"
"$AOS_BIN" migrate
say "seeding the demo tenant"
"$AOS_BIN" demo seed

bind="${AOS_BIND:-127.0.0.1:8080}"
cat >&2 <<MSG

  AutonomOS Control Center  →  http://$bind
  API docs                  →  http://$bind/api/docs/
  Demo sign-in              →  admin@demo.aos / autonomos-demo
                               (also cto@, cfo@, cro@, coo@, viewer@demo.aos, same password)

MSG
exec "$AOS_BIN" serve --bind "$bind"
