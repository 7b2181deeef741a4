"""Operating-system and SQLite failures as the store's one-line errors (``mirror.store.errors``).

The closet meets the same few conditions through two doors, a file operation (``OSError``) and
a database call (``sqlite3.Error``): a full disk, a read-only card, a folder it may not write,
a damaged file. Both doors are translated here, so each condition reads the same whichever
door it came through, and the store's methods stay about the closet.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path

from mirror.store import space
from mirror.store.errors import StoreCorruptError, StoreError, StoreFullError, StoreReadOnlyError

FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
MOUNTINFO = Path("/proc/self/mountinfo")


def from_os(exc: OSError, folder: Path, what: str) -> StoreError:
    """A failed file operation in the closet ``folder``; ``what`` names it (``cannot create closet folder …``)."""
    if exc.errno in FULL_ERRNOS:
        return StoreFullError(folder, exc.strerror or "no space left on device")
    if exc.errno == errno.EROFS or read_only_fs(folder):
        return StoreReadOnlyError(folder)
    return StoreError(f"{what} ({exc.strerror or exc}); check [store] data_dir, the disk and its owner")


def from_sqlite(exc: sqlite3.Error, path: Path) -> StoreError:
    """SQLite's errors as the one-line store errors a person can act on."""
    extended = getattr(exc, "sqlite_errorcode", None)
    code = None if extended is None else extended & 0xFF  # the primary result code
    text = str(exc)
    if code == sqlite3.SQLITE_FULL or "disk is full" in text:
        return StoreFullError(path.parent, "SQLite: database or disk is full")
    if code == sqlite3.SQLITE_IOERR and disk_nearly_full(path.parent):
        # SQLite reports a full disk while growing its -shm or -wal file as an I/O error.
        return StoreFullError(path.parent, f"SQLite: {text}, with the disk full")
    if code == sqlite3.SQLITE_IOERR and read_only_fs(path.parent):
        # A card the kernel turned read-only after an error: every write is an I/O error to SQLite.
        return StoreReadOnlyError(path.parent)
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in text or "not a database" in text:
        return StoreCorruptError(path, text)
    if code in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM) or "unable to open" in text:
        if read_only_fs(path.parent):
            return StoreReadOnlyError(path.parent)
        return StoreError(
            f"cannot open or write closet database {path} ({text}); "
            f"make {path.parent} writable by this user (the service user owns it)"
        )
    if isinstance(exc, sqlite3.ProgrammingError) and "closed database" in text:  # nothing doctor could find
        return StoreError(f"closet database {path} is closed (the mirror is stopping)")
    if code == sqlite3.SQLITE_BUSY or "locked" in text:
        return StoreError(f"closet database {path} is busy ({text}); another smart-mirror process holds it — retry")
    return StoreError(f"closet database {path}: {text}; run `smart-mirror doctor`")


def read_only_fs(folder: Path, mountinfo: Path = MOUNTINFO) -> bool:
    """Whether the nearest existing folder at or above ``folder`` is on a read-only mount.

    Also when the kernel turned the file system read-only after an error (ext4 ``errors=remount-ro``,
    what an SD card does): ``statvfs`` still says writable then, and only the super block's options
    in ``mountinfo`` say ``emergency_ro``; SQLite meanwhile reports a plain "disk I/O error".
    """
    for candidate in (folder, *folder.parents):
        try:
            if os.statvfs(candidate).f_flag & os.ST_RDONLY:
                return True
            return "emergency_ro" in _super_options(candidate.resolve(), mountinfo)
        except OSError:
            continue
    return False


def _super_options(path: Path, mountinfo: Path) -> set[str]:
    """The super-block options of the mount holding ``path`` (the longest mount point above it)."""
    best, options = "", set[str]()
    try:
        lines = mountinfo.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return set()
    for line in lines:
        fields = line.split(" - ", 1)
        head = fields[0].split()
        if len(fields) < 2 or len(head) < 5:
            continue
        point = head[4].replace("\\040", " ")
        tail = fields[1].split()
        inside = str(path) == point or str(path).startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best) and len(tail) >= 3:
            best, options = point, set(tail[2].split(","))
    return options


def disk_nearly_full(folder: Path) -> bool:
    """Under 1 MiB free where the closet lives (SQLite cannot grow its files there)."""
    try:
        return shutil.disk_usage(folder).free < space.MB
    except OSError:
        return False
