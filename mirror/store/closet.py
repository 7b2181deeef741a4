"""ClosetStore: garments on this mirror in SQLite (WAL), their images on disk, and their versions.

The same database holds the sync outbox (:mod:`mirror.store.outbox`, ``store.outbox``) and the
remote commands' memory (:mod:`mirror.store.command_log`, ``store.commands``): the store opens
the connection, shares it with both through :class:`~mirror.store.database.ClosetDb`, and closes it.

Durability, the one thing this module must get right
----------------------------------------------------
The database runs in WAL mode with ``synchronous = FULL``. In WAL mode, ``NORMAL`` only fsyncs
at checkpoints: the database stays consistent after a power cut, but the last transactions
before it may roll back. On a Raspberry Pi someone pulls the plug, and a garment the person
saw as "kept" must still be there afterwards, so every commit that adds, corrects or deletes a
garment fsyncs the WAL (``FULL``). The price is one fsync per commit — a few ms on an SD card,
at most one capture every few seconds — which is nothing next to the analysis itself.

Images are written durably under a temp name before the row naming them commits and renamed
after it (a crash in between is finished on the next open — see :mod:`mirror.store.images`),
and each record's outbox row is inserted in the same transaction as the record, so a committed
record always has its images and is always queued for sync. Image files are only removed with
the garment that names them: a fresh database beside an old ``images/`` folder leaves it alone.

Failures a person can meet come out as one-line :class:`StoreError` s: a damaged file
(:class:`StoreCorruptError`, nothing more is written to it) or a full disk
(:class:`StoreFullError`, nothing half-written stays behind).

One ``ClosetStore`` may be shared by threads (its calls, its outbox's and its command log's are
serialised by one lock); other processes (``smart-mirror sync``, the CLI) open their own —
SQLite's WAL lets them read while the service writes.
"""

from __future__ import annotations

import builtins
import collections
import functools
import hashlib
import json
import logging
import sqlite3
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from mirror.store import reserve, space, translate
from mirror.store.codec import NEWEST_CREATED_SQL, iso, newest_created, record_from_json, record_to_dict
from mirror.store.command_log import CommandLog
from mirror.store.database import ClosetDb
from mirror.store.errors import (
    DamagedRecordError,
    RecordNotFoundError,
    StoreCorruptError,
    StoreError,
    StoreFullError,
)
from mirror.store.ids import uuid7
from mirror.store.images import ImageFiles, StagedImage, committed_count
from mirror.store.orphan import orphan_log
from mirror.store.outbox import Outbox, needed_files, unneeded_files
from mirror.store.records import (
    IMAGE_KINDS,
    ClosetCounts,
    Color,
    GarmentDraft,
    ImageRef,
    Record,
)
from mirror.store.schema import SchemaTooNewError, migrate
from mirror.vocab import GROUPS
from mirror.wallclock import kernel_synchronised, not_before, now_ms, trusted_newest

DB_NAME = "closet.db"
IMAGES_DIR = "images"
MAX_CATEGORY = 64  # characters, as the sync contract allows
log = logging.getLogger(__name__)
#: Decoded record versions kept in memory (a few KB each): more than any closet lists at once.
_DECODED_MAX = 10_000


class ClosetStore:
    """The closet on this mirror. Make one with :meth:`open`; call :meth:`close` when done."""

    def __init__(self, data_dir: Path, device_id: str, conn: sqlite3.Connection, min_free_mb: int) -> None:
        self.data_dir = data_dir
        self.device_id = device_id
        self.db_path = data_dir / DB_NAME
        self.images = ImageFiles(data_dir / IMAGES_DIR)
        self.min_free_mb = min_free_mb
        self._db = ClosetDb(conn, self.db_path, data_dir, self.images.folder)
        #: The sync queue and the remote commands' memory: the same file and connection, lives of their own.
        self.outbox = Outbox(self._db, self.images)
        self.commands = CommandLog(self._db)
        # Decoded versions by (id, version): a version never changes once written, and the UI lists
        # the whole closet on the GUI thread after every change (1,500 garments: ~100 ms to decode).
        self._decoded: collections.OrderedDict[tuple[str, int], Record] = collections.OrderedDict()
        self._clock_warned = False

    # ----------------------------------------------------------------------------- opening
    @classmethod
    def open(cls, data_dir: Path, device_id: str, *, min_free_mb: int = 200) -> ClosetStore:
        """Open (or create) the closet in ``data_dir``: check integrity, migrate, clean crash leftovers.

        On a disk full to the last byte the closet gives up its reserve (:mod:`mirror.store.reserve`)
        and tries once more, so the person can still browse and delete garments to make room.
        """
        data_dir = Path(data_dir)
        return reserve.spending_if_full(data_dir, lambda: cls._open(data_dir, device_id, min_free_mb))

    @classmethod
    def _open(cls, data_dir: Path, device_id: str, min_free_mb: int) -> ClosetStore:
        db_path = data_dir / DB_NAME
        _make_folders(data_dir)
        if db_path.is_dir():
            raise StoreError(f"{db_path} is a folder, not the closet database; move it aside")
        _refuse_a_link_to_nowhere(db_path)
        _refuse_an_orphan_log(db_path)
        try:
            conn = sqlite3.connect(db_path, timeout=10.0, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise translate.from_sqlite(exc, db_path) from None
        try:
            # Integrity first, before any PRAGMA that could write to a damaged file.
            row = conn.execute("PRAGMA quick_check").fetchone()
            if row is None or row[0] != "ok":
                raise StoreCorruptError(db_path, f"quick_check: {row[0] if row else 'no answer'}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"closet database {db_path} cannot use WAL mode ({mode}); put it on a local disk")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA busy_timeout = 10000")
            migrated = migrate(conn)
        except StoreError:
            conn.close()
            raise
        except SchemaTooNewError as exc:
            conn.close()
            raise StoreError(
                f"closet database {db_path} is newer than this software ({exc}); install the newer version "
                "again, or restore the closet's pre-update backup (docs/deploy.md)"
            ) from None
        except sqlite3.Error as exc:
            conn.close()
            raise translate.from_sqlite(exc, db_path) from None
        store = cls(data_dir, device_id, conn, min_free_mb)
        if migrated.found == 0:
            store._note_earlier_images()
        store._clean_images()
        if migrated.newer:  # used as it is: its floor says the newer schema's changes are additive
            log.warning(
                "%s was written by newer software (schema %d); this version (schema %d) can use it because "
                "the change is additive",
                db_path,
                migrated.found,
                migrated.known,
            )
        return store

    def _note_earlier_images(self) -> None:
        """A new database beside garment images: on purpose (a damaged one moved aside), or its
        ``-wal`` file was lost with every garment since the last checkpoint. Say so once; the
        images are kept either way (nothing ever removes a committed image a database does not name)."""
        earlier = committed_count(self.images.folder)
        if earlier:
            log.warning(
                "closet database %s is new, but %s holds %d garment image(s) of an earlier closet: if %s was not "
                "moved aside on purpose, its -wal file was lost; restore both from a backup (docs/deploy.md)",
                self.db_path,
                self.images.folder,
                earlier,
                DB_NAME,
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ClosetStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------------------- writing
    def add(self, draft: GarmentDraft) -> Record:
        """Keep a new garment: images durable first, then record + outbox row in one transaction."""
        unknown = set(draft.images) - set(IMAGE_KINDS)
        if unknown:
            raise ValueError(f"unknown image kind(s) {sorted(unknown)}; expected some of {sorted(IMAGE_KINDS)}")
        _check_category(draft.category)
        _check_shape(draft)
        self._require_free_space(sum(len(data) for data in draft.images.values()))
        refs: dict[str, ImageRef] = {}
        staged: list[StagedImage] = []
        try:
            for kind, data in draft.images.items():
                ext, media_type = IMAGE_KINDS[kind]
                image = self._db.guard(functools.partial(self.images.stage, data, ext))
                staged.append(image)
                refs[kind] = ImageRef(kind=kind, sha256=image.sha256, size=len(data), media_type=media_type)
        except StoreError:
            self.images.unstage(staged)
            raise
        try:
            with self._db.write() as conn:
                now = self._stamp(conn)
                record = Record(
                    id=uuid7(),
                    version=1,
                    device_id=self.device_id,
                    created_at=now,
                    updated_at=now,
                    deleted=False,
                    category=draft.category,
                    category_score=float(draft.category_score),
                    color=draft.color,
                    images=refs,
                    top3=tuple((str(n), float(s)) for n, s in draft.top3),
                    unsure=bool(draft.unsure),
                    group=draft.group,
                    score=float(draft.score),
                    box=tuple(float(v) for v in draft.box),
                    polygons=tuple(tuple(tuple(float(v) for v in pt) for pt in poly) for poly in draft.polygons),
                    model_versions=dict(draft.model_versions),
                )
                self._insert_version(conn, record)
        except StoreError:
            self.images.unstage(staged)
            raise
        try:
            self.images.publish(staged)
        except OSError as exc:  # committed: the next open finishes the rename (reads fall back meanwhile)
            log.warning("garment %s kept; its images keep their temp names until restart (%s)", record.id, exc)
        return record

    def edit(self, record_id: str, *, category: str | None = None, color: Color | None = None) -> Record:
        """Correct category and/or colour: a new version (the person's word replaces the models').

        ``category_score``, ``top3`` and ``unsure`` stay the model's (docs/sync.md), so the cloud can tell
        where the model asked and what the person answered."""
        if category is not None:
            _check_category(category)
        with self._db.write() as conn:
            current = self._live_in(conn, record_id)
            record = replace(
                current,
                version=current.version + 1,
                updated_at=self._stamp(conn, current),
                edited=True,
                category=current.category if category is None else category,
                color=current.color if color is None else color,
            )
            self._insert_version(conn, record)
        return record

    def delete(self, record_id: str) -> Record:
        """Delete a garment: a tombstone version (synced like any other) and its image files go.

        The one change that frees space, so it must work on a full disk: when the tombstone cannot
        be written, the closet's reserve is given up and it is tried once more.
        """
        return reserve.spending_if_full(self.data_dir, lambda: self._delete(record_id))

    def _delete(self, record_id: str) -> Record:
        with self._db.write() as conn:
            current = self._live_in(conn, record_id)
            record = replace(
                current, version=current.version + 1, updated_at=self._stamp(conn, current), deleted=True, images={}
            )
            self._insert_version(conn, record)
            needed = needed_files(conn)
        self._db.guard(
            lambda: self.images.remove(ref.filename for ref in current.images.values() if ref.filename not in needed)
        )
        return record

    def renumber_above(self, record_id: str, version: int, cloud_newest: int) -> Record | None:
        """The cloud holds another ``version`` of this garment (the closet was restored from a backup and
        numbered versions again): queue its current state again, numbered above ``cloud_newest``.

        The clash's outbox row goes: that number is taken. When the closet already has a version above
        the cloud's newest, that one is queued and nothing new is needed. Returns the new version, or
        ``None`` when none was made.
        """
        with self._db.write() as conn:
            conn.execute("DELETE FROM outbox WHERE id = ? AND version = ? AND state != 'acked'", (record_id, version))
            current = self._current(conn, record_id)
            if current is None or current.version > cloud_newest:
                return None
            record = replace(current, version=cloud_newest + 1, updated_at=self._stamp(conn, current))
            self._insert_version(conn, record)
        return record

    def resend_all(self) -> int:
        """Queue every live garment again as a new version (after restoring a closet from a backup, so that
        the cloud ends up with what the mirror shows); returns how many."""
        with self._db.write() as conn:
            ids = [str(r[0]) for r in conn.execute("SELECT id FROM current WHERE deleted = 0 ORDER BY created_at")]
            for record_id in ids:
                current = self._live_in(conn, record_id)
                self._insert_version(
                    conn, replace(current, version=current.version + 1, updated_at=self._stamp(conn, current))
                )
        return len(ids)

    def _live_in(self, conn: sqlite3.Connection, record_id: str) -> Record:
        """The current live version, read inside the write transaction (no other process can slip in a version)."""
        record = self._current(conn, record_id)
        if record is None or record.deleted:
            raise RecordNotFoundError(record_id, deleted=record is not None)
        return record

    def _insert_version(self, conn: sqlite3.Connection, record: Record) -> None:
        conn.execute(
            "INSERT INTO records (id, version, device_id, created_at, updated_at, deleted, category, basic_color, body)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.version,
                record.device_id,
                iso(record.created_at),
                iso(record.updated_at),
                int(record.deleted),
                record.category,
                record.color.basic,
                json.dumps(record_to_dict(record), separators=(",", ":")),
            ),
        )
        conn.executemany(
            "INSERT INTO record_images (id, version, kind, sha256, size, filename) VALUES (?, ?, ?, ?, ?, ?)",
            [(record.id, record.version, r.kind, r.sha256, r.size, r.filename) for r in record.images.values()],
        )
        conn.execute(
            "INSERT INTO current (id, version, deleted, category, basic_color, created_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET version = excluded.version, deleted = excluded.deleted,"
            " category = excluded.category, basic_color = excluded.basic_color",
            (
                record.id,
                record.version,
                int(record.deleted),
                record.category,
                record.color.basic,
                iso(record.created_at),
            ),
        )
        # The cloud needs only the newest version: an older one not yet sent is superseded.
        conn.execute(
            "DELETE FROM outbox WHERE id = ? AND version < ? AND state = 'waiting'", (record.id, record.version)
        )
        conn.execute(
            "INSERT INTO outbox (id, version, state, queued_at) VALUES (?, ?, 'waiting', ?)",
            (record.id, record.version, time.time()),
        )

    # ----------------------------------------------------------------------------- reading
    def get(self, record_id: str) -> Record | None:
        """The newest version of a live garment, or ``None`` (unknown or deleted)."""
        record = self._db.read(lambda c: self._current(c, record_id))
        return None if record is None or record.deleted else record

    def get_version(self, record_id: str, version: int) -> Record | None:
        """Any stored version, tombstones included (the sync worker publishes these)."""
        row = self._db.read(
            lambda c: c.execute(
                "SELECT id, version, body FROM records WHERE id = ? AND version = ?", (record_id, version)
            ).fetchone()
        )
        return None if row is None else self._decode(row)

    def list(self, category: str | None = None, basic_color: str | None = None) -> builtins.list[Record]:
        """Live garments, newest first, optionally filtered by category and/or basic colour."""
        sql = (
            "SELECT r.id, r.version, r.body FROM current c JOIN records r ON r.id = c.id AND r.version = c.version"
            " WHERE c.deleted = 0"
        )
        params: builtins.list[str] = []
        if category is not None:
            sql += " AND c.category = ?"
            params.append(category)
        if basic_color is not None:
            sql += " AND c.basic_color = ?"
            params.append(basic_color)
        sql += " ORDER BY c.created_at DESC, c.id DESC"
        rows = self._db.read(lambda c: c.execute(sql, params).fetchall())
        records = []
        for row in rows:
            try:
                records.append(self._decode(row))
            except DamagedRecordError as exc:  # one bad row must not hide the whole closet
                log.warning("%s", exc)
        return records

    def counts(self) -> ClosetCounts:
        """Live garments per category and per basic colour, counted in SQL (no record decoded)."""

        def query(conn: sqlite3.Connection) -> ClosetCounts:
            def per(column: str) -> dict[str, int]:
                rows = conn.execute(
                    f"SELECT {column}, COUNT(*) FROM current WHERE deleted = 0 GROUP BY {column} ORDER BY {column}"
                ).fetchall()
                return {str(name): int(n) for name, n in rows}

            return ClosetCounts(category=per("category"), basic_color=per("basic_color"))

        return self._db.read(query)

    def image_path(self, record: Record, kind: str) -> Path:
        """Where the record's image of this kind lies on disk."""
        ref = record.images.get(kind)
        if ref is None:
            raise StoreError(f"garment {record.id} has no {kind} image (it has: {', '.join(record.images) or 'none'})")
        return self.images.path(ref.filename)

    def has_image(self, ref: ImageRef) -> bool:
        """Whether the image file is there (a cheap check; reading it can still fail on a bad disk)."""
        return self._db.guard(lambda: self.images.exists(ref.filename))

    def read_image(self, ref: ImageRef) -> bytes:
        """The image's bytes, checked against the size and sha256 its record names.

        A file cut short or altered on a bad card would otherwise go to the cloud, be refused
        (hash mismatch) after every ack timeout, and be reported nowhere on the mirror.
        """
        data = self._db.guard(lambda: self.images.read(ref.filename))
        if len(data) != ref.size or hashlib.sha256(data).hexdigest() != ref.sha256:
            raise StoreError(
                f"{self.images.folder / ref.filename}: damaged ({len(data)} bytes, the record says {ref.size} "
                "and another sha256); restore the closet's images from a backup (docs/deploy.md)"
            )
        return data

    # ----------------------------------------------------------------------------- internals
    def free_space(self) -> space.FreeSpace:
        """Free space on the closet's disk against ``min_free_mb`` (``OSError`` when it cannot be measured)."""
        return space.measure(self.data_dir, self.min_free_mb)

    def _require_free_space(self, incoming: int) -> None:
        try:
            room = self.free_space()
        except OSError:
            return
        if room.below_floor:
            raise StoreFullError(
                self.data_dir,
                f"{room.free_mb} MB free, [store] min_free_mb is {self.min_free_mb}",
                floor_mb=self.min_free_mb,
            )
        if room.refuses(incoming):
            # The reserve was given up to a full disk: new garments must not eat the room deletes need.
            raise StoreFullError(self.data_dir, f"{room.free_bytes // 1024} KB free, kept for deleting garments")

    def _stamp(self, conn: sqlite3.Connection, current: Record | None = None) -> datetime:
        """Now, but never before the closet's newest garment (or ``current``'s last change).

        Inside the write transaction, so no other process slips a later time in between. A clock
        that reads earlier is certainly wrong (a Pi without RTC after a power cut, before NTP:
        ``mirror.wallclock``); the newest time is then the better estimate, and the closet's
        order and ``updated_at >= created_at`` hold. Logged once per process. A clock NTP has set
        is believed over the closet (a garment dated by a clock that was ahead must not date every
        later one in the future); only an edit still follows its own garment's last change.
        """
        now = now_ms()
        newest = trusted_newest(_newest_created(conn), kernel_synchronised())
        if current is not None:
            newest = max(newest or current.updated_at, current.updated_at)
        stamp = not_before(now, newest)
        if stamp != now and not self._clock_warned:
            self._clock_warned = True
            log.warning(
                "the clock reads %s, before the closet's newest change (%s): new versions are stamped just after "
                "it until the clock is set (NTP)",
                iso(now),
                iso(stamp),
            )
        return stamp

    def newest_time(self) -> datetime | None:
        """When the newest garment was added: what the clock must not precede (``None`` for an empty closet,
        or when NTP has set the clock, which then overrules a garment dated by a clock that was ahead)."""
        return trusted_newest(self._db.read(_newest_created), kernel_synchronised())

    def _current(self, conn: sqlite3.Connection, record_id: str) -> Record | None:
        row = conn.execute(
            "SELECT r.id, r.version, r.body FROM current c JOIN records r ON r.id = c.id AND r.version = c.version"
            " WHERE c.id = ?",
            (record_id,),
        ).fetchone()
        return None if row is None else self._decode(row)

    def _decode(self, row: tuple[str, int, str]) -> Record:
        """A ``(id, version, body)`` row as a Record; a body that no longer parses is a DamagedRecordError."""
        key = (str(row[0]), int(row[1]))
        with self._db.lock:
            cached = self._decoded.get(key)
            if cached is not None:
                self._decoded.move_to_end(key)
                return cached
        try:
            record = record_from_json(row[2])
        except ValueError as exc:
            raise DamagedRecordError(key[0], key[1], self.db_path, str(exc)[:120]) from None
        with self._db.lock:
            self._decoded[key] = record
            while len(self._decoded) > _DECODED_MAX:
                self._decoded.popitem(last=False)
        return record

    def _clean_images(self) -> None:
        """Finish renames a crash interrupted after the commit, drop temp files that never committed, and
        the images of deleted garments that a version in flight kept (acked meanwhile by another process).

        Images no version names (an earlier closet's, beside a new database) are never touched here.
        """
        needed = self._db.read(needed_files)
        self._db.guard(lambda: self.images.recover(needed))
        self._db.guard(self.images.clean)
        unneeded = self._db.read(unneeded_files)
        if unneeded:
            self._db.guard(lambda: self.images.remove(unneeded))


def _make_folders(data_dir: Path) -> None:
    """The closet folder and its images folder, each named in the error when it cannot be made.

    Private when made here (a run by hand, the demo): the closet holds photos of the person. Under
    the service systemd makes the closet folder (StateDirectoryMode=0750) and this changes nothing.
    The looks before ``mkdir`` are inside the ``try`` too: on Python 3.11 ``exists()`` raises
    PermissionError in a folder this user may not enter (another user's, mode 0750), which every
    closet command printed as a traceback.
    """
    for folder, mode in ((data_dir, 0o700), (data_dir / IMAGES_DIR, 0o777)):
        try:
            if folder.exists() and not folder.is_dir():  # mkdir's "File exists" would name no culprit
                raise StoreError(f"{folder} is a file, not a folder; move it aside, or check [store] data_dir")
            _refuse_a_link_to_nowhere(folder)  # mkdir says "File exists" there too
            folder.mkdir(mode=mode, parents=True, exist_ok=True)
        except OSError as exc:
            raise translate.from_os(exc, data_dir, f"cannot create closet folder {folder}") from None


def _refuse_a_link_to_nowhere(path: Path) -> None:
    """A closet folder or database that is a symlink to a missing target (its disk not mounted yet): said
    as that, instead of mkdir's "File exists" or SQLite's "unable to open database file"."""
    if path.is_symlink() and not path.exists():
        raise StoreError(
            f"{path} is a link to {path.readlink()}, which is not there; mount the disk it is on, "
            "or check [store] data_dir"
        )


def _refuse_an_orphan_log(db_path: Path) -> None:
    """:class:`~mirror.store.errors.StoreOrphanLogError` when a write-ahead log with content has no database."""
    try:
        problem = orphan_log(db_path)
    except OSError as exc:
        raise translate.from_os(exc, db_path.parent, f"cannot read {db_path} or its -wal file") from None
    if problem is not None:
        raise problem


def _check_category(category: str) -> None:
    """The sync contract's bound (``garment.v1.json``): a record the cloud would reject is refused here."""
    if not 1 <= len(category) <= MAX_CATEGORY:
        raise ValueError(f"a garment category must be 1–{MAX_CATEGORY} characters, got {len(category)}")


def _check_shape(draft: GarmentDraft) -> None:
    """The rest of the contract's bounds on a new garment: a record the cloud would reject as
    ``schema_invalid`` would wait in the outbox for ever, so it is refused before anything is kept."""
    if not draft.images:
        raise ValueError("a garment needs at least one image")
    if draft.group not in GROUPS:
        raise ValueError(f"a garment group must be one of {', '.join(GROUPS)}, got {draft.group!r}")
    if len(draft.box) != 4:
        raise ValueError(f"a garment box is 4 numbers (x0, y0, x1, y1), got {len(draft.box)}")


def _newest_created(conn: sqlite3.Connection) -> datetime | None:
    return newest_created(conn.execute(NEWEST_CREATED_SQL).fetchall())
