"""Every screen holds its layout over the whole ``[ui] font_scale`` range, on every panel shape.

Rendered with real widgets offscreen at the smallest and the largest allowed scale, on 16:9
panels (portrait 1080×1920, landscape 1920×1080) and 16:10 ones (landscape 1920×1200 and
1280×800, portrait 1200×1920; in the theme's units they are narrower in landscape and
shorter in portrait): no button overlaps another button or a piece of text, everything stays
on the glass, and no text is cut off (it may be made smaller, to 60 %, or wrapped; never
clipped). The text blocks come from the screens' own painting
(``Screen.text_blocks``: the room each text had and where its glyphs went).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from types import ModuleType

import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QImage

from mirror.config.fields import BOUNDS
from mirror.config.settings import UiSettings
from mirror.events import STORAGE_FULL, CaptureState, CaptureStateChanged, Level, Record, Status, StatusPart
from mirror.store.records import ClosetCounts, Color
from tests.test_ui_screens import load_screenshots
from ui import home as home_mod
from ui import theme as theme_mod
from ui.about import AboutScreen
from ui.capture import CaptureScreen
from ui.closet import ClosetItem, ClosetScreen
from ui.closet_browser import filtered_closet
from ui.detail import DetailScreen
from ui.home import HomeScreen
from ui.result import ResultScreen
from ui.screen import Screen
from ui.theme import TextBlock

pytestmark = pytest.mark.usefixtures("qapp")

SIZES = {
    "portrait": (1080, 1920),
    "landscape": (1920, 1080),
    "landscape_16x10": (1920, 1200),
    "landscape_16x10_small": (1280, 800),
    "portrait_16x10": (1200, 1920),
    "panel_7in": (800, 480),  # the official 7" touch panel (5:3), and turned
    "panel_7in_portrait": (480, 800),
}
FONT_SCALES = next(f.metadata[BOUNDS] for f in dataclasses.fields(UiSettings) if f.name == "font_scale")
DISK_FULL = (
    "The closet disk is full (57374 MB free, [store] min_free_mb is 1000000); free space on that disk "
    "(or lower [store] min_free_mb) and try again; nothing was lost"
)


@functools.cache
def screenshots() -> ModuleType:
    """The screenshot script, loaded once, each synthetic cut-out drawn once (most of the time
    every_screen() took, five panels times two scales)."""
    shots = load_screenshots()
    vars(shots)["garment_bgra"] = functools.cache(shots.garment_bgra)
    return shots


def many(shots: ModuleType, count: int) -> list[ClosetItem]:
    """``count`` garments (the sample closet over and over, each with its own id)."""
    sample = shots.sample_closet()
    items = []
    for index in range(count):
        item = sample[index % len(sample)]
        items.append(ClosetItem(dataclasses.replace(item.record, id=f"r{index:04d}"), item.sync, item.thumbnail))
    return items


def every_screen() -> dict[str, Screen]:
    """The screenshot script's screens and the states the layouts find hardest."""
    shots = screenshots()
    screens: dict[str, Screen] = dict(shots.screens())
    long_notice = HomeScreen()
    long_notice.set_status(shots.STATUS)
    long_notice.set_notice(DISK_FULL, "storage")
    screens["home_long_notice"] = long_notice
    no_camera = HomeScreen()
    no_camera.set_status(dataclasses.replace(shots.STATUS, camera=StatusPart("camera", "missing", Level.ERROR)))
    no_camera.set_notice("No camera: check its cable, then restart the mirror", "camera")
    screens["home_no_camera"] = no_camera
    full_part = StatusPart("storage", "full (57374 MB free)", Level.ERROR, STORAGE_FULL)
    storage_full = dataclasses.replace(shots.STATUS, storage=full_part)
    full = HomeScreen()
    full.set_status(storage_full)
    screens["home_storage_full"] = full
    full_noted = HomeScreen()
    full_noted.set_status(storage_full)
    full_noted.set_notice(DISK_FULL, "storage")
    screens["home_storage_full_notice"] = full_noted
    clock = StatusPart("clock", "not set", Level.WARN)
    unset = HomeScreen()
    unset.set_status(dataclasses.replace(shots.STATUS, clock=clock))
    screens["home_clock_not_set"] = unset
    everything = HomeScreen()  # the clock, the disk and the camera wrong at once, with the long notice
    everything.set_status(
        dataclasses.replace(storage_full, clock=clock, camera=StatusPart("camera", "missing", Level.ERROR))
    )
    everything.set_notice(DISK_FULL, "storage")
    screens["home_clock_storage_camera"] = everything
    shown = screens["about"]
    assert isinstance(shown, AboutScreen)
    about = AboutScreen()  # a status line more than the screenshot's: the clock's
    about.set_about(shown.about, dataclasses.replace(storage_full, clock=clock))
    screens["about_clock_not_set"] = about
    capture = CaptureScreen()
    capture.set_state(CaptureStateChanged(CaptureState.NO_CAMERA))
    screens["capture_no_camera"] = capture
    for name, garment in (
        ("result_message", shots.sample_garment()),
        ("unsure_message", shots.sample_garment(True)),
        ("unsure_doubt_message", shots.sample_garment(True, True)),  # every line the result can have
    ):
        result = ResultScreen()
        result.show_garment(garment)
        result.set_message(DISK_FULL)
        screens[name] = result
    for name, garment in (("result_two_seen", shots.sample_garment()), ("unsure_two_seen", shots.sample_garment(True))):
        crowded = ResultScreen()  # two garments in the shot, Discard tapped once, the countdown on
        crowded.show_garment(garment, seen=2)
        crowded.confirm_discard()
        crowded.set_countdown("Keeping it in 8 s…")
        screens[name] = crowded
    nothing = ResultScreen()
    nothing.show_garment(None, DISK_FULL)
    screens["result_failed"] = nothing
    items = shots.sample_closet()
    failed = DetailScreen()
    failed.show_item(items[1])
    failed.show_error(DISK_FULL)
    screens["detail_error"] = failed
    asking = DetailScreen()
    asking.show_item(items[2])
    asking.ask_delete()
    screens["detail_confirm"] = asking
    big = ClosetScreen()
    lots = many(shots, 300)
    big.set_content(lots, ClosetCounts.tally(i.record for i in lots), None, None)
    screens["closet_300"] = big
    empty = ClosetScreen()
    empty.set_content([], ClosetCounts(), None, None)
    screens["closet_empty"] = empty
    return screens


def pixels(screen: Screen) -> npt.NDArray[np.uint8]:
    image = screen.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    array = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return array[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def render(screen: Screen, width: int, height: int, font_scale: float) -> None:
    screen.font_scale = font_scale
    screen.resize(width, height)
    screen.grab()  # paints: lays the rows out and logs the text


def buttons(screen: Screen) -> list[tuple[str, QRect]]:
    """The label and rect of every button on the page (those scrolled out of view have none)."""
    out = []
    for row in screen.rows():
        for button, rect in zip(row.buttons, row.rects, strict=False):
            if not rect.isEmpty():
                out.append((button.label or button.key, rect))
    return out


def clipped(block: TextBlock) -> bool:
    """Glyphs outside the room the text was given: cut off at an edge, or a wrapped line lost."""
    box, drawn = block.box, block.drawn
    if drawn.left() < box.left() - 1 or drawn.right() > box.right() + 1:
        return True
    slack = int(block.size * 0.3)  # a line box is taller than its glyphs; more than this is a line lost
    return drawn.top() < box.top() - slack or drawn.bottom() > box.bottom() + slack


def overlap(a: QRect, b: QRect, size: int) -> bool:
    """Two rects share more than a sliver (line boxes of adjacent lines may touch)."""
    common = a.intersected(b)
    return not common.isEmpty() and common.height() > size * 0.25 and common.width() > 2


@pytest.mark.parametrize("orientation", SIZES)
@pytest.mark.parametrize("font_scale", FONT_SCALES, ids=lambda s: f"scale{s}")
def test_every_screen_holds_at_the_ends_of_the_font_scale_range(font_scale: float, orientation: str) -> None:
    width, height = SIZES[orientation]
    problems = []
    for name, screen in every_screen().items():
        render(screen, width, height, font_scale)
        problems += layout_problems(name, screen, width, height)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("orientation", [name for name, (w, h) in SIZES.items() if h >= theme_mod.TALL_PORTRAIT * w])
def test_every_tall_portrait_screen_holds_at_the_floors_portrait_cap(orientation: str) -> None:
    """The millimetre floor may raise a tall portrait page's sizes past the largest font_scale
    (``ui.theme.MAX_FLOOR_SCALE_PORTRAIT``): every screen must hold there too. The tall shapes
    tested must include the squattest the cap allows (``TALL_PORTRAIT``)."""
    width, height = SIZES[orientation]
    problems = []
    for name, screen in every_screen().items():
        render(screen, width, height, theme_mod.MAX_FLOOR_SCALE_PORTRAIT)
        problems += layout_problems(name, screen, width, height)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("width", "height", "density"), [(800, 480, 5.19), (800, 480, 5.59), (1024, 600, 6.64), (480, 800, 5.59)]
)
def test_every_screen_holds_on_the_7in_panels_with_their_floors_in_mm(width: int, height: int, density: float) -> None:
    """Where the panel's size is known, touch targets keep their own floor in mm past the capped type
    scale (``Theme.least_touch``) and the smallest type its own (``Theme.least_text``): every screen must
    hold with those (the official 7" panel's two densities, a 1024×600 one, upright), and no text on it
    may be made smaller than ``MIN_TEXT_MM`` to fit."""
    problems = []
    for name, screen in every_screen().items():
        screen.px_per_mm = density
        render(screen, width, height, 1.0)
        problems += layout_problems(name, screen, width, height)
        small = [b for b in screen.text_blocks if b.size / density < theme_mod.MIN_TEXT_MM]
        problems += [f"{name}: {b.text[:30]!r} is {b.size / density:.2f} mm" for b in small]
    assert not problems, "\n".join(problems)


def layout_problems(name: str, screen: Screen, width: int, height: int) -> list[str]:
    """What is wrong with ``screen`` as last painted on a ``width`` × ``height`` window: buttons
    off the glass or on each other, text cut off, under a button or on other text."""
    window = QRect(0, 0, width, height)
    problems = []
    placed = buttons(screen)
    if not placed:
        return [f"{name}: no buttons laid out"]
    for index, (label, rect) in enumerate(placed):
        if not window.contains(rect):
            problems.append(f"{name}: button {label!r} {rect.getRect()} leaves the window")
        for other_label, other_rect in placed[index + 1 :]:
            if rect.intersects(other_rect):
                problems.append(f"{name}: buttons {label!r} and {other_label!r} overlap")
    texts = [b for b in screen.text_blocks if not b.in_button]
    for block in screen.text_blocks:
        if clipped(block):
            problems.append(f"{name}: {block.text!r} is cut off ({block.drawn.getRect()} in {block.box.getRect()})")
        if not window.contains(block.drawn):
            problems.append(f"{name}: {block.text!r} leaves the window")
    for index, block in enumerate(texts):
        for label, rect in placed:
            if block.drawn.intersects(rect):
                problems.append(f"{name}: {block.text!r} runs under the button {label!r}")
        for other in texts[index + 1 :]:
            if overlap(block.drawn, other.drawn, min(block.size, other.size)):
                problems.append(f"{name}: {block.text!r} and {other.text!r} overlap")
    return problems


def sizes_of(screen: Screen, texts: Callable[[str], bool]) -> list[int]:
    return [b.size for b in screen.text_blocks if texts(b.text)]


@pytest.mark.parametrize("orientation", SIZES)
def test_a_larger_font_scale_never_makes_the_status_or_the_hint_smaller(orientation: str) -> None:
    """They wrap when they no longer fit on one line instead of shrinking below their size at 1.0."""
    status = Status(
        camera=StatusPart("camera", "ready"),
        models=StatusPart("models", "missing", Level.ERROR),
        sync=StatusPart("sync", "offline · 25 waiting", Level.WARN),
        storage=StatusPart("storage", "28.4 GB free"),
    )
    parts = {p.text for p in home_mod.plain_status(status)}
    found = {}
    for scale in (1.0, FONT_SCALES[1]):
        home = HomeScreen()
        home.set_status(status)
        render(home, *SIZES[orientation], scale)
        found[scale] = (
            sizes_of(home, lambda t: t in parts),
            sizes_of(home, lambda t: t.startswith(("Hold", "The mirror can't"))),
        )
    for normal, large in zip(found[1.0], found[FONT_SCALES[1]], strict=True):  # the status, then the hint
        assert len(normal) == len(large) > 0
        for at_1, at_max in zip(normal, large, strict=True):
            assert at_max >= at_1, f"{large} at {FONT_SCALES[1]} vs {normal} at 1.0"


@pytest.mark.parametrize("font_scale", [FONT_SCALES[0], 1.0, FONT_SCALES[1]])
@pytest.mark.parametrize("orientation", SIZES)
def test_a_long_notice_on_home_is_wrapped_whole(font_scale: float, orientation: str) -> None:
    """The disk-full error with its fix: every word on the glass, above the status, under the buttons."""
    home = HomeScreen()
    full = StatusPart("storage", "full", Level.ERROR, STORAGE_FULL)  # as the service reports it with that notice
    home.set_status(dataclasses.replace(screenshots().STATUS, storage=full))
    home.set_notice(DISK_FULL, "storage")
    render(home, *SIZES[orientation], font_scale)
    (block,) = [b for b in home.text_blocks if b.text == DISK_FULL]
    assert not block.elided and not clipped(block)
    assert block.drawn.height() > block.size * 2, "wrapped over several lines"
    assert block.drawn.top() > max(r.bottom() for _, r in buttons(home))
    status_top = min(b.drawn.top() for b in home.text_blocks if b.text == "Closet full")
    assert block.drawn.bottom() < status_top


@pytest.mark.parametrize("font_scale", [FONT_SCALES[0], 1.0, FONT_SCALES[1]])
def test_the_capture_hint_in_landscape_is_whole(font_scale: float) -> None:
    """It was boxed into the strip right of the preview and cut off at both ends."""
    screen = CaptureScreen()
    screen.set_state(CaptureStateChanged(CaptureState.NO_CAMERA))
    render(screen, *SIZES["landscape"], font_scale)
    (block,) = [b for b in screen.text_blocks if b.text.startswith("No camera")]
    assert not block.elided and not clipped(block)
    assert block.drawn.left() >= 0 and block.drawn.right() < SIZES["landscape"][0]
    assert block.size >= screen.theme().px(52) * 0.95, "at its size, not shrunk to fit a strip"


@pytest.mark.parametrize("size", [SIZES["landscape"], SIZES["portrait"], (800, 480)])
@pytest.mark.parametrize("font_scale", [FONT_SCALES[0], FONT_SCALES[1]])
def test_the_slow_analysis_hint_is_whole(size: tuple[int, int], font_scale: float, monkeypatch) -> None:
    """The two lines a stuck analysis gets (ui.capture.SLOW_HINT) fit wherever the hint goes."""
    import ui.capture as capture_mod

    monkeypatch.setattr(capture_mod, "SLOW_ANALYSIS_S", 0.0)
    screen = CaptureScreen()
    screen.set_state(CaptureStateChanged(CaptureState.ANALYSING))
    render(screen, *size, font_scale)
    (block,) = [b for b in screen.text_blocks if b.text.startswith("Taking longer")]
    assert not block.elided and not clipped(block)
    assert block.drawn.left() >= 0 and block.drawn.right() < size[0]


def test_home_without_a_camera_says_so_instead_of_inviting_a_capture() -> None:
    home = HomeScreen()
    home.set_status(Status(camera=StatusPart("camera", "missing", Level.ERROR), models=StatusPart("models", "ready")))
    render(home, *SIZES["portrait"], 1.0)
    texts = [b.text for b in home.text_blocks]
    assert not any("Hold up a garment" in t or "capture now" in t for t in texts), texts
    assert "No camera to capture with" in texts
    home.set_status(Status(camera=StatusPart("camera", "ready"), models=StatusPart("models", "ready")))
    render(home, *SIZES["portrait"], 1.0)
    assert "Hold up a garment" in [b.text for b in home.text_blocks]


def focus_grid(screen: ClosetScreen) -> None:
    screen.focus_row = 3
    screen.grid.focus = 0


def test_closet_pages_and_jumps_and_says_where_it_is(qtbot) -> None:
    """PageDown/PageUp move a page of grid lines, End/Home the last and first garment; the header
    says which garments show of how many, a bar beside the grid shows where."""
    shots = screenshots()
    items = many(shots, 300)
    screen = ClosetScreen()
    screen.set_content(items, ClosetCounts.tally(i.record for i in items), None, None)
    screen.resize(*SIZES["portrait"])
    screen.show()
    qtbot.addWidget(screen)
    focus_grid(screen)
    screen.relayout()
    cols, lines = screen.grid.columns, screen.visible_lines
    page = cols * lines
    assert lines >= 3

    def header() -> str:
        return next(b.text for b in screen.text_blocks if " of " in b.text)

    assert header() == f"1–{page} of 300 garments"
    qtbot.keyClick(screen, Qt.Key.Key_PageDown)
    screen.relayout()
    assert screen.grid.focus == page and screen.first_line == lines
    assert header() == f"{page + 1}–{2 * page} of 300 garments"
    qtbot.keyClick(screen, Qt.Key.Key_PageDown)
    qtbot.keyClick(screen, Qt.Key.Key_PageUp)
    screen.relayout()
    assert screen.grid.focus == page and screen.first_line == lines
    qtbot.keyClick(screen, Qt.Key.Key_End)
    screen.relayout()
    assert screen.current_key() == "item:r0299"
    assert not screen.grid.rects[299].isEmpty() and screen.rect().contains(screen.grid.rects[299])
    assert header().endswith("–300 of 300 garments")
    qtbot.keyClick(screen, Qt.Key.Key_Home)
    screen.relayout()
    assert screen.current_key() == "item:r0000" and screen.first_line == 0
    # Home/End from the filters go to the garments too; PageUp there does nothing.
    screen.focus_row = 1
    qtbot.keyClick(screen, Qt.Key.Key_End)
    assert screen.current_key() == "item:r0299"

    # The position bar: a bright thumb at the top of a faint track beside the grid.
    qtbot.keyClick(screen, Qt.Key.Key_Home)
    array = pixels(screen)
    shown = [r for r in screen.grid.rects if not r.isEmpty()]
    grid_top, tiles_right = min(r.top() for r in shown), max(r.right() for r in shown)
    bar = array[grid_top:, tiles_right + 2 : screen.width() - 60]  # right of the tiles, inside the margin
    lit = np.flatnonzero(bar.max(axis=(1, 2)) > 100)
    assert lit.size > 0 and lit.max() < (screen.height() - grid_top) * 0.1, "a short thumb at the top"
    assert (bar.max(axis=(1, 2)) > 20).mean() > 0.8, "a faint track the whole height"


@pytest.mark.parametrize("orientation", SIZES)
def test_closet_tiles_fill_the_height_they_have(orientation: str) -> None:
    """No band of empty glass under the last line of garments when more are waiting below."""
    items = many(screenshots(), 60)
    screen = ClosetScreen()
    screen.set_content(items, ClosetCounts.tally(i.record for i in items), None, None)
    focus_grid(screen)
    render(screen, *SIZES[orientation], 1.0)
    shown = [r for r in screen.grid.rects if not r.isEmpty()]
    bottom = screen.content_rect(screen.theme()).bottom()
    assert bottom - max(r.bottom() for r in shown) < screen.theme().lx(24)


def record(index: int, category: str, colour: str) -> Record:
    made: Record = screenshots().sample_record(index, category, 0.9, Color(colour, colour, "#808080"), {})
    return made


RECORDS = [
    record(0, "dress", "red"),
    record(1, "dress", "red"),
    record(2, "dress", "blue"),
    record(3, "t-shirt", "red"),
    record(4, "t-shirt", "white"),
    record(5, "pants", "blue"),
]


class Core:
    """The core's two closet reads over ``RECORDS``, counting the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def closet(self, category: str | None = None, basic_color: str | None = None) -> list[Record]:
        self.calls += 1
        return [
            r
            for r in RECORDS
            if (category is None or r.category == category) and (basic_color is None or r.color.basic == basic_color)
        ]

    def counts(self) -> ClosetCounts:
        self.calls += 1
        return ClosetCounts.tally(RECORDS)


@pytest.mark.parametrize(
    ("category", "colour", "shown", "by_category", "by_colour"),
    [
        (None, None, 6, {"dress": 3, "t-shirt": 2, "pants": 1}, {"red": 3, "blue": 2, "white": 1}),
        ("dress", None, 3, {"dress": 3, "t-shirt": 2, "pants": 1}, {"red": 2, "blue": 1}),
        (None, "red", 3, {"dress": 2, "t-shirt": 1}, {"red": 3, "blue": 2, "white": 1}),
        ("dress", "red", 2, {"dress": 2, "t-shirt": 1}, {"red": 2, "blue": 1}),
    ],
)
def test_filter_counts_are_within_the_other_filter(
    category: str | None, colour: str | None, shown: int, by_category: dict[str, int], by_colour: dict[str, int]
) -> None:
    """With Dress on, Red counts red dresses; with Red on, Dress counts red dresses; in at most 3 reads."""
    core = Core()
    records, counts, total = filtered_closet(core, category, colour)
    assert core.calls <= 3
    assert len(records) == shown and total == len(RECORDS)
    assert all((category is None or r.category == category) for r in records)
    assert counts.category == by_category and counts.basic_color == by_colour
    screen = ClosetScreen()
    screen.set_content([ClosetItem(r) for r in records], counts, category, colour, total)
    badges = {b.key: b.badge for b in screen.categories.buttons + screen.colours.buttons}
    assert badges["col:red"] == str(by_colour.get("red", 0)) and badges["cat:dress"] == str(by_category["dress"])
    assert badges["col:*"] == str(sum(by_colour.values())) and badges["cat:*"] == str(sum(by_category.values()))
    screen.resize(*SIZES["portrait"])
    screen.relayout()
    header = [b.text for b in screen.text_blocks if b.text.endswith(f"of {len(RECORDS)}") or "garments" in b.text]
    assert header == ([f"{shown} of 6"] if category or colour else ["6 garments"])


def brightness(screen: Screen, rect: QRect) -> float:
    return float(pixels(screen)[rect.top() : rect.bottom(), rect.left() : rect.right()].mean())


def test_the_focused_button_is_brighter_than_the_expected_next_step() -> None:
    """Keep (primary) without the focus must not look more chosen than Retake with it."""
    screen = ResultScreen()
    screen.show_garment(screenshots().sample_garment())
    screen.resize(*SIZES["portrait"])
    screen.main.focus = 1  # Retake
    screen.relayout()
    keep, retake = screen.main.rects
    focused, primary = brightness(screen, retake), brightness(screen, keep)
    assert focused > 3 * primary, (focused, primary)
    screen.main.focus = 0
    assert brightness(screen, keep) > 3 * brightness(screen, retake)


def test_the_confidence_belongs_to_the_category_not_the_colour() -> None:
    """'93 % sure' sat under the colour and read as the colour's; it names the category, right under it."""
    for orientation in SIZES:
        screen = ResultScreen()
        screen.show_garment(screenshots().sample_garment())
        render(screen, *SIZES[orientation], 1.0)
        blocks = {b.text: b.drawn for b in screen.text_blocks}
        sure = next(text for text in blocks if "% sure" in text)
        assert sure == "93 % sure it is a T-shirt"
        colour = next(text for text in blocks if "blue" in text)
        assert blocks["T-shirt"].bottom() < blocks[sure].top() < blocks[colour].top()


def test_the_window_counts_each_filter_within_the_other(tmp_path, qtbot) -> None:
    """The real window on a real closet: with Dress on, Red counts the red dresses, not every red garment."""
    from mirror.store import ClosetStore
    from tests.test_ui_flow import choose, demo_draft
    from tests.ui_harness import running_mirror, settings_for

    settings = settings_for(tmp_path)
    store = ClosetStore.open(settings.store.path(), "mirror-ui-test", min_free_mb=0)
    for index in range(3):  # a red t-shirt, a blue dress, green pants
        store.add(demo_draft(index))
    store.add(dataclasses.replace(demo_draft(1), color=Color("red", "red", "#b3202a")))  # and a red dress
    store.close()
    with running_mirror(settings) as m:
        w = m.window
        m.wait(lambda: len(m.service.closet()) == 4, what="the closet")
        w.open_closet()

        def badges() -> dict[str, str]:
            return {b.key: b.badge for b in w.closet.categories.buttons + w.closet.colours.buttons}

        assert badges()["col:red"] == "2" and badges()["cat:dress"] == "2"
        choose(qtbot, m, "cat:dress")
        assert badges()["col:red"] == "1" and badges()["col:blue"] == "1" and badges()["col:green"] == "0"
        assert badges()["col:*"] == "2" and badges()["cat:t-shirt"] == "1" and badges()["cat:*"] == "4"
        choose(qtbot, m, "col:red")
        assert [i.record.category for i in w.closet.items] == ["dress"]
        assert badges()["cat:dress"] == "1" and badges()["cat:t-shirt"] == "1" and badges()["cat:pants"] == "0"
        assert badges()["col:red"] == "1" and badges()["col:blue"] == "1"
        assert w.closet.total == 4
