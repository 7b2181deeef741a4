"""The systemd unit and its display drop-ins: systemd itself parses them, and they say what deploy needs.

``systemd-analyze verify`` refuses a unit whose ExecStart= binary does not exist, and the
real one (/opt/smart-mirror/bin/smart-mirror) exists only on an installed Pi, so the unit is
verified as a copy with ExecStart= pointed at /bin/true; every other line is the shipped one.
Unknown keys and bad values only print warnings (exit code 0), so any output fails the test.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SYSTEMD = ROOT / "systemd"
UNIT = SYSTEMD / "smart-mirror.service"
INSTALLED_BIN = "/opt/smart-mirror/bin/smart-mirror"

needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is absent (scripts/test.sh installs the systemd package for it)",
)


def directives(text: str) -> list[tuple[str, str, str]]:
    """(section, key, value) for every line, in order; systemd allows repeated keys."""
    found, section = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        found.append((section, key.strip(), value.strip()))
    return found


def values(text: str, key: str) -> list[str]:
    return [v for _, k, v in directives(text) if k == key]


def verify(folder: Path, unit_text: str, dropins: dict[str, str] | None = None) -> str:
    """Write the unit (ExecStart -> /bin/true) and drop-ins to ``folder``; systemd-analyze's complaints."""
    unit = folder / "smart-mirror.service"
    unit.write_text(re.sub(r"(?m)^ExecStart=.*$", "ExecStart=/bin/true", unit_text))
    if dropins:
        (folder / "smart-mirror.service.d").mkdir()
        for name, text in dropins.items():
            (folder / "smart-mirror.service.d" / name).write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True, check=False, cwd=folder
    )
    return (result.stdout + result.stderr).strip() or ("" if result.returncode == 0 else f"exit {result.returncode}")


@needs_analyze
def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    assert verify(tmp_path, UNIT.read_text()) == ""


@needs_analyze
@pytest.mark.parametrize("dropin", ["eglfs.conf", "wayland.conf"])
def test_the_unit_with_each_display_dropin_passes_verify(tmp_path: Path, dropin: str) -> None:
    assert verify(tmp_path, UNIT.read_text(), {"display.conf": (SYSTEMD / dropin).read_text()}) == ""


@needs_analyze
def test_verify_would_catch_a_typo(tmp_path: Path) -> None:
    """The check above can fail: a misspelt hardening key is reported."""
    broken = UNIT.read_text().replace("ProtectSystem=strict", "ProtectSytem=strict")
    assert "Unknown key 'ProtectSytem'" in verify(tmp_path, broken)


@needs_analyze
def test_hardening_is_rated_ok_by_systemd(tmp_path: Path) -> None:
    """``systemd-analyze security``: exposure 4.0 or less, systemd's "OK" band."""
    verify(tmp_path, UNIT.read_text())
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--threshold=40", "--no-pager", "smart-mirror.service"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-400:]


def test_notify_watchdog_restart_and_start_limit() -> None:
    text = UNIT.read_text()
    assert values(text, "Type") == ["notify"]
    assert values(text, "NotifyAccess") == ["main"]
    assert int(values(text, "WatchdogSec")[0]) >= 10  # the app pings every WatchdogSec/2
    assert values(text, "Restart") == ["on-failure"]
    assert int(values(text, "StartLimitBurst")[0]) > 1
    assert int(values(text, "StartLimitIntervalSec")[0]) > 0
    assert values(text, "ExecStart") == [f"{INSTALLED_BIN} run"]
    assert values(text, "StandardOutput") == ["journal"]


def test_offline_first_the_network_is_ordered_never_required() -> None:
    text = UNIT.read_text()
    for key in ("Wants", "Requires", "BindsTo", "Requisite"):
        assert not any("network" in v for v in values(text, key)), key
    assert not any("network-online" in v for v in values(text, "After"))
    assert any("network.target" in v for v in values(text, "After"))


def test_a_dedicated_user_and_the_hardening_issue_8_asks_for() -> None:
    text = UNIT.read_text()
    assert values(text, "User") == ["smart-mirror"]
    assert set(values(text, "SupplementaryGroups")[0].split()) == {"video", "render", "input"}
    for key, value in [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("StateDirectory", "smart-mirror"),
        ("DevicePolicy", "closed"),
        ("RemoveIPC", "yes"),
        ("MemoryMax", "80%"),  # out of memory the mirror restarts, not the whole Pi
    ]:
        assert values(text, key) == [value], key
    assert values((UNIT.parent / "wayland.conf").read_text(), "RemoveIPC") == ["no"]  # the desktop user's own
    allowed = {v.split()[0] for v in values(text, "DeviceAllow")}
    assert {"char-drm", "char-video4linux", "char-media", "char-dma_heap"} <= allowed


def test_eglfs_dropin_points_qt_at_the_kms_config_the_installer_writes() -> None:
    text = (SYSTEMD / "eglfs.conf").read_text()
    env = dict(v.split("=", 1) for v in values(text, "Environment"))
    assert env["QT_QPA_PLATFORM"] == "eglfs"
    assert env["QT_QPA_EGLFS_KMS_CONFIG"] == "/etc/smart-mirror/eglfs-kms.json"
    assert json.loads((SYSTEMD / "eglfs-kms.json").read_text())["device"].startswith("/dev/dri/card")


def test_wayland_dropin_reaches_the_session_socket() -> None:
    text = (SYSTEMD / "wayland.conf").read_text()
    env = dict(v.split("=", 1) for v in values(text, "Environment"))
    assert env["QT_QPA_PLATFORM"] == "wayland"
    assert env["XDG_RUNTIME_DIR"].startswith("/run/user/")
    assert env["WAYLAND_DISPLAY"].startswith("wayland-")
    # ProtectHome=yes hides /run/user, and with it the compositor's socket.
    assert values(text, "ProtectHome") == ["read-only"]
    assert values(text, "SupplementaryGroups") == ["smart-mirror"]


def test_nothing_waits_for_ntp() -> None:
    """time-sync.target waits forever offline where systemd-time-wait-sync is enabled."""
    text = UNIT.read_text()
    assert not any("time-sync" in v for key in ("After", "Wants", "Requires") for v in values(text, key))


def test_a_watchdog_kill_leaves_the_hung_stack_in_the_journal() -> None:
    """systemd kills a silent mirror with SIGABRT; the unit's PYTHONFAULTHANDLER prints where it hung."""
    env = dict(v.split("=", 1) for v in values(UNIT.read_text(), "Environment"))
    hang = "import time\ndef stuck_in_the_model():\n    print('up', flush=True)\n    time.sleep(60)\n"
    hang += "stuck_in_the_model()\n"
    proc = subprocess.Popen(
        [sys.executable, "-c", hang],
        env={"PATH": "/usr/bin:/bin", "PYTHONFAULTHANDLER": env["PYTHONFAULTHANDLER"]},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "up"
    proc.send_signal(signal.SIGABRT)
    _, err = proc.communicate(timeout=20)
    assert "Fatal Python error: Aborted" in err
    assert "stuck_in_the_model" in err


RETRY_SERVICE = SYSTEMD / "smart-mirror-retry.service"
RETRY_TIMER = SYSTEMD / "smart-mirror-retry.timer"


@needs_analyze
def test_the_retry_timer_and_service_pass_verify(tmp_path: Path) -> None:
    """Verified beside the main unit (the one they name), with every line as shipped."""
    verify(tmp_path, UNIT.read_text())
    for unit in (RETRY_SERVICE, RETRY_TIMER):
        (tmp_path / unit.name).write_text(unit.read_text())
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", RETRY_TIMER.name, RETRY_SERVICE.name],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr


@needs_analyze
def test_the_retry_service_is_hardened(tmp_path: Path) -> None:
    """It runs as root (only root may reset-failed and start a unit), so it is locked down to talking to systemd."""
    (tmp_path / RETRY_SERVICE.name).write_text(RETRY_SERVICE.read_text())
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--threshold=20", "--no-pager", RETRY_SERVICE.name],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-400:]
    text = RETRY_SERVICE.read_text()
    assert values(text, "RestrictAddressFamilies") == ["AF_UNIX"]
    assert values(text, "PrivateNetwork") == ["yes"]
    assert values(text, "ProtectSystem") == ["strict"]


def test_the_retry_timer_comes_every_15_minutes_from_boot() -> None:
    text = RETRY_TIMER.read_text()
    assert values(text, "OnBootSec") == ["15min"]
    assert values(text, "OnUnitActiveSec") == ["15min"]
    assert values(text, "WantedBy") == ["timers.target"]
    assert values(RETRY_SERVICE.read_text(), "Type") == ["oneshot"]


def run_retry(tmp_path: Path, *, enabled: bool, failed: bool) -> tuple[int, str, list[str]]:
    """Run the retry service's ExecStart with a systemctl shim; (exit code, output, the systemctl calls)."""
    (exec_start,) = values(RETRY_SERVICE.read_text(), "ExecStart")
    # systemd would expand $VAR and %x in it: the command holds neither, so the shell sees it as written.
    assert "$" not in exec_start and "%" not in exec_start
    argv = shlex.split(exec_start)
    assert argv[:2] == ["/bin/sh", "-c"] and len(argv) == 3
    calls = tmp_path / "calls"
    shim = tmp_path / "systemctl"
    shim.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{calls}"\n'
        'case "$1" in\n'
        f"  is-enabled) exit {0 if enabled else 1} ;;\n"
        f"  is-failed) exit {0 if failed else 1} ;;\n"
        "esac\n"
    )
    shim.chmod(0o755)
    result = subprocess.run(
        argv, capture_output=True, text=True, check=False, env={"PATH": f"{tmp_path}:/usr/bin:/bin"}, timeout=10
    )
    made = calls.read_text().splitlines() if calls.exists() else []
    return result.returncode, result.stdout + result.stderr, made


def test_the_retry_brings_back_a_failed_enabled_mirror(tmp_path: Path) -> None:
    code, out, calls = run_retry(tmp_path, enabled=True, failed=True)
    assert code == 0
    assert calls[-2:] == ["reset-failed smart-mirror.service", "start --no-block smart-mirror.service"]
    assert out.startswith("<5>")  # one notice in the journal, only when it acts


@pytest.mark.parametrize(
    ("enabled", "failed"),
    [(True, False), (False, True)],
    ids=["running-or-stopped-on-purpose", "disabled-on-purpose"],
)
def test_the_retry_leaves_a_mirror_alone_that_has_not_failed_or_is_disabled(
    tmp_path: Path, enabled: bool, failed: bool
) -> None:
    code, out, calls = run_retry(tmp_path, enabled=enabled, failed=failed)
    assert code == 0, out  # nothing to do is not a failure of the retry unit
    assert out == ""
    assert not [c for c in calls if c.startswith(("reset-failed", "start", "restart"))]


def test_a_config_error_is_not_restarted_in_a_loop() -> None:
    """Exit 2 (mirror/cli/main.py: the config is invalid) cannot be fixed by restarting; the timer retries it."""
    assert values(UNIT.read_text(), "RestartPreventExitStatus") == ["2"]


def test_the_wayland_start_timeout_covers_the_socket_wait_and_a_cold_start() -> None:
    text = (SYSTEMD / "wayland.conf").read_text()
    (pre,) = values(text, "ExecStartPre")
    found = re.search(r"-gt (\d+) \]", pre)  # the seconds it waits for the compositor's socket
    assert found is not None
    assert int(values(text, "TimeoutStartSec")[0]) >= int(found.group(1)) + 120
