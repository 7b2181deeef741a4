"""Each screen, painted from plain data with real widgets, checked on its pixels and its keys."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from datetime import datetime
from types import ModuleType

import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from mirror.events import STORAGE_FULL, CaptureState, CaptureStateChanged, ClosetCounts, Level, Status, StatusPart
from mirror.wording import CLOSET_FULL, NO_CAMERA
from tests.conftest import ROOT
from ui.about import AboutScreen
from ui.buttons import Button, ButtonRow
from ui.capture import CaptureScreen
from ui.closet import ClosetScreen
from ui.home import CLOCK_NOT_SET, HomeScreen
from ui.picker import PickerScreen
from ui.result import ResultScreen
from ui.screen import BACK, Screen
from ui.theme import GREY, WARN, message_colour
from ui.vocab import on_lines

pytestmark = pytest.mark.usefixtures("qapp")


#: Every part working: the status line a healthy mirror shows.
HEALTHY = Status(StatusPart("camera", "demo"), StatusPart("models", "ready"), StatusPart("sync", "online"))

def load_screenshots() -> ModuleType:
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "scripts" / "screenshots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pixels(screen: Screen, width: int = 540, height: int = 960) -> npt.NDArray[np.uint8]:
    screen.resize(width, height)
    image = screen.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    ptr = image.constBits()
    array = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine())
    return array[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def near(array: npt.NDArray[np.uint8], rgb: tuple[int, int, int], tol: int = 30) -> int:
    return int((np.abs(array.astype(int) - np.array(rgb)).max(axis=2) <= tol).sum())


@pytest.mark.parametrize("size", [(540, 960), (960, 540)], ids=["portrait", "landscape"])
def test_every_screen_is_mostly_pure_black_with_bright_content(size: tuple[int, int]) -> None:
    """Through two-way glass only bright pixels show: the background must be exactly black."""
    shots = load_screenshots()
    for name, screen in shots.screens().items():
        array = pixels(screen, *size)
        black = (array.max(axis=2) == 0).mean()
        bright = (array.max(axis=2) >= 200).sum()
        assert black > 0.35, f"{name}: only {black:.0%} of the screen is pure black"
        assert bright > 200, f"{name}: nothing bright to see"
        for corner in (array[0, 0], array[-1, -1], array[0, -1], array[-1, 0]):
            assert corner.max() == 0, f"{name}: a corner is not black"


def test_result_shows_the_cutout_in_its_own_colour() -> None:
    shots = load_screenshots()
    screen = ResultScreen()
    screen.show_garment(shots.sample_garment())
    array = pixels(screen)
    # The blue T-shirt's fabric (#2f5fb0, shaded) covers a large part of the upper half.
    upper = array[: array.shape[0] // 2]
    blueish = (upper[..., 2] > upper[..., 0] + 50) & (upper[..., 2] > 100)
    assert blueish.mean() > 0.2


@pytest.mark.parametrize("size", [(1080, 1920), (540, 960), (1920, 1080)])
def test_result_draws_the_cutout_resized_once_like_qt_would_scale_it(size: tuple[int, int]) -> None:
    """The cut-out is premultiplied and resized once (cheap repaints); it looks as Qt's own scaling did."""
    garment = load_screenshots().sample_garment()
    once, by_qt = ResultScreen(), ResultScreen()
    once.show_garment(garment)
    by_qt.show_garment(garment)
    by_qt._bgra = None  # the old path: drawImage scales the ARGB32 cut-out on every paint
    a, b = pixels(once, *size).astype(int), pixels(by_qt, *size).astype(int)
    assert once._scaled is not None and once._scaled.format() == QImage.Format.Format_ARGB32_Premultiplied
    garment_pixels = b.max(axis=2) > 30
    assert garment_pixels.mean() > 0.05
    assert np.abs(a - b).mean() < 0.5 and np.abs(a - b)[garment_pixels].mean() < 3.0
    cached = once._scaled
    pixels(once, *size)
    assert once._scaled is cached  # a repaint at the same size reuses it


def test_unsure_result_asks_before_keeping() -> None:
    shots = load_screenshots()
    screen = ResultScreen()
    screen.show_garment(shots.sample_garment(unsure=True))
    assert screen.asks
    assert screen.main.buttons[0].label == "Yes, keep it"
    assert [b.label for b in screen.answers.buttons] == ["Long sleeve?", "T-shirt?"], "the runners-up, one tap each"
    screen.choose_category("longsleeve")
    assert not screen.asks and screen.shown_category == "longsleeve"
    assert screen.main.buttons[0].label == "Keep"


def test_colour_in_doubt_offers_the_runner_up_with_one_press() -> None:
    shots = load_screenshots()
    screen = ResultScreen()
    screen.show_garment(shots.sample_garment())
    clear = near(pixels(screen), (WARN.red(), WARN.green(), WARN.blue()))
    assert [b.key for b in screen.edit.buttons] == ["category", "colour", "discard"]
    screen.show_garment(shots.sample_garment(colour_doubt=True))
    assert not screen.asks, "a colour in doubt does not hold back Keep"
    assert screen.colour_doubt == "white" and screen.shown_colour == "grey"
    assert [(b.key, b.label) for b in screen.answers.buttons] == [("colour-alternative", "White?")]
    assert [b.key for b in screen.edit.buttons] == ["category", "colour", "discard"], "the full list stays a tap away"
    assert near(pixels(screen), (WARN.red(), WARN.green(), WARN.blue())) > clear + 50  # the "or white?" line
    screen.choose_colour("white")  # what the window does on that press
    assert screen.colour_doubt is None and screen.shown_colour == "white"
    assert screen.answers.buttons == [] and [b.key for b in screen.edit.buttons][1] == "colour"


def test_keyboard_moves_focus_and_presses(qtbot) -> None:
    shots = load_screenshots()
    screen = ResultScreen()
    screen.show_garment(shots.sample_garment())
    screen.resize(540, 960)
    screen.show()
    qtbot.addWidget(screen)
    with qtbot.waitSignal(screen.action) as pressed:
        qtbot.keyClick(screen, Qt.Key.Key_Return)
    assert pressed.args == ["keep"]
    qtbot.keyClick(screen, Qt.Key.Key_Right)
    with qtbot.waitSignal(screen.action) as pressed:
        qtbot.keyClick(screen, Qt.Key.Key_Enter)
    assert pressed.args == ["retake"]
    qtbot.keyClick(screen, Qt.Key.Key_Down)
    qtbot.keyClick(screen, Qt.Key.Key_Right)
    assert screen.current_key() == "colour"
    with qtbot.waitSignal(screen.action) as pressed:
        qtbot.keyClick(screen, Qt.Key.Key_Escape)
    assert pressed.args == [BACK]


def test_a_tap_presses_the_button_under_it(qtbot) -> None:
    screen = PickerScreen()
    screen.ask_colour("red")
    screen.resize(540, 960)
    screen.show()
    qtbot.addWidget(screen)
    screen.relayout()
    index = [b.key for b in screen.grid.buttons].index("pick:green")
    with qtbot.waitSignal(screen.action) as pressed:
        qtbot.mouseClick(screen, Qt.MouseButton.LeftButton, pos=screen.grid.rects[index].center())
    assert pressed.args == ["pick:green"]


def test_pickers_offer_exactly_the_models_vocabulary() -> None:
    from mirror.vision.classifier import CATEGORIES
    from mirror.vision.colour import BASIC_TERMS

    picker = PickerScreen()
    picker.ask_category("dress")
    assert [b.key.removeprefix("pick:") for b in picker.grid.buttons] == list(CATEGORIES)
    assert picker.current_key() == "pick:dress"
    picker.ask_colour("brown")
    assert [b.key.removeprefix("pick:") for b in picker.grid.buttons] == list(BASIC_TERMS)
    assert len(CATEGORIES) == 10 and len(BASIC_TERMS) == 11


def test_button_row_focus_stays_inside_and_reports_leaving() -> None:
    row = ButtonRow([Button(str(i), str(i)) for i in range(5)], columns=2)
    assert not row.move(-1, 0)
    assert row.move(1, 0) and row.current() == "1"
    assert not row.move(1, 0)  # end of the grid line
    assert row.move(0, 1) and row.current() == "3"
    assert row.move(0, 1) and row.current() == "4"  # the short last line clamps
    assert not row.move(0, 1)


@pytest.mark.parametrize(
    ("part", "words"),
    [
        (StatusPart("camera", "not found", Level.ERROR), "camera"),
        (StatusPart("models", "missing", Level.ERROR), "models"),
        (StatusPart("sync", "offline · 3 waiting", Level.WARN), "sync"),
        (StatusPart("storage", "disk full", Level.ERROR), "storage"),
    ],
)
def test_home_says_each_problem_in_amber(part: StatusPart, words: str) -> None:
    """A broken part is shown in the warning colour; a healthy line has none of it."""
    healthy = HomeScreen()
    healthy.set_status(HEALTHY)
    amber = (WARN.red(), WARN.green(), WARN.blue())
    assert near(pixels(healthy), amber, 12) == 0
    broken = HomeScreen()
    broken.set_status(Status(**{words: part}))
    assert near(pixels(broken), amber, 12) > 30


def test_capture_without_camera_says_so() -> None:
    screen = CaptureScreen()
    screen.set_state(CaptureStateChanged(CaptureState.NO_CAMERA))
    amber = (WARN.red(), WARN.green(), WARN.blue())
    assert near(pixels(screen), amber, 12) > 100


def test_preview_counts_each_camera_frame_once() -> None:
    """Repaints of one frame (the spinner turns at 20 Hz) are not preview frames for the fps figure."""
    from mirror.events import FrameReady

    screen = CaptureScreen()
    image = np.full((480, 640, 3), 90, np.uint8)
    screen.set_frame(FrameReady(image, CaptureState.PRESENT))
    pixels(screen)
    pixels(screen)
    assert screen.frames_painted == 1
    screen.set_frame(FrameReady(image.copy(), CaptureState.PRESENT))
    pixels(screen)
    assert screen.frames_painted == 2


@pytest.mark.slow
def test_screenshot_script_renders_every_screen_in_both_orientations(tmp_path) -> None:
    shots = load_screenshots()
    written = shots.render(tmp_path, quality=100)  # the fastest PNG: these files are only checked, not kept
    names = {p.name for p in written}
    for screen in shots.screens():
        for orientation in ("portrait", "landscape"):
            assert f"ui_{screen}_{orientation}.png" in names
    size = QImage(str(tmp_path / "ui_home_landscape.png")).size()
    assert (size.width(), size.height()) == (1920, 1080)
    readme = (ROOT / "README.md").read_text()
    for line in readme.split("## Screenshots", 1)[1].split("\n## ", 1)[0].splitlines():
        for name in re.findall(r"docs/img/(ui_\w+\.png)", line):
            assert name in names and (ROOT / "docs" / "img" / name).exists(), name


def test_a_turned_panel_gets_the_page_turned(qtbot) -> None:
    """``[ui] orientation = portrait`` on a window that reports landscape draws the portrait page turned 90°."""
    shots = load_screenshots()
    upright = shots.screens()["result"]
    turned = shots.screens()["result"]
    turned.orientation = "portrait"
    expected = np.rot90(pixels(upright, 540, 960), k=-1)
    got = pixels(turned, 960, 540)
    assert got.shape == expected.shape
    assert np.abs(got.astype(int) - expected.astype(int)).mean() < 2.0
    # A tap lands on the button drawn under the finger, in page coordinates.
    turned.show()
    qtbot.addWidget(turned)
    turned.relayout()
    retake = turned.main.rects[1].center()  # page coordinates
    with qtbot.waitSignal(turned.action) as pressed:
        qtbot.mouseClick(turned, Qt.MouseButton.LeftButton, pos=QPoint(960 - retake.y(), retake.x()))
    assert pressed.args == ["retake"]


def test_font_scale_makes_the_type_bigger() -> None:
    """``[ui] font_scale`` is for reading from further away: the same screen, larger type."""
    normal, large = HomeScreen(font_scale=1.0), HomeScreen(font_scale=1.4)
    for screen in (normal, large):
        screen.set_status(HEALTHY)
    lit = [int((pixels(s).max(axis=2) > 128).sum()) for s in (normal, large)]
    assert lit[1] > lit[0] * 1.4


def test_closet_grid_scrolls_with_the_focus(qtbot) -> None:
    shots = load_screenshots()
    items = [item for _ in range(4) for item in shots.sample_closet()]  # 36 garments
    for index, item in enumerate(items):
        item.record = dataclasses.replace(item.record, id=f"r{index}")
    screen = ClosetScreen()
    screen.set_content(items, ClosetCounts.tally(i.record for i in items), None, None)
    screen.resize(540, 960)
    screen.show()
    qtbot.addWidget(screen)
    screen.relayout()
    assert screen.current_key() == "item:r0"
    for _ in range(8):
        qtbot.keyClick(screen, Qt.Key.Key_Down)
    screen.relayout()
    assert screen.first_line > 0
    focused = screen.grid.rects[screen.grid.focus]
    assert not focused.isEmpty() and screen.rect().contains(focused)
    for _ in range(9):
        qtbot.keyClick(screen, Qt.Key.Key_Up)  # back up through the grid into the colour filters
    key = screen.current_key()
    assert key is not None and key.startswith("col:")
    for _ in range(12):
        qtbot.keyClick(screen, Qt.Key.Key_Up)  # on through the filters to Back, at the top
    assert screen.current_key() == "back"


@pytest.mark.parametrize("size", [(1080, 1920), (1920, 1080), (960, 540)])
def test_about_rows_stay_above_the_back_button(size: tuple[int, int]) -> None:
    """Every fact row, with every status line showing, ends above the Back button."""
    from ui.about import BUTTON_H
    from ui.theme import Theme

    about = load_screenshots().screens()["about"]
    theme = Theme.for_size(*size)
    rows = len(about.facts())
    assert rows >= 10
    top, pitch = about.fact_rows(theme, rows)
    button_top = about.content_rect(theme).bottom() - theme.px(BUTTON_H)
    assert top + rows * pitch <= button_top
    assert pitch >= theme.px(40), "rows stay readable"


@pytest.mark.parametrize("size", [(540, 960), (960, 540)], ids=["portrait", "landscape"])
def test_a_long_error_on_the_result_wraps_instead_of_being_cut_off(size: tuple[int, int]) -> None:
    """A failed keep says what and how to fix it; at one line it was shrunk and clipped at both ends."""
    shots = load_screenshots()
    screen = ResultScreen()
    screen.show_garment(shots.sample_garment())
    message = (
        "Closet storage /var/lib/smart-mirror is full (57374 MB free, [store] min_free_mb is 1000000); free some "
        "space on that disk (or lower [store] min_free_mb) and try again — nothing was lost"
    )
    screen.set_message(message)
    colour = message_colour(message)
    array = pixels(screen, *size)
    text = np.abs(array.astype(int) - np.array([colour.red(), colour.green(), colour.blue()])).max(axis=2) <= 30
    rows = np.flatnonzero(text.any(axis=1))
    bands = 1 + int((np.diff(rows) > 3).sum())  # runs of rows with text, split by blank rows
    assert bands >= 2, f"the message is drawn on {bands} line(s)"
    columns = np.flatnonzero(text.any(axis=0))
    assert columns.min() > 0 and columns.max() < size[0] - 1, "the message runs off the screen"


def test_a_notice_goes_when_its_part_recovers_and_only_then() -> None:
    screen = HomeScreen()
    screen.set_notice("No camera to capture with; connect the camera", "camera")
    screen.clear_notice("storage")
    assert screen.notice
    screen.clear_notice("camera")
    assert screen.notice == ""
    screen.set_notice("Closet storage is full; free some space", "storage")
    screen.clear_notice("camera")
    assert screen.notice.startswith("Closet storage")


def hint_blocks(home: HomeScreen) -> dict[str, tuple[int, int, int]]:
    """The text painted on home at 1080×1920, each with its colour (its brightest pixel)."""
    array = pixels(home, 1080, 1920)
    out = {}
    for block in home.text_blocks:
        rect = block.drawn
        band = array[rect.top() : rect.bottom() + 1, rect.left() : rect.right() + 1].reshape(-1, 3)
        red, green, blue = (int(v) for v in band[band.max(axis=1).argmax()])
        out[block.text] = (red, green, blue)
    return out


def test_home_with_its_storage_full_says_so_instead_of_inviting_a_capture() -> None:
    """The core stops capturing while the closet's disk is full: home must not ask for a garment."""
    full = Status(
        camera=StatusPart("camera", "ready"),
        models=StatusPart("models", "ready"),
        storage=StatusPart("storage", "full (3 MB free)", Level.ERROR, STORAGE_FULL),
    )
    home = HomeScreen()
    home.set_status(full)
    title, fix = home.hint()
    assert title == CLOSET_FULL[0], "the core's own sentence for the state, as the notice and the status line say it"
    assert fix == "Delete garments you no longer have, or free space on its disk"
    texts = hint_blocks(home)
    assert not any("Hold up a garment" in t or "capture now" in t for t in texts), texts
    assert texts[title] == (WARN.red(), WARN.green(), WARN.blue()), "said in amber"
    assert any(t.startswith("Delete garments") for t in texts), texts

    # A notice about the storage says the fix itself: the hint points to it instead of repeating it.
    home.set_notice("The closet disk is full (3 MB free); free space on that disk and try again", "storage")
    assert home.hint() == (title, "You can still look through it; the note below says what to do")
    home.set_notice("Sync: the broker refused the login", "sync")
    assert home.hint()[1].startswith("Delete garments")

    # No camera is said first (nothing can be captured either way); the status line still shows the disk.
    home.set_status(dataclasses.replace(full, camera=StatusPart("camera", "missing", Level.ERROR)))
    assert home.hint()[0] == "No camera to capture with"
    assert {NO_CAMERA[0], "Closet full"} <= set(hint_blocks(home)), "the status line: the camera in the core's words"

    # A closet that did not open is not called full.
    home.set_notice("")
    home.set_status(dataclasses.replace(full, storage=StatusPart("storage", "error", Level.ERROR)))
    assert home.hint()[0] == "The closet cannot be opened"
    assert "full" not in " ".join(home.hint())
    # The core's reason decides, not the wording of the status text.
    home.set_status(dataclasses.replace(full, storage=StatusPart("storage", "0 MB left", Level.ERROR, STORAGE_FULL)))
    assert home.hint()[0] == CLOSET_FULL[0]

    # Space again: the invitation is back.
    home.set_status(dataclasses.replace(full, storage=StatusPart("storage", "ok")))
    assert home.hint()[0] == "Hold up a garment"
    assert "Hold up a garment" in hint_blocks(home)


def test_a_wrong_clock_is_said_in_place_of_the_date_in_amber() -> None:
    """After a power cut a Pi without a clock battery shows a wrong time until the network sets it:
    the date under the clock says so in amber (and how to fix it); About lists the clock as a problem."""
    wrong = Status(
        camera=StatusPart("camera", "ready"),
        models=StatusPart("models", "ready"),
        clock=StatusPart("clock", "not set", Level.WARN),
    )
    home = HomeScreen()
    home.now = datetime(2026, 11, 24, 8, 42)
    home.set_status(wrong)
    texts = hint_blocks(home)
    warn = (WARN.red(), WARN.green(), WARN.blue())
    (date,) = [t for t in texts if t.startswith("Clock not set")]
    assert date == on_lines(CLOCK_NOT_SET) and texts[date] == warn
    assert date.split("\n")[1][0].isupper(), "each line starts as a sentence"
    assert "Tuesday 24 November" not in texts
    assert not any("clock" in t.lower() for t in texts if t != date), "said once, with its fix (About lists it)"
    assert "Hold up a garment" in texts, "capturing still works"

    home.set_status(dataclasses.replace(wrong, clock=StatusPart("clock", "ok")))
    texts = hint_blocks(home)
    assert texts["Tuesday 24 November"] == (GREY.red(), GREY.green(), GREY.blue())
    assert not any("lock" in t for t in texts), "a right clock is not mentioned"

    about = AboutScreen()
    about.set_about(None, wrong)
    assert ("Clock", "not set", True) in about.facts()
    about.resize(1080, 1920)
    about.relayout()
    assert "not set" in [b.text for b in about.text_blocks]
