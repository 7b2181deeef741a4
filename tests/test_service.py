"""MirrorService headless: graceful states (no models, no camera) and the event contract around them."""

from __future__ import annotations

import dataclasses
import queue
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mirror.camera.v4l2 import V4L2Source
from mirror.config import Settings
from mirror.events import (
    AnalysisFailed,
    AnalysisStarted,
    CaptureState,
    CaptureStateChanged,
    Error,
    Event,
    FrameReady,
    Level,
    StatusChanged,
)
from mirror.health import Health
from mirror.service import MirrorService
from mirror.store import ClosetStore
from mirror.store.samples import synthetic_draft


def fast_settings(tmp_path: Path, *, models_dir: str = "", hold_ms: int = 300, countdown_s: int = 1) -> Settings:
    """Demo camera at a small size, short hold and countdown, closet under ``tmp_path``, sync off."""
    base = Settings()
    return dataclasses.replace(
        base,
        camera=dataclasses.replace(
            base.camera, source="demo", preview_width=320, preview_height=240, capture_width=800, capture_height=600
        ),
        vision=dataclasses.replace(base.vision, hold_still_ms=hold_ms, countdown_s=countdown_s, models_dir=models_dir),
        store=dataclasses.replace(base.store, data_dir=str(tmp_path / "closet"), min_free_mb=0),
        sync=dataclasses.replace(base.sync, enabled=False),
        device=dataclasses.replace(base.device, id="test-mirror"),
    )


def wait_for(events: queue.Queue[Event], match: Callable[[Event], bool], timeout: float, seen: list[Event]) -> Event:
    """Drain ``events`` into ``seen`` until one matches; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            event = events.get(timeout=0.1)
        except queue.Empty:
            continue
        seen.append(event)
        if match(event):
            return event
    kinds = sorted({type(e).__name__ for e in seen})
    raise AssertionError(f"no matching event within {timeout} s; saw {len(seen)} events of kinds {kinds}")


def test_without_models_the_preview_runs_and_a_capture_fails_with_one_line(tmp_path: Path) -> None:
    empty_models = tmp_path / "no-models"
    empty_models.mkdir()
    settings = fast_settings(tmp_path, models_dir=str(empty_models))
    seen: list[Event] = []
    with MirrorService(settings, health=Health()) as service:
        error = wait_for(service.events, lambda e: isinstance(e, Error), 20, seen)
        assert isinstance(error, Error) and "\n" not in error.line() and "segmenter" in error.line()
        frame = wait_for(service.events, lambda e: isinstance(e, FrameReady), 20, seen)
        assert isinstance(frame, FrameReady)
        assert frame.image.shape == (240, 320, 3) and frame.mirrored  # hflip defaults on
        status = service.status()
        assert status.models.level is Level.ERROR and status.camera.text == "camera: demo"
        service.capture_now()
        started = wait_for(service.events, lambda e: isinstance(e, AnalysisStarted), 20, seen)
        failed = wait_for(service.events, lambda e: isinstance(e, AnalysisFailed), 20, seen)
        assert isinstance(started, AnalysisStarted) and isinstance(failed, AnalysisFailed)
        assert started.manual and started.still is not None and started.still.shape == (600, 800, 3)
        assert failed.capture_id == started.capture_id and "models are not loaded" in failed.reason
        # after a failure the flow goes back to watching
        wait_for(
            service.events,
            lambda e: isinstance(e, CaptureStateChanged) and e.state is CaptureState.IDLE,
            20,
            seen,
        )
    assert any(isinstance(e, StatusChanged) for e in seen)


def test_a_missing_camera_is_a_state_and_an_error_not_a_crash(tmp_path: Path) -> None:
    empty_models = tmp_path / "no-models"
    empty_models.mkdir()
    settings = fast_settings(tmp_path, models_dir=str(empty_models))
    seen: list[Event] = []
    source = V4L2Source("/dev/video97", (320, 240), (800, 600), 15)
    with MirrorService(settings, source=source, health=Health()) as service:
        state = wait_for(
            service.events,
            lambda e: isinstance(e, CaptureStateChanged) and e.state is CaptureState.NO_CAMERA,
            20,
            seen,
        )
        assert state is not None
        error = wait_for(service.events, lambda e: isinstance(e, Error) and "/dev/video97" in e.message, 20, seen)
        assert isinstance(error, Error) and "\n" not in error.line() and error.about == "camera"
        assert service.status().camera.level is Level.ERROR
        service.capture_now()
        refused = wait_for(service.events, lambda e: isinstance(e, Error) and "no camera" in e.message, 20, seen)
        assert isinstance(refused, Error) and refused.about == "camera"  # the UI drops it once frames flow
        assert service.closet() == []
    assert not any(isinstance(e, FrameReady) for e in seen)
    service.stop()  # a second stop is harmless
    with pytest.raises(RuntimeError, match="create a new one"):
        service.start()


def test_the_status_says_connecting_until_sync_has_tried_and_about_counts_in_sql(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path)
    settings = dataclasses.replace(settings, sync=dataclasses.replace(settings.sync, enabled=True, port=1))
    service = MirrorService(settings, health=Health())  # not started: the status it begins with
    assert service.status().sync.text == "sync: connecting" and service.status().sync.level is Level.WARN
    off = MirrorService(fast_settings(tmp_path / "off"), health=Health())
    assert off.status().sync.text == "sync: off"
    kept = fast_settings(tmp_path / "about")
    with ClosetStore.open(kept.store.path(), "test-mirror", min_free_mb=0) as store:
        for i in range(3):
            store.add(synthetic_draft(i, image_kb=1))
        store.delete(store.list()[0].id)
    with MirrorService(kept, health=Health()) as running:
        deadline = time.monotonic() + 20
        while not running.closet() and time.monotonic() < deadline:  # the closet opens on a start-up thread
            time.sleep(0.05)
        assert running.about().records == len(running.closet()) == 2
