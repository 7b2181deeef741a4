"""Garment detection on the live preview, on its own thread, a few times a second.

Why a separate thread with a one-frame slot: the segmenter takes tens of milliseconds and
the camera delivers a frame every 66 ms; running it in the camera loop would make the
preview stutter. The camera thread drops its newest frame in the slot (replacing any frame
not yet looked at) and reads the latest detection whenever it wants; the detector never
queues a backlog and never runs more often than ``rate_hz``, which keeps an idle mirror's
CPU use low on a Pi.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mirror.imagetypes import Box, Image, Polygon
from mirror.threads import lower_this_thread_priority

log = logging.getLogger(__name__)

#: Detections per second on the preview (each costs one segmenter run).
RATE_HZ = 5.0


@dataclass(frozen=True)
class Candidate:
    """A garment the segmenter found in a preview frame (preview pixels)."""

    box: Box
    outline: tuple[Polygon, ...] = ()
    group: str = ""


@dataclass(frozen=True)
class Detection:
    """The garments found in one preview frame, most prominent first, and when."""

    at: float
    candidates: tuple[Candidate, ...] = ()


#: What the detector runs on a frame: its garments, most prominent first.
DetectFn = Callable[[Image], Sequence[Candidate]]


class Detector:
    """Runs ``detect`` on the newest offered frame, at most ``rate_hz`` times a second."""

    def __init__(
        self,
        detect: DetectFn | None = None,
        *,
        rate_hz: float = RATE_HZ,
        clock: Callable[[], float] = time.monotonic,
        on_beat: Callable[[], None] | None = None,
    ) -> None:
        self.detect = detect
        self.interval = 1.0 / rate_hz
        self._clock = clock
        self._on_beat = on_beat
        self._slot: Image | None = None
        self._latest: Detection | None = None
        self._cond = threading.Condition()
        self._paused = False
        self._stop = False
        self._thread: threading.Thread | None = None
        self.errors = 0

    def offer(self, frame: Image) -> None:
        """Hand over the newest preview frame (replaces one not yet examined)."""
        with self._cond:
            self._slot = frame
            self._cond.notify()

    def latest(self) -> Detection | None:
        """The most recent detection, or None before the first one."""
        return self._latest

    def pause(self, paused: bool) -> None:
        """Stop detecting while a shot is analysed (the models are busy, the CPU is needed)."""
        with self._cond:
            self._paused = paused
            self._slot = None
            if not paused:
                self._latest = None

    def step(self, frame: Image) -> Detection:
        """Detect on one frame now (the thread's body; tests call it directly)."""
        at = self._clock()
        found = tuple(self.detect(frame)) if self.detect is not None else ()
        detection = Detection(at, found)
        self._latest = detection
        return detection

    def start(self) -> None:
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="garment-detector", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        lower_this_thread_priority()  # the preview and the GUI come first
        next_at = 0.0
        while True:
            with self._cond:
                delay = next_at - self._clock()
                if delay > 0:  # rate limit first, so the frame examined is the newest one
                    self._cond.wait_for(lambda: self._stop, timeout=delay)
                self._cond.wait_for(lambda: self._stop or (self._slot is not None and not self._paused), timeout=1.0)
                if self._stop:
                    return
                frame, self._slot = self._slot, None
            if self._on_beat is not None:
                self._on_beat()
            if frame is None or self.detect is None:
                continue
            next_at = self._clock() + self.interval
            try:
                self.step(frame)
            except Exception:  # a bad frame must not end presence detection for good
                self.errors += 1
                log.exception("garment detection failed on a preview frame")
