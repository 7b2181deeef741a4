"""A result nobody acts on (``[ui] result_timeout_s``, shortened here) is settled and the mirror goes home.

The real window, service, demo camera and shipped models. A confident result is kept (the
person held it up to register it) and the home screen says what was kept; an unsure one is
dropped (it needs the person's answer) and the home screen says so. In its last seconds the
result screen counts down to it. ``[vision] unsure_below``
makes the shipped classifier's answer confident (0) or unsure (1) on purpose.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from mirror.config.settings import VisionSettings
from mirror.events import Error
from mirror.wording import ADDED, NOT_ADDED_UNSURE
from tests.ui_harness import MirrorUnderTest, running_mirror, settings_for, wait_for_garment_result, wait_for_models
from ui.bench import wait_until
from ui.vocab import category_claim, category_noun

pytestmark = [pytest.mark.usefixtures("qapp"), pytest.mark.slow]
TIMEOUT_S = 1.0
#: Far from firing while the restart is checked, and under 20 s: Qt rounds a longer coarse timer to
#: whole seconds, so a restart could read the same remaining time as before it.
LONG_S = 15.0


def shoot(m: MirrorUnderTest) -> None:
    """A manual shot of the demo garment, on the result screen afterwards."""
    w = m.window
    wait_for_models(m)
    m.wait(lambda: w.capture.frame is not None and w.capture.frame.box is not None, 30, "a garment in view")
    w.capture_now()
    wait_for_garment_result(m)


def test_a_confident_result_nobody_acts_on_is_kept(tmp_path: Path, qtbot) -> None:
    settings = settings_for(tmp_path, vision=VisionSettings(auto_capture=False, unsure_below=0.0))
    with running_mirror(settings) as m:
        w = m.window
        w.set_result_timeout(LONG_S)  # far from firing while the restart is checked
        shoot(m)
        if w.result.asks:  # the classifier itself was unsure: the person's answer makes it confident
            w.result.choose_category(w.result.shown_category)
        assert w.result.countdown == "", "15 s to go: no countdown yet"
        # A key press is someone there: the wait starts again, from the full interval.
        # (A coarse timer is within 5 % of its interval, 0.75 s here: let 2 s run down, then expect
        # more than 1 s back.)
        started = w._unattended.remainingTime()
        m.wait(lambda: w._unattended.remainingTime() < started - 2000, what="the result's wait to run down")
        before = w._unattended.remainingTime()
        qtbot.keyClick(w.result, Qt.Key.Key_Right)
        assert w._unattended.remainingTime() > before + 1000, "a key press did not restart the wait"
        # Nobody there from now on: with a short interval (taken at the next press), the result is settled.
        w.set_result_timeout(TIMEOUT_S)
        qtbot.keyClick(w.result, Qt.Key.Key_Left)
        m.wait(lambda: w.current() is w.home, timeout_s=10, what="home after the timeout")
        m.wait(lambda: len(m.service.closet()) == 1, what="the kept record")
        [record] = m.service.closet()
        # The same verb as after a Keep press, the garment named as the closet will show it.
        assert w.home.note == f"{ADDED}: {record.color.basic} {category_noun(record.category)}"
        assert record.category == w.result.shown_category


def test_an_unsure_result_nobody_answers_is_not_kept(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, vision=VisionSettings(auto_capture=False, unsure_below=1.0))
    with running_mirror(settings) as m:
        w = m.window
        w.set_result_timeout(TIMEOUT_S)
        shoot(m)
        assert w.result.asks
        assert w.result.countdown.startswith("Discarding it in "), "said before it happens"
        m.wait(lambda: w.current() is w.home, timeout_s=10, what="home after the timeout")
        assert w.home.note == NOT_ADDED_UNSURE.format(claim=category_claim(w.result.shown_category))
        wait_until(lambda: m.service.closet() != [], 1.0)
        assert m.service.closet() == []
        assert m.service.command("keep").startswith("nothing_to_do")  # dropped in the core too


def test_a_failed_shot_nobody_acts_on_goes_home(tmp_path: Path) -> None:
    empty = tmp_path / "no-models"
    empty.mkdir()
    with running_mirror(settings_for(tmp_path, vision=VisionSettings(models_dir=str(empty)))) as m:
        w = m.window
        w.set_result_timeout(TIMEOUT_S)
        m.wait(lambda: m.bridge.frames_seen > 0, what="the demo camera's first frame")  # its loop runs
        w.capture_now()
        m.wait(lambda: w.current() is w.result, timeout_s=20, what="the failure message")
        assert w.result.garment is None and "can't recognise clothes" in w.result.message
        m.wait(lambda: w.current() is w.home, timeout_s=10, what="home after the timeout")

        # Closed with a result waiting: the timeout must not act on the stopped core later.
        w.capture_now()
        m.wait(lambda: w.current() is w.result, timeout_s=20, what="the failure message again")
        w.set_result_timeout(60)
        w._unattended.start()
    assert not w._unattended.isActive()
    m.service.delete("019ab3f2-5c1e-7a4b-9c3d-2e1f0a9b8c7d")  # after stop: said, not raised
    assert any(isinstance(e, Error) and "stopping" in e.message for e in list(m.service.events.queue))
