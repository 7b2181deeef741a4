"""The mirror's window: which screen shows, and what each press and each event means.

Screens only draw data and report presses; the service only runs the camera, the models
and the closet. This module is the glue: it turns presses into service calls (each one only
enqueues work and returns) and bridge signals into screen changes. It holds the little
state the flow needs, e.g. the result being reviewed and the corrections the person made to
it before pressing Keep (stored as an edit right after the record exists, so the closet can
tell the models' values from a person's). Remote commands (MQTT, accepted by the core) arrive
as ``CommandReceived`` and take the same paths as the keys and buttons. A result nobody acts
on for ``[ui] result_timeout_s`` is settled the way a person walking away means it: a
confident one is kept (they held it up to register it), an unsure one is dropped (it needs
their answer), and the mirror goes home saying which; in its last seconds the result screen says
which is coming ("Keeping it in 8 s…"), and so does the picker opened from it. Esc or
Backspace on a garment shown asks for the same second press as Discard. Home names a garment
kept with one verb ("Added to your closet: grey T-shirt") whoever kept it. While a capture
cannot work (no camera, the closet full or not open, the models missing) a garment held up
does not pull the mirror off Home, which says why, and a capture screen the person walked
away from goes home within seconds.
Errors are shown as the core worded them for people; their technical ``detail`` goes to the
log and the About screen. Where Qt reports the panel's physical size sensibly (not offscreen),
every screen keeps its text and touch targets a least size in millimetres (``ui.theme``).
What the closet screen shows (records, thumbnails, sync badges) is kept by
``ui.closet_browser``, and the screenshots are written by ``ui.screenshots``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QGuiApplication, QScreen, QShowEvent
from PySide6.QtWidgets import QStackedLayout, QWidget

from mirror.events import (
    About,
    AnalysisDone,
    AnalysisFailed,
    AnalysisStarted,
    CaptureState,
    CaptureStateChanged,
    CommandReceived,
    Error,
    FrameReady,
    Level,
    RecordChanged,
    RecordDeleted,
    RecordSaved,
    Status,
    StatusChanged,
)
from mirror.pipeline.result import AnalysisResult
from mirror.wording import ADDED, LOWER_FIRST, NO_CAMERA, NOT_ADDED_UNSURE
from ui import about as about_mod
from ui import capture as capture_mod
from ui import closet as closet_mod
from ui import detail as detail_mod
from ui import home as home_mod
from ui import result as result_mod
from ui.about import AboutScreen
from ui.bridge import ServiceBridge
from ui.capture import CaptureScreen
from ui.closet import ClosetScreen
from ui.closet_browser import ClosetBrowser, ClosetCore
from ui.detail import DetailScreen
from ui.home import HomeScreen
from ui.picker import PICK_PREFIX, PickerScreen
from ui.result import ResultScreen
from ui.screen import BACK, SPACE, Screen
from ui.screenshots import ScreenshotWriter
from ui.theme import px_per_mm
from ui.vocab import category_claim, category_noun, category_pronoun

log = logging.getLogger(__name__)
T = TypeVar("T")

#: States in which a garment is in front of the mirror: the home screen gives way to capture.
_ACTIVE = (CaptureState.PRESENT, CaptureState.HOLDING, CaptureState.COUNTDOWN, CaptureState.CAPTURING)
#: How long a note on the home screen ("Added to your closet", "Not kept: …") stays, and the
#: quiet spell after it (the garment still in view does not pull the mirror back to capture).
HOME_NOTE_MS = 5000
#: Browsing screens (closet, detail, about) return home after this long without a key or a tap.
IDLE_HOME_MS = 90_000
#: The capture screen goes home this long after the garment left the view (the person walked away).
AWAY_HOME_MS = 10_000
#: A result about to be settled for the person says so, and counts down, for this long.
SETTLE_WARNING_MS = 10_000
#: After a cancel the garment may still be in view: the home screen stays this long before a
#: new presentation may pull the mirror back to the capture screen.
CANCEL_QUIET_MS = 3000
#: A read of the closet failed (the technical cause goes to the log and About).
CLOSET_UNREADABLE = "The closet can't be read right now · the mirror keeps trying"
#: On Home and the capture screen while the camera is missing.
NO_CAMERA_NOTICE = " · ".join(NO_CAMERA)
#: Platforms whose screens have no real size (offscreen makes one up from 100 dpi): sized from pixels.
_NO_PHYSICAL_SIZE = ("offscreen", "minimal")


class Core(ClosetCore, Protocol):
    """The calls the window makes on ``mirror.service.MirrorService`` (all return at once)."""

    def capture_now(self) -> None: ...
    def cancel(self) -> None: ...
    def hold_auto_capture(self, on: bool) -> None: ...
    def watch_preview(self, on: bool) -> None: ...
    def keep(self, result: AnalysisResult, index: int = 0) -> None: ...
    def retake(self) -> None: ...
    def correct(self, record_id: str, *, category: str | None = None, color: str | None = None) -> None: ...
    def delete(self, record_id: str) -> None: ...
    def status(self) -> Status: ...
    def about(self) -> About: ...


class MirrorWindow(QWidget):
    """All screens in one stack, driven by the keyboard, touch and the service's events."""

    def __init__(
        self,
        core: Core,
        bridge: ServiceBridge,
        *,
        font_scale: float = 1.0,
        orientation: str = "auto",
        show_preview: bool = True,
        sync_enabled: bool = True,
        screenshot_dir: Path | None = None,
        result_timeout_s: float = 60.0,
        auto_capture: bool = True,
    ) -> None:
        """``auto_capture``: ``[vision] auto_capture``; off, Home and the capture screen say to tap
        Capture instead of promising a shot that comes when the garment is held still."""
        super().__init__()
        self.setWindowTitle("Smart mirror")
        self.setStyleSheet("background: black;")
        self.core = core
        self.bridge = bridge
        self.screenshots = ScreenshotWriter(self, screenshot_dir)
        self.home = HomeScreen(font_scale)
        self.home.auto_capture = auto_capture
        self.capture = CaptureScreen(font_scale, show_preview)
        self.capture.auto_capture = auto_capture
        self.result = ResultScreen(font_scale)
        self.picker = PickerScreen(font_scale)
        self.closet = ClosetScreen(font_scale)
        self.detail = DetailScreen(font_scale)
        self.about = AboutScreen(font_scale)
        self._stack = QStackedLayout(self)
        self._handlers: dict[Screen, Callable[[str], None]] = {
            self.home: self._on_home,
            self.capture: self._on_capture,
            self.result: self._on_result,
            self.picker: self._on_picker,
            self.closet: self._on_closet,
            self.detail: self._on_detail,
            self.about: self._on_about,
        }
        for screen in self._handlers:
            screen.orientation = orientation
            screen.installEventFilter(self)
            self._stack.addWidget(screen)
            screen.action.connect(self._dispatch)
        self.review: AnalysisResult | None = None
        self._picker_return: Screen = self.result
        self._pending_edit: dict[str, str] = {}
        self._saving: AnalysisResult | None = None  # kept, waiting for RecordSaved (or an Error)
        self.shutter_at: float | None = None  # service clock of the last shutter (for the bench)
        self.result_shown_at: float | None = None
        self.analysis_done_at: float | None = None  # service clock when the result was ready
        self.analysis_ms = 0.0  # the pipeline's own time for the last result
        self.closet_browser = ClosetBrowser(
            core=core, closet=self.closet, detail=self.detail, read=self.read, sync_enabled=sync_enabled, parent=self
        )
        self._note_timer = QTimer(self)
        self._note_timer.setSingleShot(True)
        self._note_timer.timeout.connect(lambda: self.home.set_note(""))
        self._quiet_until = 0.0
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(IDLE_HOME_MS)
        self._idle.timeout.connect(self._idle_home)
        self._away = QTimer(self)  # the garment left the capture screen's view: the person may have gone
        self._away.setSingleShot(True)
        self._away.setInterval(AWAY_HOME_MS)
        self._away.timeout.connect(self._walked_away)
        self._unattended = QTimer(self)  # a result waiting for the person, who may have left
        self._unattended.setSingleShot(True)
        self._unattended.setTimerType(Qt.TimerType.PreciseTimer)  # its seconds are counted down on screen
        self._unattended.timeout.connect(self._result_unattended)
        self._settle_tick = QTimer(self)  # the result's countdown line, in its last seconds
        self._settle_tick.setInterval(250)
        self._settle_tick.timeout.connect(self._show_settle_countdown)
        self.set_result_timeout(result_timeout_s)
        self._kept_unattended = False
        self._browsing = False  # auto-capture held off while the closet, detail or about is up
        self._watching = False  # the capture screen shows: the core looks at every camera frame
        self._screen_change_hooked = False  # showEvent connected screenChanged (once)
        self._connect_bridge()
        self.home.set_status(self.read(core.status, Status()))
        self.show_screen(self.home)

    # --- plumbing ---------------------------------------------------------------------------
    def _connect_bridge(self) -> None:
        b = self.bridge
        b.frame.connect(self._on_frame)
        b.capture_state.connect(self._on_capture_state)
        b.analysis_started.connect(self._on_analysis_started)
        b.analysis_done.connect(self._on_analysis_done)
        b.analysis_failed.connect(self._on_analysis_failed)
        b.record_saved.connect(self._on_record_saved)
        b.record_changed.connect(self._on_record_changed)
        b.record_deleted.connect(self._on_record_deleted)
        b.status.connect(self._on_status)
        b.error.connect(self._on_error)
        b.command.connect(self._on_command)
        b.synced.connect(self.closet_browser.on_synced)

    def current(self) -> Screen:
        widget = self._stack.currentWidget()
        assert isinstance(widget, Screen)
        return widget

    def set_result_timeout(self, seconds: float) -> None:
        """``[ui] result_timeout_s``: how long a result waits for the person before it is settled."""
        self._unattended.setInterval(max(1, round(seconds * 1000)))

    def set_panel_size(self, pixels: tuple[int, int], millimetres: tuple[float, float]) -> float | None:
        """The panel is ``pixels`` big and ``millimetres`` in size: every screen keeps its text and
        touch targets at least their size in mm (unknown or absurd sizes: sized from pixels, as
        before). Returns the pixels per millimetre used (None: none)."""
        density = px_per_mm(pixels, millimetres)
        for screen in self._handlers:
            screen.px_per_mm = density
            screen.update()
        return density

    def use_screen(self, screen: QScreen | None) -> float | None:
        """Take the physical size of ``screen`` (the one the window is on), where Qt knows it."""
        if screen is None or QGuiApplication.platformName() in _NO_PHYSICAL_SIZE:
            return self.set_panel_size((0, 0), (0.0, 0.0))
        size, mm = screen.geometry().size(), screen.physicalSize()
        return self.set_panel_size((size.width(), size.height()), (mm.width(), mm.height()))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        handle = self.windowHandle()
        if handle is not None and not self._screen_change_hooked:
            self._screen_change_hooked = True
            handle.screenChanged.connect(self.use_screen)
        self.use_screen(self.screen())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """Any key or tap on a screen counts as someone there: restart the idle and result timers."""
        # TouchBegin too: Home takes the touch frame's own events (ui.screen.Screen.counts_fingers).
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin):
            self._idle.start()
            self._away.stop()
            if self._unattended.isActive():
                self._start_unattended()
        return super().eventFilter(watched, event)

    def _start_unattended(self) -> None:
        """(Re)start the wait for the person on a result, and its countdown line."""
        self._unattended.start()
        self._settle_tick.start()
        self._show_settle_countdown()

    def _stop_unattended(self) -> None:
        self._unattended.stop()
        self._settle_tick.stop()
        self._set_countdown("")

    def _set_countdown(self, text: str) -> None:
        """The countdown on the result, and on the picker while it chooses for that result: a
        person lingering over the categories must see the result is about to be settled too."""
        self.result.set_countdown(text)
        self.picker.set_countdown(text if self._picker_return is self.result else "")

    def _show_settle_countdown(self) -> None:
        """In the last seconds of the wait, say on the result what is about to happen to it."""
        left = self._unattended.remainingTime() if self._unattended.isActive() else -1
        if left < 0 or self.result.garment is None or self._saving is not None:
            self._set_countdown("")
            if left < 0:
                self._settle_tick.stop()
            return
        if left > SETTLE_WARNING_MS:
            self._set_countdown("")
            return
        seconds = max(1, -(-left // 1000))
        doing = "Discarding it" if self.result.asks else "Keeping it"
        self._set_countdown(f"{doing} in {seconds} s…")

    def is_browsing(self, screen: Screen | None = None) -> bool:
        """Closet, detail, about, or a picker opened from the detail: the person is reading, not showing."""
        screen = screen or self.current()
        return screen in (self.closet, self.about) or self._showing(self.detail, screen)

    def _showing(self, screen: Screen, current: Screen | None = None) -> bool:
        """``current`` (the screen up now, by default) is ``screen``, or the picker that goes back to it:
        a category or colour being chosen for a result or a garment is still that result or garment."""
        current = current or self.current()
        return current is screen or (current is self.picker and self._picker_return is screen)

    def _idle_home(self) -> None:
        """Nobody touched the mirror for a while: browsing screens, and a capture screen with
        nothing in view (Capture pressed, then the person walked away) or that cannot capture, go home.

        A capture screen with a garment in view stays, and the wait starts again: the timer is
        single-shot, so without that a garment lowered later left the screen up for good."""
        on_capture = self.current() is self.capture
        if self.is_browsing() or (on_capture and self._capture_is_idle()):
            self.show_screen(self.home)
        elif on_capture:
            self._idle.start()

    def _capture_is_idle(self) -> bool:
        """The capture screen has nothing to do: no garment in view, no camera, or capturing cannot work."""
        state = self.capture.state.state
        if state in (CaptureState.CAPTURING, CaptureState.ANALYSING):
            return False
        return state in (CaptureState.IDLE, CaptureState.NO_CAMERA) or self.home.status.capture_blocked

    def _walked_away(self) -> None:
        """The garment left the view a while ago and nobody touched the glass: the person is gone."""
        if self.current() is self.capture and self.capture.state.state is CaptureState.IDLE:
            self.show_screen(self.home)

    def show_screen(self, screen: Screen) -> None:
        if screen is self.capture and self.current() is not self.capture:
            self.capture.set_message("")  # a refusal from an earlier visit is out of date
        if screen is self.capture and self.capture.frame is not None:
            self.capture.set_frame(self.capture.frame)  # the newest frame that came while hidden
        self._away.stop()
        self._stack.setCurrentWidget(screen)
        browsing = self.is_browsing(screen)
        if browsing != self._browsing:
            self._browsing = browsing
            self.core.hold_auto_capture(browsing)
        watching = screen is self.capture
        if watching != self._watching:  # the core rests the camera loop while nobody sees the preview
            self._watching = watching
            self.core.watch_preview(watching)
        self._idle.start()
        screen.setFocus()
        screen.update()
        self.screenshots.shown(screen.name)

    def read(self, call: Callable[[], T], default: T) -> T:
        """A read from the core (closet, counts, about); on failure say so on the mirror, never crash."""
        try:
            return call()
        except Exception as exc:  # any failure: the GUI thread must not die of a closet it cannot read
            log.warning("reading from the core failed: %s", exc, exc_info=True)
            self.home.set_notice(CLOSET_UNREADABLE, "storage")
            self.about.set_problem(f"reading the closet failed: {exc}")
            return default

    def _dispatch(self, key: str) -> None:
        sender = self.sender()
        handler = self._handlers.get(sender) if isinstance(sender, Screen) else None
        if handler is not None:
            handler(key)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        for timer in (self._unattended, self._settle_tick, self._idle, self._away, self._note_timer):
            timer.stop()  # a closed window must not act on the core later (a result's timeout: keep)
        self.closet_browser.close()
        self.screenshots.close()  # screenshots already grabbed are written
        super().closeEvent(event)

    # --- presses ------------------------------------------------------------------------------
    def _on_home(self, key: str) -> None:
        if key in (SPACE, home_mod.CAPTURE) and not self.home.status.can_capture:
            return  # the button is shown disabled and the page says why; a remote capture still goes to the core
        if key == SPACE:
            self.capture_now()
        elif key == home_mod.CAPTURE:
            self.show_screen(self.capture)
        elif key == home_mod.CLOSET:
            self.open_closet()
        elif key == home_mod.ABOUT:
            self.open_about()

    def capture_now(self) -> None:
        """Space: the capture screen, and the shot at once."""
        self.show_screen(self.capture)
        self.core.capture_now()

    def open_about(self) -> None:
        self.about.set_about(self.read(self.core.about, None), self.home.status)
        self.show_screen(self.about)

    def _on_capture(self, key: str) -> None:
        if key in (capture_mod.SHOOT, SPACE):
            self.core.capture_now()
        elif key in (capture_mod.CANCEL, BACK):
            self.cancel()  # the core stops its countdown too: no shot after the person said no

    def _on_result(self, key: str) -> None:
        if key not in (result_mod.DISCARD, BACK):
            self.result.disarm_discard()  # anything else between the two taps: start over
        if key == result_mod.KEEP:
            self.keep()
        elif key == result_mod.RETAKE:
            self.retake()
        elif key in (result_mod.DISCARD, BACK):
            # A garment on the screen takes a second press, by tap or by Esc/Backspace (a hand
            # wiping the glass, a key hit by mistake, must not throw it away); "Done" after a failed
            # shot has nothing to lose.
            if self.result.garment is None or self.result.confirm_discard():
                self.cancel()
        elif key.startswith(result_mod.ANSWER_PREFIX):
            self.result.choose_category(key.removeprefix(result_mod.ANSWER_PREFIX))
        elif key == result_mod.CATEGORY:
            self._ask(self.result, "category", self.result.shown_category)
        elif key == result_mod.COLOUR:
            self._ask(self.result, "colour", self.result.shown_colour)
        elif key == result_mod.ALTERNATIVE and self.result.colour_doubt:
            self.result.choose_colour(self.result.colour_doubt)

    def keep(self) -> None:
        """Keep the result on review, with the corrections the person made on the result screen."""
        garment = self.result.garment
        if self.review is None or garment is None:
            return
        self._pending_edit = {}
        if self.result.category and self.result.category != garment.category:
            self._pending_edit["category"] = self.result.category
        if self.result.colour and self.result.colour != garment.color.basic:
            self._pending_edit["color"] = self.result.colour
        self.result.set_message("Saving…")
        self._stop_unattended()
        self.core.keep(self.review)
        self._saving, self.review = self.review, None  # a second press must not store it twice

    def retake(self) -> None:
        """Drop the result and capture again (the same garment may be shot again at once)."""
        self.review = None
        self._stop_unattended()
        self.core.retake()
        self.capture.clear()
        self.show_screen(self.capture)

    def cancel(self) -> None:
        """Stop the capture or drop the result, and go home.

        The core stops its countdown (no shot comes) and drops a shot in analysis; the
        garment still held up must be lowered before the next auto-capture, and meanwhile
        the home screen stays (it is not pulled back to the capture screen).
        """
        self.review = None
        self._stop_unattended()
        self.core.cancel()
        self.capture.clear()
        self._quiet_until = time.monotonic() + CANCEL_QUIET_MS / 1000
        if self.current() is self.capture or self._showing(self.result):
            self.show_screen(self.home)

    def _result_unattended(self) -> None:
        """Nobody acted on the result: keep it if the mirror was sure, else drop it; go home."""
        if not self._showing(self.result) or self._saving is not None:
            return
        if self.review is None or self.result.garment is None:  # a failed shot's message
            self.show_screen(self.home)
            return
        if self.result.asks:
            claim = category_claim(self.result.shown_category)
            self.cancel()
            self._home_note(NOT_ADDED_UNSURE.format(claim=claim))
            return
        self._kept_unattended = True
        self.keep()

    def _home_note(self, text: str) -> None:
        """Good news (or a plain fact) on the home screen for a few seconds."""
        self.home.set_note(text)
        self._note_timer.start(HOME_NOTE_MS)

    def _ask(self, back_to: Screen, purpose: str, current: str) -> None:
        self._picker_return = back_to
        if purpose == "category":
            self.picker.ask_category(current)
        else:
            self.picker.ask_colour(current)
        self.picker.set_countdown(self.result.countdown if back_to is self.result else "")
        self.show_screen(self.picker)

    def _on_picker(self, key: str) -> None:
        back_to = self._picker_return
        if key.startswith(PICK_PREFIX):
            value = key.removeprefix(PICK_PREFIX)
            category = value if self.picker.purpose == "category" else None
            colour = value if self.picker.purpose == "colour" else None
            if back_to is self.result:
                if category:
                    self.result.choose_category(category)
                if colour:
                    self.result.choose_colour(colour)
            elif back_to is self.detail and self.detail.item is not None:
                record = self.detail.item.record
                if category == record.category or colour == record.color.basic:
                    category = colour = None  # the value it already has: not a correction
                if category or colour:
                    self.detail.message = "Saving…"
                    self.core.correct(record.id, category=category, color=colour)
        self.show_screen(back_to)

    def _on_closet(self, key: str) -> None:
        if key == BACK:
            self.show_screen(self.home)
        elif key.startswith(closet_mod.CAT_PREFIX):
            value = key.removeprefix(closet_mod.CAT_PREFIX)
            self.open_closet(None if value == closet_mod.ALL else value, self.closet.colour, keep_focus=True)
        elif key.startswith(closet_mod.COL_PREFIX):
            value = key.removeprefix(closet_mod.COL_PREFIX)
            self.open_closet(self.closet.category, None if value == closet_mod.ALL else value, keep_focus=True)
        elif key.startswith(closet_mod.ITEM_PREFIX):
            item = self.closet.item(key.removeprefix(closet_mod.ITEM_PREFIX))
            if item is not None:
                self.detail.show_item(item)
                self.show_screen(self.detail)

    def _on_detail(self, key: str) -> None:
        item = self.detail.item
        if key in (detail_mod.BACK_TO_CLOSET, BACK) or item is None:
            if self.detail.confirming and key == BACK and item is not None:
                self.detail.show_item(item)  # Esc while asking means "don't delete"
                return
            self.open_closet(self.closet.category, self.closet.colour, keep_focus=True)
        elif key == detail_mod.EDIT_CATEGORY:
            self._ask(self.detail, "category", item.record.category)
        elif key == detail_mod.EDIT_COLOUR:
            self._ask(self.detail, "colour", item.record.color.basic)
        elif key == detail_mod.DELETE:
            self.detail.ask_delete()
        elif key == detail_mod.CONFIRM_DELETE and not self.detail.deleting:
            self.detail.begin_delete()
            self.core.delete(item.record.id)

    def _on_about(self, key: str) -> None:
        if key in (about_mod.BACK_HOME, BACK):
            self.show_screen(self.home)

    # --- closet -----------------------------------------------------------------------------------
    def open_closet(self, category: str | None = None, colour: str | None = None, keep_focus: bool = False) -> None:
        """Show the closet, read afresh with these filters."""
        self.closet_browser.refresh(category, colour, keep_focus)
        if self.current() is not self.closet:
            self.show_screen(self.closet)

    # --- events ---------------------------------------------------------------------------------
    def _on_frame(self, frame: FrameReady) -> None:
        if self.current() is self.capture:
            self.capture.set_frame(frame)
        else:
            self.capture.frame = frame  # remembered, painted when the screen shows

    def _on_capture_state(self, event: CaptureStateChanged) -> None:
        was = self.capture.state.state
        self.capture.set_state(event)
        # Not while a capture cannot work (a full closet holds the core's auto-capture off): the
        # capture screen would say "Hold still" for good; Home says why instead.
        pulled = event.state in _ACTIVE and not self.home.status.capture_blocked
        if self.current() is self.home and pulled and time.monotonic() >= self._quiet_until:
            self.show_screen(self.capture)
        if self.current() is self.capture and event.state is CaptureState.IDLE and was in _ACTIVE:
            self._away.start()  # the garment went: home soon unless the person touches the glass
        elif event.state is not CaptureState.IDLE:
            self._away.stop()
        if event.state == CaptureState.NO_CAMERA:
            self.home.set_notice(NO_CAMERA_NOTICE, "camera")
        else:  # frames flow again: a notice about the camera is out of date
            self.home.clear_notice("camera")

    def _on_analysis_started(self, event: AnalysisStarted) -> None:
        self.shutter_at = event.at
        self.result_shown_at = None
        if self.current() in (self.home, self.capture):
            self.show_screen(self.capture)

    def _on_analysis_done(self, event: AnalysisDone) -> None:
        self.analysis_done_at = event.at
        self.analysis_ms = event.result.ms
        self.review = event.result
        garment = event.result.primary
        self.result.show_garment(garment, seen=len(event.result.garments), held=event.held)
        self.show_screen(self.result)
        self.result.repaint()  # on screen now, not at the next idle moment: the bench measures this
        self.result_shown_at = time.monotonic()
        self._start_unattended()

    def _on_analysis_failed(self, event: AnalysisFailed) -> None:
        if event.cancelled:  # the person (or a remote cancel) already left this capture
            return
        if event.detail:
            log.warning("capture %d: %s", event.capture_id, event.detail)
            self.about.set_problem(event.detail)
        self.review = None
        self.result.show_garment(None, event.reason)
        self.show_screen(self.result)
        self._start_unattended()

    def _on_record_saved(self, event: RecordSaved) -> None:
        self.home.clear_notice("storage")  # the closet took a write: an earlier storage error is over
        record = event.record
        # Named as the person will find it: with the corrections they made before Keep.
        category = self._pending_edit.get("category", record.category)
        colour = self._pending_edit.get("color", record.color.basic)
        if self._pending_edit:
            self.core.correct(
                record.id, category=self._pending_edit.get("category"), color=self._pending_edit.get("color")
            )
            self._pending_edit = {}
        self.review = self._saving = None
        self.result.set_message("")
        # Named as it will be found in the closet, with the same verb whoever kept it.
        added = f"{ADDED}: {colour} {category_noun(category)}"
        if self._kept_unattended:  # nobody pressed Keep: say what was kept, so it can be found
            self._home_note(added)
        else:
            # The core arms again only once this garment has left the view: say so, or a person who
            # swaps straight to the next one sees nothing happen.
            self._home_note(f"{added} · {LOWER_FIRST.format(it=category_pronoun(category))}")
        self._kept_unattended = False
        self._quiet_until = time.monotonic() + HOME_NOTE_MS / 1000
        # No retake here: the service waits for this garment to be lowered before it arms again.
        self.capture.clear()
        self.show_screen(self.home)

    def _on_record_changed(self, event: RecordChanged) -> None:
        self.home.clear_notice("storage")  # the closet took a write: an earlier storage error is over
        if self.detail.item is not None and self.detail.item.record.id == event.record.id:
            self.detail.item.record = event.record
            self.detail.message = ""
            self.detail.update()
        self.closet_browser.reread()

    def _on_record_deleted(self, event: RecordDeleted) -> None:
        self.home.clear_notice("storage")
        if self.detail.item is not None and self.detail.item.record.id == event.record_id:
            self.detail.item = None
        self.closet_browser.reread()
        if self.current() is self.detail:
            self.show_screen(self.closet)

    def _on_status(self, event: StatusChanged) -> None:
        self.home.set_status(event.status)
        for name, part in event.status.subsystems().items():
            if part.level is Level.OK:
                self.home.clear_notice(name)
        self.about.set_about(self.about.about, event.status)
        if self.current() is self.capture and self.home.status.capture_blocked and self._capture_is_idle():
            self.show_screen(self.home)  # e.g. the disk filled up while a garment was held: Home says why

    def _on_command(self, event: CommandReceived) -> None:
        """A remote command the core accepted: the same path as the matching key or button."""
        name = event.command
        if name == "show":
            if event.screen == "closet":
                self.open_closet()
            elif event.screen == "about":
                self.open_about()
            else:
                self.show_screen(self.home)
        elif name == "capture":
            self.capture_now()
        elif name == "cancel":
            self.cancel()
        elif name == "keep":
            self.keep()
        elif name == "retake" and self.review is not None:
            self.retake()
        elif name == "delete":
            item = self.detail.item
            if item is not None and item.record.id == event.record_id:
                self.detail.begin_delete()
            self.core.delete(event.record_id)
        else:
            log.warning("remote command %s: not known to this window", name)

    def _on_error(self, event: Error) -> None:
        line = event.line()
        line = line[:1].upper() + line[1:]
        log.warning("%s%s", line, f" ({event.detail})" if event.detail else "")
        if event.detail:
            self.about.set_problem(event.detail)
        self.home.set_notice(line, event.about)
        if self.current() is self.capture:  # "Capture now" refused: said where it was pressed
            self.capture.set_message(line)
        elif self.current() is self.result:
            if self._saving is not None and self._kept_unattended:
                # Nobody is there to try again: go home, where the notice stays until the
                # closet takes a write (a retry every timeout would hold the screen for good).
                self._saving, self._kept_unattended = None, False
                self.cancel()
                return
            if self._saving is not None:  # the keep failed (disk full…): the person may try again
                self.review, self._saving = self._saving, None
                self._start_unattended()  # and if they leave, the timeout tries once more
            self.result.set_message(line)
        elif self.current() is self.detail:
            self.detail.show_error(line)
