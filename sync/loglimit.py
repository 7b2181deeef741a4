"""A cap on how often one kind of line reaches the log.

Why: what the mirror logs about messages from the network (a malformed ack, a rejected version, a
command refused for its rate) is one line each, and a buggy or hostile peer can send thousands a
minute. journald drops a service's lines beyond its burst limit (10,000 per 30 s by default), the
mirror's own among them, and an SD card pays for every one. So each kind gets a few lines per
window, then a note that more are only counted, and the count when the next window opens.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class LogLimit:
    """At most ``burst`` lines per ``window_s`` through :meth:`log`; the rest are counted and reported."""

    def __init__(
        self,
        logger: logging.Logger,
        burst: int = 5,
        window_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._burst = burst
        self._window_s = window_s
        self._clock = clock
        self._opened = clock()
        self._said = 0
        self._left_out = 0

    def log(self, level: int, message: str, *args: object) -> None:
        now = self._clock()
        if now - self._opened >= self._window_s:
            if self._left_out:
                self._logger.log(level, "%d more like that were left out of the log in the last %.0f min",
                                 self._left_out, (now - self._opened) / 60)  # fmt: skip
            self._opened, self._said, self._left_out = now, 0, 0
        if self._said < self._burst:
            self._said += 1
            suffix = "" if self._said < self._burst else " (more like this are only counted for a while)"
            self._logger.log(level, message + suffix, *args)
        else:
            self._left_out += 1
