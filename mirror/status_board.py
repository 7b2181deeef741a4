"""The status line's parts, kept in one place and said once per change.

Why a class: the camera thread, the start-up steps, the periodic checks and the store worker
each change a part of the status line (``mirror.events.Status``). Every change must replace the
whole line atomically and reach the UI as one ``StatusChanged`` (none when nothing changed: the
checks repeat every few seconds), and a part that breaks must also be said to the person as an
``Error``. This board does that for all of them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace

from mirror.events import Error, Event, Level, Status, StatusChanged, StatusPart

log = logging.getLogger(__name__)


class StatusBoard:
    """The current ``Status``; thread-safe, and announcing each change through ``emit``."""

    def __init__(self, initial: Status, emit: Callable[[Event], None], clock: Callable[[], float]) -> None:
        self._status = initial
        self._lock = threading.Lock()
        self._emit = emit
        self._clock = clock

    def current(self) -> Status:
        """The status line as it is now."""
        with self._lock:
            return self._status

    def announce(self) -> None:
        """Say the whole line again (at start, so a UI that just connected has it)."""
        self._emit(StatusChanged(self.current(), at=self._clock()))

    def set(self, **parts: StatusPart) -> None:
        """Replace the named parts (``camera=``, ``sync=``, …); said only when the line changed."""
        with self._lock:
            new = replace(self._status, **parts)
            if new == self._status:
                return
            self._status = new
        self._emit(StatusChanged(new, at=self._clock()))

    def fail(self, part: str, message: str, fix: str, detail: str = "") -> None:
        """Mark ``part`` broken and say so: ``message``/``fix`` for the glass, ``detail`` for the log and About."""
        if detail:
            log.warning("%s: %s", part, detail)
        self.set(**{part: StatusPart(part, "error", Level.ERROR)})
        self._emit(Error(message, fix, part, detail, at=self._clock()))
