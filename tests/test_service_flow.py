"""MirrorService end to end on the demo camera: raised → held → countdown → analysed → kept → in the closet."""

from __future__ import annotations

import dataclasses
import queue
import time
from pathlib import Path

import pytest

from mirror.camera.demo_scene import GARMENTS
from mirror.events import (
    AnalysisDone,
    AnalysisStarted,
    CaptureState,
    CaptureStateChanged,
    Error,
    Event,
    FrameReady,
    RecordChanged,
    RecordDeleted,
    RecordSaved,
)
from mirror.health import Health
from mirror.service import MirrorService
from tests.test_analyze import require_models
from tests.test_service import fast_settings, wait_for

pytestmark = pytest.mark.slow


def test_garment_raised_held_counted_down_analysed_kept_corrected_deleted(tmp_path: Path) -> None:
    require_models()
    base = fast_settings(tmp_path, hold_ms=300, countdown_s=1)
    settings = dataclasses.replace(base, camera=dataclasses.replace(base.camera, preview_width=640, preview_height=480))
    seen: list[Event] = []
    with MirrorService(settings, health=Health()) as service:
        started = wait_for(service.events, lambda e: isinstance(e, AnalysisStarted), 60, seen)
        assert isinstance(started, AnalysisStarted) and not started.manual
        states = [e.state for e in seen if isinstance(e, CaptureStateChanged)]
        # the auto-capture went through every step, in order (PRESENT is skipped when the garment
        # is already still the first time it is seen)
        order = [CaptureState.HOLDING, CaptureState.COUNTDOWN, CaptureState.CAPTURING]
        positions = [states.index(s) for s in order]
        assert positions == sorted(positions), states
        countdowns = [e.countdown for e in seen if isinstance(e, CaptureStateChanged) and e.countdown]
        assert countdowns and countdowns[0] == 1
        frames = [e for e in seen if isinstance(e, FrameReady)]
        assert any(f.box is not None and f.outline for f in frames), "the preview never showed the garment"
        done = wait_for(service.events, lambda e: isinstance(e, AnalysisDone), 60, seen)
        assert isinstance(done, AnalysisDone) and done.capture_id == started.capture_id
        assert done.held, "the garment the preview saw held up was not matched in the still"
        result = done.result
        primary = result.primary
        assert primary is not None and primary.cutout_bgra is not None
        # shown from cutout_bgra: the files are encoded on keep, on the store's thread (perf L1)
        assert not primary.images and not result.photo_jpg
        assert primary.color.basic == GARMENTS[0].basic  # the first demo garment: a red t-shirt
        assert service.status().models.text == "models: ready"

        service.keep(result)
        saved = wait_for(service.events, lambda e: isinstance(e, RecordSaved), 30, seen)
        assert isinstance(saved, RecordSaved)
        record = saved.record
        closet = service.closet()
        assert [r.id for r in closet] == [record.id]
        assert record.category == primary.category and record.color.basic == primary.color.basic
        assert service.closet(basic_color=primary.color.basic) and not service.closet(basic_color="brown")
        assert set(record.images) == {"cutout_png", "cutout_black_jpg", "cutout_white_jpg", "photo_jpg"}
        assert all(service.image_path(record, kind).is_file() for kind in record.images)
        counts = service.counts()
        assert counts.category.get(record.category, 0) >= 1 and counts.basic_color.get(record.color.basic, 0) >= 1

        # kept: the same garment, still held, is not captured again
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            try:
                event = service.events.get(timeout=0.1)
            except queue.Empty:
                continue
            assert not isinstance(event, AnalysisStarted), "captured the kept garment twice"

        service.correct(record.id, category="shirt", color="blue")
        changed = wait_for(service.events, lambda e: isinstance(e, RecordChanged), 30, seen)
        assert isinstance(changed, RecordChanged)
        assert changed.record.category == "shirt" and changed.record.color.basic == "blue"
        assert changed.record.version > record.version

        service.correct(record.id, color="navy")  # not a basic term: an Error event, nothing stored
        error = wait_for(service.events, lambda e: isinstance(e, Error), 30, seen)
        assert isinstance(error, Error) and "navy" in error.detail and error.line() == "That did not work · try again"

        service.delete(record.id)
        deleted = wait_for(service.events, lambda e: isinstance(e, RecordDeleted), 30, seen)
        assert isinstance(deleted, RecordDeleted) and deleted.record_id == record.id
        assert service.closet() == []
        about = service.about()
        assert about.device_id == "test-mirror" and set(about.model_versions) == {"segmenter", "classifier", "colour"}
