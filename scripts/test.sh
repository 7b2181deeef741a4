#!/usr/bin/env bash
# The README's test command: install everything the tests need on a fresh Debian 12 /
# Raspberry Pi OS machine (apt packages with sudo when not root, the venv), then run
# ruff, mypy and pytest. Extra arguments go to pytest (e.g. scripts/test.sh -k config).
#   --setup-only   install, then stop (used by the clean-clone test)
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
cd "$ROOT"

setup_only=0
if [ "${1:-}" = "--setup-only" ]; then setup_only=1; shift; fi

ensure_apt "${RUNTIME_APT[@]}" "${TEST_APT[@]}"
ensure_venv requirements-dev.txt
[ "$setup_only" -eq 1 ] && { say "set-up complete: $VENV"; exit 0; }

export QT_QPA_PLATFORM=offscreen
say "ruff"
"$VENV/bin/ruff" check .
say "mypy"
"$VENV/bin/mypy"
say "pytest"
set +e
"$VENV/bin/python" -m pytest "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  say "pytest collected no tests: that is a failure"
  exit 1
fi
exit "$code"
