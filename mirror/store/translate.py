"""Operating-system and SQLite failures as the store's one-line errors (``mirror.store.errors``).

The closet meets the same few conditions through two doors, a file operation (``OSError``) and
a database call (``sqlite3.Error``): a full disk, a read-only card, a folder it may not write,
a damaged file. Both doors are translated here, so each condition reads the same whichever
door it came through, and the store's methods stay about the closet.
"""

from __future__ import annotations

import errno
import os
import pwd
import shutil
import sqlite3
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from mirror.store import space
from mirror.store.errors import StoreCorruptError, StoreError, StoreFullError, StoreReadOnlyError

FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
DENIED_ERRNOS = {errno.EACCES, errno.EPERM}
MOUNTINFO = Path("/proc/self/mountinfo")


def from_os(exc: OSError, folder: Path, what: str) -> StoreError:
    """A failed file operation in the closet ``folder``; ``what`` names it (``cannot create closet folder …``)."""
    if exc.errno in FULL_ERRNOS:
        return StoreFullError(folder, exc.strerror or "no space left on device")
    if exc.errno == errno.EROFS or read_only_fs(folder):
        return StoreReadOnlyError(folder)
    if exc.errno in DENIED_ERRNOS:
        barrier = barred(folder if exc.filename is None else Path(os.fsdecode(exc.filename)), folder)
        if barrier is not None:
            where = "" if barrier.folder == folder else f" in {folder}"
            return StoreError(f"cannot open the closet{where}: {barrier.why}; {barrier.fix}")
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
        # The folder, or only the files (a backup restored as root): name what is in the way, not its folder.
        stuck = unwritable((path.parent, *database_files(path))) or [path.parent]
        return StoreError(
            f"cannot open or write closet database {path} ({text}); make {listed(stuck)} writable by this user "
            f"(the service user owns {'it' if len(stuck) == 1 else 'them'})"
        )
    if isinstance(exc, sqlite3.ProgrammingError) and "closed database" in text:  # nothing doctor could find
        return StoreError(f"closet database {path} is closed (the mirror is stopping)")
    if code == sqlite3.SQLITE_BUSY or "locked" in text:
        return StoreError(f"closet database {path} is busy ({text}); another smart-mirror process holds it — retry")
    return StoreError(f"closet database {path}: {text}; run `smart-mirror doctor`")


class Barrier(NamedTuple):
    """A folder on the way to the closet that this user may not enter, what to say about it, and the fix."""

    folder: Path
    why: str
    fix: str


def barred(path: Path, data_dir: Path) -> Barrier | None:
    """The folder at or above ``path`` that this user may not enter; ``None`` when there is none.

    Why: the store and doctor met a bare "Permission denied" (``Path.exists()`` raises it on Python
    3.11) and printed a traceback, or "report it"; the person needs to hear which folder bars the way,
    whose it is, and the fix. Both say it with these words. The fix hands over the closet
    (``data_dir``) only: a folder above it is not the closet's to give away.
    """
    for folder in (*reversed(path.parents), path):
        try:
            info = folder.stat()
        except OSError:  # missing: nothing below it to bar
            return None
        if not stat.S_ISDIR(info.st_mode):
            return None
        if not os.access(folder, os.X_OK):
            break
    else:
        return None
    owner, user = user_name(info.st_uid), user_name(os.geteuid())
    why = f"{user} may not enter {folder} (it belongs to {owner}, mode {stat.S_IMODE(info.st_mode):04o})"
    if info.st_uid == os.geteuid():
        return Barrier(folder, why, f"chmod u+rwx {folder}")
    run_as = "" if info.st_uid == 0 else f"run smart-mirror as {owner} (sudo -u {owner} smart-mirror …), or "
    if folder == data_dir or data_dir in folder.parents:
        return Barrier(folder, why, f"{run_as}give the closet to {user}: sudo chown -R {user} {data_dir}")
    return Barrier(folder, why, f"{run_as}set [store] data_dir to a folder {user} can reach")


def database_files(db: Path) -> tuple[Path, Path, Path]:
    """The closet database and its two companions, which SQLite must be able to write as well."""
    return db, db.with_name(f"{db.name}-wal"), db.with_name(f"{db.name}-shm")


def unwritable(paths: Iterable[Path]) -> list[Path]:
    """Those of ``paths`` that exist and that this user may not write (the kernel's answer, modes and all)."""
    return [path for path in paths if os.access(path, os.F_OK) and not os.access(path, os.W_OK)]


def listed(items: Iterable[object]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    names = [str(item) for item in items]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def user_name(uid: int) -> str:
    """The login name of ``uid`` (the number when it has none)."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


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
