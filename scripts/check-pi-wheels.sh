#!/usr/bin/env bash
# Ask PyPI whether every runtime pin (and what it pulls in) has a wheel that Raspberry Pi OS bookworm
# (aarch64, glibc 2.36, Python 3.11) can install. Run it before raising a pin.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="$(mktemp -d)"
trap 'rm -rf "$dest"' EXIT
platforms=()
for minor in 17 27 28 31 34 35 36; do platforms+=(--platform "manylinux_2_${minor}_aarch64"); done
platforms+=(--platform manylinux2014_aarch64)
status=0
while read -r pin; do
  case "$pin" in ''|'#'*) continue ;; esac
  if python3 -m pip download -q --only-binary=:all: --python-version 3.11 \
       "${platforms[@]}" -d "$dest" "$pin" >/dev/null 2>&1; then
    echo "OK   $pin"
  else
    echo "FAIL $pin: no wheel for aarch64 with glibc <= 2.36"; status=1
  fi
done < <(sed 's/[[:space:]]*#.*//' requirements.txt)
ls "$dest"
exit "$status"
