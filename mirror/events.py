"""Typed events the headless core (``mirror.service.MirrorService``) emits for the UI.

Why events on a queue: the core must never call into Qt (the core stays Qt-free and
testable headless) and the GUI thread must never wait on the camera or on a model. The
service's threads put these immutable objects on ``MirrorService.events`` (a
``queue.Queue``); the UI drains it from a timer on the GUI thread and turns each one into a
signal or a screen change. Tests drain the same queue.

Contract for the UI:

- ``FrameReady`` arrives at the preview rate. Its image is display-ready (rotated and, when
  ``[camera] hflip``, mirror-flipped) and ``box``/``outline`` are in that image's pixels, so
  the UI draws them as they are. Frames are dropped (never other events) when the UI falls
  behind, so a slow consumer sees fewer frames, not a growing backlog.
- ``CaptureStateChanged`` arrives on every state change and whenever ``progress`` or
  ``countdown`` changes (drive the hold-still bar and countdown ring from it).
- One ``AnalysisStarted`` is followed by exactly one ``AnalysisDone`` or ``AnalysisFailed``
  with the same ``capture_id``.
- ``RecordSaved``/``RecordChanged``/``RecordDeleted`` answer ``keep``/``correct``/``delete``;
  ``Error`` answers any of them that failed (one line, plus the fix).
- ``StatusChanged`` arrives at start and whenever one part of the status line changes.
- ``CommandReceived`` is a remote command (MQTT) the core accepted; the UI carries it out
  as the matching key or button would (the core has already answered the sender).
- ``RecordsSynced`` names records the cloud has just confirmed (their sync badges change).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from mirror.imagetypes import Box, Image, Polygon
from mirror.pipeline.result import AnalysisResult
from mirror.store.records import ClosetCounts, Record


class CaptureState(str, enum.Enum):
    """Where the capture flow is; the UI picks its screen and hints from this."""

    IDLE = "idle"  # no garment in view (home screen)
    PRESENT = "present"  # a garment is in view but moving
    HOLDING = "holding"  # held still; ``progress`` climbs to 1 over [vision] hold_still_ms
    COUNTDOWN = "countdown"  # ``countdown`` seconds left before the shot
    CAPTURING = "capturing"  # taking the full-resolution still
    ANALYSING = "analysing"  # the worker is analysing the still
    REVIEW = "review"  # a result is shown; waits for keep / retake
    NO_CAMERA = "no_camera"  # the camera is missing or failed; see StatusChanged / Error


class Level(str, enum.Enum):
    """How a status part should look: fine, worth a glance, or broken."""

    OK = "ok"
    WARN = "warn"
    ERROR = "error"


@dataclass(frozen=True)
class StatusPart:
    """One part of the home screen's status line, e.g. ``camera: demo`` (ok).

    The subsystem (``label``) and its state (``detail``) are kept apart so that a screen that lays
    them out differently (About: label and value in two columns) never has to parse ``text``."""

    label: str
    """The subsystem, ``camera``; empty for a part that is a whole phrase (Home's plain words)."""
    detail: str
    """Its state for people, ``demo`` or ``offline (3 waiting)``; may be reworded."""
    level: Level = Level.OK
    reason: str = ""
    """Why the part is not OK, as a stable key for code that acts on it (``STORAGE_FULL``); the
    words are for people and may be reworded, so nothing should branch on them."""

    @property
    def text(self) -> str:
        """The part as one phrase, ``camera: demo``."""
        return f"{self.label}: {self.detail}" if self.label else self.detail


CAMERA_SETUP = "camera_setup"
"""The camera part's reason while the camera is not set up (a replay path that is not there, picamera2 not
installed): the glass then sends the person to doctor, not to a cable that is fine."""

STORAGE_FULL = "storage_full"
"""The storage part's reason while the closet's disk is below ``[store] min_free_mb``: the core holds
auto-capture, refuses a capture (a remote one with this same code) and the UI says the disk is full
rather than that the closet cannot be opened."""


@dataclass(frozen=True)
class Status:
    """The home screen's status line, one part per subsystem."""

    camera: StatusPart = StatusPart("camera", "starting", Level.WARN)
    models: StatusPart = StatusPart("models", "loading", Level.WARN)
    sync: StatusPart = StatusPart("sync", "off")
    storage: StatusPart = StatusPart("storage", "ok")
    clock: StatusPart = StatusPart("clock", "ok")
    """WARN when the wall clock is certainly wrong (before the newest garment, or before 2025):
    a Pi without an RTC battery, after a power cut, before NTP has set it."""

    # What the parts mean for a capture, said once: the home screen's hint and buttons, the window's
    # keys, the service's refusals and the benches all ask these, never a part's level directly.
    @property
    def camera_missing(self) -> bool:
        return self.camera.level is Level.ERROR

    @property
    def camera_not_set_up(self) -> bool:
        return self.camera_missing and self.camera.reason == CAMERA_SETUP

    @property
    def models_failed(self) -> bool:
        """The models did not load: nothing held up is recognised until they are repaired."""
        return self.models.level is Level.ERROR

    @property
    def models_loading(self) -> bool:
        return self.models.level is Level.WARN

    @property
    def models_ready(self) -> bool:
        return self.models.level is Level.OK

    @property
    def storage_failed(self) -> bool:
        """The closet cannot take a garment: its disk is full (the core stops capturing) or it did not open."""
        return self.storage.level is Level.ERROR

    @property
    def storage_full(self) -> bool:
        return self.storage_failed and self.storage.reason == STORAGE_FULL

    @property
    def clock_wrong(self) -> bool:
        """The core found the wall clock certainly wrong (not set since a power cut): so are the time and date."""
        return self.clock.level is not Level.OK

    @property
    def capture_blocked(self) -> bool:
        """Something is broken that stops every capture (not merely starting up)."""
        return self.camera_missing or self.storage_failed or self.models_failed

    @property
    def can_capture(self) -> bool:
        """A capture would work now: camera, closet and models all there."""
        return not self.capture_blocked and not self.models_loading

    def subsystems(self) -> dict[str, StatusPart]:
        """The parts an ``Error`` can be about (its ``about``), by that name, in display order."""
        return {"camera": self.camera, "models": self.models, "sync": self.sync, "storage": self.storage}

    def parts(self) -> tuple[StatusPart, ...]:
        """The parts in display order; the clock only when it is wrong (the mirror shows the time anyway)."""
        clock = (self.clock,) if self.clock_wrong else ()
        return (*self.subsystems().values(), *clock)

    def line(self) -> str:
        """The parts joined for a one-line display (``camera: demo · models: ready · ...``)."""
        return " · ".join(p.text for p in self.parts())


@dataclass(frozen=True)
class About:
    """What the About screen shows: the mirror's identity, its software and models, its closet."""

    device_id: str
    version: str
    model_versions: dict[str, str] = field(default_factory=dict)
    broker: str = "off"
    storage_used_mb: float = 0.0
    records: int = 0


@dataclass(frozen=True)
class Event:
    """Base of every event; ``at`` is the service clock (monotonic seconds) when it was emitted."""

    at: float = field(default=0.0, kw_only=True)


@dataclass(frozen=True)
class FrameReady(Event):
    """A preview frame with the detected garment (if any) drawn over it by the UI."""

    image: Image
    state: CaptureState
    box: Box | None = None
    outline: tuple[Polygon, ...] = ()
    mirrored: bool = False  # True when the image was flipped for display
    seq: int = 0


@dataclass(frozen=True)
class CaptureStateChanged(Event):
    """The capture flow moved, or its hold progress / countdown changed."""

    state: CaptureState
    progress: float = 0.0  # hold-still progress 0..1 (HOLDING); 1 during COUNTDOWN
    countdown: int | None = None  # whole seconds left (COUNTDOWN), else None


@dataclass(frozen=True)
class AnalysisStarted(Event):
    """The shutter fired; the still is being analysed (``manual``: a press, not a held garment).

    The still itself stays in the core: the UI has nothing to draw from it before the result, and a
    full-resolution frame need not ride the GUI queue."""

    capture_id: int
    manual: bool = False


@dataclass(frozen=True)
class AnalysisDone(Event):
    """The analysis found at least one garment; ``result.primary`` is the one ``keep`` stores.

    A shot with no garment in it is answered with ``AnalysisFailed`` instead (the person
    is asked to hold the garment up and try again). ``held``: the first garment is the one the
    capture loop saw held up (its box overlaps it), not only the most prominent one in the shot.
    """

    capture_id: int
    result: AnalysisResult
    held: bool = False


@dataclass(frozen=True)
class AnalysisFailed(Event):
    """The analysis could not run; ``reason`` is one line for the person, with the fix.

    ``cancelled``: the person (or a remote ``cancel``) stopped this capture; nothing to show.
    """

    capture_id: int
    reason: str
    cancelled: bool = False
    detail: str = ""
    """What went wrong in technical terms (an exception, a path), for the log and About, never the glass."""


@dataclass(frozen=True)
class RecordSaved(Event):
    """``keep`` stored a new record."""

    record: Record


@dataclass(frozen=True)
class RecordChanged(Event):
    """``correct`` stored a new version of a record."""

    record: Record


@dataclass(frozen=True)
class RecordDeleted(Event):
    """``delete`` stored a tombstone; the record leaves the closet."""

    record_id: str


@dataclass(frozen=True)
class StatusChanged(Event):
    """A part of the status line changed; ``status`` is the whole line, new."""

    status: Status


@dataclass(frozen=True)
class CommandReceived(Event):
    """A remote command the core accepted: carry it out as the key or button would.

    ``command`` is one of ``capture``, ``cancel``, ``show`` (with ``screen``: ``home``,
    ``closet`` or ``about``), ``keep``, ``retake``, ``delete`` (with ``record_id``).
    """

    command: str
    screen: str = ""
    record_id: str = ""
    command_id: str = ""


@dataclass(frozen=True)
class RecordsSynced(Event):
    """The cloud confirmed (acked) a version of each of these records."""

    record_ids: tuple[str, ...]


@dataclass(frozen=True)
class Error(Event):
    """Something failed that the person should know about: what, and how to fix it.

    ``message`` and ``fix`` are read on the glass by whoever stands there, so they are plain
    sentences (no paths, config keys or exceptions); ``detail`` keeps the technical cause for
    the log and the About screen, where an installer looks for it.
    """

    message: str
    fix: str = ""
    about: str = ""  # the status part it concerns (camera, models, sync, storage): the UI clears it when that recovers
    detail: str = ""

    def line(self) -> str:
        """One line for the screen: what happened · what to do."""
        return f"{self.message} · {self.fix}" if self.fix else self.message


__all__ = [
    "AnalysisDone",
    "AnalysisFailed",
    "AnalysisStarted",
    "Box",
    "CaptureState",
    "CaptureStateChanged",
    "ClosetCounts",
    "CommandReceived",
    "Error",
    "Event",
    "FrameReady",
    "Image",
    "Level",
    "Polygon",
    "Record",
    "RecordChanged",
    "RecordDeleted",
    "RecordSaved",
    "RecordsSynced",
    "Status",
    "StatusChanged",
    "StatusPart",
]
