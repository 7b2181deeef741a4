"""Graceful states on the real window and service: each problem is said on the mirror, nothing crashes.

No camera, models missing, broker down, disk full: each is produced for real (a camera
device that does not exist, an empty models folder, a port nobody listens on, a free-space
floor no disk meets) and the test checks what the person sees, in words and in pixels.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtCore import Qt

from mirror.config.settings import CameraSettings, StoreSettings, SyncSettings, VisionSettings
from mirror.events import STORAGE_FULL, CaptureState, Level
from mirror.wording import CLOSET_FULL
from tests.broker import closed_port
from tests.ui_harness import grab, running_mirror, settings_for
from ui.home import plain_status
from ui.theme import WARN

pytestmark = pytest.mark.usefixtures("qapp")
AMBER = np.array([WARN.red(), WARN.green(), WARN.blue()])


def amber_pixels(array: npt.NDArray[np.uint8]) -> int:
    """Pixels in the warning colour: how the mirror marks what is wrong."""
    return int((abs(array.astype(int) - AMBER).max(axis=2) <= 12).sum())


def test_no_camera_is_said_and_capture_does_not_crash(tmp_path, qtbot) -> None:
    settings = settings_for(tmp_path, camera=CameraSettings(source="v4l2", device="/dev/video-missing-ui-test"))
    with running_mirror(settings) as m:
        home = m.window.home
        m.wait(lambda: home.status.camera.level == Level.ERROR, what="camera marked missing")
        m.wait(lambda: "camera" in home.notice.lower(), what="a notice about the camera")
        assert m.window.capture.state.state == CaptureState.NO_CAMERA
        qtbot.keyClick(m.window.current(), Qt.Key.Key_Space)  # try to capture anyway
        assert m.window.current() is home, "Capture is not offered without a camera"
        assert home.hint()[0] == "No camera to capture with" and home.buttons.current() == "closet"
        assert home.notice == "No camera found · check its cable, then restart the mirror", home.notice
        assert "/dev/video" not in home.notice and "/dev/video-missing-ui-test" in m.window.about.problem
        m.window.show_screen(m.window.home)
        assert amber_pixels(grab(m.window)) > 50
        # Capture pressed, then nobody there: the capture screen does not stay up for good.
        m.window._idle.setInterval(300)
        m.window.show_screen(m.window.capture)
        m.wait(lambda: m.window.current() is m.window.home, 5, "home after the idle time")


def test_a_camera_not_set_up_is_not_sent_to_its_cable(tmp_path, qtbot) -> None:
    """A replay folder that is not there (or picamera2 not installed) said "check its cable" on the glass."""
    settings = settings_for(tmp_path, camera=CameraSettings(source="replay", replay_path=str(tmp_path / "none")))
    with running_mirror(settings) as m:
        home = m.window.home
        m.wait(lambda: home.status.camera_not_set_up, what="camera marked not set up")
        m.wait(lambda: "camera" in home.notice.lower(), what="a notice about the camera")
        assert home.notice == "The camera is not set up · run smart-mirror doctor to see what to change", home.notice
        assert home.hint()[0] == "The camera is not set up"  # its fix: the notice under it
        assert [p.detail for p in plain_status(home.status)] == ["Camera not set up"]
        assert str(tmp_path / "none") in m.window.about.problem


def test_models_missing_is_said_and_a_capture_explains_itself(tmp_path, qtbot) -> None:
    settings = settings_for(tmp_path, vision=VisionSettings(auto_capture=False, models_dir=str(tmp_path / "none")))
    with running_mirror(settings) as m:
        home = m.window.home
        m.wait(lambda: home.status.models.level == Level.ERROR, what="models marked missing")
        # The status and the error line are two events that may arrive in either order.
        m.wait(lambda: bool(home.notice), what="the reason shown on the home screen")
        m.wait(lambda: m.service.status().camera.level == Level.OK, what="the demo camera")
        # Home says it in words (the models' path is for the log and About), and offers the closet.
        assert home.hint()[0] == "The mirror can't recognise clothes right now"
        assert "/" not in home.notice and "segmenter" in m.window.about.problem
        qtbot.keyClick(m.window.current(), Qt.Key.Key_Space)
        assert m.window.current() is home, "a capture that cannot work is not offered"
        m.window.capture_now()  # as a remote capture does: the shot explains itself
        m.wait(lambda: m.window.current() is m.window.result, what="the result screen")
        assert m.window.result.garment is None
        assert m.window.result.message == "The mirror can't recognise clothes right now · it needs a software repair"
        assert amber_pixels(grab(m.window.home)) > 50


def test_broker_down_shows_sync_offline(tmp_path) -> None:
    with closed_port() as port:  # held: no other process can start listening on it meanwhile
        sync = SyncSettings(enabled=True, host="127.0.0.1", port=port, backoff_max_s=1.0)
        with running_mirror(settings_for(tmp_path, sync=sync)) as m:
            home = m.window.home
            m.wait(lambda: "offline" in home.status.sync.text, timeout_s=30, what="sync offline")
            assert home.status.sync.level == Level.WARN
            m.window.show_screen(m.window.home)
            assert amber_pixels(grab(m.window)) > 30
            m.window._on_home("about")
            about = {label: value for label, value, _ in m.window.about.facts()}
            assert "offline" in about["Broker"]


def test_disk_full_is_said(tmp_path) -> None:
    settings = settings_for(tmp_path, store=StoreSettings(data_dir=str(tmp_path / "closet"), min_free_mb=10**6))
    with running_mirror(settings) as m:
        home = m.window.home
        m.wait(lambda: home.status.storage.level == Level.ERROR, what="storage marked full")
        assert "full" in home.status.storage.text and home.status.storage.reason == STORAGE_FULL
        m.window.show_screen(m.window.home)
        assert amber_pixels(grab(m.window)) > 30


def test_a_garment_held_up_with_the_disk_full_keeps_home_saying_why(tmp_path) -> None:
    """The core holds auto-capture off while the disk is full, so the garment stays 'present': the
    capture screen used to show "Hold still" for good. Home stays, saying the closet is full."""
    vision = VisionSettings(auto_capture=True, hold_still_ms=300, countdown_s=1)
    store = StoreSettings(data_dir=str(tmp_path / "closet"), min_free_mb=10**6)
    with running_mirror(settings_for(tmp_path, vision=vision, store=store)) as m:
        w = m.window
        m.wait(lambda: w.home.status.storage.reason == STORAGE_FULL, what="storage marked full")
        m.wait(lambda: w.home.status.models.level == Level.OK, timeout_s=60, what="the models")
        m.wait(lambda: w.capture.state.state is CaptureState.PRESENT, 60, "the demo garment held up")
        assert w.current() is w.home
        assert w.home.hint()[0] == CLOSET_FULL[0]
        assert w.shutter_at is None
