"""The mirror's periodic checks: disk room, the clock, sync's backlog, the closet folder's size.

Why apart from the service: these parts of the status line change without an event of their
own (a disk fills, the clock is set by NTP, the broker comes back), so something has to look
every few seconds, and it must never take down the thread it runs on. ``MirrorService`` runs
``tick()`` on its analysis thread between shots (a Pi has few cores; a thread of its own would
only wake one more), and ``refresh()`` after each closet change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from mirror.events import STORAGE_FULL, Level, StatusPart
from mirror.status_board import StatusBoard
from mirror.store import ClosetStore, StoreError
from mirror.store.usage import StorageMeter
from mirror.synclink import SyncLink
from mirror.wallclock import clock_problem

log = logging.getLogger(__name__)

#: Seconds between status refreshes, and between storage measurements (see ``StorageMeter``).
STATUS_EVERY_S = 2.0
STORAGE_EVERY_S = 30.0
#: Why auto-capture is held while the closet is not open or cannot be read (a damaged database, a disk
#: full to the last byte, a card not mounted): a garment shot then could not be kept.
CLOSET_UNAVAILABLE = "closet_unavailable"


class Housekeeper:
    """Keeps the storage, clock and sync parts of the status line true, and the closet's size known."""

    def __init__(
        self,
        closet_dir: Path,
        board: StatusBoard,
        *,
        store: Callable[[], ClosetStore | None],
        link: Callable[[], SyncLink | None],
        hold: Callable[[str, bool], None],
        reopen_store: Callable[[], None],
        clock: Callable[[], float],
    ) -> None:
        """``store``/``link`` give the closet and the sync link as they are now (either may come late);
        ``hold(reason, on)`` stops auto-capture while a garment could not be kept: the closet's disk too full
        (``STORAGE_FULL``), or the closet not open or unreadable (:data:`CLOSET_UNAVAILABLE`);
        ``reopen_store`` opens a closet that could not be opened at start."""
        self._board = board
        self._store = store
        self._link = link
        self._hold = hold
        self._reopen_store = reopen_store
        self._clock = clock
        self._meter = StorageMeter(closet_dir)
        self._used = 0
        self._last_error = ""  # the last failed check, logged once
        self._next_status = self._next_storage = 0.0

    @property
    def storage_used(self) -> int:
        """Bytes in the closet folder, as measured at most ``STORAGE_EVERY_S`` ago."""
        return self._used

    def tick(self) -> None:
        """Run whichever checks are due; returns at once when none is."""
        if self._clock() >= self._next_status:
            self.refresh()
            self._next_status = self._clock() + STATUS_EVERY_S
        if self._clock() >= self._next_storage:
            self._guarded(self._reopen_store)
            self._guarded(self.measure_storage)
            self._next_storage = self._clock() + STORAGE_EVERY_S

    def refresh(self) -> None:
        """Look at the closet's disk, the clock and the outbox now; a failure is logged, never raised.

        Why never raised: this runs on the analysis thread between shots and on the store worker
        after each change; an error escaping would end that thread, and with it every result,
        while the preview still counted down, until the watchdog restarted the whole service."""
        self._guarded(self._refresh)

    def measure_storage(self) -> None:
        """Bytes used by the closet folder, measured here (never on the GUI thread, which asks
        ``MirrorService.about()``); the images are listed again only when they changed."""
        self._used = self._meter.measure()

    def _refresh(self) -> None:
        """A closet that cannot be read right now (its disk gone, its database busy past the timeout)
        shows as ``storage: unreadable`` until a later look reads it again."""
        store = self._store()
        if store is None:  # not opened (yet): every shot would end in "can't be kept"
            self._hold(CLOSET_UNAVAILABLE, True)
            return
        try:
            room = store.free_space()  # measured as the store measures it when it refuses a garment
            clock = self._clock_part(store)
            link = self._link()
            outbox = store.outbox.stats() if link is not None else None
        except (StoreError, OSError) as exc:
            self._failed(exc)
            self._hold(CLOSET_UNAVAILABLE, True)
            self._board.set(storage=StatusPart("storage", "unreadable", Level.ERROR))
            return
        self._last_error = ""
        self._hold(CLOSET_UNAVAILABLE, False)
        full = room.refuses()
        if full and self._board.current().storage.reason != STORAGE_FULL:
            log.warning("the closet's disk is full: %s MB free, below [store] min_free_mb", room.free_mb)
        self._hold(STORAGE_FULL, full)
        storage = StatusPart("storage", "full", Level.ERROR, STORAGE_FULL) if full else StatusPart("storage", "ok")
        parts = {"storage": storage, "clock": clock}
        if link is not None and outbox is not None:
            waiting = outbox.unacked
            if link.connected:
                parts["sync"] = StatusPart("sync", "online" if waiting == 0 else f"{waiting} waiting")
            else:
                parts["sync"] = StatusPart("sync", f"offline ({waiting} waiting)", Level.WARN)
        self._board.set(**parts)

    def _clock_part(self, store: ClosetStore) -> StatusPart:
        """``clock: not set`` while the wall clock is certainly wrong (``mirror.wallclock``), said once in the log."""
        wrong = clock_problem(datetime.now(UTC), store.newest_time())
        if wrong and self._board.current().clock.level is Level.OK:
            log.warning("the clock is wrong (%s); connect the mirror to the network (NTP) to set it", wrong)
        return StatusPart("clock", "not set", Level.WARN) if wrong else StatusPart("clock", "ok")

    def _guarded(self, job: Callable[[], None]) -> None:
        """Run one check; a failure is logged (see ``refresh``), never raised."""
        try:
            job()
        except Exception as exc:  # the calling thread must outlive any one check
            self._failed(exc, unexpected=not isinstance(exc, (StoreError, OSError)))

    def _failed(self, exc: BaseException, *, unexpected: bool = False) -> None:
        """Log a failed check once per distinct message (they repeat every few seconds)."""
        message = f"{type(exc).__name__}: {exc}"
        if message != self._last_error:
            self._last_error = message
            log.warning("checking the closet failed (%s); trying again", message, exc_info=unexpected)
