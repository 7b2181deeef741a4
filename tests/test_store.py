"""The closet store's API: versions, outbox, ids, schema — against a real SQLite file in tmp_path."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import logging
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from mirror.config.settings import Settings, StoreSettings
from mirror.doctor.report import Finding, Outcome
from mirror.store import ClosetCounts, ClosetStore, Color, DamagedRecordError, OutboxStats, Record, StoreError
from mirror.store.errors import RecordNotFoundError
from mirror.store.ids import uuid7
from mirror.store.images import ImageFiles
from mirror.store.samples import synthetic_draft
from mirror.store.schema import SCHEMA_VERSION
from mirror.vocab import BASIC_TERMS, CATEGORIES, GROUPS


@pytest.fixture
def store(tmp_path: Path):
    s = ClosetStore.open(tmp_path / "closet", "dev-a", min_free_mb=0)
    yield s
    s.close()


def test_add_keeps_record_images_and_outbox_row(store: ClosetStore) -> None:
    draft = synthetic_draft(1, image_kb=5)
    record = store.add(draft)
    assert record.version == 1 and record.device_id == "dev-a" and not record.deleted
    assert store.get(record.id) == record
    path = store.image_path(record, "cutout_png")
    assert path.read_bytes() == draft.images["cutout_png"]
    assert record.images["cutout_png"].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert store.outbox.stats() == OutboxStats(waiting=1, in_flight=0, acked=0)
    with pytest.raises(StoreError, match="no photo_jpg image"):
        store.image_path(record, "photo_jpg")


def test_wal_full_sync_and_schema_version(store: ClosetStore) -> None:
    conn = sqlite3.connect(store.db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    assert store._db.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_list_filters_newest_first_and_counts(store: ClosetStore) -> None:
    records = [store.add(synthetic_draft(i, image_kb=1)) for i in range(12)]
    listed = store.list()
    assert [r.id for r in listed] == [r.id for r in reversed(records)]
    shirts = store.list(category=records[1].category)
    assert {r.id for r in shirts} == {r.id for r in records if r.category == records[1].category}
    assert [r.id for r in store.list(category="t-shirt", basic_color="black")] == [records[0].id]
    counts = store.counts()
    assert counts.garments == 12 and sum(counts.basic_color.values()) == 12
    assert counts.category["t-shirt"] == 2  # index 0 and 10
    assert counts == ClosetCounts.tally(listed), "counted in SQL as the UI counts a list it read"


def test_edit_makes_a_new_version_and_supersedes_the_unsent_one(store: ClosetStore) -> None:
    first = store.add(dataclasses.replace(synthetic_draft(2, image_kb=1), unsure=True))
    red = Color(basic="red", name="crimson", hex="#c0102a")
    edited = store.edit(first.id, category="dress", color=red)
    assert (edited.version, edited.category, edited.color, edited.edited) == (2, "dress", red, True)
    # The model's own answer stays (docs/sync.md): the cloud sees it asked, and what the person said.
    assert (edited.unsure, edited.category_score, edited.top3) == (True, first.category_score, first.top3)
    assert edited.images == first.images and edited.created_at == first.created_at
    assert store.get(first.id) == edited
    assert store.get_version(first.id, 1) == first
    # v1 was never sent: only v2 needs to reach the cloud.
    assert [(i.record_id, i.version) for i in store.outbox.due(10, 60)] == [(first.id, 2)]
    assert store.counts().category == {"dress": 1}


def test_edit_keeps_an_in_flight_version_queued(store: ClosetStore) -> None:
    first = store.add(synthetic_draft(3, image_kb=1))
    store.outbox.mark_published(store.outbox.due(10, 60))
    store.edit(first.id, category="bag")
    assert store.outbox.stats() == OutboxStats(waiting=1, in_flight=1, acked=0)


def test_delete_is_a_tombstone_version_and_removes_images(store: ClosetStore) -> None:
    kept = store.add(synthetic_draft(4, image_kb=1))
    gone = store.add(synthetic_draft(5, image_kb=1))
    path = store.image_path(gone, "cutout_png")
    tomb = store.delete(gone.id)
    assert tomb.deleted and tomb.version == 2 and tomb.images == {}
    assert store.get(gone.id) is None
    assert [r.id for r in store.list()] == [kept.id]
    assert not path.exists() and store.image_path(kept, "cutout_png").exists()
    assert store.get_version(gone.id, 2) == tomb
    with pytest.raises(RecordNotFoundError, match="deleted already"):
        store.delete(gone.id)
    with pytest.raises(RecordNotFoundError):
        store.edit("no-such-id", category="bag")


def test_a_clock_that_steps_back_does_not_strand_sent_or_held_versions(store: ClosetStore) -> None:
    """A Pi with no RTC, set late by NTP: times stamped before the step lie in the future."""
    records = [store.add(synthetic_draft(i, image_kb=1)) for i in range(3)]
    ahead = time.time()
    store.outbox.mark_published(store.outbox.due(2, ack_timeout_s=60, now=ahead), now=ahead)
    store.outbox.postpone([(records[2].id, 1)], 3600)  # held back for an hour by the clock of the time
    year_ago = ahead - 365 * 86400
    due = store.outbox.due(10, ack_timeout_s=60, now=year_ago)
    assert {i.record_id for i in due} == {r.id for r in records}  # the sent ones and the held one
    assert store.outbox.stats(now=year_ago).held == 0
    assert store.outbox.stats(now=ahead).held == 1  # with the clock unchanged it is still held
    assert len(store.outbox.due(10, ack_timeout_s=60, now=ahead + 30)) == 0


def test_a_damaged_image_file_is_not_read_as_the_garments_image(store: ClosetStore) -> None:
    record = store.add(synthetic_draft(1, image_kb=4))
    ref = record.images["cutout_png"]
    path = store.images.path(ref.filename)
    path.write_bytes(path.read_bytes()[:1000])  # cut short by a bad card
    with pytest.raises(StoreError, match=r"damaged \(1000 bytes, the record says .*restore the closet's images"):
        store.read_image(ref)


def test_an_image_renamed_while_it_is_being_looked_up_is_still_found(tmp_path: Path) -> None:
    """The writer renames a committed temp file without the reader's lock; the rename can land mid-lookup."""

    class RenamedMidLookup(ImageFiles):
        def _temps_of(self, filename: str) -> list[Path]:
            temps = super()._temps_of(filename)
            for tmp in temps:
                tmp.replace(self.folder / filename)  # the writer's step 3, at the worst moment
            return temps

    files = RenamedMidLookup(tmp_path)
    (tmp_path / ".tmp-abc.png.123").write_bytes(b"png bytes")
    assert files.read("abc.png") == b"png bytes"
    (tmp_path / "abc.png").unlink()
    (tmp_path / ".tmp-abc.png.124").write_bytes(b"png bytes")
    assert files.exists("abc.png")


def test_outbox_publish_ack_and_requeue(store: ClosetStore) -> None:
    records = [store.add(synthetic_draft(i, image_kb=1)) for i in range(5)]
    due = store.outbox.due(3, ack_timeout_s=60)
    assert [i.record_id for i in due] == [r.id for r in records[:3]]
    store.outbox.mark_published(due)
    assert store.outbox.stats() == OutboxStats(waiting=2, in_flight=3, acked=0)
    assert len(store.outbox.due(10, ack_timeout_s=60)) == 2
    # Overdue acks come back round.
    assert len(store.outbox.due(10, ack_timeout_s=60, now=time.time() + 61)) == 5
    assert store.outbox.mark_acked([(records[0].id, 1), (records[0].id, 1), (records[1].id, 7)]) == 1
    assert store.outbox.stats() == OutboxStats(waiting=2, in_flight=2, acked=1)
    assert store.outbox.requeue_in_flight() == 2
    assert store.outbox.stats() == OutboxStats(waiting=4, in_flight=0, acked=1)


def test_unacked_ids_follow_the_outbox(store: ClosetStore) -> None:
    """The closet's sync badges: a record is unsynced while any of its versions waits or is in flight."""
    records = [store.add(synthetic_draft(i, image_kb=1)) for i in range(3)]
    assert store.outbox.unacked_ids() == {r.id for r in records}
    store.outbox.mark_published(store.outbox.due(1, ack_timeout_s=60))  # in flight is still unsynced
    store.outbox.mark_acked([(records[1].id, 1)])
    assert store.outbox.unacked_ids() == {records[0].id, records[2].id}
    store.outbox.mark_acked([(records[0].id, 1), (records[2].id, 1)])
    assert store.outbox.unacked_ids() == set()


def test_reopen_keeps_everything_and_a_second_connection_reads(tmp_path: Path) -> None:
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as first:
        record = first.add(synthetic_draft(6, image_kb=1))
        with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as second:
            assert second.get(record.id) == record
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as again:
        assert again.get(record.id) == record and again.outbox.stats().waiting == 1


def test_stale_temp_files_go_on_open_but_unnamed_images_stay(tmp_path: Path) -> None:
    """Temp files whose row never committed go; a final image no row names stays (it may be an old closet's)."""
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
        record = store.add(synthetic_draft(7, image_kb=1))
        folder = store.images.folder
    gone_pid = 4194305  # above Linux's largest pid: its writer is certainly gone
    stale = folder / (".tmp-" + "cd" * 32 + f".png.{gone_pid}")
    # Young, of a writer that is gone (killed; systemd restarts the mirror within seconds): goes too.
    fresh = folder / (".tmp-" + "ef" * 32 + f".png.{gone_pid}")
    no_pid = folder / (".tmp-" + "01" * 32 + ".png")  # no writer named: goes only once old
    unnamed = folder / ("ab" * 32 + ".png")
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    live = folder / (".tmp-" + "12" * 32 + f".png.{writer.pid}")  # a writer mid-commit, clock jumped ahead
    try:
        for path in (stale, fresh, no_pid, unnamed, live):
            path.write_bytes(b"x")
        old = time.time() - 3600
        for path in (stale, unnamed, live):
            os.utime(path, (old, old))
        with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
            assert store.image_path(record, "cutout_png").exists()
        assert not stale.exists() and not fresh.exists() and no_pid.exists() and unnamed.exists()
        assert live.exists(), "a temp file of a running writer was removed because the clock said it was old"
    finally:
        writer.kill()
        writer.wait()


def test_a_fresh_database_beside_old_images_deletes_none(tmp_path: Path) -> None:
    """The damaged-database advice (move closet.db aside, restart) must not cost the person the images."""
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
        record = store.add(synthetic_draft(9, image_kb=1))
        paths = [store.image_path(record, kind) for kind in record.images]
    old = time.time() - 3600
    for path in paths:
        os.utime(path, (old, old))
    for name in ("closet.db", "closet.db-wal", "closet.db-shm"):
        if (tmp_path / name).exists():
            (tmp_path / name).rename(tmp_path / f"{name}.damaged")
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
        assert store.list() == []
    assert all(path.exists() for path in paths)


def test_a_crash_between_commit_and_rename_is_finished_on_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Power lost after the row committed but before the images got their final names."""
    store = ClosetStore.open(tmp_path, "dev-a", min_free_mb=0)
    monkeypatch.setattr(ImageFiles, "publish", lambda self, staged: None)  # the process dies right here
    draft = synthetic_draft(11, image_kb=2)
    record = store.add(draft)
    paths = {kind: store.image_path(record, kind) for kind in record.images}
    assert not any(path.exists() for path in paths.values())
    assert store.read_image(record.images["cutout_png"]) == draft.images["cutout_png"]  # readers fall back
    store.close()
    monkeypatch.undo()
    old = time.time() - 3600
    for tmp in tmp_path.glob("images/.tmp-*"):
        os.utime(tmp, (old, old))  # old enough that clean() would remove it, were it not committed
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as again:
        for kind, path in paths.items():
            assert path.read_bytes() == draft.images[kind]
        assert again.get(record.id) == record
    assert not list(tmp_path.glob("images/.tmp-*"))


def test_a_rename_that_fails_after_the_commit_still_keeps_the_garment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The card fails the images' rename, after the row committed: the garment is kept all the same
    (a Keep reported failed would be pressed again, and the garment kept twice), and the next open
    gives the images their final names."""

    def card_error(_images: ImageFiles, _staged: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    store = ClosetStore.open(tmp_path, "dev-a", min_free_mb=0)
    monkeypatch.setattr(ImageFiles, "publish", card_error)
    draft = synthetic_draft(14, image_kb=2)
    with caplog.at_level(logging.WARNING, logger="mirror.store.closet"):
        record = store.add(draft)
    assert [r.id for r in store.list()] == [record.id]
    assert store.read_image(record.images["cutout_png"]) == draft.images["cutout_png"]  # from its temp file
    assert any(f"garment {record.id} kept" in r.getMessage() for r in caplog.records), caplog.text
    store.close()
    monkeypatch.undo()
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as again:
        assert again.get(record.id) == record
        for kind, data in draft.images.items():
            assert again.image_path(record, kind).read_bytes() == data
    assert not list(tmp_path.glob("images/.tmp-*"))


def test_a_damaged_record_row_is_named_and_hides_no_other_garment(tmp_path: Path) -> None:
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
        good = store.add(synthetic_draft(12, image_kb=1))
        bad = store.add(synthetic_draft(13, image_kb=1))
    conn = sqlite3.connect(tmp_path / "closet.db")
    conn.execute("UPDATE records SET body = substr(body, 1, 50) WHERE id = ?", (bad.id,))
    conn.commit()
    conn.close()
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
        assert [r.id for r in store.list()] == [good.id]
        with pytest.raises(DamagedRecordError, match=rf"garment {bad.id} \(version 1\) .* is unreadable .*backup"):
            store.get(bad.id)
        assert store.get(good.id) == good


def test_schema_from_the_future_without_a_floor_is_refused(tmp_path: Path) -> None:
    """A newer file that does not say older software may use it (no ``schema_floor``): refused, untouched."""
    ClosetStore.open(tmp_path, "dev-a", min_free_mb=0).close()
    conn = sqlite3.connect(tmp_path / "closet.db")
    conn.execute("DROP TABLE schema_floor")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    before = (tmp_path / "closet.db").read_bytes()
    message = (
        rf"newer than this software \(schema version {SCHEMA_VERSION + 5}, this software knows up to "
        rf"{SCHEMA_VERSION}, and the file does not say older software may use it\); install the newer version "
        r"again, or restore the closet's pre-update backup \(docs/deploy.md\)$"
    )
    with pytest.raises(StoreError, match=message):
        ClosetStore.open(tmp_path, "dev-a", min_free_mb=0)
    assert (tmp_path / "closet.db").read_bytes() == before


def test_unknown_image_kind_is_a_programming_error(store: ClosetStore) -> None:
    draft = synthetic_draft(8, image_kb=1)
    with pytest.raises(ValueError, match="unknown image kind"):
        store.add(type(draft)(category="bag", category_score=1, color=draft.color, images={"gif": b"x"}, group="top"))


def test_uuid7_is_version_7_time_ordered_and_unique() -> None:
    ids = [uuid7() for _ in range(5000)]
    assert len(set(ids)) == 5000 and ids == sorted(ids)
    assert all(i[14] == "7" and i[19] in "89ab" for i in ids)
    assert abs((uuid.UUID(ids[0]).int >> 80) - time.time() * 1000) < 5000  # RFC 9562: unix_ts_ms, top 48 bits
    # Same millisecond from "another device" (fresh randomness) never collides.
    assert len({uuid7(now_ms=1) for _ in range(100)} | {uuid7(now_ms=1) for _ in range(100)}) == 200


def test_outbox_bookkeeping_is_relaxed_but_records_stay_full(store: ClosetStore) -> None:
    """Published/acked marks commit without fsync; the connection is back at FULL afterwards."""
    record = store.add(synthetic_draft(9, image_kb=1))
    store.outbox.mark_published(store.outbox.due(10, 60))
    store.outbox.mark_acked([(record.id, 1)])
    assert store._db.conn.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_a_new_migration_is_applied_once_and_keeps_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mirror.store import schema

    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
        record = store.add(synthetic_draft(1, image_kb=1))
    extra = schema.Migration(("ALTER TABLE records ADD COLUMN note TEXT",), readable_from=SCHEMA_VERSION)
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, extra))
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(schema.MIGRATIONS))
    for _ in range(2):  # the second open finds it done and does nothing
        with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
            assert store.get(record.id) == record
    conn = sqlite3.connect(tmp_path / "closet.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    assert "note" in [row[1] for row in conn.execute("PRAGMA table_info(records)")]
    conn.close()


def _migrated_by_newer_software(
    closet: Path, monkeypatch: pytest.MonkeyPatch, readable_from: int
) -> tuple[list[Record], list[Record]]:
    """A closet kept by this software, then by a newer one whose migration SCHEMA_VERSION + 1 adds a
    nullable column and says software of schema ``readable_from`` may still use the file. Returns the
    garments each kept (the newer one left them in records beside its new column)."""
    from mirror.store import schema

    with ClosetStore.open(closet, "dev-a", min_free_mb=0) as store:
        ours = [store.add(synthetic_draft(i, image_kb=1)) for i in range(2)]
    newer = schema.Migration(("ALTER TABLE records ADD COLUMN note TEXT",), readable_from=readable_from)
    with monkeypatch.context() as patch:
        patch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, newer))
        patch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
        with ClosetStore.open(closet, "dev-a", min_free_mb=0) as store:
            theirs = [store.add(synthetic_draft(2, image_kb=1))]
    return ours, theirs


def _user_version_floor_and_counts(db: Path) -> tuple[int, list[tuple[int, ...]], tuple[int, ...]]:
    conn = sqlite3.connect(f"{db.absolute().as_uri()}?mode=ro", uri=True)
    try:
        tables = ("records", "current", "outbox")
        counts = tuple(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in tables)
        return (
            conn.execute("PRAGMA user_version").fetchone()[0],
            conn.execute("SELECT readable_from FROM schema_floor").fetchall(),
            counts,
        )
    finally:
        conn.close()


def test_a_closet_a_newer_version_changed_additively_is_used_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Rolled back after an update whose migration is additive: the closet stays, and is not downgraded."""
    ours, theirs = _migrated_by_newer_software(tmp_path, monkeypatch, readable_from=SCHEMA_VERSION)
    assert _user_version_floor_and_counts(tmp_path / "closet.db")[:2] == (SCHEMA_VERSION + 1, [(SCHEMA_VERSION,)])
    with caplog.at_level(logging.WARNING, logger="mirror.store.closet"):
        store = ClosetStore.open(tmp_path, "dev-a", min_free_mb=0)
    with store:
        assert {r.id for r in store.list()} == {r.id for r in ours + theirs}
        assert store.get(theirs[0].id) == theirs[0]
        kept = store.add(synthetic_draft(3, image_kb=1))
        assert store.list()[0].id == kept.id and store.get(kept.id) == kept
        assert store.outbox.stats().waiting == 4
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        f"{tmp_path / 'closet.db'} was written by newer software (schema {SCHEMA_VERSION + 1}); this version "
        f"(schema {SCHEMA_VERSION}) can use it because the change is additive"
    ]
    assert _user_version_floor_and_counts(tmp_path / "closet.db") == (
        SCHEMA_VERSION + 1,
        [(SCHEMA_VERSION,)],
        (4, 4, 4),
    )
    findings = _doctor_closet(tmp_path)
    assert [f.status for f in findings] == [Outcome.WARN, Outcome.OK], findings
    assert f"newer software (schema {SCHEMA_VERSION + 1})" in findings[0].message
    # Nothing is written to judge it: a read-only connection gets the same answer.
    from mirror.store import schema

    conn = sqlite3.connect(f"{(tmp_path / 'closet.db').absolute().as_uri()}?mode=ro", uri=True)
    try:
        assert schema.migrate(conn) == schema.Migrated(found=SCHEMA_VERSION + 1, known=SCHEMA_VERSION)
    finally:
        conn.close()


def test_a_closet_a_newer_version_changed_incompatibly_is_refused_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A migration marked non-additive (``readable_from`` its own version): the older software keeps off."""
    _migrated_by_newer_software(tmp_path, monkeypatch, readable_from=SCHEMA_VERSION + 1)
    db = tmp_path / "closet.db"
    before = (db.read_bytes(), _user_version_floor_and_counts(db))
    assert before[1] == (SCHEMA_VERSION + 1, [(SCHEMA_VERSION + 1,)], (3, 3, 3))
    message = (
        rf"newer than this software \(schema version {SCHEMA_VERSION + 1}, this software knows up to "
        rf"{SCHEMA_VERSION}, and the file needs schema {SCHEMA_VERSION + 1} or later\); install the newer "
        r"version again, or restore the closet's pre-update backup"
    )
    with pytest.raises(StoreError, match=message):
        ClosetStore.open(tmp_path, "dev-a", min_free_mb=0)
    assert (db.read_bytes(), _user_version_floor_and_counts(db)) == before
    # doctor gives the store's verdict before a restart meets it, and leaves the file as it is too
    [finding] = _doctor_closet(tmp_path)
    assert finding.status is Outcome.FAIL and "needs schema" in finding.message
    assert "pre-update backup" in finding.fix
    assert (db.read_bytes(), _user_version_floor_and_counts(db)) == before


def _doctor_closet(data_dir: Path) -> list[Finding]:
    from mirror.doctor.checks import check_closet

    return list(check_closet(Settings(store=StoreSettings(data_dir=str(data_dir), min_free_mb=0))))


def test_every_closet_gets_its_floor_new_or_upgraded(tmp_path: Path) -> None:
    """A new closet, and one the released schema-3 software migrated (no ``schema_floor``), get the floor;
    every released migration is additive, so schema-1 software could use either."""
    from mirror.store import schema

    assert [m.readable_from for m in schema.MIGRATIONS] == [1, 1, 1]
    assert all(1 <= m.readable_from <= n for n, m in enumerate(schema.MIGRATIONS, start=1))
    with ClosetStore.open(tmp_path / "new", "dev-a", min_free_mb=0):
        pass
    assert _user_version_floor_and_counts(tmp_path / "new" / "closet.db") == (SCHEMA_VERSION, [(1,)], (0, 0, 0))

    released = tmp_path / "released"
    with ClosetStore.open(released, "dev-a", min_free_mb=0) as store:
        kept = store.add(synthetic_draft(1, image_kb=1))
    conn = sqlite3.connect(released / "closet.db")
    conn.execute("DROP TABLE schema_floor")  # what the released software leaves: the same tables, no floor
    conn.close()
    for _ in range(2):  # written once; the second open finds it
        with ClosetStore.open(released, "dev-a", min_free_mb=0) as store:
            assert store.get(kept.id) == kept
        assert _user_version_floor_and_counts(released / "closet.db") == (SCHEMA_VERSION, [(1,)], (1, 1, 1))

    old = tmp_path / "schema-1"  # a closet of schema 1: migrated up, with the floor written in each step
    old.mkdir()
    conn = sqlite3.connect(old / "closet.db")
    for statement in schema.MIGRATIONS[0].statements:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    with ClosetStore.open(old, "dev-a", min_free_mb=0):
        pass
    assert _user_version_floor_and_counts(old / "closet.db") == (SCHEMA_VERSION, [(1,)], (0, 0, 0))


def test_a_category_the_cloud_would_reject_is_refused_here(store: ClosetStore) -> None:
    record = store.add(synthetic_draft(20, image_kb=1))
    with pytest.raises(ValueError, match="category must be 1–64 characters, got 65"):
        store.edit(record.id, category="x" * 65)
    with pytest.raises(ValueError, match="got 0"):
        store.add(dataclasses.replace(synthetic_draft(21, image_kb=1), category=""))
    assert store.get(record.id) == record and len(store.list()) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"images": {}}, "at least one image"),
        ({"group": ""}, "group must be one of top, outerwear, bottom, one-piece, footwear, headwear, got ''"),
        ({"group": "upper"}, "got 'upper'"),
        ({"box": (1.0, 2.0, 3.0)}, "box is 4 numbers"),
    ],
)
def test_a_garment_the_cloud_would_reject_as_malformed_is_refused_before_anything_is_kept(
    store: ClosetStore, tmp_path: Path, change: dict[str, object], message: str
) -> None:
    """It would wait in the outbox for ever (the contract, garment.v1.json, rejects it at every try)."""
    with pytest.raises(ValueError, match=message):
        store.add(dataclasses.replace(synthetic_draft(24, image_kb=1), **change))  # type: ignore[arg-type]
    assert store.list() == [] and store.outbox.stats().waiting == 0
    assert not [p for p in (tmp_path / "closet" / "images").rglob("*") if p.is_file()], "no picture kept for it"


def test_a_rejected_version_waits_behind_the_others_and_comes_back(store: ClosetStore) -> None:
    first, second = store.add(synthetic_draft(22, image_kb=1)), store.add(synthetic_draft(23, image_kb=1))
    store.outbox.mark_published(store.outbox.due(10, ack_timeout_s=60))
    assert store.outbox.postpone([(first.id, 1)], retry_after_s=3600) == 1
    due = store.outbox.due(10, ack_timeout_s=60, now=time.time() + 120)  # second's ack is overdue by then
    assert [item.record_id for item in due] == [second.id]
    later = store.outbox.due(10, ack_timeout_s=60, now=time.time() + 3700)
    assert {item.record_id for item in later} == {first.id, second.id}
    assert next(i for i in later if i.record_id == first.id).attempts == 2
    assert store.outbox.unacked_ids() == {first.id, second.id}  # still unsynced: the badge stays


def test_a_closet_folder_made_by_the_store_is_private(tmp_path: Path) -> None:
    """Outside the service (a run by hand, the demo) nobody else on the machine may browse the photos."""
    with ClosetStore.open(tmp_path / "a" / "closet", "dev-a", min_free_mb=0):
        pass
    assert (tmp_path / "a" / "closet").stat().st_mode & 0o077 == 0
    shared = tmp_path / "made-by-systemd"
    shared.mkdir(mode=0o750)
    shared.chmod(0o750)
    with ClosetStore.open(shared, "dev-a", min_free_mb=0):
        pass
    assert shared.stat().st_mode & 0o777 == 0o750  # an existing folder keeps its mode


def test_two_kinds_with_the_same_bytes_both_get_their_final_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A cut-out filling the frame makes the black- and white-background JPEGs identical: both kinds
    staged one temp file, and the second rename failed after the commit (the renames after it and the
    folder's fsync were skipped, and the log said the images kept their temp names)."""
    same = b"\xff\xd8 identical jpeg bytes"
    images = {"cutout_black_jpg": same, "cutout_white_jpg": same, "photo_jpg": b"photo"}
    draft = dataclasses.replace(synthetic_draft(3, image_kb=1), images=images)
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store, caplog.at_level(logging.WARNING):
        record = store.add(draft)
        assert not [r for r in caplog.records if "temp names" in r.getMessage()]
        assert store.image_path(record, "photo_jpg").read_bytes() == b"photo"
        assert store.image_path(record, "cutout_black_jpg") == store.image_path(record, "cutout_white_jpg")
        assert store.image_path(record, "cutout_white_jpg").read_bytes() == same
        assert not list(store.images.folder.glob(".tmp-*"))


def test_synthetic_garments_speak_the_apps_vocabulary(store: ClosetStore) -> None:
    """A bench or demo closet shows what a real one would: every category, colour and group is the
    app's own (``mirror.vocab``), so each garment is reachable from a filter chip of the closet."""
    records = [store.add(synthetic_draft(i, image_kb=1)) for i in range(len(CATEGORIES) * len(BASIC_TERMS))]
    assert {r.category for r in records} == set(CATEGORIES)
    assert {r.color.basic for r in records} == set(BASIC_TERMS)
    assert {r.group for r in records} <= set(GROUPS)
    counts = store.counts()
    assert sum(counts.category.get(name, 0) for name in CATEGORIES) == counts.garments, "no garment outside the chips"


def test_a_closed_closet_says_so_instead_of_sending_the_person_to_doctor(tmp_path: Path) -> None:
    """A read racing the mirror's stop met "Cannot operate on a closed database …; run smart-mirror
    doctor", and doctor found nothing wrong."""
    store = ClosetStore.open(tmp_path / "closet", "mirror-a", min_free_mb=0)
    store.close()
    with pytest.raises(StoreError, match=r"is closed \(the mirror is stopping\)$"):
        store.list()
    with pytest.raises(StoreError, match="is closed"):
        store.outbox.stats()
