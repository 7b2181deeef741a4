#!/usr/bin/env bash
# Install the smart mirror on Raspberry Pi OS bookworm (64-bit) as a systemd service.
#
#   sudo scripts/install-pi.sh                 install or update from this checkout, start it
#   sudo scripts/install-pi.sh --dry-run       print every step, change nothing (no root needed)
#   sudo scripts/install-pi.sh --uninstall     remove the software, keep config and closet
#   sudo scripts/install-pi.sh --uninstall --purge   ...and delete config, closet and user
#
# Idempotent: running it again (e.g. after `git pull`) updates the software in place and
# restarts the service; it never overwrites /etc/smart-mirror/config.toml or changes the
# closet in /var/lib/smart-mirror (before an update it adds a backup copy of its database
# there, closet-pre-update-*.db). See docs/deploy.md.
#
# Testing: SMART_MIRROR_ROOT=/some/dir makes every path it reads or would write live under
# that folder (a fake /), and is accepted only with --dry-run, so a test never changes the
# machine it runs on.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"   # ROOT (this checkout), RUNTIME_APT, say, die, pick_python
SRC="$ROOT"

SYSROOT="${SMART_MIRROR_ROOT:-}"
SYSROOT="${SYSROOT%/}"
SERVICE=smart-mirror
SERVICE_USER=smart-mirror
OPT=/opt/smart-mirror            # the venv; the app's files are copied to $OPT/app
ETC=/etc/smart-mirror
DATA=/var/lib/smart-mirror
UNIT_DIR=/etc/systemd/system
RETRY=smart-mirror-retry          # a timer that starts the service again after it gave up
KMS_CONFIG="$ETC/eglfs-kms.json"  # systemd/eglfs.conf points Qt here
GROUPS_WANTED=(video render input)
# What the runtime needs beyond bootstrap.sh's RUNTIME_APT (Qt's libraries): Mesa's GPU
# drivers (vc4/v3d; a Recommends that --no-install-recommends would skip) and GLES, KMS/GBM
# and Wayland client libraries for Qt's eglfs and wayland platforms, the MQTT command-line
# tools for checking the broker, sqlite3 for backups.
PI_APT=(mosquitto-clients sqlite3 ca-certificates libgl1-mesa-dri libgles2 libgbm1 libdrm2 libinput10
        libwayland-client0 libwayland-cursor0 libwayland-egl1)
OPTIONAL_APT=(python3-picamera2 rpicam-apps)
# The runtime part of the checkout copied to $OPT/app. It is installed editable because
# the models are found beside the mirror package (mirror/manifest.py).
APP_PATHS=(mirror ui sync models setup.cfg pyproject.toml README.md requirements.txt config.example.toml
           docs systemd)

dry_run=0 uninstall=0 purge=0 start=1 display=auto desktop_user="" wayland_display=""
# Set by resolve_display: the display mode, and the user and group the service runs as.
mode="" run_user="" run_group="" run_uid=""
# Set by install_python_packages when the pins or Python changed: the stamp to write once the app is in.
venv_stamp_due=""

usage() {
  cat <<EOF
usage: sudo $0 [--display eglfs|wayland|auto] [--desktop-user NAME] [--wayland-display NAME]
               [--no-start] [--dry-run]
       sudo $0 --uninstall [--purge] [--dry-run]
  --display         eglfs: Pi OS Lite, the mirror drives the screen itself (default without a desktop)
                    wayland: Pi OS desktop, a fullscreen window of the desktop session (default with one)
  --desktop-user    the auto-login desktop user the wayland mode runs as (default: lightdm's autologin-user)
  --wayland-display the compositor's socket name (default: wayland-0 for labwc, wayland-1 for wayfire)
  --no-start        install and enable, but do not (re)start the service now
  --dry-run         print what would be done and change nothing
  --uninstall       stop and remove the service and /opt/smart-mirror; keep config and closet
  --purge           with --uninstall: also delete /etc/smart-mirror, the closet and the user
EOF
}

usage_error() { say "$*"; usage >&2; exit 2; }

# parse_args ARGS...: the options into the variables above; usage errors exit 2.
parse_args() {
  local given="$*"
  while [ $# -gt 0 ]; do
    case "$1" in
      --dry-run) dry_run=1 ;;
      --uninstall) uninstall=1 ;;
      --purge) purge=1 ;;
      --no-start) start=0 ;;
      --display) [ $# -ge 2 ] || usage_error "--display needs a value"; display="$2"; shift ;;
      --desktop-user) [ $# -ge 2 ] || usage_error "--desktop-user needs a value"; desktop_user="$2"; shift ;;
      --wayland-display) [ $# -ge 2 ] || usage_error "--wayland-display needs a value"; wayland_display="$2"; shift ;;
      -h|--help) usage; exit 0 ;;
      *) usage_error "unknown option: $1" ;;
    esac
    shift
  done
  case "$display" in eglfs|wayland|auto) ;; *) usage_error "--display must be eglfs, wayland or auto, not '$display'" ;; esac
  [ "$purge" -eq 0 ] || [ "$uninstall" -eq 1 ] || usage_error "--purge only goes with --uninstall"
  [ -z "$SYSROOT" ] || [ "$dry_run" -eq 1 ] || die "SMART_MIRROR_ROOT is for --dry-run tests only; unset it to install"
  [ "$dry_run" -eq 1 ] || [ "$(id -u)" -eq 0 ] || die "run as root: sudo $0 $given"
}

# ------------------------------------------------------------------------------ helpers
at() { printf '%s%s' "$SYSROOT" "$1"; }   # a system path, under the fake root in tests

# do_ CMD...: run a command that changes the system, or print it on --dry-run (shell-quoted,
# with system paths shown as they are on the Pi, not under the test's fake root).
do_() {
  if [ "$dry_run" -eq 1 ]; then
    local line
    line="$(printf '%q ' "$@")"
    [ -z "$SYSROOT" ] || line="${line//"$SYSROOT"/}"
    printf '[dry-run] would run: %s\n' "${line% }"
    return 0
  fi
  say "$*"
  "$@"
}

# put_file SRC DEST MODE OWNER:GROUP: install a file (always replaced: it is ours, not the user's).
put_file() {
  if [ "$dry_run" -eq 1 ]; then printf '[dry-run] would install %s as %s (mode %s, %s)\n' "$1" "$2" "$3" "$4"; return 0; fi
  install -D -m "$3" -o "${4%%:*}" -g "${4##*:}" "$1" "$(at "$2")"
}

# emit DEST MODE < text: write a generated file, or on --dry-run print what it would contain.
emit() {
  if [ "$dry_run" -eq 1 ]; then printf '[dry-run] would write %s (mode %s):\n' "$1" "$2"; sed 's/^/    /'; return 0; fi
  mkdir -p "$(dirname "$(at "$1")")"
  cat > "$(at "$1")"
  chmod "$2" "$(at "$1")"
}

systemd_running() { [ -z "$SYSROOT" ] && [ -d /run/systemd/system ]; }

# ------------------------------------------------------------------------------ checks
preflight() {
  local codename="" arch
  if [ -r "$(at /etc/os-release)" ]; then
    codename="$(sed -n 's/^VERSION_CODENAME=//p' "$(at /etc/os-release)" | tr -d '"')"
  fi
  [ "$codename" = bookworm ] || say "warning: made for Raspberry Pi OS bookworm; this is '${codename:-unknown}'"
  command -v dpkg-query >/dev/null || die "not a Debian-based system (no dpkg-query): install Raspberry Pi OS bookworm"
  # The userland's architecture, not the kernel's: 32-bit Pi OS runs a 64-bit kernel on a Pi 4/5
  # (uname -m says aarch64) while its Python and packages are armhf, for which no pinned wheel exists.
  arch="$(dpkg --print-architecture)"
  case "$arch" in
    arm64|amd64) ;;
    *) die "this is a $arch (32-bit) system: install the 64-bit Raspberry Pi OS (the pinned Python wheels are 64-bit only)" ;;
  esac
  if [ ! -f "$SRC/setup.cfg" ] || [ ! -d "$SRC/mirror" ]; then
    die "run this script from a smart-mirror checkout ($SRC has no setup.cfg)"
  fi
}

# ------------------------------------------------------------------------------ install steps
install_packages() {
  local missing=() optional=() pkg
  for pkg in "${RUNTIME_APT[@]}" "${PI_APT[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  for pkg in "${OPTIONAL_APT[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" && continue
    if apt-cache show "$pkg" >/dev/null 2>&1; then
      missing+=("$pkg")
    else
      optional+=("$pkg")
    fi
  done
  [ ${#optional[@]} -eq 0 ] || say "warning: ${optional[*]} not in the apt sources (not Raspberry Pi OS?): " \
    "the camera falls back to V4L2"
  if [ ${#missing[@]} -eq 0 ]; then
    echo "system packages: all installed"
    return 0
  fi
  do_ env DEBIAN_FRONTEND=noninteractive apt-get update -q \
    || die "apt-get update failed; check the network and /etc/apt/sources.list"
  do_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed; see the messages above"
}

ensure_user() {
  local groups=() group
  for group in "${GROUPS_WANTED[@]}"; do
    getent group "$group" >/dev/null && groups+=("$group")
  done
  if getent passwd "$SERVICE_USER" >/dev/null; then
    echo "user $SERVICE_USER: exists"
  else
    do_ useradd --system --user-group --home-dir "$DATA" --no-create-home --shell /usr/sbin/nologin \
      --comment "Smart mirror service" "$SERVICE_USER" || die "could not create the user $SERVICE_USER"
  fi
  if [ ${#groups[@]} -gt 0 ]; then
    do_ usermod --append --groups "$(IFS=,; echo "${groups[*]}")" "$SERVICE_USER" \
      || die "could not add $SERVICE_USER to ${groups[*]}"
  fi
  resolve_display
  if [ "$mode" = wayland ]; then
    # The unit gives the desktop user the group only inside the service; as a member it can also
    # read /etc/smart-mirror (0750 root:smart-mirror) for `sudo -u USER smart-mirror doctor`.
    case " $(id -nG "$run_user" 2>/dev/null) " in
      *" $SERVICE_USER "*) echo "user $run_user: in group $SERVICE_USER" ;;
      *) do_ usermod --append --groups "$SERVICE_USER" "$run_user" \
           || die "could not add $run_user to the group $SERVICE_USER" ;;
    esac
  fi
}

make_dirs() {
  do_ install -d -m 0755 "$(at "$OPT")"
  do_ install -d -m 0750 -o root -g "$SERVICE_USER" "$(at "$ETC")"
  resolve_display
  # The closet folder is made once; an existing one keeps its owner. While the service runs it
  # belongs to the user the service runs as (the desktop user in the Wayland mode): chowning it
  # here would make the running mirror's writes fail until the restart at the end, and chowning
  # only the top folder would also stop systemd from handing the files inside over at the next
  # start (StateDirectory= skips that when the top folder's owner is already right).
  if [ -d "$(at "$DATA")" ]; then
    echo "closet folder $DATA: exists, owner kept (systemd gives it to the service's user at each start)"
  else
    do_ install -d -m 0750 -o "$run_user" -g "$run_group" "$(at "$DATA")"
  fi
}

# The checkout's commit, for $OPT/app/REVISION (the checkout usually belongs to the desktop user,
# which git refuses to read as root unless told it is safe).
app_revision() {
  git -c safe.directory="$SRC" -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown
}

# flush PATH: write everything on PATH's file system to disk (syncfs) and wait. Before a swap, so
# that a power cut cannot leave the swapped-in files empty (ext4 writes file data late); after
# it, so that the swap itself is on disk before the previous app is deleted.
flush() {
  sync -f "$1" 2>/dev/null || sync
}

# exchange A B: swap two paths in one step (renameat2 with RENAME_EXCHANGE: Linux 3.15+, ext4,
# tmpfs); fails, changing nothing, where the file system or the C library cannot.
exchange() {
  local py
  py="$(pick_python 2>/dev/null)" || return 1
  "$py" - "$1" "$2" <<'EOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
if libc.renameat2(AT_FDCWD, os.fsencode(sys.argv[1]), AT_FDCWD, os.fsencode(sys.argv[2]), RENAME_EXCHANGE) != 0:
    sys.exit(f"cannot exchange {sys.argv[1]} and {sys.argv[2]}: {os.strerror(ctypes.get_errno())}")
EOF
}

# replace_tree NEW DEST PREV: put the complete folder NEW (flushed already) at DEST; the folder that
# was at DEST, if any, ends up at PREV. The two are exchanged in one rename, so at every instant,
# power cut included, DEST holds one complete app: the old or the new. (Not a symlink switched
# in: the editable install records the app's real path, so DEST must stay a real folder.) Without
# the exchange, two renames: DEST to PREV, then NEW to DEST. A cut between them leaves no DEST, but
# a complete PREV, which recover_app puts back on the next run.
replace_tree() {
  local new="$1" dest="$2" prev="$3"
  rm -rf "$prev"
  if [ ! -e "$dest" ]; then
    mv -T "$new" "$dest"
  elif exchange "$new" "$dest" 2>/dev/null; then
    mv -T "$new" "$prev"
  else
    mv -T "$dest" "$prev" && mv -T "$new" "$dest"
  fi || return 1
  flush "$dest"
}

# An earlier run cut off (power, Ctrl-C) between the two renames of replace_tree, or by an
# installer older than the exchange, leaves no $OPT/app: put back the previous app, which
# $OPT/app.old holds complete. First thing, so that a run stopped early (pip without network)
# does not leave the mirror without an app. ($OPT/app.new alone is never put in: it may be a
# copy cut off half way.)
recover_app() {
  local app old
  app="$(at "$OPT/app")" old="$(at "$OPT/app.old")"
  [ ! -e "$app" ] && [ -d "$old" ] || return 0
  say "$OPT/app is missing (an earlier run was cut off during the swap): putting the previous app back"
  do_ mv -T "$old" "$app" || die "could not move $OPT/app.old back to $OPT/app"
  [ "$dry_run" -eq 1 ] || flush "$app"
}

# Copy the runtime files to $OPT/app.new, flush them to disk, then swap them in (replace_tree),
# so a failed copy or a power cut never leaves a half-updated or missing app behind. The
# previous app stays as $OPT/app.old until install_app_into_venv has registered the new one
# (and comes back if that fails).
copy_app() {
  local app new old rev
  app="$(at "$OPT/app")" new="$(at "$OPT/app.new")" old="$(at "$OPT/app.old")"
  rev="$(app_revision)"
  if [ "$dry_run" -eq 1 ]; then
    printf '[dry-run] would copy %s from %s to %s, flush it to disk, and swap it in\n' \
      "${APP_PATHS[*]}" "$SRC" "$OPT/app.new"
    echo "$rev" | emit "$OPT/app/REVISION" 0644
    return 0
  fi
  recover_app   # before app.old goes: it may be the only complete app
  rm -rf "$new" "$old"
  mkdir -p "$new"
  tar -C "$SRC" --exclude=__pycache__ --exclude='*.pyc' --exclude=models/training -cf - "${APP_PATHS[@]}" \
    | tar -C "$new" --no-same-owner --no-same-permissions -xf - || die "could not copy the app to $new (disk full?)"
  # Which commit is installed: for a rollback (docs/deploy.md, Updating) and for bug reports.
  echo "$rev" > "$new/REVISION" || die "could not write $new/REVISION (disk full?)"
  # The service runs this code: nobody but root may change it (not the user the checkout belongs to),
  # and everyone may read it, whatever umask the admin's sudo kept (027 or 077 would lock it out).
  chmod -R go-w,a+rX "$new"
  flush "$new"
  replace_tree "$new" "$app" "$old" || die "could not swap $new in for $app"
  say "app files: $app (revision $rev)"
}

# What $OPT/.installed holds once the packages are in: the venv's Python version and a hash of
# the pins. The version is there so that an OS upgrade to a new python3 (which re-creates the
# venv, empty) installs the packages again instead of finding the stamp unchanged.
venv_stamp() {
  local py version
  py="$(at "$OPT")/bin/python"
  [ -x "$py" ] || py="$(pick_python)"   # on a dry run the venv may not exist yet
  version="$("$py" -V 2>&1)" || version="python: unknown"
  printf '%s %s\n' "$version" "$(cat "$SRC/requirements.txt" "$SRC/setup.cfg" | sha256sum | cut -d' ' -f1)"
}

# Before the app is swapped: make the venv and install the checkout's pins into it. pip resolves
# and downloads everything before it changes the venv, so no network or a pin without a wheel
# stops the update here, with the old app and its packages still in place.
install_python_packages() {
  local venv want
  venv="$(at "$OPT")"
  if [ -x "$venv/bin/python" ]; then
    echo "venv $OPT: exists"
  else
    # System site packages: picamera2 and libcamera come from apt, not PyPI.
    do_ "$(pick_python)" -m venv --system-site-packages "$venv" \
      || die "could not create the venv $OPT (is python3-venv installed?)"
  fi
  want="$(venv_stamp)"
  if [ "$(cat "$venv/.installed" 2>/dev/null)" = "$want" ]; then
    echo "python packages: up to date ($(echo "$want" | cut -d' ' -f1-2))"
    return 0
  fi
  do_ "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$SRC/requirements.txt" \
    || die "pip install of the pinned packages failed, nothing was updated (the mirror runs on as it was):" \
      "check the network; if pip found no matching distribution, a wheel needs a newer glibc than this" \
      "OS has (see docs/deploy.md, Known limits)"
  venv_stamp_due="$want"
}

# After the swap: register the new app in the venv (its entry points and metadata) when the pins
# or Python changed. If that fails (it may need the network for setuptools), the previous app
# goes back in place, so the service never starts code the venv does not know.
install_app_into_venv() {
  local venv app old
  venv="$(at "$OPT")" app="$(at "$OPT/app")" old="$(at "$OPT/app.old")"
  if [ -n "$venv_stamp_due" ]; then
    if ! do_ "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e "$venv/app"; then
      if [ -d "$old" ]; then replace_tree "$old" "$app" "$(at "$OPT/app.new")" && rm -rf "$(at "$OPT/app.new")"; fi
      die "pip install of the app failed; the previous app is back in $OPT/app (check the network and run me again)"
    fi
    [ "$dry_run" -eq 1 ] || echo "$venv_stamp_due" > "$venv/.installed"
  fi
  # Only now, with the new app registered and the swap on disk (replace_tree flushed it).
  [ "$dry_run" -eq 1 ] || rm -rf "$old"
}

# Before the first start on new code (the running mirror may restart on it any time after the
# swap, and the closet's schema migrates on open, one way): an online SQLite backup of the
# closet, made as the user that owns it, so a rollback can restore it. Skipped when this revision
# is installed already (a re-run); never fatal. 3 are kept.
backup_closet() {
  local db="$DATA/closet.db" rev installed owner name old
  [ -e "$(at "$db")" ] || return 0
  rev="$(app_revision)"
  installed="$(cat "$(at "$OPT/app/REVISION")" 2>/dev/null || true)"
  if [ "$rev" != unknown ] && [ "$rev" = "$installed" ]; then
    echo "closet backup: revision $rev is installed already, none needed"
    return 0
  fi
  if ! command -v sqlite3 >/dev/null; then
    say "warning: no sqlite3 command, so no closet backup before the update (apt install sqlite3)"
    return 0
  fi
  owner="$(stat -c %U "$(at "$DATA")" 2>/dev/null)" || owner="$SERVICE_USER"
  name="$DATA/closet-pre-update-$(date +%Y-%m-%d-%H%M%S).db"
  if do_ runuser -u "$owner" -- sqlite3 "$(at "$db")" ".backup '$(at "$name")'"; then
    [ "$dry_run" -eq 1 ] || echo "closet backup: $name"
  else
    say "warning: the closet backup before the update failed (see above); updating anyway"
    return 0
  fi
  [ "$dry_run" -eq 0 ] || return 0
  # Keep this one and the 2 newest others (by name; this one is kept even when the clock is behind).
  find "$(at "$DATA")" -maxdepth 1 -name 'closet-pre-update-*.db' | grep -vxF "$(at "$name")" | sort | head -n -2 \
    | while read -r old; do rm -f "$old"; done || true
}

# The service cannot write under /opt (ProtectSystem=strict), so compile the app's bytecode
# now rather than on every start.
compile_app() {
  do_ "$(at "$OPT")/bin/python" -m compileall -q "$(at "$OPT/app")" \
    || say "warning: could not precompile $OPT/app; the mirror starts a little slower"
}

install_config() {
  if [ -e "$(at "$ETC/config.toml")" ]; then
    echo "config $ETC/config.toml: exists, kept as it is"
  else
    put_file "$SRC/config.example.toml" "$ETC/config.toml" 0640 "root:$SERVICE_USER"
  fi
}

# The /dev/dri card that has display connectors (cardN-HDMI-A-1 in sysfs): on a Pi the
# other card is the 3D engine, and the numbering differs between models and kernels.
kms_card() {
  local card
  for card in "$(at /sys/class/drm)"/card[0-9]*; do
    case "${card##*/}" in *-*) continue ;; esac
    if compgen -G "$card-*" >/dev/null; then
      echo "/dev/dri/${card##*/}"
      return 0
    fi
  done
  return 1
}

has_desktop() {
  [ -e "$(at /etc/systemd/system/display-manager.service)" ]
}

desktop_autologin_user() {
  local conf
  conf="$(at /etc/lightdm/lightdm.conf)"
  [ -r "$conf" ] && sed -n 's/^[[:space:]]*autologin-user[[:space:]]*=[[:space:]]*//p' "$conf" | tail -n 1
}

# resolve_display: the display mode (--display, or auto) and the user the service runs as, in
# $mode, $run_user, $run_group and $run_uid; once, as several steps need them.
resolve_display() {
  [ -z "$mode" ] || return 0
  mode="$display"
  if [ "$mode" = auto ]; then
    if has_desktop; then mode=wayland; else mode=eglfs; fi
    echo "display: $mode (auto: $(has_desktop && echo "a desktop is installed" || echo "no desktop"))"
  fi
  if [ "$mode" = eglfs ]; then
    run_user="$SERVICE_USER" run_group="$SERVICE_USER"
    return 0
  fi
  run_user="${desktop_user:-$(desktop_autologin_user)}"
  run_user="${run_user:-${SUDO_USER:-}}"
  [ -n "$run_user" ] || die "wayland mode: name the desktop user with --desktop-user NAME (the one that logs in automatically)"
  run_uid="$(id -u "$run_user" 2>/dev/null)" || die "wayland mode: no user '$run_user' on this system; check --desktop-user"
  run_group="$(id -gn "$run_user")"
}

# eglfs_loads: whether the installed PySide6 can load eglfs's KMS plugin (the pinned 6.8.0.2 wheels lack
# a library it needs); the reason is left in $eglfs_problem. True when there is no venv to ask (dry run).
eglfs_problem=""
eglfs_loads() {
  local py
  py="$(at "$OPT")/bin/python"
  [ -x "$py" ] || return 0
  eglfs_problem="$("$py" -c 'from mirror.doctor.system import EGLFS_KMS_PLUGIN, Machine, qt_plugin_problem
print(qt_plugin_problem(Machine(), EGLFS_KMS_PLUGIN))' 2>&1 | tail -n 1)"
  [ -z "$eglfs_problem" ]
}

install_display() {
  local dropin="$UNIT_DIR/$SERVICE.service.d/display.conf" card socket
  resolve_display
  if [ "$mode" = eglfs ]; then
    has_desktop && say "warning: a desktop is installed; eglfs needs the screen to itself" \
      "(sudo raspi-config > System > Boot: Console Autologin) or use --display wayland"
    put_file "$SRC/systemd/eglfs.conf" "$dropin" 0644 root:root
    eglfs_loads || say "warning: eglfs cannot load its KMS backend here ($eglfs_problem); the screen would" \
      "stay dark: use Pi OS with its desktop and --display wayland (docs/deploy.md)"
    if [ -e "$(at "$KMS_CONFIG")" ]; then
      echo "eglfs: $KMS_CONFIG exists, kept (delete it to detect the display card again)"
      return 0
    fi
    card="$(kms_card)" || { card=/dev/dri/card1; say "warning: no display connector found in /sys/class/drm;" \
      "assuming $card (edit $KMS_CONFIG if the screen stays black)"; }
    echo "eglfs: display card $card"
    sed "s#/dev/dri/card[0-9]*#$card#" "$SRC/systemd/eglfs-kms.json" | emit "$KMS_CONFIG" 0644
    return 0
  fi
  socket="$wayland_display"
  if [ -z "$socket" ]; then
    socket="$(find "$(at "/run/user/$run_uid")" -maxdepth 1 -type s -name 'wayland-[0-9]' -printf '%f\n' 2>/dev/null \
      | sort | head -n 1 || true)"
  fi
  if [ -z "$socket" ]; then
    # labwc (the bookworm default since late 2024) makes wayland-0, wayfire wayland-1.
    if [ ! -x "$(at /usr/bin/labwc)" ] && [ -x "$(at /usr/bin/wayfire)" ]; then socket=wayland-1; else socket=wayland-0; fi
  fi
  echo "display: wayland as $run_user (uid $run_uid), socket /run/user/$run_uid/$socket"
  sed -e "s/^User=.*/User=$run_user/" -e "s/^Group=.*/Group=$run_group/" \
      -e "s#/run/user/[0-9][0-9]*#/run/user/$run_uid#" -e "s/^Environment=WAYLAND_DISPLAY=.*/Environment=WAYLAND_DISPLAY=$socket/" \
      "$SRC/systemd/wayland.conf" | emit "$dropin" 0644
}

# /usr/local/bin/smart-mirror: the CLI with the service's closet, so that
# `sudo -u smart-mirror smart-mirror doctor` checks the same data folder as the service.
install_command() {
  emit /usr/local/bin/smart-mirror 0755 <<EOF
#!/bin/sh
# Made by scripts/install-pi.sh: the installed smart-mirror with the service's closet.
export STATE_DIRECTORY="\${STATE_DIRECTORY:-$DATA}"
exec $OPT/bin/smart-mirror "\$@"
EOF
}

install_unit() {
  put_file "$SRC/systemd/$SERVICE.service" "$UNIT_DIR/$SERVICE.service" 0644 root:root
  put_file "$SRC/systemd/$RETRY.service" "$UNIT_DIR/$RETRY.service" 0644 root:root
  put_file "$SRC/systemd/$RETRY.timer" "$UNIT_DIR/$RETRY.timer" 0644 root:root
  if ! systemd_running && [ "$dry_run" -eq 0 ]; then
    say "systemd is not running here (a container or chroot?): installed, not enabled or started"
    return 0
  fi
  do_ systemctl daemon-reload
  do_ systemctl enable "$SERVICE.service"
  # Every 15 minutes: start the service again if it failed for good (start limit, config error).
  do_ systemctl enable "$RETRY.timer"
  if [ "$start" -eq 1 ]; then
    do_ systemctl start "$RETRY.timer"
    # restart, not start: after an update the running mirror must pick up the new code; and
    # forget an earlier crash loop's start limit, or the restart would be refused.
    do_ systemctl reset-failed "$SERVICE.service" 2>/dev/null || true
    do_ systemctl restart "$SERVICE.service" \
      || die "the service did not start; see: journalctl -u $SERVICE -b --no-pager | tail -50"
  fi
}

install_all() {
  preflight
  recover_app
  install_packages
  resolve_display
  ensure_user
  make_dirs
  # The packages first, from this checkout, while the old app still runs: if pip fails, nothing
  # has changed. Then a backup of the closet, then the new app in one step.
  install_python_packages
  backup_closet
  copy_app
  install_app_into_venv
  compile_app
  install_config
  install_display
  install_command
  install_unit
  cat <<EOF
smart-mirror: installed$([ "$dry_run" -eq 1 ] && echo " (dry run: nothing was changed)").
  check it:   sudo -u $SERVICE_USER smart-mirror doctor
  its log:    journalctl -u $SERVICE -f
  configure:  sudo nano $ETC/config.toml && sudo systemctl restart $SERVICE
EOF
}

# ------------------------------------------------------------------------------ uninstall
uninstall_all() {
  if systemd_running || [ "$dry_run" -eq 1 ]; then
    do_ systemctl disable --now "$RETRY.timer" "$SERVICE.service" || true
  fi
  do_ rm -rf "$(at "$UNIT_DIR/$SERVICE.service")" "$(at "$UNIT_DIR/$SERVICE.service.d")" \
    "$(at "$UNIT_DIR/$RETRY.service")" "$(at "$UNIT_DIR/$RETRY.timer")"
  if systemd_running || [ "$dry_run" -eq 1 ]; then do_ systemctl daemon-reload; fi
  do_ rm -rf "$(at "$OPT")" "$(at /usr/local/bin/smart-mirror)"
  if [ "$purge" -eq 1 ]; then
    do_ rm -rf "$(at "$ETC")" "$(at "$DATA")" "$(at /var/cache/smart-mirror)"
    if getent passwd "$SERVICE_USER" >/dev/null; then do_ userdel "$SERVICE_USER"; fi
    echo "smart-mirror: removed, with its config, closet and user"
  else
    echo "smart-mirror: removed; kept $ETC (config) and $DATA (the closet) and the user $SERVICE_USER"
    echo "  delete them too with: sudo $0 --uninstall --purge"
  fi
}

main() {
  parse_args "$@"
  if [ "$uninstall" -eq 1 ]; then uninstall_all; else install_all; fi
}

# Run when executed; when sourced (tests/test_deploy_install.py), only define the steps so
# a test can run the file-placing ones for real under a temporary SMART_MIRROR_ROOT.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
