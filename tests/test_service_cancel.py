"""Cancel in the core (``MirrorService.cancel``): a countdown stops and never shoots; a shot in
analysis is dropped; the garment still held up is not counted down again until it is lowered.

Real service, demo camera and shipped models (the preview detector needs them).
"""

from __future__ import annotations

import dataclasses
import queue
import time
from pathlib import Path

import pytest

from mirror.events import (
    AnalysisDone,
    AnalysisFailed,
    AnalysisStarted,
    CaptureState,
    CaptureStateChanged,
    Event,
    FrameReady,
)
from mirror.health import Health
from mirror.service import MirrorService
from tests.test_analyze import require_models
from tests.test_service import fast_settings, wait_for

pytestmark = pytest.mark.slow
COUNTDOWN_S = 3


def drain_for(service: MirrorService, seconds: float) -> list[Event]:
    seen: list[Event] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            seen.append(service.events.get(timeout=0.05))
        except queue.Empty:
            continue
    return seen


def test_cancel_stops_the_countdown_and_a_shot_in_analysis(tmp_path: Path) -> None:
    require_models()
    base = fast_settings(tmp_path, hold_ms=300, countdown_s=COUNTDOWN_S)
    settings = dataclasses.replace(base, camera=dataclasses.replace(base.camera, preview_width=640, preview_height=480))
    seen: list[Event] = []
    with MirrorService(settings, health=Health()) as service:
        counting = lambda e: isinstance(e, CaptureStateChanged) and e.state is CaptureState.COUNTDOWN  # noqa: E731
        wait_for(service.events, counting, 60, seen)
        service.cancel()
        # The countdown had under COUNTDOWN_S left; the demo garment stays up about 4 s more.
        after = drain_for(service, COUNTDOWN_S + 1.5)
        assert not any(isinstance(e, AnalysisStarted) for e in after), "the cancelled countdown still shot"
        states = [e.state for e in after if isinstance(e, CaptureStateChanged)]
        assert states[:1] == [CaptureState.IDLE], states
        assert not {CaptureState.HOLDING, CaptureState.COUNTDOWN, CaptureState.CAPTURING} & set(states), states
        assert CaptureState.PRESENT in states  # still seen, no longer counted down

        # A shot in analysis is dropped: no result, the flow is free again.
        with service._model_lock:  # hold the analysis back until the cancel is in
            service.capture_now()
            started = wait_for(service.events, lambda e: isinstance(e, AnalysisStarted), 20, seen)
            service.cancel()
        assert isinstance(started, AnalysisStarted)
        ended = wait_for(service.events, lambda e: isinstance(e, (AnalysisDone, AnalysisFailed)), 30, seen)
        assert isinstance(ended, AnalysisFailed) and ended.cancelled and ended.capture_id == started.capture_id
        assert service.command("keep").startswith("nothing_to_do"), "a dropped shot must leave nothing to keep"
        assert service._machine.state not in (CaptureState.REVIEW, CaptureState.ANALYSING)

        # ...and the next capture works as usual: the demo garment, in view now, is analysed.
        while True:  # events from before are stale: the garment must be in view after them
            try:
                seen.append(service.events.get_nowait())
            except queue.Empty:
                break
        wait_for(service.events, lambda e: isinstance(e, FrameReady) and e.box is not None, 30, seen)
        service.capture_now()
        answer = wait_for(service.events, lambda e: isinstance(e, (AnalysisDone, AnalysisFailed)), 30, seen)
        assert isinstance(answer, AnalysisDone), f"the capture after a cancel was not analysed: {answer}"
