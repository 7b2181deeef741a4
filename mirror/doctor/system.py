"""Checks for a mirror installed on a Pi: the display, the clock, the service.

Each check reads the machine through a small injectable seam (environment, a root folder
for /sys, /dev and /run, a command runner) so tests can build a fake Pi in a temp folder.
The doctor may run as the service user from an ssh shell, where the service's own
environment (the display drop-in) is absent; the display check then reports what the
hardware allows instead of failing.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from mirror.config import Settings
from mirror.doctor.report import Finding, Outcome
from mirror.store.peek import closet_newest_time
from mirror.version import describe
from mirror.wallclock import clock_problem, kernel_synchronised, trusted_newest

SERVICE = "smart-mirror.service"

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def _run(cmd: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=10, check=False)


@dataclass(frozen=True)
class Machine:
    """Where the checks look: the real machine by default, a fake one in tests."""

    root: Path = Path("/")
    environ: Mapping[str, str] | None = None
    run: Runner = _run

    def env(self, key: str) -> str:
        return (os.environ if self.environ is None else self.environ).get(key, "")

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")


# ----------------------------------------------------------------------------- display
def kms_outputs(machine: Machine) -> dict[str, list[str]]:
    """``/dev/dri/cardN`` -> its connectors that have a screen attached (empty list: none)."""
    drm = machine.path("/sys/class/drm")
    cards: dict[str, list[str]] = {}
    if not drm.is_dir():
        return cards
    for entry in sorted(drm.iterdir()):
        card, _, connector = entry.name.partition("-")
        if not card.startswith("card") or not connector:
            continue
        status = entry / "status"
        connected = status.is_file() and status.read_text(encoding="utf-8").strip() == "connected"
        cards.setdefault(f"/dev/dri/{card}", [])
        if connected:
            cards[f"/dev/dri/{card}"].append(connector)
    return cards


#: The installer's display drop-in (``scripts/install-pi.sh``): the service's platform and its settings.
DISPLAY_DROPIN = f"/etc/systemd/system/{SERVICE}.d/display.conf"


def service_display_env(m: Machine) -> dict[str, str]:
    """The ``Environment=`` settings of the service's display drop-in ({} when there is none)."""
    try:
        text = m.path(DISPLAY_DROPIN).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    env: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.strip().removeprefix("Environment=").partition("=")
        if line.strip().startswith("Environment=") and key:
            env[key] = value.strip('"')
    return env


def check_display(_settings: Settings, machine: Machine | None = None) -> Iterator[Finding]:
    """Can Qt show the mirror here? The platform the service will use, and the screen behind it.

    From a shell without a display of its own (ssh), the service's own display drop-in says which platform
    that is: its eglfs or Wayland is judged, not whatever this shell could do."""
    m = machine or Machine()
    if not any(m.env(key) for key in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "DISPLAY")):
        service = service_display_env(m)
        if service.get("QT_QPA_PLATFORM"):
            m = replace(m, environ={**(os.environ if m.environ is None else m.environ), **service})
    platform = m.env("QT_QPA_PLATFORM")
    if platform == "offscreen":
        yield Finding(
            Outcome.WARN,
            "display",
            "QT_QPA_PLATFORM=offscreen: the mirror runs but shows nothing",
            "unset it (the service's display drop-in sets eglfs or wayland)",
        )
        return
    if platform.startswith("wayland") or (not platform and m.env("WAYLAND_DISPLAY")):
        yield _wayland(m)
        return
    if platform == "xcb" or (not platform and m.env("DISPLAY")):
        yield Finding(Outcome.OK, "display", f"X11 display {m.env('DISPLAY') or '(default)'}")
        return
    yield from _kms(m, explicit=platform.startswith("eglfs"))


def _wayland(m: Machine) -> Finding:
    name = m.env("WAYLAND_DISPLAY") or "wayland-0"
    runtime = m.env("XDG_RUNTIME_DIR")
    sock = Path(name) if name.startswith("/") else Path(runtime or "/nonexistent") / name
    if m.path(str(sock)).is_socket():
        return Finding(Outcome.OK, "display", f"Wayland compositor at {sock}")
    return Finding(
        Outcome.FAIL,
        "display",
        f"no Wayland compositor socket at {sock}",
        "log in to the desktop (raspi-config: Desktop Autologin) or install with --display eglfs",
    )


#: eglfs's KMS/DRM backend on a Pi (Mesa, with GBM): a plugin of the PySide6 wheel, under ``Qt/plugins``.
EGLFS_KMS_PLUGIN = "egldeviceintegrations/libqeglfs-kms-integration.so"
#: Load one shared library the way Qt's plugin loader would (dlopen, its RUNPATH finding Qt's own libraries).
_DLOPEN = "import ctypes, sys; ctypes.CDLL(sys.argv[1])"


def qt_plugin_problem(m: Machine, plugin: str) -> str:
    """Why Qt could not load ``plugin`` (a path under the wheel's ``Qt/plugins``); "" when it loads.

    Why: the pinned PySide6 6.8.0.2 wheels (x86_64 and aarch64) ship eglfs's KMS integration without a
    library it needs, ``libQt6EglFsKmsGbmSupport.so.6``: the mirror then aborts at start ("Could not
    initialize egl display") while a look at /dev/dri alone said OK. It is loaded in a child process,
    whose loader names the missing library in its own words.
    """
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return "PySide6 is not installed"
    path = Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / plugin
    if not path.is_file():
        return f"{path} is missing"
    try:
        result = m.run([sys.executable, "-c", _DLOPEN, str(path)])
    except (OSError, subprocess.SubprocessError) as exc:
        return f"could not try to load {path.name} ({exc})"
    if result.returncode == 0:
        return ""
    lines = result.stderr.strip().splitlines()
    return lines[-1].removeprefix("OSError: ") if lines else f"loading {path.name} exited {result.returncode}"


def _kms(m: Machine, explicit: bool) -> Iterator[Finding]:
    if m.env("QT_QPA_EGLFS_INTEGRATION") in ("", "eglfs_kms") and (problem := qt_plugin_problem(m, EGLFS_KMS_PLUGIN)):
        yield Finding(
            Outcome.FAIL if explicit else Outcome.WARN,
            "display",
            f"eglfs cannot load its KMS backend ({problem})",
            "use Pi OS with its desktop and install with --display wayland (docs/deploy.md: Wayland desktop or Lite)",
        )
        return
    kms_config = m.env("QT_QPA_EGLFS_KMS_CONFIG")
    if kms_config and not m.path(kms_config).is_file():
        yield Finding(
            Outcome.FAIL,
            "display",
            f"QT_QPA_EGLFS_KMS_CONFIG names {kms_config}, which does not exist",
            "re-run scripts/install-pi.sh --display eglfs",
        )
        return
    cards = kms_outputs(m)
    with_screen = {card: outs for card, outs in cards.items() if outs}
    how = "eglfs" if explicit else "no display session in this shell; eglfs"
    if with_screen:
        card, outputs = next(iter(with_screen.items()))
        if not os.access(m.path(card), os.R_OK | os.W_OK) and m.path(card).exists():
            yield Finding(
                Outcome.FAIL,
                "display",
                f"{card} has a screen ({', '.join(outputs)}) but this user cannot open it",
                "add the user to the video and render groups (the service gets them from its unit)",
            )
            return
        yield Finding(Outcome.OK, "display", f"{how} can drive {card} ({', '.join(outputs)} connected)")
    elif cards:
        yield Finding(
            Outcome.WARN if not explicit else Outcome.FAIL,
            "display",
            f"no screen connected to {', '.join(cards)}",
            "plug the display in before boot (HDMI0 on a Pi 4/5) and check its power",
        )
    else:
        yield Finding(
            Outcome.WARN if not explicit else Outcome.FAIL,
            "display",
            "no KMS display device (/sys/class/drm/card*-*)",
            "enable dtoverlay=vc4-kms-v3d in /boot/firmware/config.txt, or run with DISPLAY/WAYLAND_DISPLAY set",
        )


# ----------------------------------------------------------------------------- clock
def clock_synchronised(machine: Machine, kernel: Callable[[], bool | None] = kernel_synchronised) -> bool | None:
    """timedatectl when systemd answers, else timesyncd's flag file, else the kernel; None: cannot tell."""
    try:
        result = machine.run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"])
    except (OSError, subprocess.SubprocessError):
        result = None
    if result is not None and result.returncode == 0 and result.stdout.strip() in ("yes", "no"):
        return result.stdout.strip() == "yes"
    if machine.path("/run/systemd/timesync/synchronized").exists():
        return True
    return kernel()


def check_clock(
    settings: Settings,
    machine: Machine | None = None,
    now: dt.datetime | None = None,
    kernel: Callable[[], bool | None] = kernel_synchronised,
) -> Iterator[Finding]:
    """Record timestamps and TLS certificate checks need the right time; a Pi 4 has no RTC."""
    m = machine or Machine()
    moment = now or dt.datetime.now(dt.UTC)
    synced = clock_synchronised(m, kernel)
    newest = closet_newest_time(settings.store.path())
    wrong = clock_problem(moment, trusted_newest(newest, synced))
    if wrong:
        yield Finding(
            Outcome.FAIL,
            "clock",
            f"the clock is wrong ({wrong}): TLS to the broker will fail and garments get wrong dates",
            "connect to the network once (NTP) or fit an RTC battery (Pi 5)",
        )
        return
    if synced:
        ahead = f"; garments up to {newest:%Y-%m-%d %H:%M} UTC were dated by a clock that was ahead" if (
            newest is not None and newest > moment
        ) else ""
        yield Finding(Outcome.OK, "clock", f"synchronised ({moment:%Y-%m-%d %H:%M} UTC){ahead}")
    elif synced is None:
        yield Finding(
            Outcome.WARN,
            "clock",
            "cannot tell whether the clock is synchronised",
            "use systemd-timesyncd or chrony (timedatectl set-ntp true)",
        )
    else:
        yield Finding(
            Outcome.WARN,
            "clock",
            "not synchronised: record times may be off and TLS certificates may look invalid",
            "check the network and NTP: timedatectl timesync-status; sudo timedatectl set-ntp true",
        )


# ----------------------------------------------------------------------------- service
def check_service(_settings: Settings, machine: Machine | None = None) -> Iterator[Finding]:
    """Is the mirror installed as a service, enabled for boot and running (not crash-looping)?"""
    m = machine or Machine()
    if not m.path("/run/systemd/system").is_dir():
        yield Finding(Outcome.OK, "service", "systemd is not running here: not installed as a service")
        return
    props = _unit_properties(m)
    if props.get("LoadState") != "loaded":
        yield Finding(Outcome.OK, "service", "not installed as a service (sudo scripts/install-pi.sh installs it)")
        return
    enabled = props.get("UnitFileState", "")
    active = props.get("ActiveState", "")
    restarts = int(props.get("NRestarts", "0") or 0)
    state = f"{enabled}, {active}" + (f" ({props['SubState']})" if props.get("SubState") else "")
    logs = "journalctl -u smart-mirror -b --no-pager | tail -50"
    if active == "failed":
        yield Finding(
            Outcome.FAIL,
            "service",
            f"{state}, result {props.get('Result', '?')}",
            f"see {logs}; then sudo systemctl reset-failed smart-mirror && sudo systemctl restart smart-mirror",
        )
    elif enabled != "enabled":
        yield Finding(Outcome.WARN, "service", f"{state}: will not start at boot", "sudo systemctl enable smart-mirror")
    elif active not in ("active", "activating", "reloading"):
        yield Finding(Outcome.WARN, "service", f"{state}: not running", "sudo systemctl start smart-mirror")
    elif restarts:
        yield Finding(Outcome.WARN, "service", f"{state}, restarted {restarts} time(s) since boot", f"see {logs}")
    else:
        yield Finding(Outcome.OK, "service", state)


def _unit_properties(m: Machine) -> dict[str, str]:
    keys = "LoadState,ActiveState,SubState,UnitFileState,Result,NRestarts"
    try:
        result = m.run(["systemctl", "show", SERVICE, f"--property={keys}"])
    except (OSError, subprocess.SubprocessError):
        return {}
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)


def check_software(_settings: Settings) -> Iterator[Finding]:
    """Which software runs, with the commit an install came from (before an update, in a bug report)."""
    yield Finding(Outcome.OK, "software", f"smart-mirror {describe()}")


SYSTEM_CHECKS = (check_display, check_clock, check_service, check_software)
