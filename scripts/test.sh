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

say "the official openai Python client (for the OpenAI-compatible API test)"
AOS_OPENAI_PYTHON="$(bash scripts/python-openai.sh)"
export AOS_OPENAI_PYTHON

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
say "web UI: install, typecheck, unit tests, production build"
(cd chat-ui && npm ci --no-audit --no-fund --loglevel=error && npm run typecheck && npm test && npm run build)
say "building"
cargo build --workspace --all-targets

say "preparing the migrated template database"
bash scripts/prepare-test-db.sh

say "running the tests"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast
else
    cargo test --workspace --no-fail-fast
fi

say "web UI end to end (Debian chromium driven by playwright-core, against the real aos)"
bash scripts/ui-e2e.sh
