# shellcheck shell=bash
# Shared set-up for scripts/demo.sh and scripts/test.sh: system packages and the local venv.
# Sourced, not run. Idempotent: on a machine that already has everything it does nothing
# but a few checks, so both commands stay fast after the first run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SMART_MIRROR_VENV:-$ROOT/.venv}"

say() { printf 'smart-mirror: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# Debian 12 / Pi OS bookworm packages the runtime needs (Qt's libraries for PySide6,
# OpenCV's glib) and, for the tests, a real broker and the deploy tools (systemd-analyze
# verifies the unit, shellcheck the scripts, sqlite3 runs the documented backup). Used by the
# scripts that source this file.
# shellcheck disable=SC2034
RUNTIME_APT=(python3 python3-venv libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0
             libfontconfig1 libdbus-1-3 libglib2.0-0 fonts-dejavu-core)
# shellcheck disable=SC2034
TEST_APT=(mosquitto mosquitto-clients git postgresql systemd shellcheck sqlite3)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo -n "$@" 2>/dev/null || sudo "$@"
  else die "need root to run: $* (install sudo or run as root)"; fi
}

ensure_apt() {
  local missing=() pkg
  command -v dpkg-query >/dev/null || { say "not a Debian system: skipping apt packages ($*)"; return 0; }
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq || die "apt-get update failed; check the network and /etc/apt/sources.list"
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

pick_python() {
  local py
  for py in python3.11 python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))'; then
      echo "$py"; return 0
    fi
  done
  die "Python 3.11 or newer is required (Debian 12 / Pi OS bookworm ship it as python3)"
}

# pip_quiet ARGS...: run pip in the venv, its chatter to $VENV/pip.log; on failure show the end.
pip_quiet() {
  if ! "$VENV/bin/python" -m pip --disable-pip-version-check "$@" >>"$VENV/pip.log" 2>&1; then
    tail -n 20 "$VENV/pip.log" >&2
    return 1
  fi
}

# ensure_venv REQUIREMENTS_FILE: make .venv if needed and (re)install when the pins change.
ensure_venv() {
  local req="$1" stamp want
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtual environment $VENV"
    "$(pick_python)" -m venv "$VENV" || die "could not create $VENV (is python3-venv installed?)"
  fi
  stamp="$VENV/.installed-$(basename "$req")"
  want="$(cat "$ROOT/$req" "$ROOT/requirements.txt" "$ROOT/setup.cfg" | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing Python packages from $req (first run takes a few minutes; log: $VENV/pip.log)"
    pip_quiet install --upgrade pip
    pip_quiet install -r "$ROOT/$req" || die "pip install -r $req failed; see $VENV/pip.log"
    pip_quiet install --no-deps -e "$ROOT" || die "pip install -e . failed; see $VENV/pip.log"
    echo "$want" > "$stamp"
  fi
}
