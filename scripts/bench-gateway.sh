#!/usr/bin/env bash
# The chat gateway's benchmarks in one run (`aos bench gateway`), figures side
# by side: pass-through overhead of /v1/chat/completions beside the upstream
# alone and LiteLLM's proxy, WebSocket density, and the pipeline before the
# first token at 100k chunks. Provisions what is missing (PostgreSQL, Redis,
# the embedding model, LiteLLM in its own virtualenv), builds `aos` in release
# and runs it; extra arguments go to `aos bench gateway` (see its --help).
#
#   bash scripts/bench-gateway.sh                       # everything (~15 min on 2 cores)
#   bash scripts/bench-gateway.sh --only overhead,ws    # skip the 100k-chunk index
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

cache="${AOS_CACHE_DIR:-$([ "$(id -u)" = 0 ] && echo /var/cache/aos || echo "${XDG_CACHE_HOME:-$HOME/.cache}/aos")}"
dataset="${AOS_BENCH_DATASET:-../shared/data/retrieval/msmarco-subset}"

# LiteLLM's proxy from PyPI, pinned. A failed install is reported and the
# bench runs without that column.
litellm_version="1.106.12"
venv="$cache/litellm-venv"
litellm_args=()
if [ -x "$venv/bin/litellm" ] \
    && [ "$("$venv/bin/python" -c 'from importlib.metadata import version; print(version("litellm"))' 2>/dev/null)" = "$litellm_version" ]; then
    litellm_args=(--litellm "$venv/bin/litellm")
else
    say "installing LiteLLM $litellm_version into $venv"
    mkdir -p "$cache"
    if python3 -m venv "$venv" \
        && "$venv/bin/pip" install -q --disable-pip-version-check "litellm[proxy]==$litellm_version" >&2; then
        litellm_args=(--litellm "$venv/bin/litellm")
    else
        say "LiteLLM could not be installed: its column will say so"
    fi
fi

say "building aos (release)"
cargo build --release -p server --bin aos
aos="$CARGO_TARGET_DIR/release/aos"
"$aos" migrate

# 10,000 WebSocket connections need as many descriptors on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 12000 ]; then
    say "open-files limit is $(ulimit -n): the idle-connection figure will use fewer connections"
fi

dataset_args=()
if [ -d "$dataset" ]; then
    dataset_args=(--dataset "$dataset")
else
    say "no data set at $dataset (AOS_BENCH_DATASET): the pipeline benchmark is skipped"
fi

say "running aos bench gateway"
exec "$aos" bench gateway "${litellm_args[@]}" "${dataset_args[@]}" "$@"
