"""Cancel on the capture screen stops the core's countdown: the real window, service and demo camera.

Before, Cancel only changed the screen while the core kept counting and still shot; now no shot
comes, the mirror stays home while the garment is still held up, and a later capture works.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mirror.config.settings import VisionSettings
from mirror.events import CaptureState
from tests.test_ui_flow import choose
from tests.ui_harness import running_mirror, settings_for, wait_for_models
from ui.bench import wait_until

pytestmark = [pytest.mark.usefixtures("qapp"), pytest.mark.slow]
COUNTDOWN_S = 3


def test_cancel_during_the_countdown_means_no_shot(tmp_path: Path, qtbot) -> None:
    vision = VisionSettings(auto_capture=True, hold_still_ms=300, countdown_s=COUNTDOWN_S)
    with running_mirror(settings_for(tmp_path, vision=vision)) as m:
        w = m.window
        wait_for_models(m)
        m.wait(lambda: w.capture.state.state is CaptureState.COUNTDOWN, 60, "the countdown")
        assert w.current() is w.capture
        choose(qtbot, m, "cancel")
        assert w.current() is w.home
        # Longer than the countdown had left; the demo garment is still held up meanwhile.
        wait_until(lambda: w.shutter_at is not None or w.current() is not w.home, COUNTDOWN_S + 1.5)
        assert w.shutter_at is None, "the cancelled countdown still took the shot"
        assert w.current() is w.home
        assert m.service.status().camera.text == "camera: demo"


def test_no_shot_while_the_person_browses_the_closet(tmp_path: Path, qtbot) -> None:
    """The garment they hold while looking through the closet must not replace the screen with a result."""
    vision = VisionSettings(auto_capture=True, hold_still_ms=300, countdown_s=COUNTDOWN_S)
    with running_mirror(settings_for(tmp_path, vision=vision)) as m:
        w = m.window
        wait_for_models(m)
        w.open_closet()
        m.wait(lambda: w.capture.state.state is CaptureState.PRESENT, 60, "a garment in view")
        wait_until(lambda: w.shutter_at is not None or w.current() is not w.closet, COUNTDOWN_S + 4)
        assert w.shutter_at is None and w.current() is w.closet
        w.show_screen(w.home)  # back home: the held garment counts down again
        m.wait(lambda: w.capture.state.state is CaptureState.COUNTDOWN, 30, "the countdown after browsing")
