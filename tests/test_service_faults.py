"""The service outlives the faults a mirror meets: each is said as its part's error, and the rest runs on.

Real files, the real demo camera and the shipped models throughout; where a fault cannot be
made with real parts (an exception nothing foresaw), it is injected into the real object.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path

import pytest

from mirror.camera.demo import DemoSource
from mirror.events import AnalysisDone, AnalysisFailed, Error, Event, FrameReady, Level, RecordSaved
from mirror.health import Health
from mirror.housekeeping import CLOSET_UNAVAILABLE
from mirror.manifest import default_models_dir
from mirror.pipeline.analyzer import Analyzer
from mirror.service import MAX_FRAME_BACKLOG, MirrorService
from mirror.store import ClosetStore
from tests.conftest_broker import wait_until
from tests.test_service import fast_settings, wait_for


def errors_about(seen: list[Event], part: str) -> list[Error]:
    return [e for e in seen if isinstance(e, Error) and e.about == part]


def starts_anyway(service: MirrorService, seen: list[Event], part: str) -> Error:
    """The part's one-line Error, and the camera's frames all the same."""
    error = wait_for(service.events, lambda e: isinstance(e, Error) and e.about == part, 30, seen)
    assert isinstance(error, Error) and "\n" not in error.line()
    assert error.detail and error.detail not in error.line(), "the technical cause is for the log and About"
    wait_for(service.events, lambda e: isinstance(e, FrameReady), 30, seen)
    assert service.status().camera.level is Level.OK
    assert getattr(service.status(), part).level is Level.ERROR
    return error


def test_a_truncated_colour_model_is_said_and_the_camera_still_starts(tmp_path: Path) -> None:
    """A half-copied install: np.load raises BadZipFile, which no loader caught, and ended the start-up."""
    models = tmp_path / "models"
    for name in ("segmenter", "classifier", "colour"):
        shutil.copytree(default_models_dir() / name, models / name)
    table = models / "colour" / "colour_table.npz"
    table.write_bytes(table.read_bytes()[:3000])
    seen: list[Event] = []
    with MirrorService(fast_settings(tmp_path, models_dir=str(models)), health=Health()) as service:
        error = starts_anyway(service, seen, "models")
        assert "unreadable colour table" in error.detail and "reinstall models/colour" in error.detail
        assert "colour table" not in error.line()


def test_an_unreadable_sync_password_file_is_said_and_the_camera_still_starts(tmp_path: Path) -> None:
    base = fast_settings(tmp_path, models_dir=str(tmp_path))  # no models: not what this is about
    sync = dataclasses.replace(base.sync, enabled=True, port=1, username="mirror", password_file=str(tmp_path / "gone"))
    seen: list[Event] = []
    with MirrorService(dataclasses.replace(base, sync=sync), health=Health()) as service:
        error = starts_anyway(service, seen, "sync")
        assert "password_file" in error.detail and "config" in error.detail
        assert error.line() == "The cloud backup could not start · its settings need checking"


def test_an_unforeseen_start_up_failure_is_said_and_the_camera_still_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the accelerator delegate crashed")

    monkeypatch.setattr("mirror.service.load_models", broken)
    seen: list[Event] = []
    with MirrorService(fast_settings(tmp_path), health=Health()) as service:
        error = starts_anyway(service, seen, "models")
        assert error.detail.startswith("models could not start (the accelerator delegate crashed)")
        assert "doctor" in error.detail
        assert error.line() == "The clothes recognition could not start · restarting the mirror may help"


class DeniedOnce(DemoSource):
    """The demo camera, whose device node refuses the first open (the service user not yet in 'video')."""

    opens = 0

    def open(self) -> None:
        DeniedOnce.opens += 1
        if DeniedOnce.opens == 1:
            raise PermissionError(13, "Permission denied", "/dev/video0")
        super().open()


def test_a_camera_driver_error_on_open_is_said_and_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mirror.capture.supervisor.CAMERA_RETRY_S", 0.2)
    DeniedOnce.opens = 0
    seen: list[Event] = []
    source = DeniedOnce((320, 240), (800, 600), 15)
    with MirrorService(fast_settings(tmp_path, models_dir=str(tmp_path)), source=source, health=Health()) as service:
        error = wait_for(service.events, lambda e: isinstance(e, Error) and e.about == "camera", 20, seen)
        assert isinstance(error, Error) and error.detail.startswith("camera failed to open (")
        assert "Permission denied" in error.detail and error.message == "No camera found"
        wait_for(service.events, lambda e: isinstance(e, FrameReady), 20, seen)
        assert service.status().camera.level is Level.OK


class BrokenDriver(DemoSource):
    """The demo camera, whose driver has a bug: its open raises something no camera error explains."""

    opens = 0

    def open(self) -> None:
        BrokenDriver.opens += 1
        raise KeyError("sensor_mode")


def test_an_unforeseen_camera_open_error_is_retried_with_its_traceback_logged_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in a driver is retried like a missing camera, and the journal has its traceback, once."""
    monkeypatch.setattr("mirror.capture.supervisor.CAMERA_RETRY_S", 0.05)
    seen: list[Event] = []
    BrokenDriver.opens = 0
    source = BrokenDriver((320, 240), (800, 600), 15)
    settings = fast_settings(tmp_path, models_dir=str(tmp_path))
    with (
        caplog.at_level("ERROR", logger="mirror.capture.supervisor"),
        MirrorService(settings, source=source, health=Health()) as service,
    ):
        error = wait_for(service.events, lambda e: isinstance(e, Error) and e.about == "camera", 20, seen)
        assert isinstance(error, Error) and error.message == "No camera found"
        assert "sensor_mode" in error.detail and "\n" not in error.line()
        wait_until(lambda: BrokenDriver.opens >= 4, 10, "more tries")  # "once" must be over several tries
    tracebacks = [r for r in caplog.records if r.exc_info and "opening the camera raised KeyError" in r.getMessage()]
    assert len(tracebacks) == 1, [r.getMessage() for r in caplog.records]


def test_an_analysis_that_raises_fails_that_shot_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Analyzer.analyze
    calls: list[int] = []

    def first_fails(self: Analyzer, *args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("an image the pipeline did not expect")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Analyzer, "analyze", first_fails)
    seen: list[Event] = []
    with MirrorService(fast_settings(tmp_path), health=Health()) as service:
        wait_for(service.events, lambda e: isinstance(e, FrameReady), 30, seen)  # after the models loaded
        assert service.status().models.level is Level.OK
        # The demo garment is raised and held: the auto-capture shoots it.
        failed = wait_for(service.events, lambda e: isinstance(e, AnalysisDone | AnalysisFailed), 60, seen)
        assert isinstance(failed, AnalysisFailed) and not failed.cancelled, failed
        assert failed.reason == "Something went wrong with that photo · try again"
        assert failed.detail == "the analysis failed (an image the pipeline did not expect)"
        # The analysis thread lives on: the next shot (the garment still held, or the next one) is analysed.
        done = wait_for(service.events, lambda e: isinstance(e, AnalysisDone | AnalysisFailed), 60, seen)
        assert isinstance(done, AnalysisDone), done


def test_a_keep_the_closet_could_not_store_is_said_not_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure the store did not translate (a bug, a driver error) still answers the person."""
    seen: list[Event] = []
    with MirrorService(fast_settings(tmp_path), health=Health()) as service:
        done = wait_for(service.events, lambda e: isinstance(e, AnalysisDone), 60, seen)  # the demo's auto-capture
        assert isinstance(done, AnalysisDone)

        def add(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("disk controller reset")

        monkeypatch.setattr(ClosetStore, "add", add)
        service.keep(done.result)
        error = wait_for(service.events, lambda e: isinstance(e, Error) and e.about == "storage", 20, seen)
        assert isinstance(error, Error) and error.line() == "That did not work · try again"
        assert error.detail == "the closet operation failed (disk controller reset); see the log"
        monkeypatch.undo()
        service.keep(done.result)  # tried again: stored
        wait_for(service.events, lambda e: isinstance(e, RecordSaved), 20, seen)


def test_a_closet_that_cannot_open_holds_auto_capture_and_its_errors_keep_the_cause(tmp_path: Path) -> None:
    """Auto-capture went on (each garment shot, analysed, then refused), and the errors after the first
    said "the closet is not open; check [store] data_dir" even where the cause was a damaged database."""
    settings = fast_settings(tmp_path, models_dir=str(tmp_path))
    (tmp_path / "closet").write_text("a file where the closet folder should be")
    seen: list[Event] = []
    cause = f"{tmp_path / 'closet'} is a file, not a folder; move it aside, or check [store] data_dir"
    with MirrorService(settings, health=Health()) as service:
        wait_for(service.events, lambda e: isinstance(e, Error) and e.about == "storage", 20, seen)
        wait_until(lambda: CLOSET_UNAVAILABLE in service._holds, 10, "auto-capture held")
        wait_until(lambda: service.status().camera.level is Level.OK, 10, "the camera (else: no camera)")
        service.delete("0190c0de-0000-7000-8000-000000000000")
        service.capture_now()
        for _answer in range(2):
            error = wait_for(service.events, lambda e: isinstance(e, Error) and e.detail == cause, 20, seen)
            assert isinstance(error, Error) and error.about == "storage"
            assert error.line() == "The closet can't be opened right now · the mirror keeps trying"


def test_preview_frames_a_stalled_ui_does_not_read_are_dropped_not_hoarded(tmp_path: Path) -> None:
    """Each frame is ~0.2–0.9 MB: a GUI that stalls must not let them pile up in memory."""
    seen: list[Event] = []
    with MirrorService(fast_settings(tmp_path, models_dir=str(tmp_path)), health=Health()) as service:
        wait_for(service.events, lambda e: isinstance(e, FrameReady), 20, seen)
        frames_before = service._camera.loop.seq if service._camera.loop else 0
        time.sleep(2.0)  # the UI reads nothing for 2 s (15 fps: ~30 frames)
        produced = (service._camera.loop.seq if service._camera.loop else 0) - frames_before
        queued = []
        while not service.events.empty():
            queued.append(service.events.get_nowait())
        frames = sum(isinstance(e, FrameReady) for e in queued)
        assert produced > MAX_FRAME_BACKLOG + 5, produced  # the camera kept going meanwhile
        assert frames <= MAX_FRAME_BACKLOG + 1, frames


def test_a_closet_that_failed_to_open_in_an_unforeseen_way_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only store errors used to be retried: anything else left the mirror without a closet until a restart."""
    monkeypatch.setattr("mirror.housekeeping.STORAGE_EVERY_S", 0.3)
    real = ClosetStore.open.__func__  # type: ignore[attr-defined]
    attempts: list[int] = []

    def first_fails(cls: type[ClosetStore], /, *args: object, **kwargs: object) -> ClosetStore:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("sqlite3 driver hiccup")
        return real(cls, *args, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(ClosetStore, "open", classmethod(first_fails))
    seen: list[Event] = []
    with MirrorService(fast_settings(tmp_path, models_dir=str(tmp_path)), health=Health()) as service:
        error = wait_for(service.events, lambda e: isinstance(e, Error) and e.about == "storage", 20, seen)
        assert isinstance(error, Error) and error.detail == "the closet could not be opened (sqlite3 driver hiccup)"
        assert error.line() == "The closet's disk could not be opened · About shows why"
        deadline = time.monotonic() + 10
        while service.status().storage.level is not Level.OK:
            assert time.monotonic() < deadline, service.status().storage
            time.sleep(0.1)
        assert len(attempts) >= 2 and service.closet() == []
