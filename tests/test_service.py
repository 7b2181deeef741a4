"""MirrorService headless: graceful states (no models, no camera) and the event contract around them."""

from __future__ import annotations

import dataclasses
import queue
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mirror.camera.demo import DemoSource
from mirror.camera.v4l2 import V4L2Source
from mirror.capture.machine import Sighting
from mirror.config import Settings
from mirror.events import (
    AnalysisFailed,
    AnalysisStarted,
    CaptureState,
    CaptureStateChanged,
    Error,
    Event,
    FrameReady,
    Image,
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
        assert isinstance(error, Error) and "\n" not in error.line() and "segmenter" in error.detail
        assert "segmenter" not in error.line() and "/" not in error.line(), "the path is for the log and About"
        frame = wait_for(service.events, lambda e: isinstance(e, FrameReady), 20, seen)
        assert isinstance(frame, FrameReady)
        assert frame.image.shape == (240, 320, 3) and frame.mirrored  # hflip defaults on
        status = service.status()
        assert status.models.level is Level.ERROR and status.camera.text == "camera: demo"
        service.capture_now()
        started = wait_for(service.events, lambda e: isinstance(e, AnalysisStarted), 20, seen)
        failed = wait_for(service.events, lambda e: isinstance(e, AnalysisFailed), 20, seen)
        assert isinstance(started, AnalysisStarted) and isinstance(failed, AnalysisFailed)
        assert started.manual
        assert failed.capture_id == started.capture_id
        assert failed.reason == "The mirror can't recognise clothes right now · it needs a software repair"
        assert "models are not loaded" in failed.detail
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
        wait_for(
            service.events,
            lambda e: isinstance(e, CaptureStateChanged) and e.state is CaptureState.NO_CAMERA,
            20,
            seen,
        )
        error = wait_for(service.events, lambda e: isinstance(e, Error) and "/dev/video97" in e.detail, 20, seen)
        assert isinstance(error, Error) and "\n" not in error.line() and error.about == "camera"
        assert error.line() == "No camera found · check its cable, then restart the mirror", "no device path"
        assert service.status().camera.level is Level.ERROR
        service.capture_now()
        refused = wait_for(service.events, lambda e: isinstance(e, Error) and "--source demo" in e.detail, 20, seen)
        assert isinstance(refused, Error) and refused.about == "camera"  # the UI drops it once frames flow
        assert refused.message == "No camera found" and "--source" not in refused.line()
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


class FlakyCamera(DemoSource):
    """The demo camera, whose driver raises its own error once after a few frames (libcamera's timeout)."""

    failed = False

    def read(self) -> Image | None:
        if not FlakyCamera.failed and self._frames_read >= 5:
            FlakyCamera.failed = True
            raise RuntimeError("Camera frontend has timed out!")
        self._frames_read += 1
        return super().read()

    def open(self) -> None:
        self._frames_read = 0
        super().open()


class DeadStream(DemoSource):
    """Opens fine, then never delivers a frame (a video with no decodable frame, a wedged driver)."""

    opens = 0

    def open(self) -> None:
        DeadStream.opens += 1
        super().open()

    def read(self) -> Image | None:
        return None


def test_a_driver_error_is_a_lost_camera_that_comes_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mirror.capture.supervisor.CAMERA_RETRY_S", 0.2)
    FlakyCamera.failed = False
    seen: list[Event] = []
    source = FlakyCamera((320, 240), (800, 600), 15)
    with MirrorService(fast_settings(tmp_path, models_dir=str(tmp_path)), source=source, health=Health()) as service:
        error = wait_for(service.events, lambda e: isinstance(e, Error) and "timed out" in e.detail, 20, seen)
        assert isinstance(error, Error) and error.about == "camera"
        assert error.detail == "camera demo failed (RuntimeError: Camera frontend has timed out!)"
        assert error.message == "No camera found", "the driver's words are for the log and About"
        idle = lambda e: isinstance(e, CaptureStateChanged) and e.state is CaptureState.IDLE  # noqa: E731
        wait_for(service.events, idle, 20, seen)  # said again, so the UI drops "no camera"
        wait_for(service.events, lambda e: isinstance(e, FrameReady), 20, seen)  # frames flow again
        assert service.status().camera.level is Level.OK


def test_a_stream_that_delivers_nothing_is_said_once_not_every_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mirror.capture.supervisor.CAMERA_RETRY_S", 0.1)
    seen: list[Event] = []
    DeadStream.opens = 0
    source = DeadStream((320, 240), (800, 600), 15)
    with MirrorService(fast_settings(tmp_path, models_dir=str(tmp_path)), source=source, health=Health()) as service:
        wait_for(service.events, lambda e: isinstance(e, Error) and "stopped delivering" in e.detail, 20, seen)
        deadline = time.monotonic() + 20
        while DeadStream.opens < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert DeadStream.opens >= 5, f"the camera was reopened {DeadStream.opens} times, not retried"
        while not service.events.empty():
            seen.append(service.events.get())
    errors = [e.detail for e in seen if isinstance(e, Error) and e.about == "camera"]
    assert errors == ["camera demo stopped delivering frames"]


def test_a_countdown_from_before_a_camera_gap_does_not_fire_after_it(tmp_path: Path) -> None:
    """Otherwise the first frame after the camera comes back would shoot an empty room."""
    service = MirrorService(fast_settings(tmp_path), health=Health())  # not started: the machine alone
    machine = service._machine
    held = Sighting((10, 10, 100, 100), 0.0)
    machine.update(0.0, held)
    machine.update(0.5, held)
    assert machine.state is CaptureState.COUNTDOWN
    service._camera.after_gap()
    assert str(machine.state) == str(CaptureState.IDLE)  # (str: mypy narrowed it to COUNTDOWN above)
    said = service.events.get_nowait()
    assert isinstance(said, CaptureStateChanged) and said.state is CaptureState.IDLE
    assert not machine.update(5.0, None).shoot


def test_a_closet_that_cannot_be_opened_at_start_is_opened_when_it_can(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A card mounted late or remounted writable: the running mirror picks the closet up, no restart."""
    import mirror.housekeeping

    monkeypatch.setattr(mirror.housekeeping, "STORAGE_EVERY_S", 0.3)
    settings = fast_settings(tmp_path)
    blocker = tmp_path / "closet"
    blocker.write_text("a file where the closet folder should be")
    seen: list[Event] = []
    with MirrorService(settings, health=Health()) as service:
        error = wait_for(service.events, lambda e: isinstance(e, Error) and e.about == "storage", 20, seen)
        assert isinstance(error, Error) and "\n" not in error.line()
        blocker.unlink()
        deadline = time.monotonic() + 10
        while service.status().storage.level is not Level.OK:
            assert time.monotonic() < deadline, service.status().storage
            time.sleep(0.1)
        assert service.closet() == []
        while not service.events.empty():
            seen.append(service.events.get_nowait())
        assert sum(isinstance(e, Error) and e.about == "storage" for e in seen) == 1  # said once, not per retry


def test_a_closet_folder_that_vanishes_is_shown_and_the_analysis_thread_lives_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A USB disk pulled, or a card remounted: the status checks on the analysis thread fail.

    They used to raise there and end the thread, so every later shot counted down and never got
    a result, until the watchdog restarted the service. Now the status says the closet is
    unreadable, the thread lives on, and the status comes back with the folder."""
    import mirror.housekeeping

    monkeypatch.setattr(mirror.housekeeping, "STORAGE_EVERY_S", 0.3)  # measure_storage walks the folder too
    settings = fast_settings(tmp_path)
    folder = tmp_path / "closet"
    seen: list[Event] = []

    def storage(text: str) -> Callable[[Event], bool]:
        return lambda e: isinstance(e, StatusChanged) and e.status.storage.text == text

    with MirrorService(settings, health=Health()) as service:
        wait_for(service.events, lambda e: isinstance(e, FrameReady), 20, seen)  # the closet opened before
        folder.rename(tmp_path / "away")
        part = wait_for(service.events, storage("storage: unreadable"), 20, seen)
        assert isinstance(part, StatusChanged) and part.status.storage.level is Level.ERROR
        time.sleep(1.0)  # several status and storage ticks with the folder gone
        [analysis] = [t for t in service._threads if t.name == "analysis"]
        assert analysis.is_alive()
        (tmp_path / "away").rename(folder)
        wait_for(service.events, storage("storage: ok"), 20, seen)
        assert analysis.is_alive()


def test_a_closet_mounted_after_start_lends_the_mirror_its_device_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restored closet on a disk mounted late: its garments' device id is the mirror's, not one
    derived from this card's machine id (the cloud would refuse every version as another device's)."""
    import mirror.housekeeping

    monkeypatch.setattr(mirror.housekeeping, "STORAGE_EVERY_S", 0.3)
    restored = tmp_path / "restored"
    with ClosetStore.open(restored, "mirror-hall") as old:
        kept = old.add(synthetic_draft(1))
    base = fast_settings(tmp_path)
    settings = dataclasses.replace(base, device=dataclasses.replace(base.device, id=""))
    (tmp_path / "not-mounted").write_text("not mounted yet")
    closet = tmp_path / "closet"
    closet.symlink_to(tmp_path / "not-mounted")
    seen: list[Event] = []
    with MirrorService(settings, health=Health()) as service:
        assert service.device_id != "mirror-hall"
        wait_for(service.events, lambda e: isinstance(e, Error) and e.about == "storage", 20, seen)
        # The disk is mounted, in one step as a mount is (an unlink, then a rename, let a retry in
        # between make a new closet there under the machine's id).
        (tmp_path / "mounting").symlink_to(restored)
        (tmp_path / "mounting").replace(closet)
        deadline = time.monotonic() + 10
        while service.status().storage.level is not Level.OK:
            assert time.monotonic() < deadline, service.status().storage
            time.sleep(0.1)
        assert service.device_id == "mirror-hall"
        assert [r.id for r in service.closet()] == [kept.id]
        assert service.about().device_id == "mirror-hall"
