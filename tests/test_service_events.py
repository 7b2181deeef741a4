"""The event contract the UI codes against: immutable, typed, status line readable."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mirror.events import CaptureState, CaptureStateChanged, Error, FrameReady, Level, Status, StatusPart


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


def test_error_line_names_the_fix() -> None:
    assert Error("No camera found", "check its cable").line() == "No camera found · check its cable"
    assert Error("No camera found", detail="/dev/video0: no such device").line() == "No camera found"
    assert Error("disk full").line() == "disk full"
