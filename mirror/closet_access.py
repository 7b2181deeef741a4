"""The closet as the running mirror holds it: opened late or never, written on one worker thread.

Why apart from the service: the closet may not open at start (a card mounted late, a disk
remounted writable after a check) and is then retried; every change must run off the GUI
thread, one at a time, and end in an event the UI shows, whatever fails; and reads must answer
something sensible while there is no closet. ``ClosetStore`` knows none of that: it is the data.
This is the mirror's hold on it.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from mirror.config import Settings
from mirror.device import device_id
from mirror.events import Error, Event, Record
from mirror.status_board import StatusBoard
from mirror.store import ClosetCounts, ClosetStore, StoreError
from mirror.wording import store_problem

log = logging.getLogger(__name__)

#: The closet's answer while it is not open (``StoreError``; the UI says it plainly).
NOT_OPEN = "the closet is not open; check [store] data_dir"
#: What the glass says of a garment that cannot be kept while the closet is not open.
NOT_OPEN_NOTICE = ("The closet can't be opened right now", "the mirror keeps trying")


class ClosetAccess:
    """Opens the closet (again, until it opens), runs each change as a job on one worker thread,
    and answers reads with nothing while there is no closet."""

    def __init__(
        self,
        settings: Settings,
        board: StatusBoard,
        *,
        emit: Callable[[Event], None],
        clock: Callable[[], float],
        after_change: Callable[[], None],
        store: ClosetStore | None = None,
    ) -> None:
        """``after_change`` runs on the worker after every job (the status line looks at the disk again);
        ``store``: a closet opened by the caller (a test's), which the caller closes; else one is opened
        from ``[store]`` by ``open`` and closed by ``close``."""
        self._settings = settings
        self._board = board
        self._emit = emit
        self._clock = clock
        self._store = store
        self._owns_store = store is None
        self._lock = threading.Lock()  # the start-up thread and the retry on the worker
        self._error = ""  # why the closet could not be opened (retried while set)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._after_change = after_change
        self.device_id = device_id(settings)
        """The id the mirror goes by: read again when the closet opens (it keeps the id of its garments)."""

    @property
    def store(self) -> ClosetStore | None:
        """The open closet, or ``None`` before it opens (or while it cannot)."""
        return self._store

    @property
    def problem(self) -> str:
        """Why the closet is not open: the open's own words (damaged, disk full, …) once it has failed."""
        return self._error or NOT_OPEN

    @property
    def folder(self) -> Path:
        return self._settings.store.path()

    # --- opening ----------------------------------------------------------------------------

    def open(self) -> None:
        """Open the closet if it is not open; a failure is said once (as the storage part's error) and kept
        for ``reopen``."""
        with self._lock:
            if self._store is not None:
                return
            try:
                store = self._open_as_its_own()
            except Exception as exc:  # a StoreError says it all; anything else is retried all the same
                message = str(exc) if isinstance(exc, StoreError) else f"the closet could not be opened ({exc})"
                if message != self._error:  # said once, not at every retry
                    if not isinstance(exc, StoreError):
                        log.exception("opening the closet failed")
                    self._error = message
                    self._board.fail("storage", "The closet's disk could not be opened", "About shows why", message)
                return
            self._error = ""
            if store.device_id != self.device_id:
                log.info("device id %s, the id the closet's garments were made with", store.device_id)
            # The id first, then the closet: whoever sees the closet (the sync link, started from
            # another thread) must see the id it goes with.
            self.device_id = store.device_id
            self._store = store

    def _open_as_its_own(self) -> ClosetStore:
        """The closet, opened under the id its garments were made with (``mirror.device``).

        Read again now, not only at construction: a closet on a disk mounted after boot keeps the
        mirror's identity. And read again once it is open: a disk mounted between the first read
        and the open would otherwise be opened under this machine's id, and every garment kept
        from then on refused by the cloud as another device's."""
        floor = self._settings.store.min_free_mb
        first = device_id(self._settings)
        store = ClosetStore.open(self.folder, first, min_free_mb=floor)
        held = device_id(self._settings)
        if held == first:
            return store
        store.close()
        return ClosetStore.open(self.folder, held, min_free_mb=floor)

    def reopen(self) -> bool:
        """Open the closet if it could not be opened before; ``True`` when it opened just now."""
        if self._store is not None or not self._error:
            return False
        self.open()
        if self._store is None:
            return False
        log.info("the closet at %s is open now", self.folder)
        return True

    def warm(self) -> None:
        """Decode every garment once, off the GUI thread and after the models (the first capture matters
        more): the closet screen then lists from the store's cache (a Pi takes several hundred ms for a
        large closet's first read)."""
        if self._store is not None:
            try:
                self._store.list()
            except StoreError:  # only a warm-up: the closet screen's own read reports the problem
                log.debug("warming the closet cache failed", exc_info=True)

    def finish(self) -> None:
        """Run the queued changes to their end and take no more (a garment kept at the last moment is
        kept); the closet stays open for whoever still reads it (the sync link, until it stops)."""
        self._pool.shutdown(wait=True)

    def close(self) -> None:
        """Finish the queued changes, then close a closet this opened: the last of the mirror to stop."""
        self.finish()
        if self._store is not None and self._owns_store:
            self._store.close()

    # --- changes, on the worker ---------------------------------------------------------------

    def submit(self, job: Callable[[ClosetStore], Event]) -> None:
        """Run ``job`` on the worker and emit its event; any failure is emitted as an ``Error`` instead."""
        try:
            self._pool.submit(self._run, job)
        except RuntimeError:  # closed: the mirror is stopping
            self._emit(Error("The mirror is stopping", "try again once it has restarted", at=self._clock()))

    def _run(self, job: Callable[[ClosetStore], Event]) -> None:
        store = self._store
        if store is None:
            self._emit(Error(*NOT_OPEN_NOTICE, "storage", self.problem, at=self._clock()))
            return
        try:
            self._emit(job(store))
        except (StoreError, ValueError) as exc:
            self._emit(Error(*store_problem(exc), "storage", str(exc), at=self._clock()))
        except Exception as exc:  # a failed save must be seen, not lost in a worker thread
            log.exception("closet operation failed")
            detail = f"the closet operation failed ({exc}); see the log"
            self._emit(Error(*store_problem(exc), "storage", detail, at=self._clock()))
        self._after_change()

    # --- reads, on any thread -------------------------------------------------------------------

    def records(self, category: str | None = None, basic_color: str | None = None) -> list[Record]:
        """Live records, newest first, optionally filtered (empty while the closet is not open)."""
        store = self._store
        return store.list(category=category, basic_color=basic_color) if store is not None else []

    def counts(self) -> ClosetCounts:
        """Records per category and per basic colour (none while the closet is not open)."""
        store = self._store
        return store.counts() if store is not None else ClosetCounts()

    def unacked_ids(self) -> set[str]:
        """Ids of records with a version the cloud has not acked (none while the closet is not open)."""
        store = self._store
        return store.outbox.unacked_ids() if store is not None else set()

    def image_path(self, record: Record, kind: str) -> Path:
        """The file of one of a record's images (``StoreError`` while the closet is not open)."""
        store = self._store
        if store is None:
            raise StoreError(NOT_OPEN)
        return store.image_path(record, kind)
