"""``systemctl stop`` (SIGTERM) while records are being added: the closet is closed cleanly.

The kill test (tests/test_store_faults.py) proves a SIGKILL loses nothing committed;
this one proves the *orderly* path the service takes: the signal only asks for a stop, the
record being written is finished, the store is closed (so SQLite checkpoints and removes its
WAL file), and the process exits 0, which systemd counts as a clean stop.
"""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from mirror.store import ClosetStore
from mirror.store.samples import synthetic_draft
from tests.conftest import ROOT
from tests.test_notify import NotifyListener
from tests.test_store_faults import assert_consistent

WRITER = """
import sys
from pathlib import Path
from mirror.lifecycle import Lifecycle
from mirror.notify import SystemdNotifier
from mirror.store import ClosetStore
from mirror.store.samples import synthetic_draft

with Lifecycle(SystemdNotifier.from_env()) as life:
    store = ClosetStore.open(Path(sys.argv[1]), "dev-term", min_free_mb=0)
    life.on_stop(store.close, "store")
    i = 0
    while not life.stop_requested:
        record = store.add(synthetic_draft(i, image_kb=8))
        print(record.id, flush=True)
        i += 1
"""


def test_sigterm_while_adding_leaves_a_closed_consistent_closet(tmp_path: Path) -> None:
    data = tmp_path / "closet"
    listener = NotifyListener.at(tmp_path)
    env = {"NOTIFY_SOCKET": listener.address, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(data)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    written: list[str] = []
    try:
        assert proc.stdout is not None
        while len(written) < 8:
            line = proc.stdout.readline().strip()
            assert line, proc.stderr.read() if proc.stderr else "writer ended early"
            written.append(line)
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    messages = listener.messages(timeout=0.2)
    listener.close()
    written += rest.split()
    assert proc.returncode == 0, err
    assert messages == ["STOPPING=1\nSTATUS=stopping: SIGTERM"]
    # Closed, not killed: closing the last connection checkpoints the WAL and removes it
    # (a killed writer leaves it behind for the next open to replay).
    assert not (data / "closet.db-wal").exists()
    conn = sqlite3.connect(data / "closet.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()
    with ClosetStore.open(data, "dev-term", min_free_mb=0) as store:
        assert assert_consistent(store) == len(written)
        assert {record.id for record in store.list()} == set(written)
        stats = store.outbox.stats()
        assert stats.waiting == len(written)
        for record in store.list():
            assert set(record.images) == {"cutout_png"}
            assert store.image_path(record, "cutout_png").is_file()


def test_sigterm_during_sync_drain_closes_the_closet_and_exits_130(tmp_path: Path) -> None:
    """The headless path: ``smart-mirror sync drain`` blocked on an unreachable broker is stopped."""
    data = tmp_path / "closet"
    with ClosetStore.open(data, "dev-drain", min_free_mb=0) as store:
        ids = [store.add(synthetic_draft(i, image_kb=4)).id for i in range(3)]
    # A port bound but not listening refuses every connection, whatever else runs on this machine.
    closed_port = socket.socket()
    closed_port.bind(("127.0.0.1", 0))
    port = closed_port.getsockname()[1]
    config = tmp_path / "config.toml"
    config.write_text(f'[sync]\nhost = "127.0.0.1"\nport = {port}\n[store]\ndata_dir = "{data}"\n')
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mirror", "--config", str(config), "sync", "drain", "--timeout", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while not (data / "closet.db-wal").exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # the drain has opened the closet (WAL mode makes the -wal file)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
        closed_port.close()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert not (data / "closet.db-wal").exists()  # closed on the way out, not killed
    with ClosetStore.open(data, "dev-drain", min_free_mb=0) as store:
        assert {record.id for record in store.list()} == set(ids)
        assert store.outbox.stats().unacked == 3


def test_a_stop_early_in_the_mirrors_start_is_a_clean_exit(tmp_path: Path) -> None:
    """A SIGTERM before the event loop ran was lost (``app.quit()`` does nothing before ``exec()``: the mirror
    ran on for minutes), and one during the imports exited 130 or broke Qt's start-up with a traceback; either
    way a unit stopped on purpose was left "failed", and the retry timer started it again."""
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\ndata_dir = "{tmp_path / "closet"}"\n[camera]\nsource = "demo"\n')
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    for after_s in (0.2, 0.6, 1.5):  # during the imports, while the window is built, as the loop starts
        proc = subprocess.Popen(
            [sys.executable, "-m", "mirror", "--config", str(config), "run", "--duration", "120"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        )  # fmt: skip
        try:
            time.sleep(after_s)
            proc.send_signal(signal.SIGTERM)
            _out, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
        # Killed by the signal itself is clean for systemd too: a loaded box may still be starting Python.
        assert proc.returncode in (0, -signal.SIGTERM), (after_s, err[-2000:])
        assert "Traceback" not in err, (after_s, err[-2000:])
