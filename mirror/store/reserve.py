"""A little disk space the closet keeps back, so a full disk can still be emptied.

On a disk filled to the last byte (a runaway log, a big download) SQLite cannot even open the
closet (it must grow its ``-shm`` file) nor write the tombstone that deleting a garment needs,
so the one thing that would free space, deleting garments, fails too. The closet therefore
keeps ``closet.reserve`` (a few hundred KB of zeros) in its folder while there is room, and
gives it up when the disk is full: then it opens, and a delete goes through and frees the
garment's images. The reserve is made again once there is room for it twice over.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from mirror.store.errors import StoreFullError

log = logging.getLogger(__name__)

T = TypeVar("T")

RESERVE_NAME = "closet.reserve"
RESERVE_BYTES = 512 * 1024
"""Enough for SQLite's shared-memory file and the WAL frames of a few tombstones."""


def keep(folder: Path) -> None:
    """Make the reserve when it is missing and the disk has room for it twice over (best effort)."""
    path = folder / RESERVE_NAME
    if path.exists():
        return
    try:
        if shutil.disk_usage(folder).free < 2 * RESERVE_BYTES:
            return
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError:
        return
    try:
        try:
            os.posix_fallocate(fd, 0, RESERVE_BYTES)  # real blocks: a sparse file would reserve nothing
        except OSError:
            os.ftruncate(fd, 0)
            os.write(fd, bytes(RESERVE_BYTES))
        os.fsync(fd)
    except OSError:  # the disk filled meanwhile: no reserve rather than a partial one
        os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()
        return
    os.close(fd)


def held(folder: Path) -> bool:
    """Whether the reserve is there (given up to a full disk, and not made again yet, when not).

    Taken as there when the folder cannot be looked into (this user may not enter it): free space
    is still measured, and the store's open says what bars the way (doctor crashed on it instead).
    """
    try:
        return (folder / RESERVE_NAME).is_file()
    except OSError:
        return True


def release(folder: Path) -> bool:
    """Give the reserve back to the disk; ``True`` when there was one to give."""
    try:
        (folder / RESERVE_NAME).unlink()
    except OSError:
        return False
    log.warning(
        "closet disk %s is full: gave up the closet's %d KB reserve so that garments can be deleted to make room",
        folder,
        RESERVE_BYTES // 1024,
    )
    return True


def spending_if_full(folder: Path, action: Callable[[], T]) -> T:
    """Run ``action``; when the disk is full, give up the reserve and run it once more; then make
    the reserve again if there is room. For the operations that must work on a full disk: opening
    the closet, and deleting a garment (the one change that frees space)."""
    try:
        result = action()
    except StoreFullError:
        if not release(folder):
            raise
        result = action()
    keep(folder)
    return result
