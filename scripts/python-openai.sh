#!/usr/bin/env bash
# Makes (once) a virtualenv with the official `openai` Python client, for the
# end-to-end test that talks to /v1/chat/completions through it, and prints
# the path of its python. Idempotent: a venv with the pinned client is reused.
set -euo pipefail
cache="${AOS_CACHE_DIR:-$([ "$(id -u)" = 0 ] && echo /var/cache/aos || echo "${XDG_CACHE_HOME:-$HOME/.cache}/aos")}"
venv="$cache/py-openai"
version="3.57.0"
if [ ! -x "$venv/bin/python" ] \
    || [ "$("$venv/bin/python" -c 'import openai; print(openai.__version__)' 2>/dev/null)" != "$version" ]; then
    mkdir -p "$cache"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "openai==$version" >&2
fi
echo "$venv/bin/python"
