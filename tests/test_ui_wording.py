"""What the glass says, on real widgets (s13 UX review: M1–M3, M6, L1, L5–L7).

Each screen is painted offscreen and its words read back from what was drawn: the main question
in good English for every category, the colour's guess beside (not instead of) the full list, no
hold-still promise when ``[vision] auto_capture`` is off, one state in one set of words across
screens, the result's countdown on the picker too, start-up in grey, lines after a " · " break
starting as sentences, and no word left alone on the capture screen of a 7" panel. Driven like
test_ui_glass: the real window and bridge, a stand-in core.
"""

from __future__ import annotations

import dataclasses
import queue
from typing import Any

import pytest
from PySide6.QtGui import QFontMetrics

from mirror.config import Settings
from mirror.config.settings import VisionSettings
from mirror.events import AnalysisDone, CaptureState, CaptureStateChanged, Level, RecordSaved, Status, StatusPart
from mirror.pipeline.result import GarmentColour
from mirror.vocab import CATEGORIES
from mirror.wording import (
    ADDED,
    BACKUP_FAILING,
    LOWER_FIRST,
    NO_CAMERA,
    NOT_ADDED_UNSURE,
    NOT_BACKED_UP,
)
from tests.test_ui_glass import READY, analysis_of, quiet_bridge, screenshots, stand_in_core, texts, window
from tests.test_ui_round2 import rect_of, tap
from ui import assembly
from ui import result as result_mod
from ui.capture import TAP_NOW, CaptureScreen, orphaned
from ui.home import INVITE, INVITE_MANUAL, STARTING, HomeScreen
from ui.picker import HELP
from ui.result import ResultScreen
from ui.theme import GREY, WARN
from ui.vocab import category_claim, category_noun, category_question, on_lines
from ui.window import MirrorWindow

pytestmark = pytest.mark.usefixtures("qapp")

#: Every category's question and claim as a person would say them.
SAID = {
    "t-shirt": ("Is this a T-shirt?", "it is a T-shirt"),
    "longsleeve": ("Is this a long-sleeved top?", "it is a long-sleeved top"),
    "shirt": ("Is this a shirt?", "it is a shirt"),
    "outwear": ("Is this outerwear?", "it is outerwear"),
    "dress": ("Is this a dress?", "it is a dress"),
    "skirt": ("Is this a skirt?", "it is a skirt"),
    "pants": ("Are these trousers?", "they are trousers"),
    "shorts": ("Are these shorts?", "they are shorts"),
    "shoes": ("Are these shoes?", "they are shoes"),
    "hat": ("Is this a hat?", "it is a hat"),
}


def garment_of(category: str, *, unsure: bool, score: float = 0.91) -> Any:
    base = screenshots().sample_garment(unsure=True)
    top3 = ((category, score), *((name, 0.1) for name in ("shirt", "skirt", "hat") if name != category))
    return dataclasses.replace(base, category=category, category_score=score, unsure=unsure, top3=top3[:3])


# --- M1: the question in good English, for every category ---------------------------------------------


def test_every_category_of_the_models_has_its_sentence() -> None:
    assert set(SAID) == set(CATEGORIES), "a new category needs its grammar in ui.vocab"


@pytest.mark.parametrize("category", CATEGORIES)
def test_the_result_asks_and_answers_in_good_english(category: str) -> None:
    question, claim = SAID[category]
    screen = ResultScreen()
    screen.resize(1080, 1920)
    screen.show_garment(garment_of(category, unsure=True))
    assert question in texts(screen)
    assert category_question(category) == question
    screen.show_garment(garment_of(category, unsure=False))
    assert f"91 % sure {claim}" in texts(screen)


def test_an_unsure_result_nobody_answers_is_said_in_good_english(qtbot: Any) -> None:
    w, bridge, core = window(qtbot)
    w.set_result_timeout(0.2)
    bridge.analysis_done.emit(AnalysisDone(1, analysis_of(garment_of("shorts", unsure=True))))
    qtbot.waitUntil(lambda: w.current() is w.home, timeout=3000)
    assert w.home.note == "Not added: the mirror was unsure they are shorts"
    assert w.home.note == NOT_ADDED_UNSURE.format(claim=category_claim("shorts"))
    core.cancel.assert_called_once()


# --- M2: the colour's guess beside the full list, asked once the category is settled ------------------


def test_a_colour_in_doubt_keeps_the_full_colour_list_one_tap_away(qtbot: Any) -> None:
    w, bridge, _ = window(qtbot)
    doubtful = screenshots().sample_garment(colour_doubt=True)
    bridge.analysis_done.emit(AnalysisDone(1, analysis_of(doubtful)))
    screen = w.result
    assert [b.key for b in screen.edit.buttons] == [result_mod.CATEGORY, result_mod.COLOUR, result_mod.DISCARD]
    assert [b.label for b in screen.answers.buttons] == ["White?"]
    tap(qtbot, screen, rect_of(screen, result_mod.COLOUR))  # beige: neither light grey nor white
    assert w.current() is w.picker and w.picker.purpose == "colour"
    w.picker.action.emit("pick:brown")
    assert w.current() is screen and screen.shown_colour == "brown" and screen.answers.buttons == []

    # An unsure category is asked first; its colour's guess comes once it is answered.
    both = dataclasses.replace(doubtful, unsure=True, top3=(("t-shirt", 0.4), ("shirt", 0.3), ("longsleeve", 0.2)))
    bridge.analysis_done.emit(AnalysisDone(2, analysis_of(both)))
    assert [b.label for b in screen.answers.buttons] == ["Shirt?", "Long sleeve?"], "one question at a time"
    assert result_mod.COLOUR in [b.key for b in screen.edit.buttons]
    assert "or white?" not in texts(screen)
    tap(qtbot, screen, rect_of(screen, result_mod.ANSWER_PREFIX + "shirt"))
    assert [b.label for b in screen.answers.buttons] == ["White?"]
    tap(qtbot, screen, rect_of(screen, result_mod.ALTERNATIVE))
    assert screen.shown_colour == "white" and screen.shown_category == "shirt"


def test_the_colours_guess_sits_right_above_colour() -> None:
    screen = ResultScreen()
    screen.show_garment(screenshots().sample_garment(colour_doubt=True))
    for size in ((1080, 1920), (1920, 1080)):
        screen.resize(*size)
        guess, colour = rect_of(screen, result_mod.ALTERNATIVE), rect_of(screen, result_mod.COLOUR)
        assert (guess.left(), guess.width()) == (colour.left(), colour.width()) and guess.bottom() < colour.top()


# --- M3: no hold-still promise without auto-capture ---------------------------------------------------


def manual_window(qtbot: Any, auto_capture: bool) -> MirrorWindow:
    w = MirrorWindow(stand_in_core(), quiet_bridge(), auto_capture=auto_capture)
    w.resize(960, 540)
    w.show()
    qtbot.addWidget(w)
    return w


@pytest.mark.parametrize("auto_capture", [True, False])
def test_the_hints_promise_only_what_auto_capture_does(qtbot: Any, auto_capture: bool) -> None:
    w = manual_window(qtbot, auto_capture)
    invite = INVITE if auto_capture else INVITE_MANUAL
    assert w.home.hint() == invite
    shown = texts(w.home)
    assert invite[0] in shown and invite[1] in shown
    assert any("hold it still" in t.lower() for t in shown) == auto_capture
    if not auto_capture:
        assert "tap Capture" in invite[1]

    w.bridge.capture_state.emit(CaptureStateChanged(CaptureState.PRESENT))  # a garment held up
    assert w.current() is w.capture
    shown = texts(w.capture)
    assert ("Hold still" in shown) == auto_capture
    assert (TAP_NOW in shown) != auto_capture
    assert "Capture now" in [b.label for b in w.capture.buttons.buttons], "the button the hint names"


@pytest.mark.parametrize("auto_capture", [True, False])
def test_the_mirror_is_put_together_with_the_configs_auto_capture(
    monkeypatch: pytest.MonkeyPatch, auto_capture: bool
) -> None:
    core = stand_in_core()
    core.events = queue.Queue()
    monkeypatch.setattr(assembly, "MirrorService", lambda settings: core)
    settings = Settings(vision=VisionSettings(auto_capture=auto_capture))
    with assembly.running_mirror(settings, size=(540, 960)) as (_, _, w):
        assert w.home.auto_capture is auto_capture and w.capture.auto_capture is auto_capture
        assert w.home.hint() == (INVITE if auto_capture else INVITE_MANUAL)


# --- M6: one state, one set of words --------------------------------------------------------------------


def test_no_camera_is_said_on_the_capture_screen_in_the_cores_words() -> None:
    screen = CaptureScreen()
    screen.resize(1080, 1920)
    screen.set_state(CaptureStateChanged(CaptureState.NO_CAMERA))
    assert on_lines(" · ".join(NO_CAMERA)) in texts(screen)
    assert "No camera found\nCheck its cable, then restart the mirror" in texts(screen)


def test_homes_status_line_uses_the_shared_words() -> None:
    home = HomeScreen()
    home.resize(1080, 1920)
    for level, words in ((Level.WARN, NOT_BACKED_UP), (Level.ERROR, BACKUP_FAILING)):
        home.set_status(dataclasses.replace(READY, sync=StatusPart("sync", "offline", level)))
        assert words in texts(home)
    home.set_status(dataclasses.replace(READY, camera=StatusPart("camera", "missing", Level.ERROR)))
    assert NO_CAMERA[0] in texts(home)


def test_a_garment_kept_is_said_with_one_verb_whoever_kept_it(qtbot: Any) -> None:
    w, bridge, core = window(qtbot)
    garment = dataclasses.replace(
        screenshots().sample_garment(), category="pants", color=GarmentColour("blue", "navy", "#22304f")
    )
    record = screenshots().sample_closet()[0].record
    record = dataclasses.replace(record, category="pants", color=dataclasses.replace(record.color, basic="blue"))

    bridge.analysis_done.emit(AnalysisDone(1, analysis_of(garment)))  # Keep pressed
    tap(qtbot, w.result, rect_of(w.result, result_mod.KEEP))
    bridge.record_saved.emit(RecordSaved(record))
    assert w.home.note == "Added to your closet: blue trousers · lower them, then hold up the next"
    assert w.home.note == f"{ADDED}: blue {category_noun('pants')} · {LOWER_FIRST.format(it='them')}"

    w.set_result_timeout(0.2)  # nobody there: the mirror keeps it, and says so the same way
    bridge.analysis_done.emit(AnalysisDone(2, analysis_of(garment)))
    qtbot.waitUntil(lambda: core.keep.call_count == 2, timeout=3000)
    bridge.record_saved.emit(RecordSaved(record))
    assert w.home.note == "Added to your closet: blue trousers"


# --- L1: the result's countdown on the picker too ---------------------------------------------------


def test_the_picker_says_the_result_is_about_to_be_settled(qtbot: Any) -> None:
    w, bridge, _ = window(qtbot)
    w.set_result_timeout(5.0)  # inside the warning from the start
    bridge.analysis_done.emit(AnalysisDone(1, analysis_of(screenshots().sample_garment())))
    assert w.result.countdown.startswith("Keeping it in ")
    tap(qtbot, w.result, rect_of(w.result, result_mod.CATEGORY))
    assert w.current() is w.picker
    assert w.picker.countdown.startswith("Keeping it in ")
    assert w.picker.countdown in texts(w.picker) and HELP not in texts(w.picker)
    first = w.picker.countdown
    qtbot.waitUntil(lambda: w.picker.countdown != first, timeout=2500)  # it keeps counting down
    assert w.picker.countdown == w.result.countdown != ""
    grid_top = min(r.top() for r in w.picker.grid.rects)

    w.picker.action.emit("pick:hat")
    assert w.current() is w.result
    tap(qtbot, w.result, rect_of(w.result, result_mod.KEEP))
    assert w.picker.countdown == "" and w.result.countdown == ""
    w.picker.ask_colour("blue")
    w.picker.resize(w.size())
    assert HELP in texts(w.picker) and min(r.top() for r in w.picker.grid.rects) == grid_top, "nothing moved"


# --- L5: starting up is not a fault ---------------------------------------------------------------


def test_parts_still_starting_are_said_in_grey_not_amber() -> None:
    home = HomeScreen()
    home.resize(1080, 1920)
    home.set_status(Status())  # camera starting, models loading
    assert home.hint() == STARTING
    image = home.grab().toImage()
    home.relayout()
    starting = [b for b in home.text_blocks if b.text.endswith("starting…")]
    assert len(starting) == 2
    for block in starting:
        band = image.copy(block.drawn)
        colours = {band.pixelColor(x, y).rgb() for x in range(band.width()) for y in range(band.height())}
        assert WARN.rgb() not in colours and GREY.rgb() in colours, block.text
    home.set_status(dataclasses.replace(READY, camera=StatusPart("camera", "missing", Level.ERROR)))
    image = home.grab().toImage()
    home.relayout()
    (broken,) = [b for b in home.text_blocks if b.text == NO_CAMERA[0]]  # a fault: still amber
    band = image.copy(broken.drawn)
    assert WARN.rgb() in {band.pixelColor(x, y).rgb() for x in range(band.width()) for y in range(band.height())}


# --- L6: a line after a " · " break starts as a sentence ---------------------------------------------


def test_lines_split_at_a_dot_start_with_a_capital() -> None:
    assert on_lines("Clock not set · connect the mirror to the network") == (
        "Clock not set\nConnect the mirror to the network"
    )
    home = HomeScreen()
    home.set_status(Status())
    home.resize(480, 800)  # narrow: the hint's second line breaks where the sense breaks
    (fix,) = [t for t in texts(home) if t.startswith("This takes")]
    assert fix == "This takes a few seconds after switching on\nThe closet already works"


# --- L7: no word alone on a line of the capture screen --------------------------------------------


@pytest.mark.parametrize("state", [CaptureState.ANALYSING, CaptureState.IDLE, CaptureState.CAPTURING])
def test_the_capture_hint_leaves_no_word_alone_on_a_7_inch_panel(state: CaptureState) -> None:
    screen = CaptureScreen()
    screen.px_per_mm = 5.19  # the official 7" panel, 800×480
    screen.resize(800, 480)
    screen.set_state(CaptureStateChanged(state))
    screen.relayout()
    (block,) = [b for b in screen.text_blocks if not b.in_button]
    font = screen.theme().font(52)
    font.setPixelSize(block.size)
    assert not orphaned(font, block.text, block.box.width()), block.text
    if state is CaptureState.ANALYSING:  # "Looking at it…": one line, not "Looking at / it…"
        assert block.drawn.height() < 1.5 * QFontMetrics(font).height()


def test_orphaned_finds_a_lone_last_word() -> None:
    font = CaptureScreen().theme().font(52)
    width = QFontMetrics(font).horizontalAdvance("Looking at") + 4
    assert orphaned(font, "Looking at it…", width)
    assert not orphaned(font, "Looking at it…", width * 3)
    assert not orphaned(font, "Looking\nat it…", width), "a line of its own by the text's own break"

