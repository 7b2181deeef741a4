"""Image files of the closet, content-addressed and written crash-safely.

Order of operations (the store relies on it), a small write-ahead protocol:

1. :meth:`ImageFiles.stage` writes the bytes to ``.tmp-<sha256>.<ext>.<pid>`` in the same
   folder, fsyncs the file and the folder;
2. the database row naming ``<sha256>.<ext>`` commits;
3. :meth:`ImageFiles.publish` renames the temp file to its final name and fsyncs the folder.

After a power cut between 2 and 3 the committed row's image is still a complete, durable temp
file, and :meth:`ImageFiles.recover` finishes the rename on the next open. A temp file whose row
never committed is removed by :meth:`ImageFiles.clean`. A final ``<sha256>.<ext>`` file is only
ever removed when the garment naming it is deleted, never because no row names it: a closet
database moved aside (after damage) and replaced by a fresh one must not cost the person the
images of every garment in the old one.
"""

from __future__ import annotations

import errno
import hashlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

TMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class StagedImage:
    """An image written durably under a temp name, waiting for its row to commit."""

    sha256: str
    filename: str  # the final name, ``<sha256>.<ext>``
    tmp: Path | None  # None: the same content was already stored under the final name


def committed_count(folder: Path) -> int:
    """Image files under their final names in ``folder`` (temp files not counted; 0 when it is missing)."""
    try:
        return sum(1 for entry in folder.iterdir() if not entry.name.startswith(TMP_PREFIX))
    except OSError:
        return 0


class ImageFiles:
    """The ``images/`` folder of a closet."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, filename: str) -> Path:
        return self.folder / filename

    def stage(self, data: bytes, ext: str) -> StagedImage:
        """Write ``data`` durably under a temp name (step 1). Raises OSError (ENOSPC included)."""
        digest = hashlib.sha256(data).hexdigest()
        name = f"{digest}.{ext}"
        final = self.folder / name
        if final.exists() and final.stat().st_size == len(data):
            return StagedImage(digest, name, None)  # same content already stored durably
        tmp = self.folder / f"{TMP_PREFIX}{name}.{os.getpid()}"
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
        fsync_dir(self.folder)
        return StagedImage(digest, name, tmp)

    def publish(self, staged: Iterable[StagedImage]) -> None:
        """Give staged images their final names once their row has committed (step 3)."""
        moved: set[str] = set()
        for image in staged:
            # Two kinds with the same bytes (a cut-out filling the frame: the black- and white-background
            # JPEGs) share one temp file; the first rename took it.
            if image.tmp is not None and image.filename not in moved:
                image.tmp.replace(self.folder / image.filename)
                moved.add(image.filename)
        if moved:
            fsync_dir(self.folder)

    def unstage(self, staged: Iterable[StagedImage]) -> None:
        """Drop staged images whose row did not commit."""
        for image in staged:
            if image.tmp is not None:
                image.tmp.unlink(missing_ok=True)

    def remove(self, filenames: Iterable[str]) -> None:
        """Delete these files (a deleted garment's images), durably."""
        for name in filenames:
            (self.folder / name).unlink(missing_ok=True)
        fsync_dir(self.folder)

    def read(self, filename: str) -> bytes:
        """An image's bytes; a committed image not yet renamed is read from its temp file.

        The final name is tried again last: the writer renames right after its commit, without
        the reader's lock, so the rename can land between the first try and the temp lookup.
        """
        final = self.folder / filename
        try:
            return final.read_bytes()
        except FileNotFoundError:
            for tmp in self._temps_of(filename):
                try:
                    return tmp.read_bytes()
                except FileNotFoundError:
                    break  # renamed meanwhile
            return final.read_bytes()

    def exists(self, filename: str) -> bool:
        """Whether :meth:`read` can find the image (under its final name or a committed temp one)."""
        final = self.folder / filename
        return final.is_file() or bool(self._temps_of(filename)) or final.is_file()

    def recover(self, needed: Iterable[str]) -> int:
        """Finish step 3 for committed rows whose image is still a temp file (a crash after the commit)."""
        recovered = 0
        for name in needed:
            if (self.folder / name).exists():
                continue
            digest = name.split(".", 1)[0]
            for tmp in self._temps_of(name):
                if hashlib.sha256(tmp.read_bytes()).hexdigest() == digest:
                    tmp.replace(self.folder / name)
                    recovered += 1
                    break
        if recovered:
            fsync_dir(self.folder)
        return recovered

    def clean(self, older_than_s: float = 600.0) -> int:
        """Remove temp files whose row never committed (a crash before the commit).

        A file whose writer (the pid in its name) is gone goes at once: systemd restarts a killed
        mirror within seconds, and an age test alone kept its temp files until the next restart,
        months later. A file named without a pid goes only once older than ``older_than_s``. A live
        writer's file never goes: it may be between staging an image and committing its row. Call
        :meth:`recover` first, so that a committed row's temp file is renamed, not removed.
        """
        cutoff = time.time() - older_than_s
        removed = 0
        for entry in self.folder.glob(f"{TMP_PREFIX}*"):
            if _writer_alive(entry):  # its writer may be between staging and commit, whatever the clock says
                continue
            if entry.is_file() and (_writer_named(entry) or entry.stat().st_mtime <= cutoff):
                entry.unlink(missing_ok=True)
                removed += 1
        if removed:
            fsync_dir(self.folder)
        return removed

    def _temps_of(self, filename: str) -> list[Path]:
        return sorted(self.folder.glob(f"{TMP_PREFIX}{filename}.*"))


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` durable (POSIX needs the directory itself synced)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _writer_named(tmp: Path) -> bool:
    """Whether ``tmp``'s name ends in its writer's pid (every temp file this store makes does)."""
    return tmp.name.rsplit(".", 1)[-1].isdigit()


def _writer_alive(tmp: Path) -> bool:
    """Whether the process that staged ``tmp`` (its name ends in ``.<pid>``) still runs here.

    Why: the age test alone reads the wall clock, and an NTP step of an hour made a capture
    staged a moment ago look old enough to delete. A live writer's file is never removed (a
    reused pid only delays the clean-up to a later open).
    """
    pid_text = tmp.name.rsplit(".", 1)[-1]
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by another user
        return True
    return True
