"""The store under faults: a writer killed mid-stream, a full disk, a damaged file.

Honesty about what these prove: SIGKILL stops the writer at an arbitrary instruction but the
kernel's page cache survives, so the kill test proves the *ordering* (images durable before the
row, record and outbox row in one transaction) and crash-atomicity; it cannot prove that fsync
reached the SD card — that part rests on ``synchronous = FULL`` and the fsync calls, reviewed in
``mirror/store/closet.py`` and ``mirror/store/images.py``.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import logging
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from mirror.store import ClosetStore, StoreCorruptError, StoreError, StoreFullError, StoreReadOnlyError
from mirror.store.outbox import needed_files
from mirror.store.reserve import RESERVE_BYTES, RESERVE_NAME
from mirror.store.samples import synthetic_draft
from tests.conftest import ROOT
from tests.disks import ext4_that_fails, fill_to_the_last_byte, tiny_tmpfs

WRITER = """
import sys
from pathlib import Path
from mirror.store import ClosetStore
from mirror.store.samples import synthetic_draft
store = ClosetStore.open(Path(sys.argv[1]), "dev-kill", min_free_mb=0)
i = 0
while True:
    record = store.add(synthetic_draft(i, image_kb=8))
    if i % 3 == 0:
        store.edit(record.id, category="bag")
    print(record.id, flush=True)
    i += 1
"""


def assert_consistent(store: ClosetStore) -> int:
    """Every record version has its image files (hash checked) and every live one an outbox row."""
    conn = sqlite3.connect(store.db_path)
    rows = conn.execute("SELECT id, version FROM records").fetchall()
    outbox = set(conn.execute("SELECT id, version FROM outbox").fetchall())
    current = dict(conn.execute("SELECT id, version FROM current").fetchall())
    conn.close()
    for record_id, version in rows:
        record = store.get_version(record_id, version)
        assert record is not None
        for ref in record.images.values():
            data = store.images.read(ref.filename)
            assert hashlib.sha256(data).hexdigest() == ref.sha256
    for record_id, version in current.items():
        assert (record_id, version) in outbox, f"{record_id} v{version} has no outbox row"
    return len(current)


def test_writer_killed_mid_stream_loses_no_committed_record(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    seen = [proc.stdout.readline().strip() for _ in range(60)]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with ClosetStore.open(tmp_path, "dev-kill", min_free_mb=0) as store:
        for record_id in seen:
            assert store.get(record_id) is not None, f"{record_id} was reported kept but is gone"
        assert assert_consistent(store) >= len(seen)


def killed_with_its_garments_in_the_log(folder: Path, count: int = 20) -> list[str]:
    """A closet whose writer was killed before any checkpoint: the ids it kept, all in ``closet.db-wal``."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(folder)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    seen = [proc.stdout.readline().strip() for _ in range(count)]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (folder / "closet.db-wal").stat().st_size > 0
    return seen


def test_a_log_full_of_garments_without_its_database_is_refused_not_wiped(tmp_path: Path) -> None:
    """A mirror unplugged mid-use keeps most of its closet in ``closet.db-wal``. Were ``closet.db`` moved
    aside alone (or emptied by fsck), opening would make a new database and SQLite would delete that log."""
    seen = killed_with_its_garments_in_the_log(tmp_path)
    db, wal = tmp_path / "closet.db", tmp_path / "closet.db-wal"
    log_bytes = wal.read_bytes()
    db.rename(tmp_path / "closet.db.aside")
    for _missing_then_empty in range(2):
        with pytest.raises(StoreError, match=r"missing or empty, but closet.db-wal .* nothing was changed") as caught:
            ClosetStore.open(tmp_path, "dev-kill", min_free_mb=0)
        assert "\n" not in str(caught.value)
        assert wal.read_bytes() == log_bytes
        db.write_bytes(b"")
    db.unlink()
    (tmp_path / "closet.db.aside").rename(db)  # put back: every garment is there
    with ClosetStore.open(tmp_path, "dev-kill", min_free_mb=0) as store:
        assert all(store.get(record_id) is not None for record_id in seen)


@pytest.mark.parametrize("state", ["missing", "empty"])
def test_no_reader_that_runs_before_the_store_wipes_an_orphan_log(tmp_path: Path, state: str) -> None:
    """Any SQLite connection, a read-only one too, deletes a log whose database is missing or empty. The
    device id (read at every start and by every CLI command), doctor's closet and clock checks all look at
    the closet before the store does: each must leave the log alone, and doctor must name the problem."""
    from mirror.config import Settings
    from mirror.device import device_id
    from mirror.doctor.checks import check_closet
    from mirror.doctor.report import Outcome
    from mirror.doctor.system import check_clock
    from mirror.store import open_closet

    seen = killed_with_its_garments_in_the_log(tmp_path)
    db, wal = tmp_path / "closet.db", tmp_path / "closet.db-wal"
    log_bytes = wal.read_bytes()
    db.rename(tmp_path / "closet.db.aside")
    if state == "empty":
        db.write_bytes(b"")
    base = Settings()
    settings = dataclasses.replace(base, store=dataclasses.replace(base.store, data_dir=str(tmp_path), min_free_mb=0))

    assert device_id(settings).startswith("mirror-")  # the closet's own id is unreadable until it is put back
    assert wal.read_bytes() == log_bytes, "reading the device id deleted the log"
    list(check_clock(settings))
    assert wal.read_bytes() == log_bytes, "doctor's clock check deleted the log"
    findings = list(check_closet(settings))
    assert wal.read_bytes() == log_bytes, "doctor's closet check deleted the log"
    assert [f.status for f in findings] == [Outcome.FAIL], findings
    assert "closet.db-wal beside it holds" in findings[0].message and "as a pair" in findings[0].fix
    with pytest.raises(StoreError, match="nothing was changed"):
        open_closet(settings)  # what every CLI command does
    assert wal.read_bytes() == log_bytes

    db.unlink(missing_ok=True)
    (tmp_path / "closet.db.aside").rename(db)
    with open_closet(settings) as store:
        assert all(store.get(record_id) is not None for record_id in seen)


def test_a_garment_deleted_while_on_its_way_to_the_cloud_frees_its_images_once_acked(tmp_path: Path) -> None:
    """Its images stay while the cloud may still need them, and not for ever after."""
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
        kept, gone, other = (store.add(synthetic_draft(i, image_kb=4)) for i in range(3))
        store.outbox.mark_published(store.outbox.due(10, 60))  # v1 of each in flight
        images = {r.id: [store.image_path(r, kind) for kind in r.images] for r in (kept, gone, other)}
        store.delete(gone.id)
        store.delete(other.id)
        assert all(path.exists() for path in images[gone.id] + images[other.id])  # v1 still unacked
        assert store.outbox.mark_acked([(gone.id, 1), (gone.id, 2), (kept.id, 1)]) == 3
        assert not any(path.exists() for path in images[gone.id])
        assert all(path.exists() for path in images[kept.id] + images[other.id])
    conn = sqlite3.connect(tmp_path / "closet.db")  # acked by another process (`smart-mirror sync drain`)
    with conn:
        conn.execute("UPDATE outbox SET state = 'acked' WHERE id = ?", (other.id,))
    conn.close()
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
        assert not any(path.exists() for path in images[other.id])
        assert all(path.exists() for path in images[kept.id]) and store.get(kept.id) is not None


def test_image_write_hitting_enospc_is_store_full_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated ENOSPC (monkeypatched os.write), the cheap always-available variant of the tmpfs test."""
    store = ClosetStore.open(tmp_path, "dev-a", min_free_mb=0)
    kept = store.add(synthetic_draft(1, image_kb=2))

    def full(_fd: int, _data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(StoreFullError, match=rf"closet storage {tmp_path} is full.*free some space"):
        store.add(synthetic_draft(2, image_kb=2))
    monkeypatch.undo()
    assert [r.id for r in store.list()] == [kept.id]
    assert not list(store.images.folder.glob(".tmp-*"))
    store.close()


def test_below_min_free_mb_refuses_new_captures_but_allows_deletes(tmp_path: Path) -> None:
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
        record = store.add(synthetic_draft(1, image_kb=1))
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=10**9) as store:
        with pytest.raises(StoreFullError, match=r"MB free, \[store\] min_free_mb is 1000000000"):
            store.add(synthetic_draft(2, image_kb=1))
        store.delete(record.id)  # freeing space must stay possible on a full disk
        assert store.list() == []


def test_sqlite_full_is_store_full_and_keeps_what_it_has(tmp_path: Path) -> None:
    """A real SQLITE_FULL, produced by capping the page count (SQLite's own disk-full path)."""
    store = ClosetStore.open(tmp_path, "dev-a", min_free_mb=0)
    kept = [store.add(synthetic_draft(i, image_kb=1)) for i in range(3)]
    pages = store._db.conn.execute("PRAGMA page_count").fetchone()[0]
    store._db.conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreFullError, match="is full"):
        for i in range(3, 200):
            store.add(synthetic_draft(i, image_kb=1))
    # The images of the garment that could not be committed are gone again.
    assert {p.name for p in store.images.folder.iterdir()} == store._db.read(needed_files)
    store.close()
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as again:
        ids = {r.id for r in again.list()}
        assert {r.id for r in kept} <= ids
        assert assert_consistent(again) == len(ids)


def test_a_really_full_filesystem(tmp_path: Path) -> None:
    """A real ENOSPC: a 2 MB tmpfs (needs root; skipped otherwise) filled until the store refuses."""
    with tiny_tmpfs(tmp_path / "fs", "2m") as fs:
        store = ClosetStore.open(fs / "closet", "dev-a", min_free_mb=0)
        added = []
        with pytest.raises(StoreFullError, match="is full"):
            for i in range(400):
                added.append(store.add(synthetic_draft(i, image_kb=40)).id)
        assert len(added) > 5
        store.close()
        # Free a little room (as the person would) and reopen: everything committed is intact.
        for stray in (fs / "closet" / "images").glob(".tmp-*"):
            stray.unlink()
        with ClosetStore.open(fs / "closet", "dev-a", min_free_mb=0) as again:
            assert [r.id for r in again.list()] == list(reversed(added))
            assert assert_consistent(again) == len(added)


def test_garbage_file_is_reported_corrupt_and_left_untouched(tmp_path: Path) -> None:
    db = tmp_path / "closet.db"
    garbage = os.urandom(8192)
    db.write_bytes(garbage)
    with pytest.raises(StoreCorruptError, match=rf"closet database {db} is damaged.*or move {db}\* aside"):
        ClosetStore.open(tmp_path, "dev-a", min_free_mb=0)
    assert db.read_bytes() == garbage
    assert sorted(p.name for p in tmp_path.iterdir()) == ["closet.db", "images"]


def test_damaged_page_is_found_by_quick_check_and_left_untouched(tmp_path: Path) -> None:
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
        for i in range(40):
            store.add(synthetic_draft(i, image_kb=1))
    conn = sqlite3.connect(tmp_path / "closet.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    db = tmp_path / "closet.db"
    data = bytearray(db.read_bytes())
    assert len(data) > 4 * page_size
    for page in range(1, len(data) // page_size):  # scribble over every page but the header page
        data[page * page_size + 8 : page * page_size + 64] = b"\xff" * 56
    db.write_bytes(bytes(data))
    with pytest.raises(StoreCorruptError, match="is damaged"):
        ClosetStore.open(tmp_path, "dev-a", min_free_mb=0)
    assert db.read_bytes() == bytes(data)


#: Opens the closet named on the command line and prints the StoreError, as the service user would
#: meet it; exit 3 when this user cannot even reach the folder (the test's set-up, not the product).
OPEN_AS_SERVICE_USER = """
import os, sys
from pathlib import Path
from mirror.store import ClosetStore, StoreError
folder = Path(sys.argv[1])
if not os.access(folder / "closet.db", os.R_OK):
    sys.exit(3)
try:
    ClosetStore.open(folder, "dev-a", min_free_mb=0).close()
except StoreError as exc:
    print(exc)
"""


def test_a_file_where_a_closet_folder_belongs_is_named_and_left_alone(tmp_path: Path) -> None:
    """mkdir's "File exists" named the closet folder whichever path was the file, and a folder where
    the database belongs was "unable to open database file; check the folder's owner"."""
    folder = tmp_path / "closet"
    ClosetStore.open(folder, "dev-a", min_free_mb=0).close()
    shutil.rmtree(folder / "images")
    (folder / "images").write_bytes(b"a stray file")
    with pytest.raises(StoreError, match=rf"^{re.escape(str(folder / 'images'))} is a file, not a folder; move it"):
        ClosetStore.open(folder, "dev-a", min_free_mb=0)
    assert (folder / "images").read_bytes() == b"a stray file"

    plain = tmp_path / "plain"
    plain.write_bytes(b"x")
    with pytest.raises(StoreError, match=rf"^{re.escape(str(plain))} is a file, not a folder; .* \[store\] data_dir"):
        ClosetStore.open(plain, "dev-a", min_free_mb=0)

    fresh = tmp_path / "fresh"
    (fresh / "closet.db").mkdir(parents=True)
    with pytest.raises(StoreError, match=rf"^{re.escape(str(fresh / 'closet.db'))} is a folder, not the closet"):
        ClosetStore.open(fresh, "dev-a", min_free_mb=0)
    assert (fresh / "closet.db").is_dir()


def test_an_unwritable_closet_folder_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    """A closet folder made by root and run by the service user: the usual install mistake.

    Root writes anywhere, so as root (here and in CI) the open runs as the unprivileged user
    ``nobody`` (uid 65534), in a folder that user can reach (pytest's own is private to root).
    """
    base = Path(tempfile.mkdtemp(prefix="closet-unwritable-")) if os.geteuid() == 0 else tmp_path
    folder = base / "closet"
    ClosetStore.open(folder, "dev-a", min_free_mb=0).close()
    for extra in ("-wal", "-shm"):
        (folder / f"closet.db{extra}").unlink(missing_ok=True)
    (folder / "closet.db").chmod(0o444)
    base.chmod(0o755)
    folder.chmod(0o555)
    expected = re.compile(  # both are in the way: the folder (for -wal and -shm) and the database
        rf"cannot open or write closet database {re.escape(str(folder / 'closet.db'))} \([^)\n]*\); "
        rf"make {re.escape(str(folder))} and {re.escape(str(folder / 'closet.db'))} writable by this user "
        rf"\(the service user owns them\)"
    )
    try:
        if os.geteuid() != 0:
            with pytest.raises(StoreError) as info:
                ClosetStore.open(folder, "dev-a", min_free_mb=0)
            assert expected.fullmatch(str(info.value)), str(info.value)
            return
        # mirror.store needs only the standard library, so the system Python (which ``nobody`` may
        # execute, unlike one under /root) can import it from the checkout.
        python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        try:
            result = subprocess.run(
                [python, "-c", OPEN_AS_SERVICE_USER, str(folder)],
                capture_output=True,
                text=True,
                user=65534,
                group=65534,
                extra_groups=[],
                cwd="/",
                env=env,
                check=False,
            )
        except PermissionError:
            pytest.skip("user nobody may not execute any Python interpreter here")
        if result.returncode == 3:
            pytest.skip(f"user nobody cannot reach {folder} here")
        if result.returncode != 0 and "ModuleNotFoundError" in result.stderr:
            pytest.skip(f"user nobody cannot import this checkout: {result.stderr.strip()[-200:]}")
        assert result.returncode == 0, result.stderr[-2000:]
        assert expected.fullmatch(result.stdout.strip()), result.stdout
    finally:
        folder.chmod(0o755)
        if base != tmp_path:
            shutil.rmtree(base)


def test_a_disk_filled_to_the_last_byte_is_reported_full_not_as_an_io_error(tmp_path: Path) -> None:
    """SQLite says "disk I/O error" when it cannot grow its -shm file; the person must read "full"."""
    with tiny_tmpfs(tmp_path / "fs", "2m") as fs:
        with ClosetStore.open(fs / "closet", "dev-a", min_free_mb=0) as store:
            kept = store.add(synthetic_draft(1, image_kb=8))
        (fs / "closet" / RESERVE_NAME).unlink()  # no reserve to give up (see the next test)
        filler = fill_to_the_last_byte(fs)
        with (
            pytest.raises(StoreFullError, match=r"closet storage .* is full.*free some space"),
            ClosetStore.open(fs / "closet", "dev-a", min_free_mb=0) as store,
        ):
            store.list()
        filler.unlink()
        with ClosetStore.open(fs / "closet", "dev-a", min_free_mb=0) as store:
            assert [r.id for r in store.list()] == [kept.id]


def test_on_a_full_disk_the_reserve_lets_the_closet_open_and_a_delete_make_room(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Deleting garments is how a person frees the closet's disk, so it must work when the disk is full."""
    with tiny_tmpfs(tmp_path / "fs", "2m") as fs:
        closet = fs / "closet"
        with ClosetStore.open(closet, "dev-a", min_free_mb=0) as store:
            assert (closet / RESERVE_NAME).stat().st_size == RESERVE_BYTES
            garments = [store.add(synthetic_draft(i, image_kb=150)) for i in range(3)]
        fill_to_the_last_byte(fs)
        assert shutil.disk_usage(fs).free < 64 * 1024
        with (
            caplog.at_level(logging.WARNING, logger="mirror.store.reserve"),
            ClosetStore.open(closet, "dev-a", min_free_mb=0) as store,  # gives up the reserve to open
        ):
            assert not (closet / RESERVE_NAME).exists()
            with pytest.raises(StoreFullError, match="is full"):
                store.add(synthetic_draft(9, image_kb=60))  # a new garment still cannot be kept
            before = shutil.disk_usage(fs).free
            deleted = store.delete(garments[0].id)
            assert deleted.deleted
            assert [r.id for r in store.list()] == [garments[2].id, garments[1].id]
            assert shutil.disk_usage(fs).free > before + 100 * 1024  # its images are gone
        assert any("gave up the closet's 512 KB reserve" in r.getMessage() for r in caplog.records)
        with ClosetStore.open(closet, "dev-a", min_free_mb=0) as store:
            assert len(store.list()) == 2
        (fs / "filler").unlink()
        with ClosetStore.open(closet, "dev-a", min_free_mb=0):
            assert (closet / RESERVE_NAME).stat().st_size == RESERVE_BYTES  # room again: kept back again


def test_a_read_only_card_is_named_as_such_not_as_a_permission_problem(tmp_path: Path) -> None:
    """An SD card remounted read-only after errors: chown cannot help, and the data is intact."""
    with tiny_tmpfs(tmp_path / "fs", "4m") as fs:
        with ClosetStore.open(fs / "closet", "dev-a", min_free_mb=0) as store:
            kept = store.add(synthetic_draft(1, image_kb=4))
        subprocess.run(["mount", "-o", "remount,ro", str(fs)], check=True)
        try:
            with pytest.raises(StoreReadOnlyError, match=r"read-only file system .*fsck.*the data on it is unchanged"):
                ClosetStore.open(fs / "closet", "dev-a", min_free_mb=0)
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(fs)], check=True)
        with ClosetStore.open(fs / "closet", "dev-a", min_free_mb=0) as store:
            assert store.get(kept.id) == kept


def test_store_messages_are_one_line_and_only_offer_fixes_that_apply(tmp_path: Path) -> None:
    damaged = StoreCorruptError(tmp_path / "closet.db", "quick_check: *** in database main ***\nPage 7: never used")
    assert "\n" not in str(damaged) and "left untouched" not in str(damaged)
    assert "restore the closet from a backup" in str(damaged)
    assert "min_free_mb" not in str(StoreFullError(tmp_path, "no space left on device"))
    assert "(or lower [store] min_free_mb)" in str(StoreFullError(tmp_path, "10 MB free", floor_mb=200))


def test_doctor_calls_a_full_disk_full_even_with_no_floor_configured(tmp_path: Path) -> None:
    from mirror.config.settings import Settings, StoreSettings
    from mirror.doctor.checks import check_free_disk
    from mirror.doctor.report import Outcome

    with tiny_tmpfs(tmp_path / "fs", "2m") as fs:
        fill_to_the_last_byte(fs)
        settings = Settings(store=StoreSettings(data_dir=str(fs / "closet"), min_free_mb=0))
        [finding] = list(check_free_disk(settings))
        assert finding.status is Outcome.FAIL and "0 MB free" in finding.message


def test_a_delete_on_a_closet_open_while_the_disk_fills_goes_through(tmp_path: Path) -> None:
    """The mirror runs for months: the disk fills under an open closet, and the person deletes from the UI."""
    with tiny_tmpfs(tmp_path / "fs", "2m") as fs, ClosetStore.open(fs / "closet", "dev-a", min_free_mb=0) as store:
        garments = [store.add(synthetic_draft(i, image_kb=150)) for i in range(3)]
        fill_to_the_last_byte(fs)
        for garment in garments[:2]:
            assert store.delete(garment.id).deleted
        assert [r.id for r in store.list()] == [garments[2].id]


def lose_the_wal(folder: Path) -> str:
    """A closet whose first garment lives only in its -wal file, which is then lost (deleted by hand,
    or left out of a copy): the database file alone has no tables."""
    script = (
        "import os, sys\n"
        "from mirror.store import ClosetStore\n"
        "from mirror.store.samples import synthetic_draft\n"
        "store = ClosetStore.open(sys.argv[1], 'dev-a', min_free_mb=0)\n"
        "print(store.add(synthetic_draft(1, image_kb=1)).id)\n"
        "os._exit(0)  # no close: nothing is checkpointed into closet.db\n"
    )
    made = subprocess.run([sys.executable, "-c", script, str(folder)], capture_output=True, text=True, cwd=ROOT)
    assert made.returncode == 0, made.stderr
    (folder / "closet.db-wal").unlink()
    (folder / "closet.db-shm").unlink(missing_ok=True)
    return made.stdout.strip()


def test_a_lost_wal_file_is_named_by_doctor_and_at_open_and_the_images_are_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from mirror.config.settings import Settings, StoreSettings
    from mirror.doctor.checks import check_closet
    from mirror.doctor.report import Outcome

    settings = Settings(store=StoreSettings(data_dir=str(tmp_path), min_free_mb=0))
    [empty] = list(check_closet(settings))
    assert empty.status is Outcome.OK and "not created yet" in empty.message
    lose_the_wal(tmp_path)
    [finding] = list(check_closet(settings))
    assert finding.status is Outcome.WARN, finding.line()  # not "cannot be read … run doctor as the service user"
    assert "holds no garments, but" in finding.message and "1 garment image(s) of an earlier closet" in finding.message
    assert "-wal file was lost" in finding.fix and "docs/deploy.md" in finding.fix
    images = sorted(p.name for p in (tmp_path / "images").iterdir())
    with caplog.at_level(logging.WARNING, logger="mirror.store.closet"):
        ClosetStore.open(tmp_path, "dev-a", min_free_mb=0).close()
    assert any("its -wal file was lost" in r.getMessage() for r in caplog.records)
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == images  # kept for a restore


def test_a_new_database_is_empty_for_doctor(tmp_path: Path) -> None:
    from mirror.config.settings import Settings, StoreSettings
    from mirror.doctor.checks import check_closet
    from mirror.doctor.report import Outcome

    sqlite3.connect(tmp_path / "closet.db").close()  # an empty file, e.g. made by `sqlite3 closet.db`
    [finding] = list(check_closet(Settings(store=StoreSettings(data_dir=str(tmp_path), min_free_mb=0))))
    assert finding.status is Outcome.OK and "is empty" in finding.message


def test_the_status_line_calls_the_disk_full_exactly_where_the_closet_refuses_a_garment(tmp_path: Path) -> None:
    """One measure of "full" for the store, the service and doctor (``mirror.store.space``).

    A real tmpfs left with between 3,000,000 and 3 MiB free under a 3 MB floor: in that band the
    service used to measure decimal MB and say "storage: ok" (and invite a capture) while the store,
    measuring MiB, refused the garment at Keep.
    """
    import dataclasses

    from mirror.doctor.checks import check_free_disk
    from mirror.doctor.report import Outcome
    from mirror.events import STORAGE_FULL, Level
    from mirror.health import Health
    from mirror.service import MirrorService
    from mirror.store.space import MB
    from tests.test_service import fast_settings

    floor_mb = 3
    with tiny_tmpfs(tmp_path / "fs", "8m") as fs:
        base = fast_settings(fs)
        settings = dataclasses.replace(base, store=dataclasses.replace(base.store, min_free_mb=floor_mb))
        with ClosetStore.open(fs / "closet", "dev-a", min_free_mb=0):
            pass  # the closet and its reserve exist, as on a running mirror
        target = floor_mb * 1_000_000 + (floor_mb * MB - floor_mb * 1_000_000) // 2  # mid-band
        with open(fs / "filler", "wb") as filler:
            filler.write(b"\0" * (shutil.disk_usage(fs).free - target))
        free = shutil.disk_usage(fs).free
        assert floor_mb * 1_000_000 <= free < floor_mb * MB, free

        with (
            ClosetStore.open(fs / "closet", "dev-a", min_free_mb=floor_mb) as store,
            pytest.raises(StoreFullError, match="min_free_mb is 3"),
        ):
            store.add(synthetic_draft(1, image_kb=1))
        service = MirrorService(settings, health=Health())  # not started: the closet alone is opened
        try:
            service._open_store()
            part = service.status().storage
            assert part.level is Level.ERROR and part.reason == STORAGE_FULL, part
            assert service._machine._held_off, "auto-capture held: no garment the closet would refuse"
        finally:
            service.stop()
        [finding] = list(check_free_disk(settings))
        assert finding.status is Outcome.FAIL, finding


def test_a_card_the_kernel_turned_read_only_is_named_as_such_for_every_write(tmp_path: Path) -> None:
    """After an I/O error ext4 remounts the card read-only under the open closet; statvfs still says
    writable and SQLite says "disk I/O error": the person must read "read-only", with its fix."""
    with ext4_that_fails(tmp_path / "card") as (card, fail):
        store = ClosetStore.open(card / "closet", "dev-a", min_free_mb=0)
        kept = store.add(synthetic_draft(1, image_kb=4))
        fail()
        with pytest.raises(StoreReadOnlyError, match=r"read-only file system.*fsck"):
            store.add(synthetic_draft(2, image_kb=4))
        with pytest.raises(StoreReadOnlyError, match=r"read-only file system.*fsck"):
            store.delete(kept.id)  # SQLite's "disk I/O error"
        assert [r.id for r in store.list()] == [kept.id]  # reading still works
        store.close()


def test_mount_options_are_read_for_the_mount_that_holds_the_folder(tmp_path: Path) -> None:
    from mirror.store.translate import read_only_fs

    folder = tmp_path / "my card" / "closet"
    folder.mkdir(parents=True)
    escaped = str(tmp_path / "my card").replace(" ", "\\040")
    table = tmp_path / "mountinfo"
    table.write_text(
        "1 0 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
        f"42 1 7:0 / {escaped} rw,relatime - ext4 /dev/loop0 rw,errors=remount-ro,emergency_ro\n"
        f"43 1 7:1 / {escaped}2 rw,relatime - ext4 /dev/loop1 rw\n"
    )
    assert read_only_fs(folder, table)
    assert not read_only_fs(tmp_path, table)  # the root mount: writable


def test_a_closet_another_process_holds_is_busy_in_one_line_and_keeps_its_garments(tmp_path: Path) -> None:
    """A second writer (a `sync drain` beside the mirror, a backup with a write lock) holding the
    database past the busy timeout: a real lock, translated by the store, not injected text."""
    store = ClosetStore.open(tmp_path, "dev-a", min_free_mb=0)
    kept = store.add(synthetic_draft(1, image_kb=1))
    store._db.conn.execute("PRAGMA busy_timeout = 200")  # the real 10 s, shortened for the test
    images = sorted((tmp_path / "images").rglob("*.*"))
    assert images, "the kept garment has its pictures"
    other = sqlite3.connect(tmp_path / "closet.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError) as raised:
            store.add(synthetic_draft(2, image_kb=1))
        message = str(raised.value)
        assert "is busy" in message and "another smart-mirror process holds it" in message and "\n" not in message
        assert sorted((tmp_path / "images").rglob("*.*")) == images, "the refused garment left its pictures"
    finally:
        other.execute("ROLLBACK")
        other.close()
    again = store.add(synthetic_draft(3, image_kb=1))  # the lock gone, the closet carries on
    assert [r.id for r in store.list()] == [again.id, kept.id]
    store.close()
