"""A write-ahead log with no database to belong to: the one state in which merely looking loses the closet.

After a power cut (not a clean stop) ``closet.db-wal`` holds every garment since the last
checkpoint. If ``closet.db`` beside it is then missing or empty (an fsck that truncated it, a
restore or copy of the main file alone), *any* SQLite connection to ``closet.db`` — a
read-only one included — takes the log for a stale one and deletes it. So every reader
(the store, the device-id and clock peeks that run before it, doctor) asks this first and
stays away; the store refuses with :class:`~mirror.store.errors.StoreOrphanLogError`.
"""

from __future__ import annotations

from pathlib import Path

from mirror.store.errors import StoreOrphanLogError

#: Bytes: SQLite's smallest page. A database file shorter than that holds nothing.
SMALLEST_DATABASE = 512


def orphan_log(db_path: Path) -> StoreOrphanLogError | None:
    """The refusal to give when ``db_path`` is missing or empty beside a ``-wal`` file with content, else None.

    Raises ``OSError`` when either file cannot be examined (other than being absent).
    """
    sizes = []
    for path in (db_path, db_path.with_name(db_path.name + "-wal")):
        try:
            sizes.append(path.stat().st_size)
        except FileNotFoundError:
            sizes.append(0)
    database, log_bytes = sizes
    if log_bytes > 0 and database < SMALLEST_DATABASE:
        return StoreOrphanLogError(db_path, log_bytes)
    return None
