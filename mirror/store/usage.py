"""How much the closet folder holds on disk, measured cheaply enough to repeat all day.

The About screen shows it; the service measures it on its worker every ``mirror.housekeeping.STORAGE_EVERY_S``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from mirror.store.closet import IMAGES_DIR


def _files_bytes(folder: str, skip: str = "") -> tuple[int, list[str]]:
    """Bytes of the files directly in ``folder`` (``skip``: a sub-folder name left out) and its sub-folders."""
    used, folders = 0, []
    with os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):  # a file may vanish while we look
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != skip:
                        folders.append(entry.path)
                elif entry.is_file():
                    used += entry.stat().st_size
    return used, folders


class StorageMeter:
    """Bytes the closet folder holds, for the About screen, without a walk of every image each time.

    The images folder is content-addressed (``mirror.store.images``): each file is written
    once under a temp name and renamed, and removed only with its garment, so while the
    folder's own modification time is unchanged its files are too; it is listed again only
    when that changes. The rest (the database and its WAL, growing in place, screenshots: a
    handful of files) is measured every time. A closet of 1,000 garments was 4,000 ``stat()``
    calls on the SD card every 30 s, all day; now a few.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.image_walks = 0  # times the images folder was listed
        self._images: tuple[int, int] | None = None  # (the folder's mtime_ns, bytes of its files)

    def measure(self) -> int:
        if not self.root.is_dir():
            return 0
        used = 0
        folders = [str(self.root)]
        while folders:
            folder = folders.pop()
            with contextlib.suppress(OSError):  # a folder may vanish while we look
                size, inner = _files_bytes(folder, skip=IMAGES_DIR if folder == str(self.root) else "")
                used += size
                folders += inner
        return used + self._images_bytes(self.root / IMAGES_DIR)

    def _images_bytes(self, folder: Path) -> int:
        try:
            stamp = folder.stat().st_mtime_ns
        except OSError:
            self._images = None
            return 0
        if self._images is not None and self._images[0] == stamp:
            return self._images[1]
        self.image_walks += 1
        used = 0
        folders = [str(folder)]
        while folders:
            with contextlib.suppress(OSError):
                size, inner = _files_bytes(folders.pop())
                used += size
                folders += inner
        self._images = (stamp, used)
        return used
