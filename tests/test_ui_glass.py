"""What the person behind the two-way glass sees and can do, on real widgets with a stand-in core.

The window is driven through the same bridge signals the service emits (a stand-in core that
records calls), so each state is reached at once and deterministically: a full closet while a
garment is held up, a result about to be settled, models missing or still loading, a very dark
garment. Real-service versions of the slower paths live in test_ui_states and test_ui_timeout.
"""

from __future__ import annotations

import dataclasses
import queue
from types import SimpleNamespace
from typing import Any
from unittest.mock import MagicMock, create_autospec

import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from mirror.events import (
    STORAGE_FULL,
    AnalysisDone,
    AnalysisFailed,
    CaptureState,
    CaptureStateChanged,
    Error,
    Level,
    Status,
    StatusChanged,
    StatusPart,
)
from mirror.pipeline.result import CUTOUT_PNG, AnalysisResult, GarmentColour, GarmentResult
from mirror.service import MirrorService
from mirror.store import ClosetCounts
from mirror.wording import CLOSET_FULL
from ui import home as home_mod
from ui.bench import wait_until
from ui.bridge import ServiceBridge
from ui.capture import CaptureScreen
from ui.home import HomeScreen
from ui.images import LIFT_FLOOR, RIM_GREY, load_thumbnail
from ui.picker import PickerScreen
from ui.result import ResultScreen
from ui.theme import DIM, FAINT, GREY
from ui.window import MirrorWindow

pytestmark = pytest.mark.usefixtures("qapp")

READY = Status(
    camera=StatusPart("camera", "demo"),
    models=StatusPart("models", "ready"),
    sync=StatusPart("sync", "off"),
    storage=StatusPart("storage", "ok"),
)
FULL = dataclasses.replace(READY, storage=StatusPart("storage", "full", Level.ERROR, STORAGE_FULL))


def quiet_bridge() -> ServiceBridge:
    """The real bridge over a queue nobody fills: the test emits its signals instead of a service."""
    return ServiceBridge(SimpleNamespace(events=queue.Queue()))


def stand_in_core(status: Status = READY) -> MagicMock:
    """A core with the service's own signatures (a call the service does not have, or with arguments it
    does not take, fails the test), answering as an empty, working mirror."""
    core: MagicMock = create_autospec(MirrorService, instance=True)
    core.status.return_value = status
    core.closet.return_value = []
    core.counts.return_value = ClosetCounts()
    core.unsynced_ids.return_value = set()
    return core


def window(qtbot: Any, status: Status = READY) -> tuple[MirrorWindow, ServiceBridge, MagicMock]:
    """The real window over a stand-in core (``stand_in_core``)."""
    core = stand_in_core(status)
    bridge = quiet_bridge()
    w = MirrorWindow(core, bridge)
    w.resize(960, 540)
    w.show()
    qtbot.addWidget(w)
    return w, bridge, core


def analysis_of(garment: GarmentResult, count: int = 1) -> AnalysisResult:
    """A real analysis result holding ``garment`` (``count`` times, as a shot of several would)."""
    return AnalysisResult(
        1, (garment,) * count, ms=100.0, timings_ms={}, image_size=(640, 480), model_versions={}
    )


def state(bridge: ServiceBridge, value: CaptureState) -> None:
    bridge.capture_state.emit(CaptureStateChanged(value))


def screenshots() -> Any:
    from tests.test_ui_screens import load_screenshots

    return load_screenshots()


def texts(screen: Any) -> list[str]:
    screen.relayout()
    return [block.text for block in screen.text_blocks]


# --- H2: a full closet while a garment is held up --------------------------------------------------


def test_a_garment_held_up_while_the_closet_is_full_leaves_home_saying_why(qtbot) -> None:
    w, bridge, _core = window(qtbot)
    bridge.status.emit(StatusChanged(FULL))
    state(bridge, CaptureState.PRESENT)  # the core holds auto-capture off: PRESENT for as long as it is held
    assert w.current() is w.home, "the capture screen would say 'Hold still' for good"
    assert w.home.hint()[0] == CLOSET_FULL[0]
    assert "Hold still" not in texts(w.home)


def test_the_disk_filling_while_on_the_capture_screen_goes_home(qtbot) -> None:
    w, bridge, _core = window(qtbot)
    state(bridge, CaptureState.PRESENT)
    assert w.current() is w.capture
    bridge.status.emit(StatusChanged(FULL))
    assert w.current() is w.home


def test_a_refused_capture_now_is_said_on_the_capture_screen(qtbot) -> None:
    w, bridge, core = window(qtbot)
    w.show_screen(w.capture)
    qtbot.keyClick(w.capture, Qt.Key.Key_Return)  # Capture now
    core.capture_now.assert_called_once()
    bridge.error.emit(Error("The closet is full", "delete garments you no longer have", "storage", "disk at 0 MB"))
    assert w.current() is w.capture
    assert w.capture.message == "The closet is full · delete garments you no longer have"
    assert w.capture.message in texts(w.capture), "drawn where the person pressed it"
    assert "Hold the garment up between the corners" not in texts(w.capture)
    assert w.about.problem == "disk at 0 MB", "the technical cause is kept for the installer"
    w.show_screen(w.home)
    w.show_screen(w.capture)
    assert w.capture.message == "", "a refusal from an earlier visit is not shown again"


def test_the_idle_timer_is_rearmed_when_it_declines_to_go_home(qtbot) -> None:
    """It is single-shot: spent while a garment was in view, the capture screen stayed for good after."""
    w, bridge, _core = window(qtbot)
    w._idle.setInterval(100)
    w._away.setInterval(60_000)  # only the idle timer is checked here
    state(bridge, CaptureState.PRESENT)
    assert w.current() is w.capture
    qtbot.wait(300)  # the idle timer fires at least once while the garment is in view
    assert w.current() is w.capture and w._idle.isActive(), "declined, and armed again"
    state(bridge, CaptureState.IDLE)  # the garment is lowered
    assert wait_until(lambda: w.current() is w.home, 2.0), "the capture screen stayed after the garment left"


# --- L6: the person walks away from the capture screen ---------------------------------------------


def test_the_capture_screen_goes_home_soon_after_the_garment_leaves(qtbot) -> None:
    w, bridge, _core = window(qtbot)
    assert w._away.interval() <= 15_000, "about ten seconds, not the browsing screens' 90"
    w._away.setInterval(150)
    state(bridge, CaptureState.COUNTDOWN)
    assert w.current() is w.capture
    state(bridge, CaptureState.IDLE)  # walked away mid-countdown
    assert wait_until(lambda: w.current() is w.home, 2.0)

    # Capture pressed on purpose (nothing in view yet): the person gets the full idle time.
    qtbot.keyClick(w.home, Qt.Key.Key_Return)
    assert w.current() is w.capture
    qtbot.wait(400)
    assert w.current() is w.capture

    # A garment that comes and goes and a tap meanwhile: someone is there, the screen stays.
    state(bridge, CaptureState.PRESENT)
    state(bridge, CaptureState.IDLE)
    qtbot.mouseClick(w.capture, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    qtbot.wait(400)
    assert w.current() is w.capture


# --- M7: the result says it is about to settle itself ----------------------------------------------


@pytest.mark.parametrize(("unsure", "words"), [(False, "Keeping it in"), (True, "Discarding it in")])
def test_a_result_counts_down_in_its_last_seconds(qtbot, unsure: bool, words: str) -> None:
    w, bridge, _core = window(qtbot)
    w.set_result_timeout(30)
    bridge.analysis_done.emit(AnalysisDone(1, analysis_of(screenshots().sample_garment(unsure=unsure))))
    assert w.current() is w.result
    assert w.result.countdown == "", "no countdown while there is time"
    assert not any(words in t for t in texts(w.result))

    w.set_result_timeout(3)
    w._start_unattended()  # as a tap would: the wait starts again, now 3 s long
    assert wait_until(lambda: w.result.countdown.startswith(words), 2.0)
    shown = w.result.countdown
    assert shown.endswith(" s…") and int(shown.split()[-2]) <= 3
    assert any(words in t for t in texts(w.result)), "drawn on the result screen"
    assert wait_until(lambda: w.result.countdown != shown, 2.0), "and it counts down"

    qtbot.keyClick(w.result, Qt.Key.Key_Right)  # someone is there: the full wait again
    w.set_result_timeout(30)
    w._start_unattended()
    assert w.result.countdown == ""


# --- H3, M3, M4: home while a capture cannot work --------------------------------------------------


def test_models_missing_or_loading_are_said_on_home_instead_of_the_invitation() -> None:
    home = HomeScreen()
    home.set_status(dataclasses.replace(READY, models=StatusPart("models", "error", Level.ERROR)))
    assert home.hint() == (
        "The mirror can't recognise clothes right now",
        "It needs a software repair · the closet still works",
    )
    shown = texts(home)
    assert "Hold up a garment" not in shown and "The mirror can't recognise clothes right now" in shown

    home.set_status(dataclasses.replace(READY, models=StatusPart("models", "loading", Level.WARN)))
    title, fix = home.hint()
    assert title == "Getting ready…" and "few seconds" in fix
    home.set_status(READY)
    assert home.hint() == ("Hold up a garment", "Hold it still for a moment, or tap Capture")


@pytest.mark.parametrize(
    "broken",
    [
        {"camera": StatusPart("camera", "error", Level.ERROR)},
        {"storage": StatusPart("storage", "full", Level.ERROR, STORAGE_FULL)},
        {"models": StatusPart("models", "error", Level.ERROR)},
        {"models": StatusPart("models", "loading", Level.WARN)},
    ],
    ids=["no-camera", "closet-full", "no-models", "models-loading"],
)
def test_capture_is_not_offered_on_home_when_it_cannot_work(qtbot, broken: dict[str, StatusPart]) -> None:
    w, bridge, core = window(qtbot)
    capture, closet = w.home.buttons.buttons
    assert capture.primary and not closet.primary and w.home.buttons.current() == home_mod.CAPTURE
    bridge.status.emit(StatusChanged(dataclasses.replace(READY, **broken)))
    assert closet.primary and not capture.primary and capture.disabled
    assert w.home.buttons.current() == home_mod.CLOSET, "the focus is on what can work"
    qtbot.mouseClick(w.home, Qt.MouseButton.LeftButton, pos=QPoint(480, 40))  # a tap off the buttons
    assert w.current() is w.home
    qtbot.keyClick(w.home, Qt.Key.Key_Space)
    w._on_home(home_mod.CAPTURE)
    assert w.current() is w.home and not core.capture_now.called
    bridge.status.emit(StatusChanged(READY))  # repaired, or loaded
    assert capture.primary and not capture.disabled and w.home.buttons.current() == home_mod.CAPTURE
    qtbot.mouseClick(w.home, Qt.MouseButton.LeftButton, pos=QPoint(480, 40))
    assert w.current() is w.capture


def test_capture_now_is_not_offered_while_a_shot_is_taken_or_analysed() -> None:
    screen = CaptureScreen()
    assert [b.key for b in screen.buttons.buttons] == ["shoot", "cancel"]
    for busy in (CaptureState.CAPTURING, CaptureState.ANALYSING, CaptureState.NO_CAMERA):
        screen.set_state(CaptureStateChanged(busy))
        assert [b.key for b in screen.buttons.buttons] == ["cancel"], busy
        assert "Capture now" not in texts(screen)
    screen.set_state(CaptureStateChanged(CaptureState.IDLE))
    assert [b.key for b in screen.buttons.buttons] == ["shoot", "cancel"]
    assert screen.buttons.current() == "shoot", "the main action has the focus again"


# --- M1, L4, M2: words for a touch mirror and for people --------------------------------------------


def test_no_keyboard_words_and_the_guide_named_as_drawn() -> None:
    home = HomeScreen()
    home.set_status(READY)
    picker = PickerScreen()
    picker.ask_category("t-shirt")
    capture = CaptureScreen()
    shown = " ".join(texts(home) + texts(picker) + texts(capture))
    for key_name in ("Space", "Enter", "Esc", "Arrows"):
        assert key_name not in shown, key_name
    assert "Tap one · Back leaves it as it was" in shown
    assert "Hold the garment up between the corners" in shown and "outline" not in shown


def test_a_failed_shot_is_said_in_a_sentence_and_its_cause_kept_for_the_log(qtbot, caplog) -> None:
    w, bridge, _core = window(qtbot)
    reason = "Something went wrong with that photo · try again"
    bridge.analysis_failed.emit(AnalysisFailed(1, reason, detail="the analysis failed (tensor shape [1, 3])"))
    assert w.current() is w.result
    shown = texts(w.result)
    assert reason in shown and not any("tensor" in t for t in shown)
    assert "tensor shape" in w.about.problem
    assert any("tensor shape" in r.getMessage() for r in caplog.records)
    # A reason worded in lower case starts with a capital on the glass.
    w.result.show_garment(None, "still starting up · try again in a few seconds")
    assert "Still starting up · try again in a few seconds" in texts(w.result)


def test_a_closet_that_cannot_be_read_is_said_without_the_exception(qtbot) -> None:
    w, _bridge, core = window(qtbot)
    core.about.side_effect = OSError("[Errno 5] Input/output error: '/var/lib/smart-mirror/closet.db'")
    w.open_about()
    assert w.home.notice == "The closet can't be read right now · the mirror keeps trying"
    assert "Errno 5" in w.about.problem and ("Last problem", w.about.problem, True) in w.about.facts()


# --- M8: greys that show through the glass -------------------------------------------------------


def test_greys_are_bright_enough_for_two_way_glass() -> None:
    assert GREY.value() >= 180 and DIM.value() >= 120 and FAINT.value() >= 80
    home = HomeScreen()
    home.set_status(READY)
    home.resize(1080, 1920)
    home.relayout()
    from PySide6.QtGui import QFont

    date_font = home.theme().font(46)
    assert date_font.weight() == QFont.Weight.Normal  # the date is drawn in the Normal weight


# --- H4: dark garments lifted on the glass, stored as they are ------------------------------------


def dark_garment(hex_colour: str = "#141414") -> GarmentResult:
    shots = screenshots()
    garment: GarmentResult = shots.sample_garment()
    cutout = shots.garment_bgra("t-shirt", hex_colour, seed=5)
    return dataclasses.replace(garment, color=GarmentColour("black", "black", hex_colour), cutout_bgra=cutout)


def luma(rgb: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float64]:
    return np.asarray(rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114, np.float64)


def straight(image: QImage) -> npt.NDArray[np.uint8]:
    """A QImage as an RGBA array (not premultiplied)."""
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    array = np.frombuffer(rgba.constBits(), np.uint8).reshape(rgba.height(), rgba.bytesPerLine())
    return array[:, : rgba.width() * 4].reshape(rgba.height(), rgba.width(), 4).copy()


@pytest.mark.parametrize("hex_colour", ["#141414", "#0a1030"], ids=["black", "navy"])
def test_a_dark_cutout_is_lifted_and_rimmed_for_display_only(hex_colour: str) -> None:
    garment = dark_garment(hex_colour)
    assert garment.cutout_bgra is not None
    stored = garment.cutout_bgra.copy()
    stored_png = garment.images.get(CUTOUT_PNG, b"")
    screen = ResultScreen()
    screen.show_garment(garment)
    screen.resize(1920, 1080)
    screen.relayout()
    shown = screen._scaled
    assert shown is not None
    rgba = straight(shown)
    opaque = rgba[..., 3] >= 250
    assert opaque.mean() > 0.2
    original = luma(stored[..., [2, 1, 0]].astype(float))[stored[..., 3] >= 250]
    assert np.percentile(original, 5) < 30, "the garment itself is near-black"
    assert luma(rgba[..., :3].astype(float))[opaque].min() >= LIFT_FLOOR - 4, "lifted above the floor"
    if hex_colour == "#0a1030":
        body = rgba[opaque]
        assert (body[:, 2].astype(int) - body[:, 0]).mean() > 10, "navy stays bluish"
    # A light rim just outside the garment's edge: opaque where the garment itself is (nearly) not.
    rim = (rgba[..., 3] > 200) & (stored_alpha_at(stored, rgba.shape[:2]) < 10)
    assert rim.sum() > 1000 and abs(float(rgba[rim][:, :3].mean()) - RIM_GREY) < 30
    # The stored cut-out (what is kept and synced) is untouched.
    assert np.array_equal(garment.cutout_bgra, stored) and garment.images.get(CUTOUT_PNG, b"") == stored_png


def stored_alpha_at(bgra: npt.NDArray[np.uint8], shape: tuple[int, ...]) -> npt.NDArray[np.uint8]:
    import cv2

    return np.asarray(cv2.resize(bgra[..., 3], (shape[1], shape[0]), interpolation=cv2.INTER_AREA), np.uint8)


def test_a_light_cutout_is_shown_as_it_is() -> None:
    """Only dark garments change: a blue T-shirt (the sample) is drawn exactly as before."""
    import cv2

    garment = screenshots().sample_garment()
    screen = ResultScreen()
    screen.show_garment(garment)
    screen.resize(1920, 1080)
    screen.relayout()
    assert screen._scaled is not None and screen._bgra is not None
    size = (screen._scaled.width(), screen._scaled.height())
    premultiplied = cv2.cvtColor(screen._bgra, cv2.COLOR_RGBA2mRGBA)
    shrink = size[0] < screen._bgra.shape[1]
    expected = cv2.resize(premultiplied, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    view = np.frombuffer(screen._scaled.constBits(), np.uint8).reshape(size[1], -1)[:, : size[0] * 4]
    assert np.array_equal(view.reshape(size[1], size[0], 4), expected), "no lift, no rim"


def test_a_dark_closet_thumbnail_is_lifted_but_its_file_is_not(tmp_path) -> None:
    import cv2

    path = tmp_path / "cutout.png"
    assert cv2.imwrite(str(path), screenshots().garment_bgra("t-shirt", "#141414", seed=5))
    before = path.read_bytes()
    thumb = straight(load_thumbnail(path, 256))
    opaque = thumb[..., 3] >= 250
    assert opaque.mean() > 0.2
    assert luma(thumb[..., :3].astype(float))[opaque].min() >= LIFT_FLOOR - 4
    assert path.read_bytes() == before


@pytest.mark.parametrize("screen", ["closet", "about"])
def test_a_browsing_screen_left_alone_goes_home_and_auto_capture_comes_back(qtbot: Any, screen: str) -> None:
    """A person who walks away from the closet left the mirror there for good, with auto-capture held
    off (the screen holds it while the person browses); nothing tested the browsing screens' idle return."""
    w, _bridge, core = window(qtbot)
    w._idle.setInterval(100)
    w.show_screen(getattr(w, screen))
    assert w.current() is getattr(w, screen)
    core.hold_auto_capture.assert_called_with(True)
    assert wait_until(lambda: w.current() is w.home, 2.0), f"the {screen} screen stayed with nobody there"
    core.hold_auto_capture.assert_called_with(False)
