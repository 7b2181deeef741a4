"""A shot's way from the camera to the screen, and what a cancel does to it on the way.

Why a class of its own: a shot crosses three threads (taken on the camera thread, analysed on
the analysis thread, kept on the store's) while the person may cancel, retake or keep at any
moment from the GUI thread, and a remote command may ask what is on the screen. The rule that
holds it together: ``cancel`` bumps an epoch, every shot carries the epoch it began in, and a
shot from an older epoch is dropped (said as ``AnalysisFailed(cancelled=True)``) instead of
shown. The result under review is kept here too, so a remote ``keep`` or ``retake`` knows
whether there is anything to act on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from mirror.capture.loop import Shot
from mirror.events import AnalysisDone, AnalysisFailed, AnalysisStarted, Event
from mirror.pipeline.result import AnalysisResult


class Camera(Protocol):
    """What the flow tells the camera (``mirror.capture.supervisor.CameraSupervisor``)."""

    def resume(self, *, rearm: bool) -> None:
        """Watch for a garment again (``rearm``: at once; else once the garment is lowered)."""

    def reviewed(self) -> None:
        """The shot's result is on the screen."""


class CaptureFlow:
    """Epochs and the result on screen, guarded by one lock; the camera is told what comes next."""

    def __init__(self, camera: Camera, emit: Callable[[Event], None], clock: Callable[[], float]) -> None:
        self._camera = camera
        self._emit = emit
        self._clock = clock
        self._lock = threading.Lock()
        self._review: AnalysisResult | None = None
        self._cancel_epoch = 0
        # The epoch the shot being taken began in: only the camera thread touches it
        # (shot_begins and shot_taken run there).
        self._shot_epoch = 0

    @property
    def showing(self) -> bool:
        """A result is on the screen, waiting to be kept or retaken."""
        with self._lock:
            return self._review is not None

    def shot_begins(self) -> None:
        """The camera started a shot (``CaptureState.CAPTURING``): it belongs to the epoch now."""
        self._shot_epoch = self._cancel_epoch

    def shot_taken(self, shot: Shot) -> int | None:
        """The shot is ready for analysis: its epoch (``AnalysisStarted`` said), or ``None`` when a
        cancel came while it was taken (the camera then waits for the garment to be lowered)."""
        with self._lock:
            epoch = self._shot_epoch
            if epoch != self._cancel_epoch:
                self._camera.resume(rearm=False)
                return None
            self._emit(AnalysisStarted(shot.capture_id, shot.manual, at=self._clock()))
        return epoch

    def still_wanted(self, shot: Shot, epoch: int) -> bool:
        """Before the analysis: ``False`` (and said) when a cancel came after the shot was taken."""
        with self._lock:
            return not self._dropped(shot, epoch)

    def show(self, shot: Shot, epoch: int, result: AnalysisResult, *, held: bool) -> None:
        """The analysis found garments: on the screen, the camera waiting, unless a cancel came meanwhile."""
        with self._lock:
            if self._dropped(shot, epoch):
                return
            self._review = result
            self._camera.reviewed()
            self._emit(AnalysisDone(shot.capture_id, result, held=held, at=self._clock()))

    def fail(self, shot: Shot, epoch: int, reason: str, detail: str) -> None:
        """The analysis found nothing or failed: said, and the camera watches again at once, unless a cancel
        came meanwhile."""
        with self._lock:
            if self._dropped(shot, epoch):
                return
            self._emit(AnalysisFailed(shot.capture_id, reason, detail=detail, at=self._clock()))
            self._camera.resume(rearm=True)

    def cancel(self) -> None:
        """Drop the shot in progress and any result waiting; the garment must be lowered before the next
        auto-capture."""
        with self._lock:
            self._cancel_epoch += 1
            self._review = None
            self._camera.resume(rearm=False)

    def retake(self) -> None:
        """Drop the result on screen and watch for a garment at once."""
        with self._lock:
            self._review = None
        self._camera.resume(rearm=True)

    def kept(self, result: AnalysisResult) -> None:
        """The result is being kept: a remote keep or retake now has nothing to act on."""
        with self._lock:
            if self._review is result:
                self._review = None

    def _dropped(self, shot: Shot, epoch: int) -> bool:
        """True (and said) when ``cancel`` came after this shot was taken; call with the lock held."""
        if epoch == self._cancel_epoch:
            return False
        self._emit(AnalysisFailed(shot.capture_id, "cancelled", cancelled=True, at=self._clock()))
        return True
