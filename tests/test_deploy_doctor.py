"""``smart-mirror doctor`` on a Pi: display platform, clock, service state, on a fake machine in a temp folder."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from mirror.cli import main
from mirror.config import Settings
from mirror.doctor import Finding, Outcome
from mirror.doctor.system import EGLFS_KMS_PLUGIN, Machine, check_clock, check_display, check_service, qt_plugin_problem
from tests.conftest import ROOT

SETTINGS = Settings()


def only(findings: Iterable[Finding]) -> Finding:
    found = list(findings)
    assert len(found) == 1, found
    finding = found[0]
    assert finding.status is Outcome.OK or finding.fix, finding  # every non-OK line says how to fix it
    return finding


def drm(root: Path, *connectors: tuple[str, str]) -> None:
    """Fake /sys/class/drm: card0 (the 3D engine, no connectors) plus the given connectors."""
    (root / "sys/class/drm/card0").mkdir(parents=True)
    (root / "sys/class/drm/renderD128").mkdir()
    for name, status in connectors:
        (root / "sys/class/drm" / name).mkdir()
        (root / "sys/class/drm" / name / "status").write_text(status + "\n")


# ----------------------------------------------------------------------------- display
def test_offscreen_is_a_warning_that_nothing_shows(tmp_path: Path) -> None:
    finding = only(check_display(SETTINGS, Machine(tmp_path, {"QT_QPA_PLATFORM": "offscreen"})))
    assert finding.status is Outcome.WARN
    assert "shows nothing" in finding.message


#: A machine whose PySide6 loads eglfs's KMS plugin (a wheel with libQt6EglFsKmsGbmSupport), for the checks after it.
PLUGIN_LOADS = {sys.executable: (0, "")}


def test_eglfs_finds_the_card_with_a_connected_screen(tmp_path: Path) -> None:
    drm(tmp_path, ("card1-HDMI-A-1", "connected"), ("card1-HDMI-A-2", "disconnected"))
    finding = only(check_display(SETTINGS, Machine(tmp_path, {"QT_QPA_PLATFORM": "eglfs"}, runner(PLUGIN_LOADS))))
    assert finding.status is Outcome.OK
    assert finding.message == "eglfs can drive /dev/dri/card1 (HDMI-A-1 connected)"


def test_eglfs_with_no_screen_plugged_in_fails_with_the_fix(tmp_path: Path) -> None:
    drm(tmp_path, ("card1-HDMI-A-1", "disconnected"))
    finding = only(check_display(SETTINGS, Machine(tmp_path, {"QT_QPA_PLATFORM": "eglfs"}, runner(PLUGIN_LOADS))))
    assert finding.status is Outcome.FAIL
    assert "no screen connected to /dev/dri/card1" in finding.message


def test_eglfs_with_a_missing_kms_config_fails(tmp_path: Path) -> None:
    drm(tmp_path, ("card1-HDMI-A-1", "connected"))
    env = {"QT_QPA_PLATFORM": "eglfs", "QT_QPA_EGLFS_KMS_CONFIG": "/etc/smart-mirror/eglfs-kms.json"}
    finding = only(check_display(SETTINGS, Machine(tmp_path, env, runner(PLUGIN_LOADS))))
    assert finding.status is Outcome.FAIL
    assert "install-pi.sh --display eglfs" in finding.fix


def test_an_ssh_shell_without_a_display_reports_what_eglfs_could_do(tmp_path: Path) -> None:
    drm(tmp_path, ("card2-HDMI-A-1", "connected"))
    finding = only(check_display(SETTINGS, Machine(tmp_path, {}, runner(PLUGIN_LOADS))))
    assert finding.status is Outcome.OK
    assert "no display session in this shell" in finding.message
    empty = tmp_path / "empty"
    empty.mkdir()
    assert only(check_display(SETTINGS, Machine(empty, {}, runner(PLUGIN_LOADS)))).status is Outcome.WARN


def test_the_pinned_wheels_eglfs_kms_plugin_lacks_a_library_and_doctor_says_so(tmp_path: Path) -> None:
    """The PySide6 6.8.0.2 wheel (requirements.txt) ships eglfs's KMS plugin without
    libQt6EglFsKmsGbmSupport.so.6: under eglfs the mirror aborted at start while doctor said OK. The plugin
    is really loaded here (this venv has the pinned wheel); the offscreen one shows a plugin that loads."""
    assert qt_plugin_problem(Machine(), "platforms/libqoffscreen.so") == ""
    assert qt_plugin_problem(Machine(), EGLFS_KMS_PLUGIN).startswith(
        "libQt6EglFsKmsGbmSupport.so.6: cannot open shared object file"
    )
    drm(tmp_path, ("card1-HDMI-A-1", "connected"))
    service = only(check_display(SETTINGS, Machine(tmp_path, {"QT_QPA_PLATFORM": "eglfs"})))
    assert service.status is Outcome.FAIL and "--display wayland" in service.fix
    assert service.message.startswith("eglfs cannot load its KMS backend (libQt6EglFsKmsGbmSupport.so.6")
    assert only(check_display(SETTINGS, Machine(tmp_path, {}))).status is Outcome.WARN  # ssh: maybe not eglfs


def test_from_ssh_the_services_own_display_mode_is_judged(tmp_path: Path) -> None:
    """From a shell without a display, doctor judged eglfs whatever the service used: a Wayland mirror got a
    warning about eglfs, and an eglfs one an "OK" its service could not live up to."""
    dropin = tmp_path / "etc/systemd/system/smart-mirror.service.d/display.conf"
    dropin.parent.mkdir(parents=True)
    dropin.write_text("[Service]\nUser=pi\nEnvironment=QT_QPA_PLATFORM=wayland\nEnvironment=XDG_RUNTIME_DIR=/run/user/1000\n"
                      "Environment=WAYLAND_DISPLAY=wayland-0\n")  # fmt: skip
    (tmp_path / "run/user/1000").mkdir(parents=True)
    with socket.socket(socket.AF_UNIX) as compositor:
        compositor.bind(str(tmp_path / "run/user/1000/wayland-0"))
        found = only(check_display(SETTINGS, Machine(tmp_path, {})))
    assert (found.status, found.message) == (Outcome.OK, "Wayland compositor at /run/user/1000/wayland-0")
    dropin.write_text("[Service]\nEnvironment=QT_QPA_PLATFORM=eglfs\nEnvironment=QT_QPA_EGLFS_INTEGRATION=eglfs_kms\n")
    drm(tmp_path, ("card1-HDMI-A-1", "connected"))
    eglfs = only(check_display(SETTINGS, Machine(tmp_path, {})))  # the pinned wheel: its plugin does not load
    assert eglfs.status is Outcome.FAIL and eglfs.message.startswith("eglfs cannot load its KMS backend")
    assert only(check_display(SETTINGS, Machine(tmp_path, {}, runner(PLUGIN_LOADS)))).status is Outcome.OK


def test_wayland_needs_the_compositor_socket(tmp_path: Path) -> None:
    env = {"QT_QPA_PLATFORM": "wayland", "XDG_RUNTIME_DIR": "/run/user/1000", "WAYLAND_DISPLAY": "wayland-0"}
    missing = only(check_display(SETTINGS, Machine(tmp_path, env)))
    assert missing.status is Outcome.FAIL
    assert "Desktop Autologin" in missing.fix
    (tmp_path / "run/user/1000").mkdir(parents=True)
    with socket.socket(socket.AF_UNIX) as compositor:
        compositor.bind(str(tmp_path / "run/user/1000/wayland-0"))
        found = only(check_display(SETTINGS, Machine(tmp_path, env)))
    assert found.status is Outcome.OK
    assert found.message == "Wayland compositor at /run/user/1000/wayland-0"


# ----------------------------------------------------------------------------- clock
def runner(outputs: dict[str, tuple[int, str]]):
    """A fake command runner: the first word of the command picks (exit code, stdout)."""

    def run(cmd: Sequence[str]) -> subprocess.CompletedProcess[str]:
        code, out = outputs.get(cmd[0], (127, ""))
        return subprocess.CompletedProcess(list(cmd), code, out, "")

    return run


NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("answer", "status", "words"),
    [((0, "yes\n"), Outcome.OK, "synchronised"), ((0, "no\n"), Outcome.WARN, "not synchronised")],
)
def test_clock_from_timedatectl(tmp_path: Path, answer: tuple[int, str], status: Outcome, words: str) -> None:
    machine = Machine(tmp_path, {}, runner({"timedatectl": answer}))
    finding = only(check_clock(SETTINGS, machine, NOW, kernel=lambda: None))
    assert finding.status is status
    assert finding.message.startswith(words)


def test_clock_without_systemd_falls_back_to_timesyncd_flag_then_kernel(tmp_path: Path) -> None:
    no_bus = runner({"timedatectl": (1, "")})
    assert only(check_clock(SETTINGS, Machine(tmp_path, {}, no_bus), NOW, kernel=lambda: False)).status is Outcome.WARN
    unknown = only(check_clock(SETTINGS, Machine(tmp_path, {}, no_bus), NOW, kernel=lambda: None))
    assert unknown.status is Outcome.WARN
    assert unknown.message.startswith("cannot tell")
    (tmp_path / "run/systemd/timesync").mkdir(parents=True)
    (tmp_path / "run/systemd/timesync/synchronized").touch()
    assert only(check_clock(SETTINGS, Machine(tmp_path, {}, no_bus), NOW, kernel=lambda: False)).status is Outcome.OK


def test_a_clock_in_the_past_fails(tmp_path: Path) -> None:
    machine = Machine(tmp_path, {}, runner({"timedatectl": (0, "yes\n")}))
    finding = only(check_clock(SETTINGS, machine, dt.datetime(1970, 1, 1, tzinfo=dt.UTC)))
    assert finding.status is Outcome.FAIL
    assert "TLS" in finding.message


# ----------------------------------------------------------------------------- service
def systemd_machine(tmp_path: Path, props: str) -> Machine:
    (tmp_path / "run/systemd/system").mkdir(parents=True, exist_ok=True)
    return Machine(tmp_path, {}, runner({"systemctl": (0, props)}))


def test_without_systemd_the_service_check_says_not_installed(tmp_path: Path) -> None:
    finding = only(check_service(SETTINGS, Machine(tmp_path, {}, runner({}))))
    assert finding.status is Outcome.OK
    assert "not installed as a service" in finding.message


@pytest.mark.parametrize(
    ("props", "status", "words"),
    [
        ("LoadState=not-found\nActiveState=inactive\n", Outcome.OK, "not installed as a service"),
        (
            "LoadState=loaded\nUnitFileState=enabled\nActiveState=active\nSubState=running\nNRestarts=0\n",
            Outcome.OK,
            "enabled, active (running)",
        ),
        (
            "LoadState=loaded\nUnitFileState=enabled\nActiveState=failed\nResult=watchdog\nNRestarts=5\n",
            Outcome.FAIL,
            "result watchdog",
        ),
        (
            "LoadState=loaded\nUnitFileState=disabled\nActiveState=active\nNRestarts=0\n",
            Outcome.WARN,
            "will not start at boot",
        ),
        ("LoadState=loaded\nUnitFileState=enabled\nActiveState=inactive\nNRestarts=0\n", Outcome.WARN, "not running"),
        (
            "LoadState=loaded\nUnitFileState=enabled\nActiveState=active\nNRestarts=3\n",
            Outcome.WARN,
            "restarted 3 time(s)",
        ),
    ],
)
def test_service_states(tmp_path: Path, props: str, status: Outcome, words: str) -> None:
    finding = only(check_service(SETTINGS, systemd_machine(tmp_path, props)))
    assert finding.status is status
    assert words in finding.message


def test_a_failed_service_points_at_its_journal(tmp_path: Path) -> None:
    props = "LoadState=loaded\nUnitFileState=enabled\nActiveState=failed\nResult=exit-code\n"
    assert "journalctl -u smart-mirror" in only(check_service(SETTINGS, systemd_machine(tmp_path, props))).fix


# ----------------------------------------------------------------------------- wiring
def test_doctor_prints_the_system_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[camera]\nsource = "demo"\n[sync]\nenabled = false\n')
    main(["--config", str(config), "doctor"])
    checks = {line[5:].split(":")[0] for line in capsys.readouterr().out.splitlines()[:-1]}
    assert {"display", "clock", "service", "software"} <= checks


def test_a_password_sent_in_the_clear_or_left_readable_is_warned_about_with_the_broker_down(tmp_path: Path) -> None:
    """Both are about the secret, not the connection: said whether or not the broker answers now."""
    from mirror.config.settings import SyncSettings
    from mirror.doctor.checks import check_broker, credential_findings
    from tests.broker import closed_port

    secret = tmp_path / "mqtt.pass"
    secret.write_text("s3cret")
    secret.chmod(0o644)
    with closed_port() as port:
        local = SyncSettings(enabled=True, host="127.0.0.1", port=port, username="mirror-a", password_file=str(secret))
        findings = list(check_broker(Settings(sync=local)))
    assert [(f.status, f.message) for f in findings[:1]] == [(Outcome.WARN, "password file permissions")]
    assert "chmod 600" in findings[0].fix
    assert findings[-1].status is Outcome.WARN and "unreachable" in findings[-1].message
    assert not any("unencrypted" in f.message for f in findings)  # loopback: never on the network

    secret.chmod(0o600)
    remote = SyncSettings(enabled=True, host="broker.example", username="mirror-a", password_file=str(secret))
    [clear] = list(credential_findings(remote))
    assert clear.status is Outcome.WARN and "unencrypted" in clear.message and "tls = true" in clear.fix
    assert list(credential_findings(SyncSettings(enabled=True, host="broker.example", tls=True, username="m"))) == []
    assert list(credential_findings(SyncSettings(enabled=True, host="broker.example"))) == []  # anonymous


def test_a_credential_file_the_mirror_cannot_read_fails_doctor_by_its_name(tmp_path: Path) -> None:
    """`run` refuses to sync without them and points at doctor; doctor said "OK config" and, for a missing
    ca_file, "unreachable … start the broker" (ssl's FileNotFoundError taken for a refused connection)."""
    from mirror.config.settings import SyncSettings
    from mirror.doctor.checks import check_broker
    from tests.broker import Mosquitto

    broker = Mosquitto(tmp_path / "broker").start()
    try:
        for sync, key in (
            (SyncSettings(enabled=True, host="127.0.0.1", port=broker.port, password_file="/nonexistent/pw"),
             "password_file"),
            (SyncSettings(enabled=True, host="127.0.0.1", port=broker.port, tls=True, ca_file="/nonexistent/ca.pem"),
             "ca_file"),
        ):  # fmt: skip
            findings = list(check_broker(Settings(sync=sync)))
            assert [f.status for f in findings] == [Outcome.FAIL], [f.line() for f in findings]
            assert f"[sync] {key}: cannot read /nonexistent/" in findings[0].message
            assert "No such file" in findings[0].message and f"fix [sync] {key}" in findings[0].fix
    finally:
        broker.stop()


def test_doctor_finds_an_index_that_disagrees_with_its_table(tmp_path: Path) -> None:
    """quick_check (the store's, at every start) does not compare an index with its table: an outbox
    index missing rows would leave versions never synced, with nothing said. Doctor runs the full check."""
    import sqlite3

    from mirror.config.settings import StoreSettings
    from mirror.doctor.checks import check_closet
    from mirror.store import ClosetStore
    from mirror.store.samples import synthetic_draft

    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
        for i in range(3):
            store.add(synthetic_draft(i, image_kb=1))
    conn = sqlite3.connect(tmp_path / "closet.db", isolation_level=None)
    conn.execute("PRAGMA writable_schema = ON")  # the index's entries no longer match its definition
    conn.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX outbox_state ON outbox (queued_at, state)'"
                 " WHERE name = 'outbox_state'")  # fmt: skip
    conn.execute("PRAGMA writable_schema = OFF")
    conn.close()
    [finding] = list(check_closet(Settings(store=StoreSettings(data_dir=str(tmp_path), min_free_mb=0))))
    assert finding.status is Outcome.FAIL and "missing from index outbox_state" in finding.message


def test_the_installed_commit_is_named_by_doctor_and_version(tmp_path: Path) -> None:
    """Every install from a checkout says 0.1.0: which one runs is the commit install-pi.sh writes down."""
    from mirror import __version__
    from mirror.version import describe, revision

    assert revision(tmp_path) == "" and describe(tmp_path) == __version__  # a checkout run in place
    (tmp_path / "REVISION").write_text("1a2b3c4\n")
    assert describe(tmp_path) == f"{__version__} (commit 1a2b3c4)"


def test_the_about_screen_names_the_installed_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The person reading About to a helper ("which version?") gets the same answer as doctor."""
    from mirror import __version__, version
    from mirror.service import MirrorService
    from tests.test_service import fast_settings

    app = tmp_path / "app"
    app.mkdir()
    (app / "REVISION").write_text("1a2b3c4\n")
    monkeypatch.setattr(version, "APP_ROOT", app)
    service = MirrorService(fast_settings(tmp_path))  # not started: About needs no camera or models
    assert service.about().version == f"{__version__} (commit 1a2b3c4)"


def test_doctor_names_the_device_id_the_broker_must_know(tmp_path: Path) -> None:
    """An installer needs the id for the broker's password file and [sync] username (deploy.md step 5);
    only the About screen showed it. A user name that is not the id is warned about: the example ACL
    would refuse every record."""
    import dataclasses

    from mirror.config.settings import SyncSettings
    from mirror.doctor.checks import check_broker, check_device
    from tests.broker import closed_port

    settings = dataclasses.replace(SETTINGS, store=dataclasses.replace(SETTINGS.store, data_dir=str(tmp_path)))
    made = only(check_device(settings))
    assert made.status is Outcome.OK and made.message.startswith("id mirror-") and "machine's id" in made.message
    named = dataclasses.replace(settings, device=dataclasses.replace(settings.device, id="hall-mirror"))
    assert only(check_device(named)).message == "id hall-mirror ([device] id)"
    with closed_port() as port:
        for username, warned in (("hall-mirror", False), ("cloud", True), ("", False)):
            sync = SyncSettings(enabled=True, host="127.0.0.1", port=port, username=username)
            findings = list(check_broker(dataclasses.replace(named, sync=sync)))
            hints = [f for f in findings if "is not this mirror's device id" in f.message]
            assert bool(hints) is warned, [f.line() for f in findings]
            if warned:
                assert hints[0].status is Outcome.WARN and '[sync] username = "hall-mirror"' in hints[0].fix


def test_doctor_names_a_file_where_a_closet_folder_belongs(tmp_path: Path) -> None:
    """Doctor said all OK (or "chown it") while every closet command failed on the stray file."""
    import dataclasses

    from mirror.doctor.checks import check_closet, check_data_dir

    def at(folder: Path) -> Settings:
        return dataclasses.replace(SETTINGS, store=dataclasses.replace(SETTINGS.store, data_dir=str(folder)))

    closet = tmp_path / "closet"
    closet.mkdir()
    (closet / "images").write_text("stray")
    found = only(check_data_dir(at(closet)))
    assert (found.status, found.message) == (Outcome.FAIL, f"{closet / 'images'} is a file, not a folder")
    plain = tmp_path / "plain"
    plain.write_text("x")
    found = only(check_data_dir(at(plain)))
    assert found.status is Outcome.FAIL and "[store] data_dir" in found.fix
    fresh = tmp_path / "fresh"
    (fresh / "closet.db").mkdir(parents=True)
    found = only(check_closet(at(fresh)))
    assert found.status is Outcome.FAIL
    assert found.message == f"{fresh / 'closet.db'} is a folder, not the closet database"


def test_a_broker_that_hangs_up_at_the_login_is_a_fail_said_at_once() -> None:
    """Plain MQTT to a TLS listener: the broker reads the CONNECT and closes. The probe spun a core for
    5 s and then called it "no answer" (a warning), though the config is what is wrong."""
    import threading
    import time

    from mirror.config.settings import SyncSettings
    from mirror.doctor.checks import check_broker

    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)  # accept() is not woken by a close from another thread: it polls a flag
    port = server.getsockname()[1]
    done = threading.Event()

    def hang_up() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(1024)

    listener = threading.Thread(target=hang_up, daemon=True)
    listener.start()
    try:
        started = time.monotonic()
        findings = list(check_broker(Settings(sync=SyncSettings(enabled=True, host="127.0.0.1", port=port))))
        took = time.monotonic() - started
    finally:
        done.set()
        listener.join(5)
        server.close()
    last = findings[-1]
    assert last.status is Outcome.FAIL and "closed the connection before answering" in last.message, last.line()
    assert "tls" in last.fix
    assert took < 4, f"{took:.1f} s: the probe waited out its deadline"


def closet_at(folder: Path) -> Settings:
    """Settings whose closet is ``folder``, made by device ``dev-a``."""
    import dataclasses

    return dataclasses.replace(
        SETTINGS,
        device=dataclasses.replace(SETTINGS.device, id="dev-a"),
        store=dataclasses.replace(SETTINGS.store, data_dir=str(folder), min_free_mb=0),
    )


def test_doctor_makes_no_closet_folder(tmp_path: Path) -> None:
    """Doctor made a missing closet folder with mode 0755 (root's, under sudo), and the store then kept the
    person's photos in it readable by everyone; the store makes it 0700 at its first start."""
    from mirror.doctor.checks import check_closet, check_data_dir, check_free_disk

    folder = tmp_path / "share" / "smart-mirror"
    settings = closet_at(folder)
    found = only(check_data_dir(settings))
    assert (found.status, found.message) == (
        Outcome.OK,
        f"{folder} not made yet (the mirror makes it, private, when it starts)",
    )
    assert only(check_closet(settings)).status is Outcome.OK
    assert only(check_free_disk(settings)).message.endswith(f" free at {tmp_path}")
    assert list(tmp_path.iterdir()) == [], "a check makes nothing"


def test_doctor_warns_of_a_lost_wal_after_any_open_made_the_tables(tmp_path: Path) -> None:
    """A 0-byte closet.db beside an earlier closet's images (its -wal lost): doctor warned only while the
    tables were missing, so after one `closet list` (any open of the store makes them) it said OK."""
    from mirror.doctor.checks import check_closet
    from mirror.store import ClosetStore
    from mirror.store.samples import synthetic_draft

    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
        for i in range(2):
            store.add(synthetic_draft(i, image_kb=1))
    for leftover in tmp_path.glob("closet.db*"):
        leftover.unlink()
    (tmp_path / "closet.db").write_bytes(b"")
    settings = closet_at(tmp_path)
    warned = only(check_closet(settings))
    assert warned.status is Outcome.WARN and "garment image(s) of an earlier closet" in warned.message
    ClosetStore.open(tmp_path, "dev-a", min_free_mb=0).close()  # what `closet list` or a start does
    assert only(check_closet(settings)) == warned
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
        store.add(synthetic_draft(0, image_kb=1))  # the new closet's first garment: in use, on purpose
    assert only(check_closet(settings)).message == f"{tmp_path / 'closet.db'}: 1 garment version(s), all readable"


def test_doctor_warns_of_a_lost_closet_db_before_a_start_makes_a_new_one(tmp_path: Path) -> None:
    """closet.db gone (no -wal either) beside its images: doctor said "not created yet", OK, and warned only
    once a start had made a new, empty closet."""
    from mirror.doctor.checks import check_closet
    from mirror.store import ClosetStore
    from mirror.store.samples import synthetic_draft

    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
        store.add(synthetic_draft(0, image_kb=1))
    for leftover in tmp_path.glob("closet.db*"):
        leftover.unlink()
    warned = only(check_closet(closet_at(tmp_path)))
    assert warned.status is Outcome.WARN and "1 garment image(s) of an earlier closet" in warned.message


def test_doctor_calls_a_damaged_closet_damaged_as_deploy_md_lists_it(tmp_path: Path) -> None:
    """SQLite's "file is not a database" came out as "cannot be read", a line deploy.md's table does not list."""
    from mirror.doctor.checks import check_closet

    (tmp_path / "closet.db").write_bytes(b"not sqlite at all" * 512)
    damaged = only(check_closet(closet_at(tmp_path)))
    assert damaged.status is Outcome.FAIL and damaged.message.startswith(f"{tmp_path / 'closet.db'} is damaged (")
    assert "restore the closet from a backup" in damaged.fix
    deploy = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert "| `FAIL closet: ... is damaged` |" in deploy


def test_doctor_points_a_closet_under_a_file_to_the_data_dir_line(tmp_path: Path) -> None:
    """It said "run doctor as the service user", which cannot help a [store] data_dir that names a file."""
    from mirror.doctor.checks import check_closet

    (tmp_path / "file").write_text("x")
    finding = only(check_closet(closet_at(tmp_path / "file")))
    assert finding.status is Outcome.FAIL and "data dir line" in finding.fix


def test_a_check_that_crashes_says_how_to_turn_on_debug_logging(tmp_path: Path) -> None:
    """`smart-mirror doctor --verbose`, as the line said, is a usage error: the flag goes before the command."""
    from mirror.doctor import run_checks

    def check_boom(_settings: Settings) -> list[Finding]:
        raise RuntimeError("boom")

    [finding] = run_checks(SETTINGS, [check_boom])
    assert finding.line() == (
        "FAIL boom: the check itself failed (boom) — fix: run `smart-mirror --verbose doctor` and report what it logs"
    )
