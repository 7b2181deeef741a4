"""The backup recipe in docs/deploy.md, run while the mirror writes: it restores to a consistent closet.

The doc says: ``sqlite3 closet.db ".backup ..."`` while the mirror runs, then tar the backup
and the images folder (``.tmp-*`` files included: an image is renamed just after its record
commits, and the first open after a restore finishes that), and that this order is safe because
the store writes a record's images before committing the record. Here a writer process keeps
adding records while the backup is taken; the restored copy must open, pass integrity_check,
and have every image of every record it holds.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mirror.store import ClosetStore
from tests.conftest import ROOT
from tests.test_store_faults import assert_consistent

WRITER = """
import sys
from pathlib import Path
from mirror.store import ClosetStore
from mirror.store.samples import synthetic_draft
store = ClosetStore.open(Path(sys.argv[1]), "dev-backup", min_free_mb=0)
i = 0
while True:
    store.add(synthetic_draft(i, image_kb=8))
    print(i, flush=True)
    i += 1
"""


def sqlite_backup(db: Path, target: Path) -> None:
    """The doc's command; Python's backup API (the same SQLite call) where the CLI is absent."""
    if shutil.which("sqlite3"):
        subprocess.run(["sqlite3", str(db), f".backup '{target}'"], check=True, capture_output=True, timeout=60)
        return
    source, dest = sqlite3.connect(db), sqlite3.connect(target)
    try:
        source.backup(dest)
    finally:
        source.close()
        dest.close()


@pytest.mark.slow
def test_online_backup_then_images_restores_a_consistent_closet(tmp_path: Path) -> None:
    live = tmp_path / "var-lib-smart-mirror"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(live)],
        stdout=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        stdout = proc.stdout

        def wait_for_count(count: int) -> None:
            """Until the writer says it has kept ``count`` garments; fail (not hang) if it stops."""
            while True:
                line = stdout.readline()
                assert line, f"the writer stopped (exit {proc.poll()}) before {count} garments"
                if int(line) >= count:
                    return

        wait_for_count(20)
        sqlite_backup(live / "closet.db", live / "closet-backup.db")
        archive = tmp_path / "closet.tar.gz"  # the doc's tar command, while the writer goes on
        tar = ["tar", "-C", str(live), "--warning=no-file-changed", "--warning=no-file-removed", "-czf", str(archive)]
        done = subprocess.run([*tar, "closet-backup.db", "images"], capture_output=True, text=True, timeout=60)
        # 1 = "a file changed as we read it": the images folder grew meanwhile; the doc says so.
        assert done.returncode in (0, 1), done.stderr
        assert done.stderr == ""
        wait_for_count(30)  # the mirror kept writing throughout
    finally:
        proc.kill()
        proc.wait()
    restored = tmp_path / "restored"
    restored.mkdir()
    subprocess.run(["tar", "-C", str(restored), "-xzf", str(archive)], check=True, timeout=60)
    (restored / "closet-backup.db").rename(restored / "closet.db")
    conn = sqlite3.connect(restored / "closet.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()
    with ClosetStore.open(restored, "dev-backup", min_free_mb=0) as store:
        assert assert_consistent(store) >= 20
