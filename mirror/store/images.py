"""Image files of the closet, content-addressed and written crash-safely.

Order of operations (the store relies on it): the bytes go to a temp file in the same folder,
the temp file is fsynced, renamed to ``<sha256>.<ext>`` and the folder is fsynced — all BEFORE
the database row naming the image is committed. After a power cut a committed row therefore
always finds its image; the worst case is an image without a row (or a ``.tmp-`` file), which
:meth:`ImageFiles.clean` removes on the next open.
"""

from __future__ import annotations

import errno
import hashlib
import os
import time
from collections.abc import Iterable
from pathlib import Path

TMP_PREFIX = ".tmp-"


class ImageFiles:
    """The ``images/`` folder of a closet."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, filename: str) -> Path:
        return self.folder / filename

    def write(self, data: bytes, ext: str) -> tuple[str, str]:
        """Store ``data`` durably; return (sha256 hex, file name). Raises OSError (ENOSPC included)."""
        digest = hashlib.sha256(data).hexdigest()
        name = f"{digest}.{ext}"
        final = self.folder / name
        if final.exists() and final.stat().st_size == len(data):
            return digest, name  # same content already stored durably
        tmp = self.folder / f"{TMP_PREFIX}{digest[:16]}-{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                if written <= 0:  # pragma: no cover - os.write raises instead on a full disk
                    raise OSError(errno.ENOSPC, "short write", str(tmp))
                view = view[written:]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        os.close(fd)
        tmp.replace(final)
        fsync_dir(self.folder)
        return digest, name

    def remove(self, filenames: Iterable[str]) -> None:
        """Delete these files (a deleted garment's images), durably."""
        for name in filenames:
            (self.folder / name).unlink(missing_ok=True)
        fsync_dir(self.folder)

    def read(self, filename: str) -> bytes:
        return (self.folder / filename).read_bytes()

    def clean(self, keep: Iterable[str], older_than_s: float = 600.0) -> int:
        """Remove temp files and images no row names (left by a crash between rename and commit).

        Only files older than ``older_than_s`` go: another process (the service beside
        ``smart-mirror sync``) may be between writing an image and committing its row.
        """
        wanted = set(keep)
        cutoff = time.time() - older_than_s
        removed = 0
        for entry in self.folder.iterdir():
            if entry.name in wanted or not entry.is_file() or entry.stat().st_mtime > cutoff:
                continue
            entry.unlink(missing_ok=True)
            removed += 1
        if removed:
            fsync_dir(self.folder)
        return removed


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` durable (POSIX needs the directory itself synced)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
