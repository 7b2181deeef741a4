#!/usr/bin/env bash
# The README's demo command: set up the local venv if needed and start the mirror on its
# built-in demo source (no camera, no broker, no GPU). With no display it runs on Qt's
# offscreen platform for a while and writes screenshots, saying where.
# Extra arguments go to `smart-mirror run` (e.g. scripts/demo.sh --duration 60).
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
cd "$ROOT"

ensure_apt "${RUNTIME_APT[@]}"
ensure_venv requirements.txt

# The demo keeps its closet beside the checkout, never in the real one.
export SMART_MIRROR_CONFIG="${SMART_MIRROR_CONFIG:-$ROOT/scripts/demo-config.toml}"
mkdir -p "$ROOT/.demo"
args=(run --source demo)
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  say "no display: running offscreen and writing screenshots to $ROOT/.demo/screenshots"
  export QT_QPA_PLATFORM=offscreen
  args+=(--screenshots "$ROOT/.demo/screenshots")
else
  args+=(--windowed)
fi
exec "$VENV/bin/smart-mirror" "${args[@]}" "$@"
