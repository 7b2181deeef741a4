"""The cancel rule on its own: a shot from before a cancel is dropped, whichever step it has reached."""

from __future__ import annotations

import numpy as np

from mirror.capture.flow import CaptureFlow
from mirror.capture.loop import Shot
from mirror.events import AnalysisDone, AnalysisFailed, AnalysisStarted, Event
from mirror.pipeline.result import AnalysisResult


class Camera:
    """Records what the flow told it."""

    def __init__(self) -> None:
        self.told: list[str] = []

    def resume(self, *, rearm: bool) -> None:
        self.told.append("rearm" if rearm else "wait for lowering")

    def reviewed(self) -> None:
        self.told.append("reviewed")


def rig() -> tuple[CaptureFlow, Camera, list[Event]]:
    camera, events = Camera(), list[Event]()
    return CaptureFlow(camera, events.append, lambda: 1.0), camera, events


def shot(capture_id: int = 1) -> Shot:
    return Shot(capture_id=capture_id, still=np.zeros((4, 4, 3), np.uint8), box=None, manual=True, sharpness_pick=0)


def result(capture_id: int = 1) -> AnalysisResult:
    return AnalysisResult(capture_id, (), ms=1.0, timings_ms={}, image_size=(4, 4), model_versions={})


def test_a_shot_shown_then_kept_leaves_nothing_on_screen() -> None:
    flow, camera, events = rig()
    flow.shot_begins()
    epoch = flow.shot_taken(shot())
    assert epoch is not None and isinstance(events[-1], AnalysisStarted)
    assert flow.still_wanted(shot(), epoch)
    shown = result()
    flow.show(shot(), epoch, shown, held=True)
    assert isinstance(events[-1], AnalysisDone) and events[-1].held and camera.told == ["reviewed"]
    assert flow.showing
    flow.kept(result(2))  # another result: not the one shown
    assert flow.showing
    flow.kept(shown)
    assert not flow.showing


def test_a_cancel_at_any_step_drops_the_shot_and_says_so_once() -> None:
    flow, camera, events = rig()
    flow.shot_begins()
    flow.cancel()  # while the burst is taken
    assert flow.shot_taken(shot()) is None and not any(isinstance(e, AnalysisStarted) for e in events)
    assert camera.told == ["wait for lowering", "wait for lowering"]

    for step in ("before the analysis", "during it"):
        flow, camera, events = rig()
        flow.shot_begins()
        epoch = flow.shot_taken(shot())
        assert epoch is not None
        flow.cancel()
        if step == "before the analysis":
            assert not flow.still_wanted(shot(), epoch)
        else:
            flow.show(shot(), epoch, result(), held=False)
        dropped = [e for e in events if isinstance(e, AnalysisFailed)]
        assert len(dropped) == 1 and dropped[0].cancelled, step
        assert not flow.showing and "reviewed" not in camera.told, step


def test_a_failed_shot_watches_again_at_once_and_a_retake_too() -> None:
    flow, camera, events = rig()
    flow.shot_begins()
    epoch = flow.shot_taken(shot())
    assert epoch is not None
    flow.fail(shot(), epoch, "no garment found", "")
    failed = events[-1]
    assert isinstance(failed, AnalysisFailed) and not failed.cancelled and failed.reason == "no garment found"
    assert camera.told == ["rearm"]
    flow.retake()
    assert camera.told == ["rearm", "rearm"] and not flow.showing
