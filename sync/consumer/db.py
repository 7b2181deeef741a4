"""The reference consumer's database: record versions, image hashes, pending records, dead letters.

SQLite by default (a path or ``sqlite:///path``), PostgreSQL by URL (``postgresql://...``, needs
the optional ``psycopg`` package). The same SQL runs on both; what differs (placeholders, how a
transaction takes the global lock, auto-increment) lives in :class:`_Dialect`.

Why one global write lock per transaction: a record may arrive before its images (several
consumers share the subscription, so the record and its images can land on different ones).
"Are all its images here? else park it as pending" and "this image arrived: which pending
records does it complete?" must never interleave, or a record could be parked after its last
image was checked. Serialising those short transactions (SQLite's ``BEGIN IMMEDIATE``,
PostgreSQL's transaction-level advisory lock) makes that impossible.
"""

from __future__ import annotations

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

    def sql(self, text: str) -> str:
        return text if self.name == "sqlite" else text.replace("?", "%s")


SQLITE = _Dialect("sqlite", ("BEGIN IMMEDIATE",), "INTEGER PRIMARY KEY AUTOINCREMENT")
POSTGRES = _Dialect("postgresql", ("BEGIN", "SELECT pg_advisory_xact_lock(72431)"), "BIGSERIAL PRIMARY KEY")

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS garment_versions (
        id TEXT NOT NULL, version INTEGER NOT NULL, device_id TEXT NOT NULL, body TEXT NOT NULL,
        received_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (id, version))""",
    """CREATE TABLE IF NOT EXISTS garments (
        id TEXT PRIMARY KEY, device_id TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL,
        body TEXT NOT NULL, updated_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS blobs (
        sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, received_at DOUBLE PRECISION NOT NULL)""",
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


class ConsumerDB:
    """Thread-safe (one lock); every method is one short transaction."""

    def __init__(self, conn: _Conn, dialect: _Dialect, where: str) -> None:
        self._conn = conn
        self.dialect = dialect
        self.where = where
        self._lock = threading.Lock()
        with self._tx() as c:
            for statement in SCHEMA:
                c.execute(statement.format(serial=dialect.serial))

    @classmethod
    def open(cls, url: str) -> ConsumerDB:
        if url.startswith(("postgresql://", "postgres://")):
            return cls(_connect_postgres(url), POSTGRES, url.split("@")[-1])
        path = Path(url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
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
    def _tx(self) -> Iterator[_Conn]:
        with self._lock:
            conn = self._conn
            for statement in self.dialect.begin:
                conn.execute(statement)
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _q(self, conn: _Conn, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        return conn.execute(self.dialect.sql(sql), params)

    # ----------------------------------------------------------------------------- records
    def offer_record(
        self, device_id: str, record_id: str, version: int, body: str, hashes: Sequence[str], deleted: bool = False
    ) -> str:
        """Store a version if all its images are here (``stored``), else park it (``pending``); or ``duplicate``."""
        now = time.time()
        with self._tx() as c:
            if self._q(
                c, "SELECT 1 FROM garment_versions WHERE id = ? AND version = ?", (record_id, version)
            ).fetchone():
                return DUPLICATE
            missing = [
                h for h in set(hashes) if not self._q(c, "SELECT 1 FROM blobs WHERE sha256 = ?", (h,)).fetchone()
            ]
            if missing:
                self._q(
                    c,
                    "INSERT INTO pending (id, version, device_id, body, received_at) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    (record_id, version, device_id, body, now),
                )
                for sha in missing:
                    self._q(
                        c,
                        "INSERT INTO pending_images (id, version, sha256) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                        (record_id, version, sha),
                    )
                return PENDING
            self._store(c, device_id, record_id, version, body, now, deleted)
            return STORED

    def _store(
        self, c: _Conn, device_id: str, record_id: str, version: int, body: str, now: float, deleted: bool = False
    ) -> None:
        self._q(
            c,
            "INSERT INTO garment_versions (id, version, device_id, body, received_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (record_id, version, device_id, body, now),
        )
        # Versions may arrive out of order: the highest wins.
        self._q(
            c,
            "INSERT INTO garments (id, device_id, version, deleted, body, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET device_id = excluded.device_id, version = excluded.version,"
            " deleted = excluded.deleted, body = excluded.body, updated_at = excluded.updated_at"
            " WHERE garments.version < excluded.version",
            (record_id, device_id, version, int(deleted), body, now),
        )

    # ----------------------------------------------------------------------------- images
    def has_blob(self, sha256: str) -> bool:
        with self._lock:
            return bool(self._q(self._conn, "SELECT 1 FROM blobs WHERE sha256 = ?", (sha256,)).fetchone())

    def add_blob(self, sha256: str, size: int) -> list[Completed]:
        """Note an image as present; store (and return) the pending records it completes."""
        now = time.time()
        done: list[Completed] = []
        with self._tx() as c:
            self._q(
                c,
                "INSERT INTO blobs (sha256, size, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (sha256, size, now),
            )
            waiting = self._q(c, "SELECT id, version FROM pending_images WHERE sha256 = ?", (sha256,)).fetchall()
            self._q(c, "DELETE FROM pending_images WHERE sha256 = ?", (sha256,))
            for record_id, version in waiting:
                left = self._q(
                    c, "SELECT 1 FROM pending_images WHERE id = ? AND version = ?", (record_id, version)
                ).fetchone()
                row = self._q(
                    c, "SELECT device_id, body FROM pending WHERE id = ? AND version = ?", (record_id, version)
                ).fetchone()
                if left or row is None:
                    continue
                self._q(c, "DELETE FROM pending WHERE id = ? AND version = ?", (record_id, version))
                # Pending versions always have images, so they are never tombstones.
                self._store(c, str(row[0]), str(record_id), int(version), str(row[1]), now)
                done.append(Completed(str(row[0]), str(record_id), int(version)))
        return done

    # ----------------------------------------------------------------------------- dead letters
    def dead_letter(self, topic: str, reason: str, detail: str, payload: bytes) -> None:
        excerpt = payload[:512].decode("utf-8", errors="replace").replace("\x00", "\\0")
        with self._tx() as c:
            self._q(
                c,
                "INSERT INTO dead_letters (received_at, topic, reason, detail, size, excerpt)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (time.time(), topic[:500], reason, detail[:1000], len(payload), excerpt),
            )

    # ----------------------------------------------------------------------------- reading (reports, tests)
    def dead_letters(self) -> list[tuple[str, str, str]]:
        """(topic, reason, detail), oldest first."""
        with self._lock:
            rows = self._q(self._conn, "SELECT topic, reason, detail FROM dead_letters ORDER BY seq").fetchall()
        return [(str(t), str(r), str(d)) for t, r, d in rows]

    def versions(self) -> list[tuple[str, str, int, str]]:
        """Every stored record version: (device, id, version, body JSON)."""
        with self._lock:
            rows = self._q(self._conn, "SELECT device_id, id, version, body FROM garment_versions").fetchall()
        return [(str(d), str(i), int(v), str(b)) for d, i, v, b in rows]

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                table: int(self._q(self._conn, f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                for table in ("garments", "garment_versions", "blobs", "pending", "dead_letters")
            }


def _connect_postgres(url: str) -> _Conn:
    try:
        import psycopg  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise ConsumerDBError(
            "a PostgreSQL --db needs the psycopg package, which is not installed; run: pip install 'psycopg[binary]'"
        ) from None
    try:
        conn: _Conn = psycopg.connect(url, autocommit=True)
    except Exception as exc:
        raise ConsumerDBError(f"cannot connect to PostgreSQL at {url.split('@')[-1]} ({exc}); check --db") from None
    return conn
