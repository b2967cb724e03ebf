#!/usr/bin/env bash
# Runs scripts/bm25_reference.py in its own virtualenv (bm25s, PyStemmer from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${AOS_CACHE_DIR:-$([ "$(id -u)" = 0 ] && echo /var/cache/aos || echo "${XDG_CACHE_HOME:-$HOME/.cache}/aos")}"
venv="$cache/bm25-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import bm25s, Stemmer' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q bm25s==0.2.14 PyStemmer==3.1.0 numpy >&2
fi
exec "$venv/bin/python" scripts/bm25_reference.py "$@"
