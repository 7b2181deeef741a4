"""The camera loop, driven frame by frame on the demo scene with scene time as the clock.

Presence comes from the demo scene's own truth (where it drew the garment), so this tests
the loop's logic — motion, state machine, overlay flip, burst and sharpness, re-arming —
independently of the segmenter, which has its own tests.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

import numpy as np

from mirror.camera import CameraError, FrameSource, Pacer
from mirror.camera.demo import DemoSource
from mirror.capture.background import Background
from mirror.capture.detector import Candidate, Detector
from mirror.capture.loop import IDLE_DETECT_S, IDLE_REST_FPS, REST_AFTER_S, CaptureLoop, Shot, flip_box
from mirror.capture.machine import AutoCapture
from mirror.capture.supervisor import CAMERA_PATIENCE_S, CAMERA_RETRY_S, CAMERA_RETRY_SLOW_S, CameraSupervisor
from mirror.config.settings import CameraSettings
from mirror.events import CaptureState, CaptureStateChanged, Error, Event, FrameReady, Image
from mirror.health import Health

PREVIEW = (320, 240)
CAPTURE = (640, 480)
ANY_FRAME = np.zeros((PREVIEW[1], PREVIEW[0], 3), np.uint8)  # the truth detector does not look at it


def make_truth(source: DemoSource) -> list[Candidate]:
    """The garment where the demo drew it (a rectangle outline), or nothing."""
    box = source.true_box()
    if box is None:
        return []
    x0, y0, x1, y1 = box
    return [Candidate(box, (((x0, y0), (x1, y0), (x1, y1), (x0, y1)),), "top")]


def make_loop(hflip: bool = True) -> tuple[CaptureLoop, DemoSource, Detector, list[Event], list[Shot]]:
    source = DemoSource(PREVIEW, CAPTURE, 10, pacer=Pacer(0))
    events: list[Event] = []
    shots: list[Shot] = []

    def truth(_frame: object) -> list[Candidate]:
        return make_truth(source)

    clock = lambda: source.scene_time  # noqa: E731 - scene time is the loop's clock here
    detector = Detector(truth, clock=clock)
    machine = AutoCapture(hold_still_ms=500, countdown_s=1)
    loop = CaptureLoop(source, machine, detector, events.append, shots.append, clock=clock, hflip=hflip)
    source.open()
    return loop, source, detector, events, shots


def test_each_held_garment_is_shot_once_at_full_resolution() -> None:
    loop, source, detector, events, shots = make_loop()
    # one cycle is 8.5 s: empty 1.5 s, raise 1 s, hold 5 s, lower 1 s; run into the second hold
    kinds: list[str] = []
    for _ in range(135):
        loop.step()
        detector.step(ANY_FRAME)
        if len(shots) > len(kinds):
            kinds.append(source.pose().garment.category)
        if shots and loop.machine.state is CaptureState.ANALYSING:
            loop.reviewed()
            loop.resume(rearm=False)  # kept: the same garment, still held, must not be shot again
    assert len(shots) == 2 and kinds == ["t-shirt", "dress"]
    shot = shots[0]
    assert shot.still.shape == (CAPTURE[1], CAPTURE[0], 3) and not shot.manual
    assert 0 <= shot.sharpness_pick < 3 and shot.box is not None
    states = [e.state for e in events if isinstance(e, CaptureStateChanged)]
    for a, b in zip(
        [CaptureState.PRESENT, CaptureState.HOLDING, CaptureState.COUNTDOWN],
        [CaptureState.HOLDING, CaptureState.COUNTDOWN, CaptureState.CAPTURING],
        strict=True,
    ):
        assert states.index(a) < states.index(b)


def test_frames_are_mirrored_with_the_overlay_in_mirrored_pixels() -> None:
    loop, source, detector, events, _ = make_loop(hflip=True)
    for _ in range(40):  # into the hold
        loop.step()
        detector.step(ANY_FRAME)
    frame = [e for e in events if isinstance(e, FrameReady)][-1]
    truth = source.true_box()
    assert frame.mirrored and truth is not None and frame.box == flip_box(truth, PREVIEW[0])
    assert frame.image.shape == (PREVIEW[1], PREVIEW[0], 3)
    assert [e.seq for e in events if isinstance(e, FrameReady)] == list(range(1, 41))


def test_manual_shot_in_an_empty_room() -> None:
    loop, _source, _detector, events, shots = make_loop()
    loop.step()
    loop.request_shot()
    loop.step()
    assert len(shots) == 1 and shots[0].manual and shots[0].box is None
    assert any(isinstance(e, CaptureStateChanged) and e.state is CaptureState.ANALYSING for e in events)
    loop.resume(rearm=True)
    assert loop.machine.state is CaptureState.IDLE


def test_a_space_press_cancelled_within_the_same_frame_never_shoots() -> None:
    """Space then Cancel before the next frame: the pending manual shot is dropped with the countdown."""
    loop, source, detector, events, shots = make_loop()
    for _ in range(60):  # scene time 0.1 s a frame: raise, hold still, into the countdown
        loop.step()
        detector.step(ANY_FRAME)
        if loop.machine.state is CaptureState.COUNTDOWN:
            break
    assert loop.machine.state is CaptureState.COUNTDOWN and not shots
    loop.request_shot()  # Space ...
    loop.resume(rearm=False)  # ... and Cancel, both between two frames
    cancelled_at = len(events)
    for _ in range(20):  # 2 s more of the hold: past the 1 s countdown, the garment still up
        loop.step()
        detector.step(ANY_FRAME)
    assert source.pose().phase == "hold"
    states = [e.state for e in events[cancelled_at:] if isinstance(e, CaptureStateChanged)]
    assert not shots and CaptureState.CAPTURING not in states
    loop.request_shot()  # a later press still shoots
    loop.step()
    assert len(shots) == 1 and shots[0].manual


def test_a_garment_that_is_part_of_the_room_never_starts_a_capture() -> None:
    """A segmenter false positive that never moves (a coat on the door, a plain wall) is ignored."""
    loop, source, _detector, events, shots = make_loop()
    door = Candidate((10, 40, 80, 170), (), "outerwear")  # the door, "seen" as a coat in every frame
    detector = Detector(lambda _f: [door, *make_truth(source)], clock=lambda: source.scene_time)
    loop.detector = detector
    for _ in range(15):  # the empty room
        loop.step()
        detector.step(ANY_FRAME)
    assert loop.machine.state is CaptureState.IDLE and not shots
    for _ in range(40):  # the garment is raised and held: it is found despite the door coming first
        loop.step()
        detector.step(ANY_FRAME)
    frames = [e for e in events if isinstance(e, FrameReady) and e.box is not None]
    assert frames and all(f.box != flip_box(door.box, PREVIEW[0]) for f in frames)
    assert shots


def test_background_counts_only_what_changed() -> None:
    room = np.full((240, 320, 3), 120, np.uint8)
    background = Background()
    assert background.foreground(room, (0, 0, 100, 100)) == 0.0  # nothing learned yet: wait
    background.learn(room)
    held = room.copy()
    held[50:150, 100:200] = (30, 30, 200)
    assert background.foreground(held, (100, 50, 200, 150)) > 0.9
    assert background.foreground(held, (0, 0, 60, 60)) == 0.0


def test_a_cancel_that_lands_after_the_decision_to_shoot_drops_the_shot() -> None:
    """Cancel arriving while the burst is taken (after ``step`` decided to shoot): no shot, back to idle."""
    loop, source, detector, events, shots = make_loop()
    take_burst = source.stills

    def stills_then_cancel(count: int) -> list[Image]:
        burst = take_burst(count)
        loop.resume(rearm=False)  # the person's Cancel, from the GUI thread, mid-burst
        return burst

    source.stills = stills_then_cancel  # type: ignore[method-assign]
    loop.step()
    loop.request_shot()
    loop.step()
    states = [e.state for e in events if isinstance(e, CaptureStateChanged)]
    assert not shots
    assert states[-1] is CaptureState.IDLE and loop.machine.state is CaptureState.IDLE
    assert CaptureState.ANALYSING not in states
    assert not detector._paused, "detection resumes for the next garment"
    source.stills = take_burst  # type: ignore[method-assign]
    loop.request_shot()  # the loop still works: the next press shoots
    loop.step()
    assert len(shots) == 1


class _Unplugged(DemoSource):
    """A camera that is not there: every open fails, counted."""

    opens = 0

    def open(self) -> None:
        type(self).opens += 1
        raise CameraError("no camera found; connect it")


class _FakeTime(threading.Event):
    """The supervisor's stop event and clock in one: each wait advances the clock instead of sleeping."""

    def __init__(self, waits: int) -> None:
        super().__init__()
        self.now = 0.0
        self.waited: list[float] = []
        self._left = waits

    def wait(self, timeout: float | None = None) -> bool:
        self.waited.append(float(timeout or 0))
        self.now += float(timeout or 0)
        self._left -= 1
        if self._left <= 0:
            self.set()
        return self.is_set()


def lone_supervisor(
    source: FrameSource,
    stop: threading.Event,
    clock: Callable[[], float],
    health: Health | None = None,
    events: list[Event] | None = None,
) -> CameraSupervisor:
    """A camera supervisor with nothing behind it: no detection, no shots; its events kept in ``events``."""
    keep = events.append if events is not None else (lambda _e: None)
    return CameraSupervisor(
        CameraSettings(),
        AutoCapture(hold_still_ms=700, countdown_s=3),
        Detector(None),
        emit=keep,
        on_loop_event=keep,
        on_shot=lambda _shot: None,
        set_status=lambda _part: None,
        stop=stop,
        clock=clock,
        health=health if health is not None else Health(),
        source=source,
    )


def test_a_camera_missing_for_minutes_is_looked_for_less_often() -> None:
    """Every attempt makes the camera drivers log; a camera gone for minutes is unplugged, not loading."""
    time_ = _FakeTime(waits=100)
    errors: list[Event] = []
    supervisor = lone_supervisor(_Unplugged((320, 240), (800, 600), 15), time_, lambda: time_.now, events=errors)
    supervisor.run()
    assert time_.waited[0] == CAMERA_RETRY_S and time_.waited[-1] == CAMERA_RETRY_SLOW_S
    fast = sum(1 for w in time_.waited if w == CAMERA_RETRY_S)
    assert fast == CAMERA_PATIENCE_S / CAMERA_RETRY_S  # five minutes of quick attempts, then one a minute
    assert [e.message for e in errors if isinstance(e, Error)] == ["no camera found; connect it"]  # said once


class _StillRoom(DemoSource):
    """An empty room that does not change, then (from ``changes_from``) one that does."""

    def __init__(self) -> None:
        super().__init__(PREVIEW, CAPTURE, 10, pacer=Pacer(0))
        self.frames = 0
        self.changes_from = 10**9
        self._room = np.random.default_rng(1).integers(60, 90, (PREVIEW[1], PREVIEW[0], 3), dtype=np.uint8)

    def read(self) -> Image:
        self.frames += 1
        if self.frames < self.changes_from:
            return self._room
        moving = self._room.copy()  # someone walking through the picture
        x = (12 * self.frames) % (PREVIEW[0] - 80)
        moving[40:220, x : x + 80] = 200
        return moving


class _CountingDetector(Detector):
    offered = 0

    def offer(self, frame: Image) -> None:
        self.offered += 1
        super().offer(frame)


def test_an_empty_still_room_is_looked_at_every_few_seconds_and_a_change_at_once() -> None:
    """The segmenter at full rate on an empty room was most of an idle mirror's CPU, all day long."""
    source = _StillRoom()
    now = [0.0]
    detector = _CountingDetector(lambda _frame: [], clock=lambda: now[0])
    loop = CaptureLoop(source, AutoCapture(hold_still_ms=500, countdown_s=1), detector, lambda _e: None,
                       lambda _s: None, clock=lambda: now[0])  # fmt: skip
    source.open()
    for _ in range(100):  # 10 s of a still, empty room at 10 frames a second
        loop.step()
        now[0] += 0.1
    assert 5 <= detector.offered <= 7, detector.offered  # the first frame, then one every IDLE_DETECT_S
    detector.offered = 0
    source.changes_from = source.frames
    for _ in range(10):
        loop.step()
        now[0] += 0.1
    assert detector.offered >= 9  # a changing picture is offered every frame

    source.changes_from = 10**9  # still again; then a cancel (or keep) sends the loop back to watching
    for _ in range(30):
        loop.step()
        now[0] += 0.1
    detector.offered = 0
    loop.step()
    now[0] += 0.1
    assert detector.offered == 0, "looked at again before IDLE_DETECT_S"
    loop.resume(rearm=False)
    loop.step()
    assert detector.offered == 1, "after a resume the room must be looked at the next frame"


class Room(FrameSource):
    """A camera on a still, empty room; ``enter()`` puts someone in the picture."""

    name = "room"

    def __init__(self) -> None:
        rng = np.random.default_rng(3)
        self.frame = np.clip(rng.normal(110, 6, (PREVIEW[1], PREVIEW[0], 3)), 0, 255).astype(np.uint8)
        self.reads = 0

    def open(self) -> None:
        pass

    def read(self) -> Image | None:
        self.reads += 1
        return self.frame.copy()

    def still(self) -> Image:
        return self.frame.copy()

    def enter(self) -> None:
        self.frame = self.frame.copy()
        self.frame[40:200, 100:220] = 230  # a person in a white shirt


def resting_loop(watched: threading.Event) -> tuple[CaptureLoop, Room, list[Event], list[float]]:
    room, events, clock = Room(), list[Event](), [0.0]
    loop = CaptureLoop(
        room,
        AutoCapture(hold_still_ms=500, countdown_s=1),
        Detector(lambda _f: [], clock=lambda: clock[0]),
        events.append,
        lambda _shot: None,
        clock=lambda: clock[0],
        preview_watched=watched,
    )
    return loop, room, events, clock


def frames_per_second(loop: CaptureLoop, events: list[Event], clock: list[float], seconds: float) -> float:
    """Step the loop at a 15 fps camera's pace for ``seconds``; FrameReady events per second."""
    before = sum(isinstance(e, FrameReady) for e in events)
    for _ in range(round(seconds * 15)):
        clock[0] += 1 / 15
        loop.step()
    return (sum(isinstance(e, FrameReady) for e in events) - before) / seconds


def test_an_empty_still_room_nobody_watches_is_looked_at_a_few_times_a_second() -> None:
    watched = threading.Event()
    loop, room, events, clock = resting_loop(watched)
    assert frames_per_second(loop, events, clock, REST_AFTER_S) == 15, "the full rate until the room is still"
    assert frames_per_second(loop, events, clock, 6.0) <= IDLE_REST_FPS + 0.5
    assert room.reads >= 15 * (REST_AFTER_S + 6) - 1, "every frame is still read (the driver is drained)"
    watched.set()  # the capture screen shows the preview: every frame again, at once
    assert frames_per_second(loop, events, clock, 1.0) == 15
    watched.clear()
    assert frames_per_second(loop, events, clock, REST_AFTER_S + 1) < 15
    room.enter()  # someone walks in: seen at the next frame looked at, then the full rate
    frames_per_second(loop, events, clock, 1 / IDLE_REST_FPS + 0.1)
    assert frames_per_second(loop, events, clock, 1.0) == 15


def test_a_resting_loop_still_shows_the_room_to_the_segmenter_every_few_seconds() -> None:
    """Resting drops frames, not the idle looks (``IDLE_DETECT_S``): a garment laid down without
    motion, or a slow change the meter misses, is still found."""
    loop, _room, events, clock = resting_loop(threading.Event())
    offered: list[float] = []
    offer = loop.detector.offer

    def counted(frame: Image) -> None:
        offered.append(clock[0])
        offer(frame)

    loop.detector.offer = counted  # type: ignore[method-assign]
    frames_per_second(loop, events, clock, REST_AFTER_S + 1)
    offered.clear()
    frames_per_second(loop, events, clock, 6.0)
    assert 2 <= len(offered) <= 4, offered
    assert all(later - earlier >= IDLE_DETECT_S - 0.01 for earlier, later in itertools.pairwise(offered))


def test_a_manual_shot_asked_for_while_resting_is_taken_at_the_next_frame() -> None:
    loop, _room, events, clock = resting_loop(threading.Event())
    frames_per_second(loop, events, clock, REST_AFTER_S + 1)
    shots: list[Shot] = []
    loop.on_shot = shots.append
    loop.request_shot()
    clock[0] += 1 / 15
    loop.step()
    assert len(shots) == 1 and shots[0].manual
