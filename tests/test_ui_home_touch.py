"""Wiping the glass on Home does not start a capture; a deliberate tap still does (s10 UX L11).

Home starts a capture on a tap anywhere off its buttons. A person cleaning the mirror with a
cloth or a palm drags across it, rests on it, or touches it with several points at once; none
of that is a tap. These drive the real home screen offscreen with real mouse events (what Qt
makes of a finger when it is not given the touch frame's own events) and with real touch
events (what a touch frame sends, where a second finger is seen).
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from tests.test_ui_closet_touch import mouse_drag, move
from tests.test_ui_glass import READY, window
from ui.home import CAPTURE, CLOSET, HomeScreen
from ui.screen import TAP_MAX_S

pytestmark = pytest.mark.usefixtures("qapp")

SIZE = (1080, 1920)


def home(qtbot) -> tuple[HomeScreen, list[str], QPoint]:
    """A shown home screen that can capture, the list its actions go to, and a spot of bare glass."""
    screen = HomeScreen()
    screen.set_status(READY)
    screen.resize(*SIZE)
    screen.show()
    qtbot.addWidget(screen)
    qtbot.waitExposed(screen)
    screen.relayout()
    actions: list[str] = []
    screen.action.connect(actions.append)
    glass = QPoint(SIZE[0] // 2, SIZE[1] // 3)
    assert all(row.hit(glass) is None for row in screen.rows()), "a spot off the buttons"
    return screen, actions, glass


def test_a_tap_on_the_glass_still_starts_a_capture(qtbot) -> None:
    screen, actions, glass = home(qtbot)
    qtbot.mouseClick(screen, Qt.MouseButton.LeftButton, pos=glass)
    assert actions == [CAPTURE]
    actions.clear()
    mouse_drag(qtbot, screen, glass, glass + QPoint(4, -3), steps=2)  # a finger that wobbles a little
    assert actions == [CAPTURE], "a wobble is still a tap"


def test_a_wipe_across_the_glass_starts_nothing(qtbot) -> None:
    screen, actions, glass = home(qtbot)
    mouse_drag(qtbot, screen, glass, glass + QPoint(300, 40))  # a cloth across the mirror
    mouse_drag(qtbot, screen, glass, glass + QPoint(0, 200))
    # Out and back to where it landed: it still moved, so it is a wipe, not a tap.
    mouse_drag(qtbot, screen, glass, glass + QPoint(250, 0), steps=4)
    qtbot.mousePress(screen, Qt.MouseButton.LeftButton, pos=glass)
    move(screen, glass + QPoint(250, 0))
    move(screen, glass)
    qtbot.mouseRelease(screen, Qt.MouseButton.LeftButton, pos=glass)
    assert actions == []
    qtbot.mouseClick(screen, Qt.MouseButton.LeftButton, pos=glass)
    assert actions == [CAPTURE], "the next deliberate tap works"


def test_a_hand_resting_on_the_glass_starts_nothing(qtbot) -> None:
    screen, actions, glass = home(qtbot)
    qtbot.mousePress(screen, Qt.MouseButton.LeftButton, pos=glass)
    qtbot.wait(int(TAP_MAX_S * 1000) + 150)
    qtbot.mouseRelease(screen, Qt.MouseButton.LeftButton, pos=glass)
    assert actions == []


def test_the_buttons_still_act_as_the_finger_lands(qtbot) -> None:
    screen, actions, _ = home(qtbot)
    closet = screen.buttons.rects[1].center()
    qtbot.mousePress(screen, Qt.MouseButton.LeftButton, pos=closet)
    assert actions == [CLOSET]
    qtbot.mouseRelease(screen, Qt.MouseButton.LeftButton, pos=closet)
    assert actions == [CLOSET], "no second action as it lifts"


# --- the touch frame's own events: only they show a second finger -------------------------------


def test_a_one_finger_touch_tap_starts_one_capture(qtbot) -> None:
    screen, actions, glass = home(qtbot)
    device = QTest.createTouchDevice()
    QTest.touchEvent(screen, device).press(0, glass, screen).commit()
    QTest.touchEvent(screen, device).move(0, glass + QPoint(3, 2), screen).commit()
    QTest.touchEvent(screen, device).release(0, glass + QPoint(3, 2), screen).commit()
    assert actions == [CAPTURE], "once: the touch and no mouse event made of it"
    actions.clear()
    closet = screen.buttons.rects[1].center()
    QTest.touchEvent(screen, device).press(0, closet, screen).commit()
    assert actions == [CLOSET], "a finger on a button presses it as it lands"
    QTest.touchEvent(screen, device).release(0, closet, screen).commit()
    assert actions == [CLOSET]


def test_a_palm_or_two_fingers_start_nothing(qtbot) -> None:
    screen, actions, glass = home(qtbot)
    device = QTest.createTouchDevice()
    other = glass + QPoint(120, 30)
    # A palm: several points at once, lifted at once, none of them moving.
    QTest.touchEvent(screen, device).press(0, glass, screen).press(1, other, screen).commit()
    QTest.touchEvent(screen, device).release(0, glass, screen).release(1, other, screen).commit()
    # A second finger (the rest of the hand, the cloth's edge) lands after the first.
    QTest.touchEvent(screen, device).press(0, glass, screen).commit()
    QTest.touchEvent(screen, device).stationary(0).press(1, other, screen).commit()
    QTest.touchEvent(screen, device).stationary(0).release(1, other, screen).commit()
    QTest.touchEvent(screen, device).release(0, glass, screen).commit()
    # Two fingers on a button: a hand on the glass, not a press.
    closet = screen.buttons.rects[1].center()
    QTest.touchEvent(screen, device).press(0, closet, screen).press(1, other, screen).commit()
    QTest.touchEvent(screen, device).release(0, closet, screen).release(1, other, screen).commit()
    assert actions == []


def test_a_one_finger_touch_wipe_starts_nothing(qtbot) -> None:
    screen, actions, glass = home(qtbot)
    device = QTest.createTouchDevice()
    QTest.touchEvent(screen, device).press(0, glass, screen).commit()
    for step in range(1, 9):
        QTest.touchEvent(screen, device).move(0, glass + QPoint(40 * step, 5 * step), screen).commit()
    QTest.touchEvent(screen, device).release(0, glass + QPoint(320, 40), screen).commit()
    assert actions == []


def test_wiping_home_in_the_window_keeps_it_home(qtbot) -> None:
    """The whole window: a wipe leaves Home up and the core untouched; a tap opens Capture."""
    w, _, core = window(qtbot)
    qtbot.waitExposed(w)
    assert w.current() is w.home and w.home.status.can_capture
    w.home.relayout()
    glass = QPoint(w.home.width() // 2, w.home.height() // 3)
    assert all(row.hit(glass) is None for row in w.home.rows())
    mouse_drag(qtbot, w.home, glass, glass + QPoint(200, 60))
    device = QTest.createTouchDevice()
    w._idle.stop()
    QTest.touchEvent(w.home, device).press(0, glass, w.home).press(1, glass + QPoint(90, 0), w.home).commit()
    assert w._idle.isActive(), "a touch on Home is someone there, as a mouse press is"
    QTest.touchEvent(w.home, device).release(0, glass, w.home).release(1, glass + QPoint(90, 0), w.home).commit()
    assert w.current() is w.home and not core.capture_now.called
    qtbot.mouseClick(w.home, Qt.MouseButton.LeftButton, pos=glass)
    assert w.current() is w.capture
