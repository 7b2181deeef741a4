"""The camera thread: preview frames in, frame and state events out, the shot taken on cue.

Per frame: read the preview, measure the change inside the last detected garment box,
advance the auto-capture machine, emit the frame (display-ready: mirror-flipped when
``hflip``, overlay in the same pixels) and hand the frame to the detector. When the machine
says ``shoot`` (or the person asked), take a burst of full-resolution stills, keep the
sharpest inside the garment's box, and pass it on. Only this thread touches the source:
camera drivers are not thread-safe, and a still in the middle of a preview read fails.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from mirror.camera.base import CameraError, FrameSource
from mirror.capture.background import Background
from mirror.capture.detector import Candidate, Detection, Detector
from mirror.capture.machine import AutoCapture, Sighting, Tick
from mirror.capture.motion import MotionMeter
from mirror.capture.sharpness import scale_box, sharpest
from mirror.capture.small import shrink
from mirror.events import CaptureState, CaptureStateChanged, Event, FrameReady
from mirror.imagetypes import Box, Image, Polygon

log = logging.getLogger(__name__)

#: Full-resolution stills taken per shot; the sharpest inside the garment's box is analysed.
BURST = 3
#: A detection older than this no longer says where the garment is.
DETECTION_STALE_S = 1.5
#: An empty, still room is looked at by the segmenter only this often (seconds): each look costs
#: ~30 ms of CPU here and 3–5× that on a Pi, which at the detector's full rate was most of an idle
#: mirror's CPU, all day. Any change in the picture (someone walking in) is looked at at once.
IDLE_DETECT_S = 2.0
#: Mean grey-level change over the whole shrunk preview that counts as "the picture changed"
#: (sensor noise after the meter's shrink and blur is well under 1).
SCENE_CHANGE = 1.5
#: Share of a detected garment's box that must differ from the idle scene for it to count.
MIN_FOREGROUND = 0.3
#: Resting: once the room has been empty and still for ``REST_AFTER_S`` and nobody watches the
#: preview (the capture screen is not showing), frames are looked at only this often; the rest are
#: read (the driver must be drained) and dropped. Why: measuring, learning the background and
#: handing a frame to the UI at the camera's full rate was most of an idle mirror's CPU, all day,
#: for a picture nobody saw. Someone walking in changes the picture, and the next frame looked at
#: (within 1 / ``IDLE_REST_FPS`` s) brings the full rate back.
IDLE_REST_FPS = 5.0
REST_AFTER_S = 5.0


@dataclass(frozen=True)
class Shot:
    """The chosen still of one capture, with where the garment was and whether a person asked."""

    capture_id: int
    still: Image
    box: Box | None
    manual: bool
    sharpness_pick: int  # index of the chosen frame in the burst


def flip_box(box: Box, width: int) -> Box:
    """``box`` in a horizontally mirrored image of ``width`` pixels."""
    x0, y0, x1, y1 = box
    return width - x1, y0, width - x0, y1


def flip_polygon(poly: Polygon, width: int) -> Polygon:
    """``poly`` in a horizontally mirrored image of ``width`` pixels."""
    return tuple((width - 1 - x, y) for x, y in poly)


class CaptureLoop:
    """Owns the source, the motion meter and the auto-capture machine; runs on one thread."""

    def __init__(
        self,
        source: FrameSource,
        machine: AutoCapture,
        detector: Detector,
        emit: Callable[[Event], None],
        on_shot: Callable[[Shot], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        hflip: bool = False,
        burst: int = BURST,
        on_beat: Callable[[], None] | None = None,
        on_camera_error: Callable[[str], None] | None = None,
        preview_watched: threading.Event | None = None,
    ) -> None:
        """``preview_watched``: set while the capture screen shows the preview (``None``: always
        watched, never resting)."""
        self.source = source
        self.machine = machine
        self.detector = detector
        self.emit = emit
        self.on_shot = on_shot
        self.clock = clock
        self.hflip = hflip
        self.burst = burst
        self.on_beat = on_beat
        self.on_camera_error = on_camera_error
        self.meter = MotionMeter()
        self.background = Background()
        self.seq = 0
        self.capture_id = 0
        self._lock = threading.Lock()  # guards the machine: the service calls resume/reviewed
        self._manual = threading.Event()
        self._generation = 0  # resume() calls so far: a shot decided before the latest one is dropped
        self._looked_at = float("-inf")  # when a frame was last handed to the detector
        self.preview_watched = preview_watched
        self._processed_at = float("-inf")  # when a frame was last looked at (not dropped while resting)
        self._still_since = float("inf")  # since when the room has been empty and still (inf: it is not)
        self._stop = threading.Event()
        self.ended = threading.Event()

    # --- called from other threads --------------------------------------------------------

    def request_shot(self) -> None:
        """Take the shot at the next frame (manual capture)."""
        self._manual.set()

    def reviewed(self) -> None:
        """The analysis is done and its result is shown."""
        self._apply(self.machine.reviewed)

    def resume(self, *, rearm: bool) -> None:
        """Back to watching (after keep or cancel: ``rearm=False``; after retake or a failure: ``True``).

        A manual shot asked for before this and not yet taken is dropped with it: a Space
        press and a Cancel within one frame must not still shoot at the next frame. Cleared
        under the lock that ``step`` reads the request under, so the two cannot interleave.
        """
        with self._lock:
            self._manual.clear()
            self._generation += 1
            tick = self.machine.resume(rearm=rearm)
            # Look again at the next frame, not up to IDLE_DETECT_S later: the detection was cleared,
            # and the person, still holding the garment up, is owed "still seen" at once.
            self._looked_at = float("-inf")
            self._still_since = float("inf")  # nor rest: someone was just here
        self._announce(tick)
        self.detector.pause(False)

    def hold_off(self, on: bool) -> None:
        """Auto-capture off (``on``) while the person browses, or on again."""
        self._apply(lambda: self.machine.hold_off(on))

    def _apply(self, change: Callable[[], Tick]) -> None:
        with self._lock:
            tick = change()
        self._announce(tick)

    # --- the thread ---------------------------------------------------------------------

    def stop(self) -> None:
        """Ask ``run`` to return after the frame it is on (the caller owns the thread and joins it)."""
        self._stop.set()

    def run(self) -> None:
        """Read frames until stopped, the source ends, or the camera fails."""
        try:
            while not self._stop.is_set():
                if not self.step():
                    break
        except CameraError as exc:
            log.error("%s", exc)
            if self.on_camera_error is not None:
                self.on_camera_error(str(exc))
        except Exception as exc:  # a driver's own error (libcamera "frontend timed out"): same as a lost camera
            log.exception("camera %s failed", self.source.name)
            if self.on_camera_error is not None:
                self.on_camera_error(f"camera {self.source.name} failed ({type(exc).__name__}: {exc})")
        finally:
            self.ended.set()

    def step(self) -> bool:
        """One frame: returns False when the source has ended."""
        frame = self.source.read()
        if self.on_beat is not None:
            self.on_beat()
        if frame is None:
            return False
        now = self.clock()
        if self._resting(now):
            return True
        self._processed_at = now
        small = shrink(frame, self.meter.work_width)  # once per frame, for the meter and the background
        background_small = small if self.background.work_width == self.meter.work_width else None
        garment = self._garment(frame, self._fresh(self.detector.latest(), now), background_small)
        box = garment.box if garment is not None else None
        motion = self.meter.measure(frame, box, small)
        manual = False
        with self._lock:
            generation = self._generation
            tick = self.machine.update(now, Sighting(box, motion) if box is not None else None)
            if self._manual.is_set() and not tick.shoot:
                self._manual.clear()
                tick = self.machine.manual()
                manual = tick.shoot
        self._announce(tick)
        still = tick.state is CaptureState.IDLE and box is None and motion is not None and motion < SCENE_CHANGE
        # Not under the lock: a resume() in between may have its reset overwritten, which costs only
        # a rest begun on a room that was, in fact, still.
        self._still_since = min(self._still_since, now) if still else float("inf")
        if tick.state is CaptureState.IDLE:
            self.background.learn(frame, background_small)
        self._emit_frame(frame, tick.state, garment, now)
        if tick.shoot:
            self._shoot(frame, box, manual=manual, generation=generation)
        elif tick.state not in (CaptureState.CAPTURING, CaptureState.ANALYSING, CaptureState.REVIEW) and (
            tick.state is not CaptureState.IDLE or self._worth_a_look(box, motion, now)
        ):
            self._looked_at = now
            self.detector.offer(frame)
        return True

    def _resting(self, now: float) -> bool:
        """Whether to drop this frame unlooked at: see :data:`IDLE_REST_FPS`. Never while the preview
        is watched, a manual shot is asked for, or the machine is anywhere but idle."""
        watched = self.preview_watched
        if watched is None or watched.is_set() or self._manual.is_set():
            return False
        if self.machine.state is not CaptureState.IDLE or now - self._still_since < REST_AFTER_S:
            return False
        # Less a millisecond: frames due exactly on the rest period (every 3rd at 15 fps) are not
        # dropped by rounding, which would stretch it by a frame.
        return now - self._processed_at < 1.0 / IDLE_REST_FPS - 1e-3

    def _worth_a_look(self, box: Box | None, motion: float | None, now: float) -> bool:
        """While idle: a garment in view, a picture that changed (``motion`` is over the whole frame when
        no garment is in view), or the room not looked at for :data:`IDLE_DETECT_S`."""
        changed = motion is None or motion >= SCENE_CHANGE
        return box is not None or changed or now - self._looked_at >= IDLE_DETECT_S

    def _fresh(self, detection: Detection | None, now: float) -> Detection | None:
        if detection is None or now - detection.at > DETECTION_STALE_S:
            return None
        return detection

    def _garment(
        self, frame: Image, detection: Detection | None, small: npt.NDArray[np.float32] | None = None
    ) -> Candidate | None:
        """The most prominent detected garment that was brought into the scene (not part of the room)."""
        if detection is None:
            return None
        for candidate in detection.candidates:
            if self.background.foreground(frame, candidate.box, small) >= MIN_FOREGROUND:
                return candidate
        return None

    def _announce(self, tick: Tick) -> None:
        if tick.changed:
            self.emit(CaptureStateChanged(tick.state, tick.progress, tick.countdown, at=self.clock()))

    def _emit_frame(self, frame: Image, state: CaptureState, garment: Candidate | None, now: float) -> None:
        self.seq += 1
        box = garment.box if garment is not None else None
        outline = garment.outline if garment is not None else ()
        width = frame.shape[1]
        if self.hflip:
            frame = np.asarray(cv2.flip(frame, 1), dtype=np.uint8)
            box = flip_box(box, width) if box is not None else None
            outline = tuple(flip_polygon(p, width) for p in outline)
        self.emit(FrameReady(frame, state, box, outline, mirrored=self.hflip, seq=self.seq, at=now))

    def _shoot(self, preview: Image, box: Box | None, *, manual: bool, generation: int) -> None:
        """Take the burst, keep the sharpest still, hand it to the analysis.

        ``generation`` is the count of ``resume`` calls when this frame decided to shoot: a
        cancel that lands after the decision (between the lock in ``step`` and here) bumps
        it, and the shot is dropped instead of analysed.
        """
        self.detector.pause(True)
        try:
            stills = self.source.stills(self.burst)
        except Exception:
            self.resume(rearm=True)  # the shot is lost; do not stay "capturing" forever
            self.detector.pause(False)
            raise
        h, w = preview.shape[:2]
        full_box = scale_box(box, (w, h), (stills[0].shape[1], stills[0].shape[0])) if box is not None else None
        pick = sharpest(stills, full_box)
        self.capture_id += 1
        with self._lock:
            if generation != self._generation:  # resumed (cancelled) after the decision
                dropped = Tick(self.machine.state, changed=True)  # the state resume set, said again
            else:
                dropped = None
                tick = self.machine.analysing()
        if dropped is not None:
            self._announce(dropped)  # step announced "capturing" after resume had spoken
            self.detector.pause(False)
            return
        self._announce(tick)
        self.on_shot(Shot(self.capture_id, stills[pick], full_box, manual, pick))
