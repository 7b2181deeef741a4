"""Looks at a closet without opening the store: whether there is one yet, which device made it, when its
newest garment came.

Why apart from ``ClosetStore``: the device id is needed before the store is opened (the store is
opened with it), and doctor must judge a closet without changing it (opening the store migrates
and repairs). So these read-only queries forgive everything: a closet that is missing, unreadable
or damaged answers nothing, and the store, when it opens, says what is wrong.
"""

from __future__ import annotations

import sqlite3
import stat
from datetime import datetime
from pathlib import Path

from mirror.store.closet import DB_NAME, IMAGES_DIR
from mirror.store.codec import NEWEST_CREATED_SQL, newest_created
from mirror.store.images import committed_count
from mirror.store.orphan import orphan_log


def closet_device_ids(data_dir: Path) -> list[str]:
    """The device ids the closet's records were made with, the oldest record's first."""
    rows = peek_closet(data_dir, "SELECT device_id FROM records GROUP BY device_id ORDER BY MIN(created_at)")
    return [str(row[0]) for row in rows]


def closet_newest_time(data_dir: Path) -> datetime | None:
    """When the closet's newest garment was added (what the wall clock must not precede), if any."""
    return newest_created(peek_closet(data_dir, NEWEST_CREATED_SQL))


def no_closet_yet(data_dir: Path) -> bool:
    """Whether ``data_dir`` holds no closet database yet: ``closet.db`` missing, or 0 bytes (made but never
    written: what a power cut during the mirror's very first open leaves), with no ``-wal`` of content and no
    garment images of an earlier closet beside it.

    Why: a read-only command (``closet list``, ``closet show``) answers "an empty closet" then without opening
    the store, because opening makes the tables, and a look must not write. Anything else is False, and the
    store's open says what is wrong: a file that cannot be examined, an orphan write-ahead log, images whose
    database is gone (it warns that the database or its ``-wal`` was lost), or a ``closet.db`` or folder that
    is a link to nowhere (the disk it is on not mounted).
    """
    return _no_database(data_dir) and not committed_count(data_dir / IMAGES_DIR)


def lost_closet(data_dir: Path) -> str:
    """Why a look finds garment images but no database to name them ("" when it does not): ``closet.db``
    missing or 0 bytes (no ``-wal`` of content either) beside the images of an earlier closet.

    Why: ``closet list`` answered this by opening the store, which made a new, empty database, so the look
    wrote, and the closet then looked merely empty. Said here without opening it, in doctor's words.
    """
    earlier = committed_count(data_dir / IMAGES_DIR) if _no_database(data_dir) else 0
    if not earlier:
        return ""
    return (
        f"{data_dir / DB_NAME} is missing or empty, but {data_dir / IMAGES_DIR} holds {earlier} garment image(s) "
        f"of an earlier closet; unless it was moved aside on purpose, restore {DB_NAME} and its -wal from a backup "
        "(docs/deploy.md)"
    )


def _no_database(data_dir: Path) -> bool:
    """``closet.db`` missing or 0 bytes, with no ``-wal`` of content, and not behind a link to nowhere."""
    db = data_dir / DB_NAME
    try:
        if orphan_log(db) is not None:
            return False
        info = db.stat()
    except FileNotFoundError:
        # Not there, or behind a link to nowhere: a closet on a disk not mounted yet is not an empty one.
        return not any(path.is_symlink() and not path.exists() for path in (db, data_dir, *data_dir.parents))
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size == 0  # a folder in its place may say 0 bytes too


def peek_closet(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    """One query on the closet, read-only and forgiving, without opening the store.

    A closet that does not exist or cannot be read answers nothing (opening it later reports the
    problem properly); used before the store is opened (``mirror.device``) and by doctor. Nor does it
    touch a database beside an orphan write-ahead log: connecting at all would delete that log,
    with every garment since the last checkpoint (:mod:`mirror.store.orphan`).
    """
    db = data_dir / DB_NAME
    try:
        if not db.is_file() or orphan_log(db) is not None:
            return []
    except OSError:
        return []
    try:
        conn = sqlite3.connect(f"{db.absolute().as_uri()}?mode=ro", uri=True, timeout=5.0)
        try:
            return [tuple(row) for row in conn.execute(sql).fetchall()]
        finally:
            conn.close()
    except sqlite3.Error:
        return []
