"""Perf round 2 (notes/s10_review_perf.md L1-L3, ops L7): work the mirror no longer does.

Behaviour, not milliseconds: what is encoded and when, how often a frame is shrunk, when the
closet folder is walked, and that a camera open that hangs is watched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mirror.pipeline import analyzer as analyzer_mod
from mirror.pipeline import drafts as drafts_mod
from mirror.pipeline.analyzer import Analyzer
from mirror.pipeline.bench import demo_frames
from mirror.pipeline.drafts import to_draft
from mirror.pipeline.models import PREVIEW_THREADS, load_models, models_dir
from mirror.pipeline.result import CUTOUT_BLACK, CUTOUT_PNG, CUTOUT_WHITE, PHOTO
from tests.test_analyze import require_models


def counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, calls: list[str]) -> None:
    """Count the calls of ``module.name`` (into ``calls``), still doing what it did."""
    real: Callable[..., Any] = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)


# --- L1: the files are encoded on keep (the store's thread), not before the result shows ---------


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    require_models()
    return Analyzer(load_models(models_dir(""), "tflite", 1, 0.02))


def test_a_result_left_to_encode_later_encodes_nothing_until_it_is_kept(
    analyzer: Analyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PNG and three JPEGs (~14 ms here, ~50 ms on a Pi) were made before the result showed,
    and for every garment of a shot the person then retook."""
    frame = demo_frames(1024, 768, count=1)[0]
    now = analyzer.analyze(frame, encode=True)
    calls: list[str] = []
    for name in ("cutout_images", "photo_jpeg"):
        counting(monkeypatch, analyzer_mod, name, calls)
    later = analyzer.analyze(frame, encode=False, encode_later=True, keep_photo=True)
    assert later.garments and calls == [], "encoded before the result was shown"
    primary = later.garments[0]
    assert primary.cutout_bgra is not None and not primary.images and not later.photo_jpg  # what the UI shows
    assert "encode" not in later.timings_ms
    encoded: list[str] = []
    for name in ("garment_files", "photo_jpeg"):
        counting(monkeypatch, drafts_mod, name, encoded)
    draft = to_draft(later)
    assert sorted(encoded) == ["garment_files", "photo_jpeg"], "the kept garment alone, and the photo, once"
    expected = to_draft(now)
    assert set(draft.images) == {CUTOUT_PNG, CUTOUT_BLACK, CUTOUT_WHITE, PHOTO}
    assert dict(draft.images) == dict(expected.images), "the same files, byte for byte, as encoding at once"
    assert draft.category == expected.category and draft.color == expected.color


def test_analyze_without_encode_later_is_as_it_was(analyzer: Analyzer) -> None:
    """``smart-mirror analyze`` (encode on with --save-cutouts, off without) is unchanged."""
    frame = demo_frames(1024, 768, count=1)[0]
    bare = analyzer.analyze(frame, encode=False)
    assert bare.work is None and bare.garments and all(g.cutout_bgra is None and not g.images for g in bare.garments)
    full = analyzer.analyze(frame, encode=True)
    assert full.work is None and full.photo_jpg and all(len(g.images) == 3 for g in full.garments)


# --- L2: the camera loop shrinks each preview frame once ------------------------------------------


class CountingCv2:
    """cv2 as the capture modules see it, counting ``resize`` (the shrink's one resize)."""

    def __init__(self) -> None:
        import cv2

        self._cv2 = cv2
        self.resizes = 0

    def resize(self, *args: Any, **kwargs: Any) -> Any:
        self.resizes += 1
        return self._cv2.resize(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cv2, name)


def run_demo_loop(steps: int, per_step: Callable[[], None] | None = None) -> tuple[list[tuple[Any, ...]], int]:
    """The loop on the demo scene (truth detector) for ``steps`` frames: what it said, and shots taken."""
    from mirror.events import CaptureStateChanged, FrameReady
    from tests.test_capture_loop import ANY_FRAME, make_loop

    loop, _source, detector, events, shots = make_loop()
    said: list[tuple[Any, ...]] = []
    for _ in range(steps):
        loop.step()
        detector.step(ANY_FRAME)
        if per_step is not None:
            per_step()
        if shots and loop.machine.state.name == "ANALYSING":
            loop.reviewed()
            loop.resume(rearm=False)
    for event in events:
        if isinstance(event, FrameReady):
            said.append(("frame", event.state, event.box, event.seq))
        elif isinstance(event, CaptureStateChanged):
            said.append(("state", event.state, event.progress, event.countdown))
    return said, len(shots)


def test_the_camera_loop_shrinks_each_frame_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The motion meter, the background's learning and its test of each candidate each shrank
    the same frame (cvtColor + resize + blur, ~0.6 ms each here): up to three times a frame."""
    import importlib

    from mirror.capture import background, motion

    counting_cv2 = CountingCv2()
    modules = [motion, background]
    with contextlib.suppress(ImportError):  # where the one shrink lives (absent before it was shared)
        modules.append(importlib.import_module("mirror.capture.small"))
    for module in modules:
        if hasattr(module, "cv2"):
            monkeypatch.setattr(module, "cv2", counting_cv2)
    per_frame: list[int] = []

    def count() -> None:
        per_frame.append(counting_cv2.resizes)
        counting_cv2.resizes = 0

    _said, shots = run_demo_loop(135, count)
    assert shots == 2  # the garment was seen (foreground tests ran) and shot, as before
    assert max(per_frame) == 1 and min(per_frame) == 1, f"shrinks per frame: {sorted(set(per_frame))}"


def test_sharing_the_shrunk_frame_changes_nothing_the_loop_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same states, boxes and shots, frame for frame, as each part shrinking the frame itself."""
    shared, shared_shots = run_demo_loop(135)
    from mirror.capture import loop as loop_mod

    monkeypatch.setattr(loop_mod, "shrink", lambda frame, width: None)  # every part shrinks for itself again
    alone, alone_shots = run_demo_loop(135)
    assert shared == alone and shared_shots == alone_shots == 2


# --- L3: the About screen's storage figure without walking every image every 30 s ----------------


def test_an_unchanged_closet_is_not_walked_again_for_the_about_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every 30 s, all day, the whole closet folder was walked: 4,000 stat() calls on the SD card
    for 1,000 garments, for a figure the About screen shows now and then."""
    import os

    import mirror.service
    from mirror.health import Health
    from tests.test_service import fast_settings

    settings = fast_settings(tmp_path)
    root = settings.store.path()
    images = root / "images"
    images.mkdir(parents=True)
    for k in range(400):
        (images / f"{k:064x}.png").write_bytes(b"x" * 100)
    (root / "closet.db").write_bytes(b"d" * 1000)
    (root / "screenshots").mkdir()
    (root / "screenshots" / "home.png").write_bytes(b"s" * 10)
    listed: list[str] = []
    scandir = os.scandir

    def counting(path: Any = ".") -> Any:
        listed.append(os.path.basename(os.fspath(path)))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", counting)
    service = mirror.service.MirrorService(settings, health=Health())  # not started: the worker's job by hand
    service._keeper.measure_storage()
    assert service.about().storage_used_mb == round((400 * 100 + 1000 + 10) / 1e6, 1)
    assert service._keeper.storage_used == 400 * 100 + 1000 + 10
    assert listed.count("images") == 1
    for _ in range(3):
        service._keeper.measure_storage()
    assert listed.count("images") == 1, "the unchanged images folder was listed again"
    with (root / "closet.db").open("ab") as db:  # the database grows in place (no folder change)
        db.write(b"d" * 500)
    tmp = images / ".tmp-new.png.1"
    tmp.write_bytes(b"y" * 300)
    tmp.replace(images / f"{400:064x}.png")  # a garment kept: written under a temp name, renamed
    service._keeper.measure_storage()
    assert service._keeper.storage_used == 401 * 100 + 200 + 1500 + 10
    assert listed.count("images") == 2


# --- ops L7: a camera open() that hangs is watched -------------------------------------------------


def test_a_camera_open_that_hangs_is_seen_by_the_watchdog() -> None:
    """The camera registered with Health only once open() returned: a libcamera open that blocked
    for good left 'camera: missing' and a watchdog that kept pinging, so nothing restarted it."""
    import threading

    from mirror.camera import Pacer
    from mirror.camera.demo import DemoSource
    from mirror.capture.supervisor import CAMERA_DEADLINE_S
    from mirror.health import Health
    from tests.test_capture_loop import lone_supervisor

    now = [0.0]
    health = Health(clock=lambda: now[0])
    opening, release = threading.Event(), threading.Event()

    class Hanging(DemoSource):
        def open(self) -> None:
            opening.set()
            release.wait(30)  # a driver that does not come back (released at the end of the test)
            super().open()

    stop = threading.Event()
    supervisor = lone_supervisor(Hanging((320, 240), (640, 480), 10, pacer=Pacer(0)), stop, lambda: now[0], health)
    thread = threading.Thread(target=supervisor.run, daemon=True)
    thread.start()
    try:
        assert opening.wait(10)
        now[0] += CAMERA_DEADLINE_S + 1  # a slow open is allowed more than a frame's deadline
        assert health.healthy()
        now[0] += 120  # but not for ever
        assert "camera" in health.overdue(), "an open() that never returns goes unseen by the watchdog"
    finally:
        stop.set()
        release.set()
        supervisor.stop_loop()
        thread.join(10)
    assert not thread.is_alive()


def test_a_camera_that_fails_to_open_is_not_counted_as_hung_while_it_waits_to_retry() -> None:
    from mirror.health import Health
    from tests.test_capture_loop import _FakeTime, _Unplugged, lone_supervisor

    time_ = _FakeTime(waits=3)
    health = Health(clock=lambda: time_.now)
    supervisor = lone_supervisor(_Unplugged((320, 240), (800, 600), 15), time_, lambda: time_.now, health)
    supervisor.run()
    time_.now += 1000
    assert health.healthy()


# --- s11 audit, perf H1 rest: the preview detector's own one-thread segmenter ----------------------


def test_the_preview_has_its_own_one_thread_segmenter_and_finds_the_same() -> None:
    """One per-core interpreter shared with the analysis ran detection on pool threads at normal
    priority (waking every core of a Pi 5×/s) and made each look wait for a shot's analysis."""
    require_models()
    models = load_models(models_dir(""), "tflite", 2, 0.02, preview=True)
    watcher = models.preview_finder
    assert watcher is not None and watcher is not models.finder and models.detector is watcher
    assert watcher.segmenter.model.threads == PREVIEW_THREADS == 1
    assert load_models(models_dir(""), "tflite", 2, 0.02).preview_finder is None  # analyze needs none
    frame = demo_frames(640, 480, count=1)[0]
    assert [f.box for f in watcher.find(frame)] == [f.box for f in models.finder.find(frame)]


def test_preview_detection_goes_on_while_a_shot_is_analysed(tmp_path: Path) -> None:
    """The person sees the outline follow the garment while the mirror works on the shot."""
    import time

    from mirror.capture.detector import Detection
    from mirror.health import Health
    from mirror.service import MirrorService
    from tests.test_service import fast_settings

    require_models()
    # Held a long time before a shot: the demo garment is looked at every frame, and no shot is taken.
    with MirrorService(fast_settings(tmp_path, hold_ms=10_000), health=Health()) as service:
        deadline = time.monotonic() + 60
        while not (service._detector.latest() or Detection(0.0)).candidates:  # the demo garment raised
            assert time.monotonic() < deadline, "the demo garment was never detected"
            time.sleep(0.05)
        with service._model_lock:  # what a shot's analysis holds
            first = service._detector.latest()
            time.sleep(1.0)
            later = service._detector.latest()
        assert first is not None and later is not None and later.at > first.at, "detection waited for the analysis"
