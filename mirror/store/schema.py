"""The closet database schema and its migrations, tracked by ``PRAGMA user_version``.

Each migration is a list of statements applied in one transaction together with the new
``user_version``, so a crash mid-migration leaves the previous schema intact. Append new
migrations at the end; never edit a released one.

Rolling back across a migration: the readable-from floor
--------------------------------------------------------
Software refuses a file whose ``user_version`` is above its :data:`SCHEMA_VERSION` unless the
file says that software as old as this may use it. Each :class:`Migration` declares
``readable_from``: the oldest schema version whose software can still safely read *and write* a
file at the migration's version. The file's floor is the highest ``readable_from`` of the
migrations applied to it (:func:`floor_of`), kept in the one-row table ``schema_floor`` and
written in the same transaction as each migration step. The floor lives in a table and not in
``user_version`` on purpose: schema-3 software released before the floor refuses any
``user_version`` above 3, so the floor only helps a rollback to software that has this module's
check, and a file without the table is refused as before.

The rule for a new migration N: it is *additive* (``readable_from`` below N, normally N - 1;
lower only when software of those older schemas was checked too) only if that older software,
which ignores the change, can keep reading and writing the file, and newer software copes with
what it writes: a new table, or a new column that is nullable or has a default, where newer code
accepts rows older code wrote after the migration (NULL in the new column, no row in the new
table; the migration does not run again when the newer software returns). Set ``readable_from``
to N itself when the migration renames or drops a table or column, changes what a column means
or how it is encoded, adds a NOT NULL column without a default, adds a constraint, index or
trigger that older writers would violate, or adds data that must stay in step with rows older
code writes (a derived table, a counter). When unsure, N: the cost is only that a rollback needs
the pre-update backup, as before.

The shape of ``schema_floor`` (one row, ``readable_from INTEGER NOT NULL``) is read by older
software: never change it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    """One step of the schema: its statements, and the oldest schema whose software can still use the result.

    ``readable_from`` is a schema version (1 … this migration's own version); see the module's
    docstring for when a migration may set it below its own version.
    """

    statements: tuple[str, ...]
    readable_from: int


MIGRATIONS: tuple[Migration, ...] = (
    # 1: record versions, their images, the outbox. (No software older than schema 1 exists.)
    Migration(readable_from=1, statements=(
        """CREATE TABLE records (
            id TEXT NOT NULL,
            version INTEGER NOT NULL,
            device_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0,
            category TEXT NOT NULL,
            basic_color TEXT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (id, version)
        ) WITHOUT ROWID""",
        """CREATE TABLE current (
            id TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            deleted INTEGER NOT NULL,
            category TEXT NOT NULL,
            basic_color TEXT NOT NULL,
            created_at TEXT NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX current_live ON current (deleted, created_at)",
        """CREATE TABLE record_images (
            id TEXT NOT NULL,
            version INTEGER NOT NULL,
            kind TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            filename TEXT NOT NULL,
            PRIMARY KEY (id, version, kind)
        ) WITHOUT ROWID""",
        "CREATE INDEX record_images_file ON record_images (filename)",
        """CREATE TABLE outbox (
            id TEXT NOT NULL,
            version INTEGER NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('waiting', 'in_flight', 'acked')),
            attempts INTEGER NOT NULL DEFAULT 0,
            queued_at REAL NOT NULL,
            published_at REAL,
            acked_at REAL,
            PRIMARY KEY (id, version)
        ) WITHOUT ROWID""",
        "CREATE INDEX outbox_state ON outbox (state, queued_at)",
    )),
    # 2: a version the cloud rejected waits until ``not_before`` (it stays queued, behind the others).
    # Additive: a nullable column schema-1 code neither reads nor writes; its rows get NULL, "due now"
    # here. Under schema-1 code a rejected version is resent at once, as it always was.
    Migration(readable_from=1, statements=("ALTER TABLE outbox ADD COLUMN not_before REAL",)),
    # 3: remote command ids already answered, so a command redelivered after a restart is a duplicate.
    # Additive: a table older code never touches. Commands it answers are not noted there, so they
    # lack the restart-proof duplicate check, exactly as under that older software alone.
    Migration(readable_from=1, statements=(
        """CREATE TABLE command_answers (
            id TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL,
            answered_at REAL NOT NULL
        )""",
    )),
)


SCHEMA_VERSION = len(MIGRATIONS)

#: The floor's table. Created outside :data:`MIGRATIONS` (whose SQL is released and stays as it
#: was) and by ``IF NOT EXISTS``, so a file migrated before the floor existed gets it on its next
#: open; older software that does not know it ignores it.
_FLOOR_TABLE = "CREATE TABLE IF NOT EXISTS schema_floor (readable_from INTEGER NOT NULL)"


class SchemaTooNewError(Exception):
    """The file was written by a newer version of the software, and this one may not use it."""


@dataclass(frozen=True)
class Migrated:
    """What :func:`migrate` found: ``found`` is the file's schema version before it ran, ``known``
    this software's (:data:`SCHEMA_VERSION`). When ``found`` is above ``known`` the file was left as it
    was, because its floor says this software may use it: the caller says so once in its log."""

    found: int
    known: int

    @property
    def newer(self) -> bool:
        """Whether the file is at a newer schema than this software's (usable, additively)."""
        return self.found > self.known


def floor_of(version: int) -> int:
    """The oldest schema version whose software can use a file at ``version``: the highest
    ``readable_from`` of the migrations up to it (an older schema cannot use it if any step says no)."""
    return max((migration.readable_from for migration in MIGRATIONS[:version]), default=0)


def read_floor(conn: sqlite3.Connection) -> int | None:
    """The floor stored in the file, or None without one (a file from before the floor, or a new one).

    Reads only: a caller with a read-only connection may use it.
    """
    exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_floor'"
    if conn.execute(exists).fetchone() is None:
        return None
    row = conn.execute("SELECT MAX(readable_from) FROM schema_floor").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def migrate(conn: sqlite3.Connection) -> Migrated:
    """Bring the schema up to :data:`SCHEMA_VERSION`, writing the file's floor with each step.

    A file at a newer schema is neither migrated nor downgraded: it is used as it is when its
    floor is at or below :data:`SCHEMA_VERSION` (the newer migrations are additive), and refused
    with :class:`SchemaTooNewError` when the floor is higher or missing. It is not written then.

    A closet migrated before the floor existed (schema 3 by released software) gets its floor on
    its first open by this software: one small transaction under the write lock, once per file
    (it may wait up to the busy timeout behind another writer, like any write).
    """
    known = SCHEMA_VERSION
    found = _user_version(conn)
    if found > known:
        _check_newer(conn, found, known)
        return Migrated(found, known)
    for number in range(found, known):
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            # Re-read inside the write lock: another process may have migrated meanwhile.
            if _user_version(conn) > number:
                continue
            for statement in MIGRATIONS[number].statements:
                conn.execute(statement)
            _write_floor(conn, number + 1)
            conn.execute(f"PRAGMA user_version = {number + 1}")
    if read_floor(conn) is None:  # migrated by software from before the floor: written once
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            if read_floor(conn) is None and _user_version(conn) == known:
                _write_floor(conn, known)
    now = _user_version(conn)
    if now > known:  # newer software migrated it while this one waited for the lock
        _check_newer(conn, now, known)
        return Migrated(now, known)
    return Migrated(found, known)


def too_new(found: int, floor: int | None, known: int = SCHEMA_VERSION) -> str:
    """Why software of schema ``known`` may not use a file at schema ``found`` with ``floor``; ``""`` if it may.

    The one verdict for the store and for ``smart-mirror doctor`` (which reads both values read-only).
    """
    if found <= known:
        return ""
    if floor is None:
        return f"schema version {found}, this software knows up to {known}, and the file does not say older " + (
            "software may use it"
        )
    if floor > known:
        return f"schema version {found}, this software knows up to {known}, and the file needs schema {floor} or later"
    return ""


def _check_newer(conn: sqlite3.Connection, found: int, known: int) -> None:
    """Refuse a file at schema ``found`` (above ``known``) unless its floor lets this software use it."""
    reason = too_new(found, read_floor(conn), known)
    if reason:
        raise SchemaTooNewError(reason)


def _write_floor(conn: sqlite3.Connection, version: int) -> None:
    """Store the floor of a file at ``version``, inside the caller's transaction."""
    conn.execute(_FLOOR_TABLE)
    conn.execute("DELETE FROM schema_floor")
    conn.execute("INSERT INTO schema_floor (readable_from) VALUES (?)", (floor_of(version),))


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])
