"""The mirrors a consumer accepts: ids named on its command line, plus a file it re-reads.

Why a file: with ``--device`` alone, registering a new mirror meant restarting every consumer
of the group (its records were dead-lettered ``unknown_device`` meanwhile). The file is looked
at again when its modification time changes (checked at most every ``CHECK_EVERY_S``), so
adding a line registers a mirror within seconds; its refused versions come back by themselves,
since the mirror sends a rejected version again later (docs/sync.md, Acks). A file that cannot
be read or parsed keeps the last good list, said once in the log: a typo never unregisters
the fleet.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

log = logging.getLogger(__name__)

#: Seconds between looks at the file's modification time (a ``stat`` per message is too many).
CHECK_EVERY_S = 5.0
#: What a device id may be: the garment schema's ``device_id`` (``mirror-`` + 10 hex, or the
#: ``[device] id`` an installer set; tests/test_sync_consumer_devices.py keeps the two alike).
DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class DevicesFileError(ValueError):
    """The devices file cannot be used; the message names the file, the line and the fix."""


def parse_devices(text: str, path: Path) -> frozenset[str]:
    """One device id per line; blank lines and ``#`` comments (whole-line or trailing) are ignored."""
    ids = set()
    for number, line in enumerate(text.splitlines(), start=1):
        device = line.split("#", 1)[0].strip()
        if not device:
            continue
        if not DEVICE_ID.match(device):
            raise DevicesFileError(
                f"{path}:{number}: {device[:80]!r} is not a device id (1-64 of A-Z a-z 0-9 _ -); fix that line"
            )
        ids.add(device)
    return frozenset(ids)


class DeviceRegistry:
    """``device in registry``: whether the consumer accepts that mirror now (thread-safe)."""

    def __init__(
        self,
        fixed: Iterable[str] = (),
        path: Path | None = None,
        *,
        check_every_s: float = CHECK_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Reads ``path`` now: a missing or malformed file at start raises ``DevicesFileError`` (the
        consumer then refuses to start with that line) rather than running with half a fleet."""
        self.fixed = frozenset(fixed)
        self.path = path
        self._check_every_s = check_every_s
        self._clock = clock
        self._lock = threading.Lock()
        self._from_file: frozenset[str] = frozenset()
        self._stamp: tuple[int, int, int] | None = None  # the file's (mtime_ns, size, inode) when last read
        self._next_check = 0.0
        self._complaint = ""  # the last problem logged (said once until it changes)
        if path is not None:
            try:
                self._read(path)
            except OSError as exc:
                raise DevicesFileError(f"cannot read --devices-file {path} ({exc.strerror})") from None
            self._next_check = clock() + check_every_s

    def __contains__(self, device: object) -> bool:
        if device in self.fixed:
            return True
        if self.path is not None:
            self._refresh(self.path)
        return device in self._from_file

    def ids(self) -> frozenset[str]:
        """Every id accepted now (for the start-up log line)."""
        return self.fixed | self._from_file

    def _refresh(self, path: Path) -> None:
        now = self._clock()
        with self._lock:
            if now < self._next_check:
                return
            self._next_check = now + self._check_every_s
            try:
                if _stamp(path) != self._stamp:
                    self._read(path)
            except OSError as exc:
                self._complain(f"cannot read --devices-file {path} ({exc.strerror})")
            except DevicesFileError as exc:
                self._complain(str(exc))

    def _complain(self, problem: str) -> None:
        """Say a problem with the file once (until it changes); the last good list stays."""
        if problem != self._complaint:
            self._complaint = problem
            log.warning("%s; the %d mirror(s) read before stay accepted", problem, len(self._from_file))

    def _read(self, path: Path) -> None:
        stamp = _stamp(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise DevicesFileError(f"{path} is not UTF-8 text; write one device id per line") from None
        if _stamp(path) != stamp:  # written to while it was read (an editor saving in place): next look
            return
        ids = parse_devices(text, path)
        added, removed = ids - self._from_file, self._from_file - ids
        if self._stamp is not None and (added or removed):
            log.info("devices file %s: %d mirror(s) added, %d removed", path, len(added), len(removed))
        self._from_file, self._stamp, self._complaint = ids, stamp, ""


def _stamp(path: Path) -> tuple[int, int, int]:
    """What changes when the file does: an edit in place (time, size) or a replace by rename (inode),
    even one that kept the old modification time (``cp -p``, ``rsync -t``)."""
    st = path.stat()
    return st.st_mtime_ns, st.st_size, st.st_ino
