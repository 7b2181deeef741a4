"""Keeps the camera open and its capture loop running, for as long as the mirror runs.

Opens the camera (retrying every few seconds while it is missing: a camera plugged in late, a
driver still loading at boot), runs the ``CaptureLoop`` on the calling thread until it ends, and
opens it again after a failure. Each failure is said once (a camera that opens but fails at once
would say the same at every retry) and again only after frames have flowed in between; when
frames flow again after a gap, a hold or countdown from before it is forgotten.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

from mirror.camera import CameraError, CameraSetupError, FrameSource, make_source
from mirror.capture.detector import Detector
from mirror.capture.loop import CaptureLoop, Shot
from mirror.capture.machine import AutoCapture
from mirror.config.settings import CameraSettings
from mirror.events import CAMERA_SETUP, CaptureState, CaptureStateChanged, Error, Event, Level, StatusPart
from mirror.health import Health

log = logging.getLogger(__name__)

#: Seconds between attempts to open a missing camera, and before reopening a failed one.
CAMERA_RETRY_S = 5.0
#: After this long without a camera, attempts slow to one every :data:`CAMERA_RETRY_SLOW_S`: a camera
#: still missing after minutes is unplugged, not loading, and every attempt makes the drivers log.
CAMERA_PATIENCE_S = 300.0
CAMERA_RETRY_SLOW_S = 60.0
#: Seconds without a frame after which the health watchdog counts the camera as hung.
CAMERA_DEADLINE_S = 10
#: Seconds an open of the camera may take before the watchdog counts it as hung (a libcamera
#: open and configure takes a few seconds at boot; one that blocks for good must not leave the
#: mirror at "camera: missing" for ever, with the watchdog still pinging).
CAMERA_OPEN_DEADLINE_S = 30


class CameraSupervisor:
    """The camera's life on one thread: open, run the loop, report, reopen."""

    def __init__(
        self,
        settings: CameraSettings,
        machine: AutoCapture,
        detector: Detector,
        *,
        emit: Callable[[Event], None],
        on_loop_event: Callable[[Event], None],
        on_shot: Callable[[Shot], None],
        set_status: Callable[[StatusPart], None],
        stop: threading.Event,
        clock: Callable[[], float],
        health: Health,
        source: FrameSource | None = None,
        preview_watched: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.machine = machine
        self.source = source
        """The camera (given, or made from the settings at the first open)."""
        self.loop: CaptureLoop | None = None
        """The running capture loop; ``None`` until the camera first opens."""
        self._detector = detector
        self._emit = emit
        self._on_loop_event = on_loop_event
        self._on_shot = on_shot
        self._set_status = set_status
        self._stop = stop
        self._clock = clock
        self._health = health
        self._preview_watched = preview_watched
        self._error = ""  # the failure of the current spell without frames
        self._reported = ""  # the last failure said as an Error

    @property
    def running(self) -> bool:
        """A loop is running that can take a shot now."""
        loop = self.loop
        return loop is not None and not loop.ended.is_set()

    # --- the running loop, for the service: each does nothing while there is none -------------

    def request_shot(self) -> None:
        """Take the shot at the next frame (manual capture); see ``running`` first."""
        loop = self.loop
        if loop is not None:
            loop.request_shot()

    def resume(self, *, rearm: bool) -> None:
        """Back to watching for a garment (``rearm``: at once; else once the garment is lowered)."""
        loop = self.loop
        if loop is not None:
            loop.resume(rearm=rearm)

    def reviewed(self) -> None:
        """The shot's result is on the screen."""
        loop = self.loop
        if loop is not None:
            loop.reviewed()

    def hold_off(self, held: bool) -> None:
        """Auto-capture off (``held``) or on again; before the camera first opens, on the machine itself
        (no camera thread yet: nothing else touches it)."""
        loop = self.loop
        if loop is not None:
            loop.hold_off(held)
        else:
            self.machine.hold_off(held)

    def run(self) -> None:
        """Supervise until ``stop`` is set: open the camera, run the loop, reopen it after a failure."""
        reported = ""
        missing_since: float | None = None
        while not self._stop.is_set():
            # Watched while it opens: a driver that never returns from open() stops the watchdog's
            # pings (systemd restarts the mirror) instead of hanging unseen.
            self._health.register("camera", deadline_s=CAMERA_OPEN_DEADLINE_S)
            try:
                source = self.source or make_source(self.settings)
                source.open()
            except Exception as exc:  # CameraError, or a driver's own (PermissionError on /dev/video0…)
                self._health.unregister("camera")  # it answered: waiting to retry is not hanging
                message = str(exc) if isinstance(exc, CameraError) else f"camera failed to open ({exc})"
                if message != reported:
                    reported = message
                    self.failed(reported, setup=isinstance(exc, CameraSetupError))
                    if not isinstance(exc, (CameraError, OSError)):  # not a camera's answer: a bug, so its
                        # traceback goes to the journal, once per distinct failure like the message
                        log.error("opening the camera raised %s; retrying", type(exc).__name__, exc_info=exc)
                now = self._clock()
                missing_since = now if missing_since is None else missing_since
                patient = now - missing_since < CAMERA_PATIENCE_S
                self._stop.wait(CAMERA_RETRY_S if patient else CAMERA_RETRY_SLOW_S)
                continue
            self.source, reported, missing_since = source, "", None
            recovering = bool(self._error)
            # The loop exists before the status says the camera is there: a capture asked for
            # as soon as the status line shows it must find a loop to take it.
            self.loop = self._make_loop(source)
            if recovering:
                self.after_gap()
            self._set_status(StatusPart("camera", source.name))
            self._health.register("camera", deadline_s=CAMERA_DEADLINE_S)
            if self._stop.is_set():  # stop() ran before the loop existed, so it could not stop it
                return
            self.loop.run()  # returns when stopped, ended or failed
            if self._stop.is_set():
                return
            if not self._error:  # no frame and no error: a dead stream, not a finished job
                self.failed(f"camera {source.name} stopped delivering frames")
            with contextlib.suppress(Exception):  # closing a failed camera may fail too
                source.close()
            self._health.unregister("camera")
            self._stop.wait(CAMERA_RETRY_S)

    def stop_loop(self) -> None:
        """Stop the running loop (``run`` then returns, ``stop`` being set)."""
        if self.loop is not None:
            self.loop.stop()

    def close_camera(self) -> None:
        """Close the camera once ``run`` has returned; a driver failing to close is logged, not raised
        (the closet must still be closed after it)."""
        if self.source is not None:
            try:
                self.source.close()
            except Exception:  # see above
                log.debug("closing the camera failed", exc_info=True)

    def after_gap(self) -> None:
        """Frames flow again after a failure: forget a hold or countdown from before it, and say so.

        Without this a countdown begun before the gap would fire on the first frame after it,
        shooting whatever the camera now sees, and the UI would keep showing "no camera"
        (the machine had not changed state, so it announced nothing).
        """
        machine = self.machine
        if machine.state not in (CaptureState.ANALYSING, CaptureState.REVIEW):  # a result in hand stays
            machine.resume(rearm=True)
        self._emit(CaptureStateChanged(machine.state, at=self._clock()))

    def failed(self, message: str, setup: bool = False) -> None:
        """The camera is missing or failed (``setup``: not set up, :class:`CameraSetupError`): the status, the
        capture state and (once) an Error say so."""
        self._error = message
        part = StatusPart("camera", "not set up", Level.ERROR, CAMERA_SETUP) if setup else StatusPart(
            "camera", "missing", Level.ERROR
        )
        self._set_status(part)
        self._emit(CaptureStateChanged(CaptureState.NO_CAMERA, at=self._clock()))
        flowed = self.loop is not None and self.loop.seq > 0
        if message != self._reported or flowed:
            self._reported = message
            self._emit(Error(message, about="camera", at=self._clock()))

    def _make_loop(self, source: FrameSource) -> CaptureLoop:
        self._error = ""
        return CaptureLoop(
            source,
            self.machine,
            self._detector,
            self._on_loop_event,
            self._on_shot,
            clock=self._clock,
            hflip=self.settings.hflip,
            on_beat=lambda: self._health.beat("camera"),
            on_camera_error=self.failed,
            preview_watched=self._preview_watched,
        )
