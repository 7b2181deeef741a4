"""The reference consumer's database: record versions, images by content hash, pending records, dead letters.

SQLite by default (a path or ``sqlite:///path``), PostgreSQL by URL (``postgresql://...``, needs
the optional ``psycopg`` package). The same SQL runs on both; what differs (placeholders, how a
transaction takes the global lock, blob and auto-increment types) lives in :class:`_Dialect`.

Images live in the ``blobs`` table keyed by their sha256, in the same transaction as the
records that name them: an acked record can never be missing an image, and a batch of
messages costs one durable commit (one fsync) instead of several per image, which is what
lets one consumer keep up with 100+ records/s on an SD-card-class disk.

Why one global write lock per transaction: a record may arrive before its images (several
consumers share the subscription, so a record and its image can land on different ones).
"Are all its images here? else park it as pending" and "this image arrived: which pending
records does it complete?" must never interleave, or a record could be parked after its last
image was checked. Serialising the transactions (SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's
transaction-level advisory lock) rules that out.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

STORED = "stored"
DUPLICATE = "duplicate"
PENDING = "pending"
FOREIGN = "foreign"  # the id belongs to another mirror's garment
CONFLICT = "conflict"  # this (id, version) is already here with other content
MAX_DEAD_LETTERS = 10_000  # the newest are kept: a flood of bad messages cannot fill the disk


class ConsumerDBError(Exception):
    """The consumer's database cannot be opened or used (one line: what and the fix)."""


class _Cursor(Protocol):
    def fetchall(self) -> list[Any]: ...
    def fetchone(self) -> Any: ...


class _Conn(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ...) -> _Cursor: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class _Dialect:
    name: str
    begin: tuple[str, ...]
    serial: str
    blob: str

    def sql(self, text: str) -> str:
        return text if self.name == "sqlite" else text.replace("?", "%s")


SQLITE = _Dialect("sqlite", ("BEGIN IMMEDIATE",), "INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB")
#: READ COMMITTED said, not assumed: each statement after the advisory lock must see what the lock's
#: previous holder committed (a server or role defaulting to REPEATABLE READ would take the snapshot
#: before the lock wait ends, and ``collect_images`` could delete an image a batch just named).
POSTGRES = _Dialect(
    "postgresql",
    ("BEGIN ISOLATION LEVEL READ COMMITTED", "SELECT pg_advisory_xact_lock(72431)"),
    "BIGSERIAL PRIMARY KEY",
    "BYTEA",
)

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS garment_versions (
        id TEXT NOT NULL, version INTEGER NOT NULL, device_id TEXT NOT NULL, body TEXT NOT NULL,
        received_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (id, version))""",
    """CREATE TABLE IF NOT EXISTS garments (
        id TEXT PRIMARY KEY, device_id TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL,
        body TEXT NOT NULL, updated_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS blobs (
        sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, data {blob} NOT NULL,
        received_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS pending (
        id TEXT NOT NULL, version INTEGER NOT NULL, device_id TEXT NOT NULL, body TEXT NOT NULL,
        received_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (id, version))""",
    """CREATE TABLE IF NOT EXISTS pending_images (
        id TEXT NOT NULL, version INTEGER NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (id, version, sha256))""",
    "CREATE INDEX IF NOT EXISTS pending_images_sha ON pending_images (sha256)",
    """CREATE TABLE IF NOT EXISTS dead_letters (
        seq {serial}, received_at DOUBLE PRECISION NOT NULL, topic TEXT NOT NULL, reason TEXT NOT NULL,
        detail TEXT NOT NULL, size INTEGER NOT NULL, excerpt TEXT NOT NULL)""",
)


@dataclass(frozen=True)
class Completed:
    """A record version stored because its last image arrived: ack it."""

    device_id: str
    record_id: str
    version: int


class Tx:
    """The operations of one transaction (see :meth:`ConsumerDB.transaction`)."""

    def __init__(self, conn: _Conn, dialect: _Dialect, max_dead_letters: int = MAX_DEAD_LETTERS) -> None:
        self._conn = conn
        self._dialect = dialect
        self._savepoints = 0
        self._max_dead_letters = max_dead_letters

    def q(self, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        return self._conn.execute(self._dialect.sql(sql), params)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo just this part on error (one bad message must not roll back its batch)."""
        self._savepoints += 1
        name = f"m{self._savepoints}"
        self.q(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.q(f"ROLLBACK TO SAVEPOINT {name}")
            self.q(f"RELEASE SAVEPOINT {name}")
            raise
        self.q(f"RELEASE SAVEPOINT {name}")

    def offer_record(
        self, device_id: str, record_id: str, version: int, body: str, hashes: Sequence[str], deleted: bool = False
    ) -> str:
        """Store a version if all its images are here (``stored``), else park it (``pending``); or ``duplicate``.

        A repeat of a stored ``(id, version)`` is a ``duplicate`` only with the same body. With another
        body it is a ``conflict``: the mirror numbered a version again (its closet was restored from a
        backup), and answering ``duplicate`` would drop the person's change on the mirror for good.
        A repeat of a parked one stays ``pending`` while an image is still missing (a ``duplicate`` would end
        the mirror's resending, and the cloud would never hold the version), and is stored once none is.
        """
        now = time.time()
        owner = self.q(
            "SELECT device_id FROM garments WHERE id = ? UNION SELECT device_id FROM pending WHERE id = ?",
            (record_id, record_id),
        ).fetchone()
        if owner is not None and owner[0] != device_id:  # ids are only unique per mirror's own making
            return FOREIGN
        stored = self.q("SELECT body FROM garment_versions WHERE id = ? AND version = ?", (record_id, version))
        if (known := stored.fetchone()) is not None:
            return DUPLICATE if known[0] == body else CONFLICT
        parked = self.q("SELECT body FROM pending WHERE id = ? AND version = ?", (record_id, version)).fetchone()
        if parked is not None and parked[0] != body:
            return CONFLICT
        missing = [h for h in set(hashes) if not self.q("SELECT 1 FROM blobs WHERE sha256 = ?", (h,)).fetchone()]
        if parked is not None and not missing:  # its images came without completing it (another replica's race)
            self.q("DELETE FROM pending_images WHERE id = ? AND version = ?", (record_id, version))
            self.q("DELETE FROM pending WHERE id = ? AND version = ?", (record_id, version))
        if missing:
            self.q(
                "INSERT INTO pending (id, version, device_id, body, received_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (record_id, version, device_id, body, now),
            )
            for sha in missing:
                self.q(
                    "INSERT INTO pending_images (id, version, sha256) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (record_id, version, sha),
                )
            return PENDING
        self._store(device_id, record_id, version, body, now, deleted)
        return STORED

    def newest_version(self, record_id: str) -> int:
        """The highest version of this garment stored or parked here (0 when none)."""
        row = self.q(
            "SELECT MAX(version) FROM (SELECT version FROM garment_versions WHERE id = ?"
            " UNION ALL SELECT version FROM pending WHERE id = ?) AS known",
            (record_id, record_id),
        ).fetchone()
        return int(row[0] or 0)

    def _store(
        self, device_id: str, record_id: str, version: int, body: str, now: float, deleted: bool = False
    ) -> None:
        self.q(
            "INSERT INTO garment_versions (id, version, device_id, body, received_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (record_id, version, device_id, body, now),
        )
        # Versions may arrive out of order: the highest wins.
        self.q(
            "INSERT INTO garments (id, device_id, version, deleted, body, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET device_id = excluded.device_id, version = excluded.version,"
            " deleted = excluded.deleted, body = excluded.body, updated_at = excluded.updated_at"
            " WHERE garments.version < excluded.version",
            (record_id, device_id, version, int(deleted), body, now),
        )

    def add_blob(self, sha256: str, data: bytes) -> list[Completed]:
        """Keep an image (whose hash the caller checked); store and return the pending records it completes."""
        now = time.time()
        self.q(
            # Sent again: it is young again (``collect_images`` must not take it from a record on its way).
            "INSERT INTO blobs (sha256, size, data, received_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (sha256) DO UPDATE SET received_at = excluded.received_at",
            (sha256, len(data), data, now),
        )
        waiting = self.q("SELECT id, version FROM pending_images WHERE sha256 = ?", (sha256,)).fetchall()
        self.q("DELETE FROM pending_images WHERE sha256 = ?", (sha256,))
        done: list[Completed] = []
        for record_id, version in waiting:
            if self.q("SELECT 1 FROM pending_images WHERE id = ? AND version = ?", (record_id, version)).fetchone():
                continue
            row = self.q("SELECT device_id, body FROM pending WHERE id = ? AND version = ?", (record_id, version))
            found = row.fetchone()
            if found is None:
                continue
            self.q("DELETE FROM pending WHERE id = ? AND version = ?", (record_id, version))
            # Pending versions always have images, so they are never tombstones.
            self._store(str(found[0]), str(record_id), int(version), str(found[1]), now)
            done.append(Completed(str(found[0]), str(record_id), int(version)))
        return done

    def dead_letter(self, topic: str, reason: str, detail: str, payload: bytes) -> None:
        excerpt = payload[:512].decode("utf-8", errors="replace").replace("\x00", "\\0")
        self.q(
            "INSERT INTO dead_letters (received_at, topic, reason, detail, size, excerpt) VALUES (?, ?, ?, ?, ?, ?)",
            (time.time(), topic[:500], reason, detail[:1000], len(payload), excerpt),
        )
        self.q(
            "DELETE FROM dead_letters WHERE seq <= (SELECT MAX(seq) FROM dead_letters) - ?", (self._max_dead_letters,)
        )

    def expire_pending(self, received_before: float) -> int:
        """Move the pending record versions parked before this time (their images never came) to the
        dead letters as ``pending_expired``; how many."""
        rows = self.q(
            "SELECT id, version, device_id, body FROM pending WHERE received_at < ?", (received_before,)
        ).fetchall()
        for record_id, version, device_id, body in rows:
            missing = [str(r[0]) for r in self.q(
                "SELECT sha256 FROM pending_images WHERE id = ? AND version = ?", (record_id, version)
            ).fetchall()]  # fmt: skip
            self.q("DELETE FROM pending_images WHERE id = ? AND version = ?", (record_id, version))
            self.q("DELETE FROM pending WHERE id = ? AND version = ?", (record_id, version))
            detail = f"version {version} of {record_id} waited too long for image(s) {', '.join(missing)}"
            self.dead_letter(f"pending:{device_id}/{record_id}", "pending_expired", detail, str(body).encode())
        return len(rows)


    def erase_device(self, device_id: str) -> tuple[int, int]:
        """Forget one mirror: every version of its garments, parked or stored, and each image no other
        mirror's garment names (images are kept once by content, so one may be shared). Returns
        (garment versions, images) removed. Its dead letters stay: they hold the first 512 bytes of
        what was refused, kept for 10,000 letters at most."""
        versions = sum(
            int(self.q(f"SELECT COUNT(*) FROM {table} WHERE device_id = ?", (device_id,)).fetchone()[0])
            for table in ("garment_versions", "pending")
        )
        theirs = self._named_images(device_id)
        self.q(
            "DELETE FROM pending_images WHERE EXISTS (SELECT 1 FROM pending p WHERE p.id = pending_images.id"
            " AND p.version = pending_images.version AND p.device_id = ?)",
            (device_id,),
        )
        for table in ("pending", "garment_versions", "garments"):
            self.q(f"DELETE FROM {table} WHERE device_id = ?", (device_id,))
        # Only images it named: another mirror's image still on its way to its record is not its to erase.
        unnamed = [(sha, size) for sha, size in self._unnamed_images(None) if sha in theirs]
        for sha, _size in unnamed:
            self.q("DELETE FROM blobs WHERE sha256 = ?", (sha,))
        return versions, len(unnamed)

    def collect_images(self, received_before: float) -> tuple[int, int]:
        """Delete the images no garment version, stored or parked, names and that came before this time;
        returns (images, bytes) removed.

        Why the age: a mirror sends a garment's images before its record, so a young image nobody
        names yet is most likely on its way to being named. One still unnamed after the parked
        records' own limit (``PENDING_TTL_S``, 7 days) lost its record: a keep the mirror's closet
        never finished, or a version the cloud refused for good.
        """
        unnamed = self._unnamed_images(received_before)
        for sha, _size in unnamed:
            self.q("DELETE FROM blobs WHERE sha256 = ? AND received_at < ?", (sha, received_before))
        return len(unnamed), sum(size for _sha, size in unnamed)

    def _named_images(self, device_id: str | None = None) -> set[str]:
        """The images some garment version names, stored or parked (only ``device_id``'s, if given).

        A parked version's body lists its images too (``pending_images`` holds the subset still
        missing), so the bodies alone say every name."""
        mine = "" if device_id is None else " WHERE device_id = ?"
        params: tuple[str, ...] = () if device_id is None else (device_id,)
        named: set[str] = set()
        for table in ("garment_versions", "pending"):
            for (body,) in self.q(f"SELECT body FROM {table}{mine}", params).fetchall():
                named.update(str(image["sha256"]) for image in json.loads(body).get("images", []))
        return named

    def _unnamed_images(self, received_before: float | None) -> list[tuple[str, int]]:
        """(sha256, size) of the images no garment version names (received before this time, if given).

        It reads every stored and parked record, holding the consumers' lock (``transaction``)."""
        named = self._named_images()
        rows = (
            self.q("SELECT sha256, size FROM blobs").fetchall()
            if received_before is None
            else self.q("SELECT sha256, size FROM blobs WHERE received_at < ?", (received_before,)).fetchall()
        )
        return [(str(sha), int(size)) for sha, size in rows if str(sha) not in named]


class ConsumerDB:
    """Thread-safe (one lock); work happens in :meth:`transaction` blocks."""

    def __init__(self, conn: _Conn, dialect: _Dialect, where: str) -> None:
        self._conn = conn
        self.dialect = dialect
        self.where = where
        self.max_dead_letters = MAX_DEAD_LETTERS
        self._lock = threading.Lock()
        with self.transaction() as tx:
            for statement in SCHEMA:
                tx.q(statement.format(serial=dialect.serial, blob=dialect.blob))

    @classmethod
    def open(cls, url: str) -> ConsumerDB:
        if url.startswith(("postgresql://", "postgres://")):
            return cls(_connect_postgres(url), POSTGRES, url.split("@")[-1])
        path = Path(url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Private from the start: it holds every mirror's photos (SQLite gives its -wal/-shm files the same mode).
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            # An acked record must survive the cloud host's power loss too: FULL, as on the mirror.
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA busy_timeout = 30000")
        except (OSError, sqlite3.Error) as exc:
            raise ConsumerDBError(f"cannot open consumer database {path} ({exc}); check --db and the folder") from None
        return cls(conn, SQLITE, str(path))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One serialised transaction, committed durably at the end (rolled back on error)."""
        with self._lock:
            conn = self._conn
            for statement in self.dialect.begin:
                conn.execute(statement)
            try:
                yield Tx(conn, self.dialect, self.max_dead_letters)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(self.dialect.sql(sql), params).fetchall()

    # ----------------------------------------------------------------------------- reading (reports, tests)
    def has_blob(self, sha256: str) -> bool:
        """Whether the image is stored; reads the key only, never the image (which may be megabytes)."""
        return bool(self._read("SELECT 1 FROM blobs WHERE sha256 = ?", (sha256,)))

    def blob(self, sha256: str) -> bytes | None:
        rows = self._read("SELECT data FROM blobs WHERE sha256 = ?", (sha256,))
        return bytes(rows[0][0]) if rows else None

    def dead_letters(self) -> list[tuple[str, str, str]]:
        """(topic, reason, detail), oldest first."""
        return [
            (str(t), str(r), str(d))
            for t, r, d in self._read("SELECT topic, reason, detail FROM dead_letters ORDER BY seq")
        ]

    def versions(self) -> list[tuple[str, str, int, str]]:
        """Every stored record version: (device, id, version, body JSON)."""
        rows = self._read("SELECT device_id, id, version, body FROM garment_versions")
        return [(str(d), str(i), int(v), str(b)) for d, i, v, b in rows]

    def newest(self) -> dict[str, tuple[int, bool]]:
        """Every garment's newest version and whether that version is a delete: what the backend shows."""
        return {str(i): (int(v), bool(d)) for i, v, d in self._read("SELECT id, version, deleted FROM garments")}

    def counts(self) -> dict[str, int]:
        tables = ("garments", "garment_versions", "blobs", "pending", "dead_letters")
        return {table: int(self._read(f"SELECT COUNT(*) FROM {table}")[0][0]) for table in tables}


def _connect_postgres(url: str) -> _Conn:
    try:
        import psycopg  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise ConsumerDBError(
            "a PostgreSQL --db needs the psycopg package, which is not installed; run: pip install 'psycopg[binary]'"
        ) from None
    try:
        conn: _Conn = psycopg.connect(url, autocommit=True)
    except Exception as exc:  # psycopg's errors span lines; the CLI prints one
        reason = " ".join(str(exc).split())
        raise ConsumerDBError(f"cannot connect to PostgreSQL at {url.split('@')[-1]} ({reason}); check --db") from None
    return conn
