"""The auto-capture state machine: when to take the shot, as pure logic.

Why pure: every decision here depends on time (held still for N ms, a countdown of N
seconds) and the tests must check them exactly without sleeping. So the machine never reads
a clock: each call passes ``now`` (seconds, monotonic) and what the camera saw, and it
answers with a :class:`Tick` (state, progress, countdown, and ``shoot`` exactly once).

Flow: IDLE → PRESENT (a garment in view) → HOLDING (little change inside its box; progress
climbs over ``hold_still_ms``) → COUNTDOWN (``countdown_s``; movement cancels it back to
PRESENT) → CAPTURING (``shoot``) → ANALYSING → REVIEW → (keep / retake) → IDLE. A
garment lost for longer than ``lost_after_ms`` returns to IDLE. After ``keep`` the machine
waits for the garment to leave before it captures again, so one held shirt is one record;
after ``retake`` it may capture the same garment again at once. While the person browses
the closet (``hold_off``) a garment in view stays PRESENT: no hold, no countdown, no shot
over the screen they are reading; a manual shot still works.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mirror.events import CaptureState
from mirror.imagetypes import Box

#: Mean grey-level change per frame inside the box under which the garment counts as still.
STILL_BELOW = 2.5
#: A box that overlaps the box where stillness began by less than this has moved.
SAME_PLACE_IOU = 0.7
#: A garment unseen for this long has gone (single missed detections are forgiven).
LOST_AFTER_MS = 700
#: Progress is reported in these steps, so a progress bar gets ~20 events, not one per frame.
PROGRESS_STEP = 0.05

_BUSY = (CaptureState.CAPTURING, CaptureState.ANALYSING, CaptureState.REVIEW)


@dataclass(frozen=True)
class Sighting:
    """A garment in view: its box (preview pixels) and the change inside it since the last frame."""

    box: Box
    motion: float | None  # None when unknown (first frame): counts as moving


@dataclass(frozen=True)
class Tick:
    """The machine's answer to one update; ``changed`` says whether the UI needs to hear of it."""

    state: CaptureState
    progress: float = 0.0
    countdown: int | None = None
    shoot: bool = False
    changed: bool = False


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class AutoCapture:
    """Decides when to shoot from a stream of sightings; see the module docstring for the flow."""

    def __init__(
        self,
        hold_still_ms: int,
        countdown_s: int,
        *,
        auto: bool = True,
        still_below: float = STILL_BELOW,
        lost_after_ms: int = LOST_AFTER_MS,
    ) -> None:
        self.hold_s = hold_still_ms / 1000.0
        self.countdown_s = float(countdown_s)
        self.auto = auto
        self.still_below = still_below
        self.lost_after_s = lost_after_ms / 1000.0
        self.state = CaptureState.IDLE
        self._armed = True
        self._held_off = False
        self._last_seen: float | None = None
        self._absent_since: float | None = None
        self._still_since: float | None = None
        self._anchor: Box | None = None
        self._countdown_end: float | None = None
        self._reported: tuple[CaptureState, float, int | None] = (CaptureState.IDLE, 0.0, None)

    # --- what the camera sees -----------------------------------------------------------

    def update(self, now: float, sighting: Sighting | None) -> Tick:
        """Advance with what the latest preview frame showed (``None``: no garment)."""
        if self.state in _BUSY:
            return self._tick()
        if sighting is None:
            return self._absent(now)
        self._last_seen = now
        self._absent_since = None
        if not (self.auto and self._armed) or self._held_off:
            self._rest(CaptureState.PRESENT)
            return self._tick()
        if self._moved(sighting):
            self._rest(CaptureState.PRESENT)
            return self._tick()
        if self._still_since is None:
            self._still_since, self._anchor = now, sighting.box
        return self._advance(now)

    def _absent(self, now: float) -> Tick:
        """No garment this frame: forgive a short gap, re-arm after a real absence.

        The gap is timed from the first empty frame, not from the last sighting, so that
        right after ``resume`` (when nothing has been seen yet) a kept garment that is still
        held is not taken for a new one.
        """
        if self._absent_since is None:
            self._absent_since = now
        brief = now - self._absent_since < self.lost_after_s
        if brief and (self._last_seen is not None or not self._armed):
            return self._advance(now) if self.state is CaptureState.COUNTDOWN else self._tick()
        self._last_seen = None
        self._armed = True
        self._rest(CaptureState.IDLE)
        return self._tick()

    def _moved(self, sighting: Sighting) -> bool:
        if sighting.motion is None or sighting.motion > self.still_below:
            return True
        return self._anchor is not None and iou(self._anchor, sighting.box) < SAME_PLACE_IOU

    def _advance(self, now: float) -> Tick:
        """Time passes while the garment is held still: hold progress, then countdown, then shoot."""
        assert self._still_since is not None
        if self.state is not CaptureState.COUNTDOWN:
            if now - self._still_since < self.hold_s:
                self.state = CaptureState.HOLDING
                return self._tick()
            self.state = CaptureState.COUNTDOWN
            self._countdown_end = now + self.countdown_s
        assert self._countdown_end is not None
        if now >= self._countdown_end:
            return self._shoot()
        return self._tick(now)

    def _rest(self, state: CaptureState) -> None:
        """Go to IDLE or PRESENT, forgetting any hold or countdown in progress."""
        self.state = state
        self._still_since = self._anchor = self._countdown_end = None

    # --- what the person and the service do ---------------------------------------------

    def manual(self) -> Tick:
        """Shoot now (button, key, MQTT command), unless a shot is already being taken or shown."""
        if self.state in (CaptureState.CAPTURING, CaptureState.ANALYSING):
            return self._tick()
        return self._shoot()

    def hold_off(self, on: bool) -> Tick:
        """Stop (``on``) or allow again auto-capture; a hold or countdown in progress is dropped."""
        self._held_off = on
        if on and self.state in (CaptureState.HOLDING, CaptureState.COUNTDOWN):
            self._rest(CaptureState.PRESENT)
        return self._tick()

    def analysing(self) -> Tick:
        """The still is taken; the analysis worker has it."""
        self.state = CaptureState.ANALYSING
        return self._tick()

    def reviewed(self) -> Tick:
        """The result is on screen; wait for keep or retake."""
        self.state = CaptureState.REVIEW
        return self._tick()

    def resume(self, *, rearm: bool) -> Tick:
        """Back to watching after keep (``rearm=False``: wait for the garment to leave) or retake/failure."""
        self._armed = rearm
        self._last_seen = self._absent_since = None
        self._rest(CaptureState.IDLE)
        return self._tick()

    # --- answers ------------------------------------------------------------------------

    def _shoot(self) -> Tick:
        self._rest(CaptureState.CAPTURING)
        return self._tick(shoot=True)

    def _progress(self, now: float | None) -> tuple[float, int | None]:
        if self.state is CaptureState.COUNTDOWN and self._countdown_end is not None and now is not None:
            return 1.0, max(1, math.ceil(self._countdown_end - now - 1e-9))
        if self.state is CaptureState.HOLDING and self._still_since is not None and self._last_seen is not None:
            held = (self._last_seen - self._still_since) / self.hold_s if self.hold_s > 0 else 1.0
            return math.floor(min(1.0, held) / PROGRESS_STEP) * PROGRESS_STEP, None
        return 0.0, None

    def _tick(self, now: float | None = None, *, shoot: bool = False) -> Tick:
        if now is None and self.state is CaptureState.COUNTDOWN:
            now = self._last_seen
        progress, countdown = self._progress(now)
        current = (self.state, round(progress, 4), countdown)
        changed = current != self._reported
        self._reported = current
        return Tick(self.state, current[1], countdown, shoot=shoot, changed=changed)
