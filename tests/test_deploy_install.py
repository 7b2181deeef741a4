"""scripts/install-pi.sh, without touching this machine: shellcheck, and its --dry-run under a fake root.

The script takes SMART_MIRROR_ROOT (a folder standing in for /) only together with --dry-run,
and every command that changes the system is shimmed here to record its call: a dry run
must print its plan and record nothing, create nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_deploy_systemd import needs_analyze, values, verify

SCRIPT = ROOT / "scripts" / "install-pi.sh"
MUTATING = (
    "apt-get",
    "useradd",
    "usermod",
    "userdel",
    "systemctl",
    "install",
    "rm",
    "mv",
    "chmod",
    "tar",
    "runuser",
    "sqlite3",
    "sync",
)


@pytest.fixture
def fake(tmp_path: Path) -> Path:
    """A fake / plus shims that record any system-changing command."""
    (tmp_path / "root").mkdir()
    shims = tmp_path / "shims"
    shims.mkdir()
    for name in MUTATING:
        shim = shims / name
        shim.write_text(f'#!/bin/sh\necho "{name} $*" >> "{tmp_path}/called"\n')
        shim.chmod(0o755)
    return tmp_path


def dry_run(fake: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SUDO_USER", "SMART_MIRROR_ROOT")}
    env["PATH"] = f"{fake / 'shims'}:{env['PATH']}"
    env["SMART_MIRROR_ROOT"] = str(fake / "root")
    return subprocess.run(
        ["bash", str(SCRIPT), "--dry-run", *args], capture_output=True, text=True, env=env, check=False, timeout=60
    )


def changed_nothing(fake: Path) -> bool:
    return not (fake / "called").exists() and list((fake / "root").rglob("*")) == pre_made(fake)


def pre_made(fake: Path) -> list[Path]:
    return sorted(p for p in (fake / "root").rglob("*") if not p.name.startswith("dry-run-"))


def written(output: str, path: str) -> str:
    """The text a dry run says it would write to ``path``."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"[dry-run] would write {path} "))
    body = []
    for line in lines[start + 1 :]:
        if not line.startswith("    ") and line.strip():
            break
        body.append(line[4:])
    return "\n".join(body)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is absent (scripts/test.sh installs it)")
def test_every_script_is_shellcheck_clean() -> None:
    scripts = sorted(str(p) for p in (ROOT / "scripts").glob("*.sh"))
    result = subprocess.run(
        ["shellcheck", "-x", "--source-path=SCRIPTDIR", *scripts], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout


def test_a_fresh_install_plan(fake: Path) -> None:
    result = dry_run(fake, "--display", "eglfs")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "would install " + str(ROOT / "config.example.toml") + " as /etc/smart-mirror/config.toml" in out
    assert "-m venv --system-site-packages /opt/smart-mirror\n" in out
    assert "pip install -q --disable-pip-version-check --no-deps -e /opt/smart-mirror/app" in out
    assert "would install " + str(ROOT / "systemd/smart-mirror.service") + " as /etc/systemd/system/" in out
    assert "/etc/systemd/system/smart-mirror.service.d/display.conf" in out
    assert "would run: systemctl enable smart-mirror.service" in out
    assert "would run: systemctl restart smart-mirror.service" in out
    assert "install -d -m 0750 -o smart-mirror -g smart-mirror /var/lib/smart-mirror" in out
    assert 'STATE_DIRECTORY="${STATE_DIRECTORY:-/var/lib/smart-mirror}"' in written(out, "/usr/local/bin/smart-mirror")
    assert "nothing was changed" in out
    assert changed_nothing(fake), (fake / "called").read_text() if (fake / "called").exists() else "files created"


def revision() -> str:
    return subprocess.run(
        ["git", "-c", f"safe.directory={ROOT}", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_an_update_installs_the_new_pins_before_it_swaps_the_app(fake: Path) -> None:
    """A pip failure (no network, a pin without a wheel) must stop the update before the app is replaced."""
    result = dry_run(fake, "--display", "eglfs")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()

    def first(text: str) -> int:
        return next(i for i, line in enumerate(lines) if text in line)

    pins = first(f"pip install -q --disable-pip-version-check -r {ROOT}/requirements.txt")  # the checkout's
    swap = first("would copy mirror ui sync")
    revision_file = first("would write /opt/smart-mirror/app/REVISION ")
    app = first("--no-deps -e /opt/smart-mirror/app")
    restart = first("would run: systemctl restart smart-mirror.service")
    assert pins < swap < revision_file < app < restart
    assert "-r /opt/smart-mirror/app/requirements.txt" not in result.stdout
    assert written(result.stdout, "/opt/smart-mirror/app/REVISION").strip() == revision()


def test_a_closet_is_backed_up_before_the_new_app_goes_in(fake: Path) -> None:
    closet = fake / "root/var/lib/smart-mirror"
    closet.mkdir(parents=True)
    (closet / "closet.db").write_text("")
    result = dry_run(fake, "--display", "eglfs")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    backup = next(i for i, line in enumerate(lines) if "sqlite3 /var/lib/smart-mirror/closet.db .backup" in line)
    assert re.search(r"runuser -u \S+ -- sqlite3 .*closet-pre-update-\d{4}-\d\d-\d\d-\d{6}\.db", lines[backup])
    assert backup < next(i for i, line in enumerate(lines) if "would copy mirror ui sync" in line)
    # The existing folder keeps its owner (it belongs to whoever the running service runs as).
    assert "-o smart-mirror -g smart-mirror /var/lib/smart-mirror" not in result.stdout
    assert "closet folder /var/lib/smart-mirror: exists, owner kept" in result.stdout
    assert changed_nothing(fake)


def test_the_retry_timer_is_installed_and_enabled(fake: Path) -> None:
    result = dry_run(fake, "--display", "eglfs")
    assert result.returncode == 0, result.stderr
    for unit in ("smart-mirror-retry.service", "smart-mirror-retry.timer"):
        assert f"would install {ROOT}/systemd/{unit} as /etc/systemd/system/{unit} " in result.stdout
    assert "would run: systemctl enable smart-mirror-retry.timer" in result.stdout
    assert "would run: systemctl start smart-mirror-retry.timer" in result.stdout


def pins_hash() -> str:
    return hashlib.sha256((ROOT / "requirements.txt").read_bytes() + (ROOT / "setup.cfg").read_bytes()).hexdigest()


def fake_venv(fake: Path, version: str, stamp: str) -> None:
    venv = fake / "root/opt/smart-mirror"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin/python").write_text(f'#!/bin/sh\n[ "$1" = -V ] && echo "{version}"\n')
    (venv / "bin/python").chmod(0o755)
    (venv / ".installed").write_text(stamp + "\n")


def test_the_venv_stamp_holds_the_python_version(fake: Path) -> None:
    """An OS upgrade to a new python3 re-creates the venv empty: the same pins must still be installed again."""
    fake_venv(fake, "Python 3.13.5", f"Python 3.11.2 {pins_hash()}")
    upgraded = dry_run(fake, "--display", "eglfs")
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"-r {ROOT}/requirements.txt" in upgraded.stdout
    (fake / "root/opt/smart-mirror/.installed").write_text(f"Python 3.13.5 {pins_hash()}\n")
    same = dry_run(fake, "--display", "eglfs")
    assert "python packages: up to date (Python 3.13.5)" in same.stdout
    assert "pip install" not in same.stdout


def test_a_32_bit_userland_on_a_64_bit_kernel_is_refused(fake: Path) -> None:
    """32-bit Pi OS on a Pi 4/5 boots a 64-bit kernel: uname says aarch64, but no pinned wheel is armhf."""
    dpkg = fake / "shims" / "dpkg"
    dpkg.write_text('#!/bin/sh\n[ "$1" = --print-architecture ] && echo armhf\n')
    dpkg.chmod(0o755)
    result = dry_run(fake, "--display", "eglfs")
    assert result.returncode != 0
    assert "this is a armhf (32-bit) system: install the 64-bit Raspberry Pi OS" in result.stderr + result.stdout
    assert changed_nothing(fake)


def test_an_existing_config_is_never_replaced(fake: Path) -> None:
    config = fake / "root/etc/smart-mirror/config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[device]\nname = "hall"\n')
    result = dry_run(fake, "--display", "eglfs", "--no-start")
    assert result.returncode == 0, result.stderr
    assert "config /etc/smart-mirror/config.toml: exists, kept as it is" in result.stdout
    assert "as /etc/smart-mirror/config.toml" not in result.stdout
    assert "would run: systemctl restart" not in result.stdout
    assert config.read_text() == '[device]\nname = "hall"\n'
    assert not (fake / "called").exists()


def test_eglfs_uses_the_card_with_display_connectors(fake: Path) -> None:
    drm = fake / "root/sys/class/drm"
    for name in ("card0", "card1", "card1-HDMI-A-1", "card1-HDMI-A-2", "renderD128"):
        (drm / name).mkdir(parents=True)
    result = dry_run(fake, "--display", "eglfs")
    assert result.returncode == 0, result.stderr
    assert '"device": "/dev/dri/card1"' in written(result.stdout, "/etc/smart-mirror/eglfs-kms.json")
    (drm / "card1-HDMI-A-1").rename(drm / "card2-HDMI-A-1")
    (drm / "card1-HDMI-A-2").rmdir()
    (drm / "card2").mkdir()
    assert '"device": "/dev/dri/card2"' in dry_run(fake, "--display", "eglfs").stdout


def test_no_connector_found_is_a_warning_with_the_file_to_edit(fake: Path) -> None:
    result = dry_run(fake, "--display", "eglfs")
    assert "no display connector found" in result.stderr
    assert "/etc/smart-mirror/eglfs-kms.json" in result.stderr


@needs_analyze
def test_wayland_dropin_is_rendered_for_the_desktop_user_and_verifies(fake: Path) -> None:
    """auto picks wayland where a display manager is enabled; lightdm's autologin user is used."""
    (fake / "root/etc/systemd/system").mkdir(parents=True)
    (fake / "root/etc/systemd/system/display-manager.service").write_text("")
    (fake / "root/etc/lightdm").mkdir()
    (fake / "root/etc/lightdm/lightdm.conf").write_text("[Seat:*]\nautologin-user=daemon\n")
    run_dir = fake / "root/run/user/1"
    run_dir.mkdir(parents=True)
    with socket.socket(socket.AF_UNIX) as compositor:
        compositor.bind(str(run_dir / "wayland-1"))
        result = dry_run(fake)
    assert result.returncode == 0, result.stderr
    dropin = written(result.stdout, "/etc/systemd/system/smart-mirror.service.d/display.conf")
    assert values(dropin, "User") == ["daemon"]
    assert "Environment=XDG_RUNTIME_DIR=/run/user/1" in dropin
    assert "Environment=WAYLAND_DISPLAY=wayland-1" in dropin  # the socket found, not the default
    # The desktop user joins the group, so `sudo -u daemon smart-mirror doctor` can read /etc/smart-mirror.
    assert "would run: usermod --append --groups smart-mirror daemon" in result.stdout
    # A new closet folder is made for the user the service runs as.
    assert "install -d -m 0750 -o daemon -g daemon /var/lib/smart-mirror" in result.stdout
    check = fake / "verify"
    check.mkdir()
    assert verify(check, (ROOT / "systemd/smart-mirror.service").read_text(), {"display.conf": dropin}) == ""


def test_rerunning_the_wayland_mode_leaves_the_running_services_closet_alone(fake: Path) -> None:
    """The service runs as the desktop user and owns the folder: a re-run must not chown it under it."""
    (fake / "root/var/lib/smart-mirror").mkdir(parents=True)
    result = dry_run(fake, "--display", "wayland", "--desktop-user", "daemon", "--wayland-display", "wayland-0")
    assert result.returncode == 0, result.stderr
    runs = [line for line in result.stdout.splitlines() if "would run" in line]
    assert not [line for line in runs if line.endswith(" /var/lib/smart-mirror") and "useradd" not in line]
    assert "closet folder /var/lib/smart-mirror: exists, owner kept" in result.stdout
    assert "would run: usermod --append --groups smart-mirror daemon" in result.stdout
    assert changed_nothing(fake)


def test_uninstall_keeps_the_closet_unless_purged(fake: Path) -> None:
    kept = dry_run(fake, "--uninstall")
    assert kept.returncode == 0, kept.stderr
    assert "would run: systemctl disable --now smart-mirror-retry.timer smart-mirror.service" in kept.stdout
    assert "/etc/systemd/system/smart-mirror-retry.service /etc/systemd/system/smart-mirror-retry.timer" in kept.stdout
    assert "rm -rf /opt/smart-mirror" in kept.stdout
    assert "/var/lib/smart-mirror" not in "".join(line for line in kept.stdout.splitlines() if "would run" in line)
    purged = dry_run(fake, "--uninstall", "--purge")
    assert "would run: rm -rf /etc/smart-mirror /var/lib/smart-mirror /var/cache/smart-mirror" in purged.stdout
    assert changed_nothing(fake)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--purge"], "--purge only goes with --uninstall"),
        (["--display", "x11"], "--display must be eglfs, wayland or auto, not 'x11'"),
        (["--frobnicate"], "unknown option: --frobnicate"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(fake: Path, args: list[str], message: str) -> None:
    result = dry_run(fake, *args)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == f"smart-mirror: {message}"


def test_the_fake_root_is_refused_outside_dry_run(tmp_path: Path) -> None:
    env = {**os.environ, "SMART_MIRROR_ROOT": str(tmp_path)}
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 1
    assert "SMART_MIRROR_ROOT is for --dry-run tests only" in result.stderr


FILE_TOOLS = ("install", "rm", "mv", "chmod", "tar", "runuser", "sqlite3", "sync")


def run_steps(fake: Path, steps: str, real: tuple[str, ...] = FILE_TOOLS) -> subprocess.CompletedProcess[str]:
    """Source the script (which then only defines its steps) and run ``steps`` for real under the fake root."""
    script = f'source "{SCRIPT}"\nSYSROOT="{fake / "root"}"\ndry_run=0\n{steps}\n'
    env = {**os.environ, "PATH": f"{fake / 'shims'}:/usr/sbin:/usr/bin:/sbin:/bin"}
    for name in real:  # the real tools, for the file steps
        (fake / "shims" / name).unlink(missing_ok=True)
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, check=False, timeout=120)


def test_file_steps_for_real_copy_swap_and_generated_files(fake: Path) -> None:
    """Not a dry run: copy the app (twice, as an update), write the drop-in, KMS config and wrapper."""
    (fake / "root/sys/class/drm/card1-HDMI-A-1").mkdir(parents=True)
    (fake / "root/sys/class/drm/card1").mkdir()
    result = run_steps(fake, "copy_app\ncopy_app\ninstall_app_into_venv\ninstall_display\ninstall_command")
    assert result.returncode == 0, result.stderr
    root = fake / "root"
    app = root / "opt/smart-mirror/app"
    assert (app / "mirror/notify.py").read_text() == (ROOT / "mirror/notify.py").read_text()
    assert (app / "models").is_dir()
    assert (app / "systemd/smart-mirror.service").is_file()
    assert not list(app.rglob("__pycache__"))
    assert not (app / "models/training").exists()
    assert not (root / "opt/smart-mirror/app.new").exists()  # the update swapped in completely
    assert not (root / "opt/smart-mirror/app.old").exists()
    assert (app / "REVISION").read_text() == revision() + "\n"
    dropin = root / "etc/systemd/system/smart-mirror.service.d/display.conf"
    assert dropin.read_text() == (ROOT / "systemd/eglfs.conf").read_text()
    assert '"device": "/dev/dri/card1"' in (root / "etc/smart-mirror/eglfs-kms.json").read_text()
    wrapper = root / "usr/local/bin/smart-mirror"
    assert wrapper.stat().st_mode & 0o777 == 0o755
    assert "exec /opt/smart-mirror/bin/smart-mirror" in wrapper.read_text()
    # Re-running keeps a KMS config the person edited.
    (root / "etc/smart-mirror/eglfs-kms.json").write_text('{"device": "/dev/dri/card7"}\n')
    again = run_steps(fake, "install_display")
    assert "exists, kept" in again.stdout
    assert "card7" in (root / "etc/smart-mirror/eglfs-kms.json").read_text()
    assert not (fake / "called").exists()  # no apt-get, useradd, usermod or systemctl


def test_uninstall_for_real_keeps_config_and_closet_unless_purged(fake: Path) -> None:
    root = fake / "root"
    installed = [
        "opt/smart-mirror/bin/smart-mirror",
        "usr/local/bin/smart-mirror",
        "etc/systemd/system/smart-mirror.service",
        "etc/systemd/system/smart-mirror.service.d/display.conf",
        "etc/systemd/system/smart-mirror-retry.service",
        "etc/systemd/system/smart-mirror-retry.timer",
        "etc/smart-mirror/config.toml",
        "var/lib/smart-mirror/closet.db",
        "var/lib/smart-mirror/images/a.png",
    ]
    for path in installed:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("x")
    kept = run_steps(fake, "uninstall_all")
    assert kept.returncode == 0, kept.stderr
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == [
        "etc/smart-mirror/config.toml",
        "var/lib/smart-mirror/closet.db",
        "var/lib/smart-mirror/images/a.png",
    ]
    purged = run_steps(fake, "purge=1\nuninstall_all")
    assert purged.returncode == 0, purged.stderr
    assert not [p for p in root.rglob("*") if p.is_file()]


def test_the_copied_app_belongs_to_root_not_to_the_checkouts_user(fake: Path, tmp_path: Path) -> None:
    """The service runs the copied code: a checkout owned by (or writable for) a desktop user must not
    let that user change what the service runs (tar as root keeps owners and modes by default)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to give the checkout another owner")
    src = tmp_path / "checkout"
    for part in ("mirror", "ui", "sync", "models", "docs", "systemd"):
        (src / part).mkdir(parents=True)
        (src / part / "x.py").write_text("code\n")
    for name in ("setup.cfg", "pyproject.toml", "README.md", "requirements.txt", "config.example.toml"):
        (src / name).write_text("file\n")
    for path in (src, *src.rglob("*")):
        os.chown(path, 1000, 1000)
        path.chmod(0o777 if path.is_dir() else 0o666)
    result = run_steps(fake, f'umask 077\nSRC="{src}"\ncopy_app')  # an admin's strict umask, kept by sudo
    assert result.returncode == 0, result.stderr
    app = fake / "root/opt/smart-mirror/app"
    for path in (app, *app.rglob("*")):
        info = path.stat()
        assert info.st_uid == 0 and info.st_mode & 0o022 == 0, (path, info.st_uid, oct(info.st_mode))
        assert info.st_mode & 0o004, f"the service user cannot read {path} ({oct(info.st_mode)})"


def test_a_failed_app_install_puts_the_previous_app_back(fake: Path) -> None:
    """After the swap, registering the new app in the venv may fail (setuptools from the network):
    the service must not be left to start code the venv does not know."""
    old_app = fake / "root/opt/smart-mirror/app"
    old_app.mkdir(parents=True)
    (old_app / "OLD").write_text("the running version\n")
    fake_venv(fake, "Python 3.11.2", "")
    python = fake / "root/opt/smart-mirror/bin/python"
    python.write_text('#!/bin/sh\n[ "$1" = -V ] && echo "Python 3.11.2" && exit 0\nexit 1\n')  # pip fails
    result = run_steps(fake, 'copy_app\nvenv_stamp_due="Python 3.11.2 x"\ninstall_app_into_venv')
    assert result.returncode == 1
    assert "the previous app is back in /opt/smart-mirror/app" in result.stderr
    assert (old_app / "OLD").is_file() and not (old_app / "mirror").exists()
    assert not (fake / "root/opt/smart-mirror/app.old").exists()
    assert (fake / "root/opt/smart-mirror/.installed").read_text() == "\n"  # not stamped: the next run tries again


@pytest.mark.skipif(shutil.which("sqlite3") is None or shutil.which("runuser") is None, reason="needs sqlite3, runuser")
def test_the_pre_update_backup_for_real(fake: Path) -> None:
    """A real SQLite online backup under the fake root; a re-run of the same revision makes none; 3 are kept."""
    if os.geteuid() != 0:
        pytest.skip("runuser needs root")
    data = fake / "root/var/lib/smart-mirror"
    data.mkdir(parents=True)
    subprocess.run(["sqlite3", str(data / "closet.db"), "create table g(x); insert into g values (7);"], check=True)
    for day in ("01", "02", "03"):
        (data / f"closet-pre-update-2020-01-{day}-000000.db").write_text("old")
    result = run_steps(fake, "backup_closet")
    assert result.returncode == 0, result.stderr
    assert "closet backup: /var/lib/smart-mirror/closet-pre-update-" in result.stdout, result.stderr
    backups = sorted(p.name for p in data.glob("closet-pre-update-*.db"))
    assert backups[:2] == ["closet-pre-update-2020-01-02-000000.db", "closet-pre-update-2020-01-03-000000.db"]
    assert len(backups) == 3
    new = data / backups[2]
    assert subprocess.run(["sqlite3", str(new), "select x from g"], capture_output=True, text=True).stdout == "7\n"
    # The same revision installed already: a re-run is not an update.
    (fake / "root/opt/smart-mirror/app").mkdir(parents=True)
    (fake / "root/opt/smart-mirror/app/REVISION").write_text(revision() + "\n")
    again = run_steps(fake, "backup_closet")
    assert "is installed already, none needed" in again.stdout
    assert len(list(data.glob("closet-pre-update-*.db"))) == 3


def test_a_failed_backup_does_not_stop_the_update(fake: Path) -> None:
    data = fake / "root/var/lib/smart-mirror"
    data.mkdir(parents=True)
    (data / "closet.db").write_text("")
    (fake / "shims/runuser").write_text("#!/bin/sh\nexit 1\n")
    result = run_steps(fake, "backup_closet\necho went-on", real=tuple(t for t in FILE_TOOLS if t != "runuser"))
    assert result.returncode == 0
    assert "the closet backup before the update failed" in result.stderr
    assert "went-on" in result.stdout


def old_app(fake: Path) -> Path:
    """An installed app, as the previous run left it."""
    app = fake / "root/opt/smart-mirror/app"
    (app / "mirror").mkdir(parents=True)
    (app / "mirror/__init__.py").write_text("old = True\n")
    (app / "REVISION").write_text("old\n")
    return app


def watch_the_swap(fake: Path, fail_on: str = "") -> None:
    """Shims for mv and sync that log each call with what /opt/smart-mirror/app holds at that moment
    (its REVISION, or MISSING), then run the real mv; an mv whose arguments end with ``fail_on``
    fails instead, as if the power went at that point."""
    opt = fake / "root/opt/smart-mirror"
    state = (
        f'rev=$(cat "{opt}/app/REVISION" 2>/dev/null || echo MISSING)\n'
        f'echo "$(basename "$0") $* [app: $rev]" >> "{fake}/swap"'
    )
    fail = f'case "$*" in *"{fail_on}") exit 1 ;; esac\n' if fail_on else ""
    (fake / "shims/mv").write_text(f'#!/bin/sh\n{state}\n{fail}exec {shutil.which("mv")} "$@"\n')
    (fake / "shims/sync").write_text(f"#!/bin/sh\n{state}\n")


def swap_log(fake: Path) -> list[str]:
    return (fake / "swap").read_text().replace(str(fake / "root"), "").splitlines()


NOT_SWAP_TOOLS = tuple(t for t in FILE_TOOLS if t not in ("mv", "sync"))


def test_an_update_flushes_the_new_app_then_swaps_it_in_without_a_moment_with_no_app(fake: Path) -> None:
    """A power cut anywhere in an update must leave a complete app at /opt/smart-mirror/app (the unit runs
    it): the new files are on disk before the swap, the swap is one exchange (never `mv app app.old`), and
    it is on disk before the previous app is deleted."""
    app = old_app(fake)
    watch_the_swap(fake)
    result = run_steps(fake, "copy_app\ninstall_app_into_venv", real=NOT_SWAP_TOOLS)
    assert result.returncode == 0, result.stderr
    new = revision()
    assert swap_log(fake) == [
        "sync -f /opt/smart-mirror/app.new [app: old]",  # the new files, flushed while the old app is in place
        "mv -T /opt/smart-mirror/app.new /opt/smart-mirror/app.old [app: " + new + "]",  # after the exchange
        "sync -f /opt/smart-mirror/app [app: " + new + "]",  # the swap, flushed before app.old goes
    ]
    assert (app / "REVISION").read_text() == new + "\n"
    assert (app / "mirror/service.py").is_file()
    assert not (app.parent / "app.old").exists()
    assert not (app.parent / "app.new").exists()


def test_a_swap_cut_off_half_way_is_put_right_by_the_next_run(fake: Path) -> None:
    """Where the two paths cannot be exchanged in one step, the swap is two renames. A power cut
    between them leaves no app, but a complete app.old: the next run puts it back first thing, and
    its copy then swaps in cleanly."""
    app = old_app(fake)
    watch_the_swap(fake, fail_on=f"app.new {app}")
    no_exchange = "exchange() { return 1; }\n"
    cut = run_steps(fake, no_exchange + "copy_app", real=NOT_SWAP_TOOLS)
    assert cut.returncode == 1
    assert swap_log(fake)[:2] == [
        "sync -f /opt/smart-mirror/app.new [app: old]",
        "mv -T /opt/smart-mirror/app /opt/smart-mirror/app.old [app: old]",
    ]
    assert not app.exists() and (app.parent / "app.old/REVISION").read_text() == "old\n"
    (app.parent / "app.new/mirror/service.py").write_text("")  # as a cut can leave it: never put in

    # The next run's plan puts the previous app back before anything that may stop it (pip, no network).
    plan = dry_run(fake, "--display", "eglfs")
    assert plan.returncode == 0, plan.stderr
    lines = plan.stdout.splitlines()
    back = lines.index("[dry-run] would run: mv -T /opt/smart-mirror/app.old /opt/smart-mirror/app")
    assert back < next(i for i, line in enumerate(lines) if "pip install" in line)

    (fake / "swap").unlink()
    watch_the_swap(fake)
    steps = f"{no_exchange}recover_app\n[ -f {app / 'REVISION'} ] && echo back\ncopy_app"
    again = run_steps(fake, steps, real=NOT_SWAP_TOOLS)
    assert again.returncode == 0, again.stderr
    assert "back" in again.stdout
    assert "putting the previous app back" in again.stderr
    assert (app / "REVISION").read_text() == revision() + "\n"
    assert (app / "mirror/service.py").read_text() == (ROOT / "mirror/service.py").read_text()
    assert (app.parent / "app.old/REVISION").read_text() == "old\n"  # kept until the venv knows the new app
    assert swap_log(fake)[0] == "mv -T /opt/smart-mirror/app.old /opt/smart-mirror/app [app: MISSING]"


def test_a_failed_app_install_puts_the_previous_app_back_in_one_step(fake: Path) -> None:
    """The rollback after a failed registration is a swap too: the app is never missing."""
    app = old_app(fake)
    fake_venv(fake, "Python 3.11.2", "")
    python = fake / "root/opt/smart-mirror/bin/python"
    python.write_text('#!/bin/sh\n[ "$1" = -V ] && echo "Python 3.11.2" && exit 0\nexit 1\n')  # pip fails
    watch_the_swap(fake)
    result = run_steps(fake, 'copy_app\nvenv_stamp_due="Python 3.11.2 x"\ninstall_app_into_venv', real=NOT_SWAP_TOOLS)
    assert result.returncode == 1
    assert (app / "REVISION").read_text() == "old\n"
    assert not any("MISSING" in line for line in swap_log(fake))
    assert swap_log(fake)[-1] == "sync -f /opt/smart-mirror/app [app: old]"
    assert not (app.parent / "app.old").exists() and not (app.parent / "app.new").exists()
