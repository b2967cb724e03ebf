# Shared by scripts/run.sh and scripts/test.sh (sourced, not run): provisions
# PostgreSQL + pgvector and Redis, then exports their settings and a JWT secret.

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
AOS_BIN="$CARGO_TARGET_DIR/debug/aos"
export AOS_BIN

# npm's download cache beside the other caches (CI reuses it between runs).
if [ -n "${AOS_CACHE_DIR:-}" ]; then
    export npm_config_cache="$AOS_CACHE_DIR/npm"
fi

say() { printf '==> %s\n' "$*" >&2; }

bash scripts/provision.sh
bash scripts/fetch-model.sh
set -a
# shellcheck disable=SC1091
. .data/env
set +a

# A signing secret made once per checkout and kept out of git.
if [ -z "${AOS_JWT_SECRET:-}" ]; then
    if [ ! -s .data/jwt-secret ]; then
        umask 077
        python3 -c 'import secrets; print(secrets.token_hex(32))' > .data/jwt-secret
    fi
    AOS_JWT_SECRET="$(cat .data/jwt-secret)"
    export AOS_JWT_SECRET
fi

# The local embedder runs one forward pass per core at a time, each in a rayon
# pool of its own with RAYON_NUM_THREADS threads (one per core unless set), so a
# lone question's matrix products use every core: CLINC query p99 15.0 -> 11.3 ms,
# for 12% less throughput with a full queue (219 -> 191 sentences/s). candle's
# own pool for element-wise operations is shared by every pass and they are too
# small to split: it stays at one thread (at two, batches fell to 116/s).
export CANDLE_NUM_THREADS="${CANDLE_NUM_THREADS:-1}"

# psql from the bundled PostgreSQL when we run our own, else the system's.
psql_cmd() {
    if [ -n "${AOS_PG_BIN:-}" ] && [ -x "$AOS_PG_BIN/psql" ]; then
        "$AOS_PG_BIN/psql" "$@"
    else
        psql "$@"
    fi
}
