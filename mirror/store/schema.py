"""The closet database schema and its migrations, tracked by ``PRAGMA user_version``.

Each migration is a list of statements applied in one transaction together with the new
``user_version``, so a crash mid-migration leaves the previous schema intact. Append new
migrations at the end; never edit a released one.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: record versions, their images, the outbox.
    (
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
    ),
    # 2: a version the cloud rejected waits until ``not_before`` (it stays queued, behind the others).
    ("ALTER TABLE outbox ADD COLUMN not_before REAL",),
    # 3: remote command ids already answered, so a command redelivered after a restart is a duplicate.
    (
        """CREATE TABLE command_answers (
            id TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL,
            answered_at REAL NOT NULL
        )""",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNewError(Exception):
    """The file was written by a newer version of the software."""


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to :data:`SCHEMA_VERSION`; return the version found before."""
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise SchemaTooNewError(f"schema version {found}, this software knows up to {SCHEMA_VERSION}")
    for number in range(found, SCHEMA_VERSION):
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            # Re-read inside the write lock: another process may have migrated meanwhile.
            if int(conn.execute("PRAGMA user_version").fetchone()[0]) > number:
                continue
            for statement in MIGRATIONS[number]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
    return found
