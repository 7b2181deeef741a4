"""The closet by touch alone: a finger reaches every garment, and an empty closet says what to do.

The mirror may have a touch frame and no keyboard, so these drive the real closet widget
offscreen with real mouse events (what Qt makes of a finger on the frame): a drag on the
grid scrolls it, ▲/▼ page it, and a tap opens the garment under the finger.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from mirror.store.records import ClosetCounts
from tests.test_ui_layout import many, pixels, screenshots
from ui.closet import COL_PREFIX, ClosetItem, ClosetScreen
from ui.picker import PickerScreen
from ui.vocab import swatch

pytestmark = pytest.mark.usefixtures("qapp")

#: ▲/▼'s keys (ui.closet.PAGE_BACK, PAGE_MORE), spelled out so that this file also runs, and
#: fails, on a closet without them.
PAGE_BACK, PAGE_MORE = "page:up", "page:down"


def swatch_dot(button: QRect) -> QRect:
    """Where ui.buttons.paint_button draws a button's swatch dot."""
    dot = int(button.height() * 0.42)
    return QRect(button.left() + button.height() // 4, button.center().y() - dot // 2, dot, dot)


def closet(qtbot, count: int, size: tuple[int, int]) -> tuple[ClosetScreen, list[str]]:
    """A shown closet of ``count`` garments, and the list its actions go to."""
    items = many(screenshots(), count)
    screen = ClosetScreen()
    screen.set_content(items, ClosetCounts.tally(i.record for i in items), None, None)
    screen.resize(*size)
    screen.show()
    qtbot.addWidget(screen)
    screen.relayout()
    actions: list[str] = []
    screen.action.connect(actions.append)
    return screen, actions


def move(widget: QWidget, pos: QPoint) -> None:
    """The finger, still down, at ``pos`` (a move event carrying the held button, as the frame sends it)."""
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        QPointF(pos),
        QPointF(widget.mapToGlobal(pos)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)


def mouse_drag(qtbot, widget: QWidget, start: QPoint, end: QPoint, steps: int = 8) -> None:
    """A finger from ``start`` to ``end`` in ``steps`` moves, as mouse events (what Qt makes of a touch)."""
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, steps + 1):
        move(widget, start + QPoint((end.x() - start.x()) * step // steps, (end.y() - start.y()) * step // steps))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=end)


def drag(qtbot, screen: ClosetScreen, start: QPoint, end: QPoint, steps: int = 8) -> None:
    mouse_drag(qtbot, screen, start, end, steps)
    screen.relayout()


def tap(qtbot, screen: ClosetScreen, pos: QPoint) -> None:
    qtbot.mouseClick(screen, Qt.MouseButton.LeftButton, pos=pos)
    screen.relayout()


def shown(screen: ClosetScreen) -> list[int]:
    """The indexes of the garments on the glass."""
    return [i for i, r in enumerate(screen.grid.rects) if not r.isEmpty() and screen.rect().contains(r)]


def header(screen: ClosetScreen) -> str:
    return next(b.text for b in screen.text_blocks if " of " in b.text)


def test_a_drag_up_the_grid_reaches_the_last_of_300_and_a_tap_opens_it(qtbot) -> None:
    screen, actions = closet(qtbot, 300, (1080, 1920))
    assert shown(screen)[-1] < 299
    centre = screen.grid.rects[4].center()
    drag(qtbot, screen, centre, centre + QPoint(3, 4), steps=2)  # a finger that wobbles a little
    assert actions == ["item:r0004"] and screen.first_line == 0, "still taps"
    actions.clear()
    for _ in range(200):
        if 299 in shown(screen):
            break
        tiles = [screen.grid.rects[i] for i in shown(screen)]
        bottom, top = tiles[-1].center(), tiles[0].center()
        before = screen.first_line
        drag(qtbot, screen, bottom, QPoint(bottom.x(), top.y()))  # a finger pushes the garments up
        assert screen.first_line > before, "a drag up the grid scrolls it"
    assert 299 in shown(screen), "the last garment is reachable by dragging"
    assert header(screen).endswith("–300 of 300 garments")
    assert actions == [], "a drag that starts on a garment does not open it"
    tap(qtbot, screen, screen.grid.rects[299].center())
    assert actions == ["item:r0299"]
    # And back down: a drag the other way scrolls back towards the first garment.
    first = screen.first_line
    tiles = [screen.grid.rects[i] for i in shown(screen)]
    drag(qtbot, screen, tiles[0].center(), QPoint(tiles[0].center().x(), tiles[-1].center().y()))
    assert screen.first_line < first


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 800), (1080, 1920)])
def test_page_buttons_reach_the_last_of_300(qtbot, size: tuple[int, int]) -> None:
    """▲/▼ are on the glass, tappable and focusable, whenever the garments fill more than a screen."""
    screen, actions = closet(qtbot, 300, size)
    pager = screen.pager
    assert [b.key for b in pager.buttons] == [PAGE_BACK, PAGE_MORE]
    for rect in pager.rects:
        assert not rect.isEmpty() and screen.rect().contains(rect)
        assert rect.height() >= screen.theme().px(50), "a finger-sized target"
    assert pager.dimmed == {0}, "▲ is faint at the top"
    more = pager.rects[1].center()
    for _ in range(200):
        if 299 in shown(screen):
            break
        page = screen.first_line
        tap(qtbot, screen, more)
        assert screen.first_line == page + screen.visible_lines or 299 in shown(screen)
    assert 299 in shown(screen) and pager.dimmed == {1}, "▼ is faint at the end"
    assert screen.focus_row == screen.rows().index(screen.pager) and screen.current_key() == PAGE_MORE
    assert all(not a.startswith("item:") for a in actions)
    tap(qtbot, screen, screen.grid.rects[299].center())
    assert actions[-1] == "item:r0299"
    # ▲ goes back a page; by keys as well: Enter on a focused ▲ pages too.
    end = screen.first_line
    tap(qtbot, screen, pager.rects[0].center())
    assert screen.first_line == end - screen.visible_lines
    assert screen.focus_key(PAGE_BACK)
    qtbot.keyClick(screen, Qt.Key.Key_Return)
    screen.relayout()
    assert screen.first_line == end - 2 * screen.visible_lines


def test_page_buttons_only_when_there_is_more_than_one_page(qtbot) -> None:
    screen, _ = closet(qtbot, 5, (1920, 1080))
    assert len(shown(screen)) == 5
    assert screen.pager.buttons == []
    assert not any(b.text in ("▲", "▼") for b in screen.text_blocks)
    screen.set_content(many(screenshots(), 300), ClosetCounts(), None, None)
    screen.relayout()
    assert len(screen.pager.buttons) == 2
    assert [b.text for b in screen.text_blocks if b.text in ("▲", "▼")] == ["▲", "▼"]


def test_keys_still_page_and_reach_the_page_buttons(qtbot) -> None:
    screen, _ = closet(qtbot, 300, (1920, 1080))
    screen.focus_row, screen.grid.focus = 3, 0
    qtbot.keyClick(screen, Qt.Key.Key_PageDown)
    screen.relayout()
    assert screen.first_line == screen.visible_lines
    qtbot.keyClick(screen, Qt.Key.Key_End)
    qtbot.keyClick(screen, Qt.Key.Key_Down)  # past the last line: onto ▲/▼
    assert screen.focus_row == screen.rows().index(screen.pager)
    qtbot.keyClick(screen, Qt.Key.Key_Home)
    screen.relayout()
    assert screen.current_key() == "item:r0000" and screen.first_line == 0


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 800)])
def test_landscape_shows_at_least_two_lines_of_garments(qtbot, size: tuple[int, int]) -> None:
    """The filters do not eat the height of a landscape panel: two lines of garments show."""
    screen, _ = closet(qtbot, 300, size)
    assert screen.visible_lines >= 2
    assert len(shown(screen)) >= 2 * screen.grid.columns


def test_an_empty_closet_shows_what_to_do_and_no_filters(qtbot) -> None:
    screen = ClosetScreen()
    screen.set_content([], ClosetCounts(), None, None)
    screen.resize(1920, 1080)
    screen.show()
    qtbot.addWidget(screen)
    screen.relayout()
    assert screen.categories.buttons == [] and screen.colours.buttons == []
    texts = [b.text for b in screen.text_blocks]
    assert any("go Back" in t for t in texts), texts
    assert not any(t.endswith(" 0") for t in texts), texts
    assert screen.row_has_focus(screen.back), "the focus is on what the text says to do"
    assert not any(b.elided for b in screen.text_blocks)


def test_two_filter_rows_say_which_all_they_are(qtbot) -> None:
    screen, _ = closet(qtbot, 30, (1080, 1920))
    assert screen.categories.buttons[0].label == "All types"
    assert screen.colours.buttons[0].label == "All colours"


def brightest(array: npt.NDArray[np.uint8], rect: QRect) -> int:
    """The brightest grey in ``rect`` (type and outline; a swatch's hue does not count)."""
    return int(array[rect.top() : rect.bottom() + 1, rect.left() : rect.right() + 1].min(axis=2).max())


def test_filters_with_nothing_in_them_are_faint(qtbot) -> None:
    """A chip counting 0 is drawn fainter than one with garments (the counts within a filter too):
    in the disabled greys, still bright enough for the glass (tests/test_ui_small_panels)."""
    screen, _ = closet(qtbot, 30, (1080, 1920))
    screen.focus_row = 3
    array = pixels(screen)
    chips = dict(zip([b.key for b in screen.colours.buttons], screen.colours.rects, strict=True))
    badges = {b.key: b.badge for b in screen.colours.buttons}
    empty = [k for k, n in badges.items() if n == "0"]
    full = [k for k, n in badges.items() if n != "0" and k != COL_PREFIX + "*"]
    assert empty and full
    assert max(brightest(array, chips[k]) for k in empty) < min(brightest(array, chips[k]) for k in full) * 0.75
    # Filtered: the colour counts are within the category chosen, and so is what is faint.
    everything = many(screenshots(), 30)
    dresses = [i for i in everything if i.record.category == "dress"]
    in_dresses = ClosetCounts.tally(i.record for i in dresses)
    counts = ClosetCounts(ClosetCounts.tally(i.record for i in everything).category, in_dresses.basic_color)
    screen.set_content(dresses, counts, "dress", None, len(everything))
    faint = {screen.colours.buttons[i].key for i in screen.colours.dimmed}
    assert faint == {b.key for b in screen.colours.buttons if b.badge == "0"}
    assert COL_PREFIX + "red" not in faint and COL_PREFIX + "black" in faint


def ring_level(array: npt.NDArray[np.uint8], dot: QRect) -> int:
    """The brightest grey just round a swatch dot (its ring; a bright hue is not a ring)."""
    outer = dot.adjusted(-3, -3, 3, 3)
    patch = array[outer.top() : outer.bottom() + 1, outer.left() : outer.right() + 1].min(axis=2)  # white, not a hue
    h, w = patch.shape
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot(yy - (h - 1) / 2, xx - (w - 1) / 2)
    ring = (r > dot.width() / 2 - 3) & (r < dot.width() / 2 + 3)
    return int(patch[ring].max())


def test_a_black_swatch_has_a_light_ring(qtbot) -> None:
    """Black on black is nothing through the glass: dark swatches get a light ring, on the
    closet's chips, on its garments and in the colour picker."""
    screen, _ = closet(qtbot, 30, (1080, 1920))
    screen.focus_row = 0  # Back: no chip filled white
    array = pixels(screen)
    chips = dict(zip([b.key for b in screen.colours.buttons], screen.colours.rects, strict=True))
    assert ring_level(array, swatch_dot(chips[COL_PREFIX + "black"])) >= 235

    picker = PickerScreen()
    picker.ask_colour("red")
    picker.resize(1920, 1080)
    picker.show()
    qtbot.addWidget(picker)
    array = pixels(picker)
    black = next(r for b, r in zip(picker.grid.buttons, picker.grid.rects, strict=True) if b.key == "pick:black")
    assert ring_level(array, swatch_dot(black)) >= 235
    yellow = next(r for b, r in zip(picker.grid.buttons, picker.grid.rects, strict=True) if b.key == "pick:yellow")
    assert ring_level(array, swatch_dot(yellow)) < 235, "a light swatch needs no ring"


def test_a_black_garment_tile_dot_has_a_ring(qtbot) -> None:
    item = next(i for i in many(screenshots(), 30) if i.record.color.basic == "black")
    screen = ClosetScreen()
    screen.set_content([ClosetItem(item.record)], ClosetCounts.tally([item.record]), None, None)
    screen.resize(1080, 1920)
    screen.show()
    qtbot.addWidget(screen)
    screen.focus_row = 0
    assert swatch(item.record.color.basic, item.record.color.hex).lightness() < 60
    array = pixels(screen)
    tile = screen.grid.rects[0]
    label = array[tile.bottom() - screen.theme().px(44) : tile.bottom(), tile.left() : tile.left() + 80]
    assert int(label.max()) >= 235, "the dot of a black garment is ringed in light"
