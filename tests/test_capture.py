"""Auto-capture as pure logic on an injected clock: hold still, countdown, shoot once, re-arm."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mirror.camera import Pacer
from mirror.camera.demo import DemoSource
from mirror.capture import AutoCapture, MotionMeter, Sighting, laplacian_variance, scale_box, sharpest
from mirror.events import CaptureState as S

BOX = (100, 50, 300, 350)
STILL = Sighting(BOX, 0.5)
MOVING = Sighting(BOX, 9.0)


def run(machine: AutoCapture, start: float, end: float, sighting: Sighting | None, step: float = 0.05):
    """Feed the same sighting every ``step`` seconds; return the ticks."""
    ticks = []
    t = start
    while t <= end + 1e-9:
        ticks.append(machine.update(t, sighting))
        t = round(t + step, 6)
    return ticks


def test_held_still_counts_down_and_shoots_exactly_once() -> None:
    m = AutoCapture(hold_still_ms=800, countdown_s=3)
    assert m.update(0.0, MOVING).state is S.PRESENT
    ticks = run(m, 0.05, 5.0, STILL)
    states = [t.state for t in ticks]
    first_countdown = states.index(S.COUNTDOWN)
    assert all(s is S.HOLDING for s in states[:first_countdown])
    assert ticks[first_countdown - 1].progress == pytest.approx(0.9, abs=0.06)
    # hold started at 0.05: countdown at 0.85, shot at 3.85
    assert 0.05 + 0.8 - 1e-6 <= 0.05 * (first_countdown + 1) <= 0.05 + 0.8 + 0.05 + 1e-6
    shots = [i for i, t in enumerate(ticks) if t.shoot]
    assert len(shots) == 1
    assert ticks[shots[0]].state is S.CAPTURING
    assert 0.05 * (shots[0] + 1) == pytest.approx(3.85, abs=0.051)
    countdowns = [t.countdown for t in ticks if t.state is S.COUNTDOWN]
    assert countdowns[0] == 3 and countdowns[-1] == 1 and sorted(set(countdowns)) == [1, 2, 3]
    assert all(t.state is S.CAPTURING and not t.shoot for t in ticks[shots[0] + 1 :])


def test_changed_is_reported_only_when_something_visible_changed() -> None:
    m = AutoCapture(hold_still_ms=1000, countdown_s=2)
    ticks = run(m, 0.0, 4.0, STILL, step=0.01)
    changes = [t for t in ticks if t.changed]
    # HOLDING progress in 5 % steps (~20), countdown 2 -> 1 (2), and the shot (1)
    assert 20 <= len(changes) <= 25
    assert changes[-1].shoot


def test_movement_cancels_hold_and_countdown() -> None:
    m = AutoCapture(hold_still_ms=500, countdown_s=2)
    run(m, 0.0, 1.0, STILL)
    assert m.state is S.COUNTDOWN
    assert m.update(1.05, MOVING).state is S.PRESENT
    ticks = run(m, 1.1, 1.5, STILL)
    assert ticks[-1].state is S.HOLDING and not any(t.shoot for t in ticks)


def test_a_box_that_moves_counts_as_movement_even_when_the_pixels_inside_do_not_change() -> None:
    m = AutoCapture(hold_still_ms=500, countdown_s=1)
    run(m, 0.0, 0.3, STILL)
    assert m.update(0.35, Sighting((200, 50, 400, 350), 0.5)).state is S.PRESENT


def test_brief_loss_is_forgiven_long_loss_resets() -> None:
    m = AutoCapture(hold_still_ms=500, countdown_s=3, lost_after_ms=500)
    run(m, 0.0, 1.0, STILL)
    assert m.state is S.COUNTDOWN
    assert m.update(1.2, None).state is S.COUNTDOWN  # one missed detection
    assert m.update(1.4, STILL).state is S.COUNTDOWN
    assert m.update(2.0, None).state is S.COUNTDOWN  # gone again: the gap is timed from here
    assert m.update(2.6, None).state is S.IDLE  # gone for 0.6 s


def test_keep_waits_for_the_garment_to_leave_retake_does_not() -> None:
    m = AutoCapture(hold_still_ms=0, countdown_s=0)
    assert m.update(0.0, STILL).shoot
    assert m.update(0.1, STILL).state is S.CAPTURING  # busy: sightings ignored
    assert m.analysing().state is S.ANALYSING
    assert m.reviewed().state is S.REVIEW
    m.resume(rearm=False)  # keep
    assert m.update(0.9, None).state is S.IDLE  # no detection yet right after resuming ...
    assert not m.update(0.95, STILL).shoot  # ... is not an absence: the kept garment is still held
    assert not any(t.shoot for t in run(m, 1.0, 3.0, STILL))
    assert m.state is S.PRESENT
    assert run(m, 3.0, 4.0, None)[-1].state is S.IDLE  # the garment is lowered
    assert m.update(4.1, STILL).shoot  # the next garment
    m.resume(rearm=True)  # retake
    assert m.update(4.2, STILL).shoot


def test_manual_capture_shoots_at_once_and_auto_off_never_does() -> None:
    m = AutoCapture(hold_still_ms=100, countdown_s=1, auto=False)
    assert not any(t.shoot for t in run(m, 0.0, 5.0, STILL))
    assert m.state is S.PRESENT
    tick = m.manual()
    assert tick.shoot and tick.state is S.CAPTURING
    assert not m.manual().shoot  # one shot at a time


def test_held_off_while_browsing_a_garment_in_view_is_not_shot() -> None:
    m = AutoCapture(hold_still_ms=300, countdown_s=2)
    run(m, 0.0, 0.5, STILL)
    assert m.state is S.COUNTDOWN
    tick = m.hold_off(True)
    assert tick.state is S.PRESENT and tick.changed  # the countdown on screen stops at once
    ticks = run(m, 0.55, 6.0, STILL)
    assert not any(t.shoot for t in ticks) and ticks[-1].state is S.PRESENT
    assert m.manual().shoot  # a deliberate capture still works
    m.resume(rearm=True)
    m.hold_off(False)
    assert any(t.shoot for t in run(m, 6.1, 9.0, STILL))  # back home: auto-capture again


def test_unknown_motion_counts_as_moving() -> None:
    m = AutoCapture(hold_still_ms=0, countdown_s=0)
    assert m.update(0.0, Sighting(BOX, None)).state is S.PRESENT


def test_sharpness_prefers_the_still_frame_over_motion_blur() -> None:
    source = DemoSource((320, 240), (640, 480), 10, pacer=Pacer(0))
    held, moving = None, None
    with source:
        for _ in range(200):
            frame = source.read()
            pose = source.pose()
            if pose.phase == "raise" and 0.4 < pose.lift < 0.6:
                moving = frame
            if pose.phase == "hold":
                held = frame
                break
    assert held is not None and moving is not None
    box = (80, 20, 240, 240)
    assert sharpest([moving, held, moving], box) == 1
    blurred = np.asarray(cv2.GaussianBlur(held, (0, 0), 2.0), np.uint8)
    assert laplacian_variance(held) > 2 * laplacian_variance(blurred)
    with pytest.raises(ValueError):
        sharpest([])


def test_motion_meter_sees_movement_not_noise() -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    base = np.asarray(cv2.GaussianBlur(base, (0, 0), 3), np.uint8)
    meter = MotionMeter()
    assert meter.measure(base, BOX) is None
    noisy = np.clip(base.astype(np.int16) + rng.normal(0, 2.5, base.shape), 0, 255).astype(np.uint8)
    still = meter.measure(noisy, (20, 20, 200, 200))
    shifted = np.roll(noisy, 12, axis=0)
    moved = meter.measure(shifted, (20, 20, 200, 200))
    assert still is not None and moved is not None
    assert still < 1.5 < 4 * still < moved


def test_scale_box_maps_preview_to_still_pixels() -> None:
    assert scale_box((10, 20, 30, 40), (320, 240), (640, 480)) == (20, 40, 60, 80)
    assert scale_box((0, 0, 320, 240), (320, 240), (1640, 1232)) == (0, 0, 1640, 1232)
