"""The event contract the UI codes against: immutable, typed, status line readable."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mirror.events import STORAGE_FULL, CaptureState, CaptureStateChanged, Error, FrameReady, Level, Status, StatusPart


def test_events_are_immutable_and_carry_their_time() -> None:
    event = CaptureStateChanged(CaptureState.COUNTDOWN, progress=1.0, countdown=2, at=12.5)
    assert event.at == 12.5
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.countdown = 1  # type: ignore[misc]


def test_frame_event_defaults_to_no_overlay() -> None:
    frame = FrameReady(np.zeros((4, 4, 3), np.uint8), CaptureState.IDLE)
    assert frame.box is None and frame.outline == () and not frame.mirrored


def test_status_line_joins_parts_in_display_order() -> None:
    status = Status(camera=StatusPart("camera", "demo"), models=StatusPart("models", "ready"))
    assert status.line() == "camera: demo · models: ready · sync: off · storage: ok"
    assert Status().camera.level is Level.WARN


def test_status_says_what_its_parts_mean_for_a_capture() -> None:
    """One reading of the levels for every asker (home screen, window, service, benches)."""
    ok = Status(camera=StatusPart("camera", "demo"), models=StatusPart("models", "ready"))
    assert ok.can_capture and ok.models_ready and not ok.capture_blocked and not ok.clock_wrong
    starting = Status()
    assert starting.models_loading and not starting.capture_blocked and not starting.can_capture
    for part in ("camera", "models", "storage"):
        broken = dataclasses.replace(ok, **{part: StatusPart(part, "x", Level.ERROR)})
        assert broken.capture_blocked and not broken.can_capture, part
    nearly_full = dataclasses.replace(ok, storage=StatusPart("storage", "nearly full", Level.WARN))
    assert nearly_full.can_capture and not nearly_full.storage_failed
    full = dataclasses.replace(ok, storage=StatusPart("storage", "full", Level.ERROR, STORAGE_FULL))
    unopened = dataclasses.replace(ok, storage=StatusPart("storage", "cannot open", Level.ERROR))
    assert full.storage_full and unopened.storage_failed and not unopened.storage_full
    behind = dataclasses.replace(ok, clock=StatusPart("clock", "not set", Level.WARN))
    assert behind.clock_wrong and behind.can_capture and behind.parts()[-1] is behind.clock


def test_error_line_names_the_fix() -> None:
    assert Error("No camera found", "check its cable").line() == "No camera found · check its cable"
    assert Error("No camera found", detail="/dev/video0: no such device").line() == "No camera found"
    assert Error("disk full").line() == "disk full"
