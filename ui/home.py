"""Home: the clock, the date, the hint to hold up a garment, and a line only when something is wrong.

This is what the mirror shows most of the day, so it is mostly empty glass: a large thin
clock, a grey date (in amber, "Clock not set" and its fix, while the wall clock is certainly
wrong), Capture and Closet, and a small About in the corner (that screen is for whoever
installs the mirror). While every part works there is no status line at all; when one does
not, the bottom line says which in plain words ("No camera found", "Not backed up yet": the
core's own sentences from ``mirror.wording`` where it has them), the technical names and
states staying on the About screen; a part still starting is said in grey, as nothing is
wrong. Anything broken (no camera, models missing, broker down, disk full) is said in words
with the fix, in amber, instead of a dialog nobody can dismiss. While a capture cannot work
(no camera, a full or unopened closet, the models missing or still loading) the invitation to
hold up a garment gives way to why, Closet becomes the main button and a tap off the buttons
does nothing: the mirror never offers what it cannot do. A tap off the buttons is a tap only
when short, still and with one finger: wiping the glass clean is not one. With ``[vision]
auto_capture`` off, the invitation says to tap Capture (no shot comes by holding still).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QPointF, QRect, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics, QPainter

from mirror.events import CAMERA_SETUP, STORAGE_FULL, Level, Status, StatusPart
from mirror.wording import BACKUP_FAILING, CAMERA_NOT_SET_UP, CLOSET_FULL, NO_CAMERA, NO_MODELS, NOT_BACKED_UP
from ui.buttons import Button, ButtonRow
from ui.screen import Screen
from ui.theme import GREY, SMALLEST_TOUCH, WARN, WHITE, Theme, draw_text, draw_wrapped, wrapped_height
from ui.vocab import on_lines, sentence

CAPTURE, CLOSET, ABOUT = "capture", "closet", "about"
#: Type sizes and line heights in design px (``Theme.px`` scales them): laid out and painted alike.
CLOCK_PT, CLOCK_H = 210, 230
DATE_PT, TITLE_PT, TITLE_H, FIX_PT = 46, 60, 76, 30
STATUS_PT, STATUS_LINE_H, NOTICE_PT = 28, 44, 30
#: In place of the date while the wall clock is wrong (a Pi without a clock battery sets it from the network).
CLOCK_NOT_SET = "Clock not set · connect the mirror to the network"
#: The invitation, when a capture can work: for a finger on the glass (the mirror has no keyboard).
INVITE = ("Hold up a garment", "Hold it still for a moment, or tap Capture")
#: The invitation with ``[vision] auto_capture`` off: holding still takes no shot, so it is not promised.
INVITE_MANUAL = ("Hold up a garment", "Then tap Capture")
#: After switching on, until the models have loaded (a few seconds on a Pi): nothing is wrong.
STARTING = ("Getting ready…", "This takes a few seconds after switching on · the closet already works")
#: Home's own wording of the core's NO_MODELS: the closet screens still work without the models.
NO_MODELS_NOTICE = (NO_MODELS[0], f"{sentence(NO_MODELS[1])} · the closet still works")
#: In place of a fix the notice below already gives.
_SEE_NOTE = "The closet still works; the note below says what to do"

_LEVEL_COLOURS = {Level.OK: WHITE, Level.WARN: WARN, Level.ERROR: WARN}
#: The status line's words for a part that is not OK, by part and level (About keeps the technical
#: text). The clock is left out: the date line already says it is not set, with the fix.
_PLAIN: dict[tuple[str, Level], str] = {
    ("camera", Level.WARN): "Camera starting…",
    ("camera", Level.ERROR): NO_CAMERA[0],
    ("models", Level.WARN): "Recognition starting…",
    ("models", Level.ERROR): "Can't recognise clothes",
    ("sync", Level.WARN): NOT_BACKED_UP,
    ("sync", Level.ERROR): BACKUP_FAILING,
    ("storage", Level.WARN): "Closet nearly full",
    ("storage", Level.ERROR): "Closet can't be opened",
}
#: Parts still starting after switching on: nothing is wrong, so they are said in grey, not amber
#: (amber is the colour of a fault, and the hint above says to wait).
#: A part whose reason words it better than its level (a full disk is not an unreadable one).
_REASONS = {STORAGE_FULL: "Closet full", CAMERA_SETUP: "Camera not set up"}
_STARTING_PARTS = frozenset({_PLAIN[("camera", Level.WARN)], _PLAIN[("models", Level.WARN)]})


def plain_status(status: Status) -> list[StatusPart]:
    """The parts that are not OK, in plain words for the person at the mirror; empty while all work."""
    parts = []
    for name, part in status.subsystems().items():
        if part.level is Level.OK:
            continue
        text = _REASONS.get(part.reason) or _PLAIN[(name, part.level)]
        parts.append(StatusPart("", text, part.level, part.reason))
    return parts


@dataclass(frozen=True)
class HomeLayout:
    """Where Home's parts go at one panel size, font scale and moment (``HomeScreen.layout_page``):
    measured apart from the painting, so the room-sharing rules read on their own."""

    area: QRect
    clock: QRect
    date: QRect
    date_text: str  # on two lines while the clock is wrong and it does not fit on one
    hint_top: int
    hanger: int  # the hanger glyph's size; 0 when there is no room for it
    title: str  # the hint's lines; "" where there is no room for them
    fix: str
    hint_width: int
    status_lines: list[list[tuple[StatusPart, int]]]
    status_top: int
    notice: QRect | None


class HomeScreen(Screen):
    """Clock and status; Space or a tap anywhere starts a capture (wiping the glass does not)."""

    name = "home"
    #: A tap anywhere starts a capture, so a palm or a cloth on the glass (several points at once)
    #: must be seen for what it is; see ``ui.screen.Contact``.
    counts_fingers = True

    def __init__(self, font_scale: float = 1.0) -> None:
        super().__init__(font_scale)
        self.status = Status()
        self.notice = ""  # one line about the last thing that went wrong, with its fix (amber)
        self.notice_about = ""  # the status part it concerns; cleared when that part recovers
        self.note = ""  # one line of good news, e.g. what was just added (white)
        self.now: datetime | None = None  # fixed time for screenshots; None: the real clock
        self.auto_capture = True  # ``[vision] auto_capture``: a garment held still is shot by itself
        self.buttons = ButtonRow([Button(CAPTURE, "Capture"), Button(CLOSET, "Closet")])
        #: About, small in the top corner: its screen is for whoever installs the mirror.
        self.more = ButtonRow([Button(ABOUT, "About")])
        self.focus_row = 1  # Capture (or Closet), not the corner
        self._arrange_buttons()
        # Repaint when the minute turns, not every second: the clock shows minutes, and each
        # repaint of the large type costs the Pi's GPU-less raster a few milliseconds.
        self._shown_minute = ""
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._tick)
        self._clock.start()

    def _tick(self) -> None:
        minute = datetime.now().strftime("%H:%M")
        if minute != self._shown_minute and self.isVisible():
            self.update()

    def set_status(self, status: Status) -> None:
        could = self.status.can_capture
        self.status = status
        if self.status.can_capture != could:
            self._arrange_buttons()
        self.update()

    def _arrange_buttons(self) -> None:
        """Capture is the main button (and has the focus) only while a capture can work; else Closet.

        The focus moves only when the possibility changes, and only off the button that lost it:
        a person who moved to About keeps it there."""
        able = self.status.can_capture
        capture, closet = self.buttons.buttons
        capture.primary, capture.disabled, closet.primary = able, not able, not able
        if self.buttons.current() == (CLOSET if able else CAPTURE):
            self.buttons.focus_key(CAPTURE if able else CLOSET)

    def set_notice(self, text: str, about: str = "") -> None:
        self.notice = text
        self.notice_about = about
        self.update()

    def clear_notice(self, about: str) -> None:
        """Drop the notice if it was about ``about`` (that part works again); another part's notice stays."""
        if self.notice and about and self.notice_about == about:
            self.set_notice("")

    def set_note(self, text: str) -> None:
        self.note = text
        self.update()

    def rows(self) -> list[ButtonRow]:
        """About first: it is drawn above the main buttons, so Up reaches it."""
        return [self.more, self.buttons]

    def tapped(self, x: int, y: int) -> None:  # noqa: ARG002 (anywhere off the buttons)
        """A tap on the glass starts a capture, when one can work (else it would lead nowhere).

        Only a deliberate tap reaches here (short, still, one finger: ``ui.screen.Contact``), so
        cleaning the mirror with a cloth or a palm does not flip it to Capture."""
        if self.status.can_capture:
            self.action.emit(CAPTURE)

    def date_line(self, now: datetime) -> str:
        """The date under the clock, or (the clock being wrong) that it is not set and how it gets set."""
        return CLOCK_NOT_SET if self.status.clock_wrong else now.strftime("%A %-d %B")

    def _noted(self, about: str) -> bool:
        return bool(self.notice) and self.notice_about == about

    def hint(self) -> tuple[str, str]:
        """The two lines in the middle of the glass: the invitation, or why there is none."""
        # The fixes, and the full closet's title, are the core's own sentences (``mirror.wording``):
        # the hint and the notice under it name one state one way.
        if self.status.camera_missing:
            title, fix = ("The camera is not set up", CAMERA_NOT_SET_UP[1]) if self.status.camera_not_set_up else (
                "No camera to capture with", NO_CAMERA[1]
            )
            return title, _SEE_NOTE if self._noted("camera") else f"{sentence(fix)} · the closet still works"
        if self.status.storage_failed:
            if self.status.storage_full:
                fix = (
                    "You can still look through it; the note below says what to do"
                    if self._noted("storage")
                    else sentence(CLOSET_FULL[1])
                )
                return CLOSET_FULL[0], fix
            fix = (
                "The note below says what to do"
                if self._noted("storage")
                else "Check the disk it is on · the mirror keeps trying"
            )
            return "The closet cannot be opened", fix
        if self.status.models_failed:
            title, fix = NO_MODELS_NOTICE
            return title, _SEE_NOTE if self._noted("models") else fix
        if self.status.models_loading:
            return STARTING
        return INVITE if self.auto_capture else INVITE_MANUAL

    def paint_page(self, painter: QPainter, theme: Theme) -> None:
        now = self.now or datetime.now()
        self._shown_minute = now.strftime("%H:%M")
        page = self.layout_page(theme, now)
        clock_font = theme.font(CLOCK_PT * page.clock.height() / theme.px(CLOCK_H), QFont.Weight.Light)
        draw_text(painter, page.clock, now.strftime("%H:%M"), clock_font, WHITE)
        date_font, date_colour = theme.font(DATE_PT), WARN if self.status.clock_wrong else GREY
        if "\n" in page.date_text:
            draw_wrapped(painter, page.date, page.date_text, date_font, date_colour)
        else:
            draw_text(painter, page.date, page.date_text, date_font, date_colour)
        self._paint_hint(painter, theme, page)
        self._paint_status(painter, theme, page)
        if page.notice is not None:
            colour = WARN if self.notice else WHITE
            notice = self.notice or self.note
            draw_wrapped(painter, page.notice, notice, theme.font(NOTICE_PT), colour, Qt.AlignmentFlag.AlignHCenter)
        self.buttons.paint(painter, theme, self.row_has_focus(self.buttons))
        self.more.paint(painter, theme, self.row_has_focus(self.more))

    def layout_page(self, theme: Theme, now: datetime) -> HomeLayout:
        """Top down the clock and date; bottom up the status, a notice, the buttons; the hint between.

        Nothing is placed at a fixed height: each part takes the room its text needs at this
        panel and font scale. Where the room runs out (a large ``font_scale`` on a landscape
        panel, a long notice) the hanger goes first, then the clock gets smaller (to 60 %),
        then the hint's second line and its first: what is wrong and the buttons always show.
        The button rows are laid out here too (they are widgets of their own, placed by the page).
        """
        area = self.content_rect(theme)
        gap = theme.px(24)

        # Bottom up: status line(s), the notice (wrapped, as many lines as it needs), the buttons.
        status_line_h = theme.px(STATUS_LINE_H)
        status_lines = self._status_lines(theme, theme.font(STATUS_PT), area.width())
        # None while all is well; in portrait a line's room is kept so the buttons do not jump.
        status_top = area.bottom() + 1 - status_line_h * max(len(status_lines), int(theme.portrait))
        notice = self.notice or self.note
        notice_w = min(area.width(), theme.px(1400))
        notice_h = wrapped_height(theme.font(NOTICE_PT), notice, notice_w) if notice else 0
        if theme.portrait:  # room for two lines is kept, so the buttons do not jump when one comes
            notice_h = max(notice_h, status_line_h * 2)
        notice_top = status_top - (notice_h + theme.px(8) if notice_h else 0)
        button_h = theme.px(96)
        buttons_top = notice_top - theme.px(40) - button_h

        # Top down: the clock and the date; between them and the buttons, the hanger and the hint.
        title, fix = self.hint()
        fix_font = theme.font(FIX_PT)
        hint_w = min(area.width(), theme.px(1400))
        title_h = theme.px(TITLE_H)
        if QFontMetrics(fix_font).horizontalAdvance(fix) > hint_w:  # two lines: break where the sense breaks
            fix = on_lines(fix)
        fix_h = wrapped_height(fix_font, fix, hint_w) + theme.px(4)
        hanger = theme.px(120 if theme.portrait else 90)
        clock_h, date_h = theme.px(CLOCK_H), theme.px(64)
        date, date_font = self.date_line(now), theme.font(DATE_PT)  # Normal: thin grey strokes vanish in the glass
        if self.status.clock_wrong and QFontMetrics(date_font).horizontalAdvance(date) > area.width():  # on two lines
            date = on_lines(date)
            date_h = max(date_h, wrapped_height(date_font, date, area.width()) + theme.px(12))
        offset = int(area.height() * (0.12 if theme.portrait else 0.06))
        # About, small in the top right corner; the clock starts under it only where they would meet.
        about_h = theme.touch(SMALLEST_TOUCH)  # a fingertip's height, in mm where the panel's size is known
        about_w = self.more.natural_width(theme, about_h)
        self.more.layout(QRect(area.right() + 1 - about_w, area.top(), about_w, about_h), about_h, 0)
        clock_w = QFontMetrics(theme.font(CLOCK_PT, QFont.Weight.Light)).horizontalAdvance("00:00")
        least = about_h + theme.lx(16) if (area.width() - clock_w) // 2 < about_w + theme.lx(16) else 0
        offset = max(offset, least)

        def room() -> int:
            return buttons_top - gap - (area.top() + offset + clock_h + date_h + gap)

        def needed() -> int:
            return (hanger + gap if hanger else 0) + (title_h if title else 0) + (fix_h if fix else 0)

        if needed() > room():
            hanger = 0
        if needed() > room():
            offset = max(least, offset - (needed() - room()))
        if needed() > room():
            clock_h = max(int(clock_h * 0.6), clock_h - (needed() - room()))
        if needed() > room():
            fix = ""
        if needed() > room():
            title = ""
        top = area.top() + offset
        date_rect = QRect(area.left(), top + clock_h, area.width(), date_h)
        middle_top = date_rect.bottom() + gap
        hint_top = middle_top + max(0, (buttons_top - gap - middle_top - needed()) // 2)
        if theme.portrait:  # as high as it was designed (56 % down the glass) when there is room
            hint_top = min(hint_top, max(middle_top, area.top() + int(area.height() * 0.56) - hanger))
        width = min(area.width(), theme.px(900))
        self.buttons.layout(QRect(area.center().x() - width // 2, buttons_top, width, button_h), button_h, theme.lx(24))
        return HomeLayout(
            area=area,
            clock=QRect(area.left(), top, area.width(), clock_h),
            date=date_rect,
            date_text=date,
            hint_top=hint_top,
            hanger=hanger,
            title=title,
            fix=fix,
            hint_width=hint_w,
            status_lines=status_lines,
            status_top=status_top,
            notice=QRect(area.center().x() - notice_w // 2, notice_top, notice_w, notice_h) if notice else None,
        )

    def _paint_hint(self, painter: QPainter, theme: Theme, page: HomeLayout) -> None:
        """A hanger glyph (when there is room) and the hint's two lines, from ``page.hint_top`` down."""
        cx, top, width = page.area.center().x(), page.hint_top, page.hint_width
        if page.hanger:
            size = page.hanger
            centre_y = top + size
            painter.setPen(theme.pen(WARN if self.status.capture_blocked else WHITE, 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            hook_top = centre_y - size
            painter.drawArc(QRect(cx - size // 8, hook_top, size // 4, size // 4), 180 * 16, -270 * 16)
            neck = QPointF(cx, hook_top + size * 0.25 + size * 0.08)
            painter.drawLine(QPointF(cx, hook_top + size * 0.25), neck)
            painter.drawLine(neck, QPointF(cx - size * 0.9, centre_y - size * 0.1))
            painter.drawLine(neck, QPointF(cx + size * 0.9, centre_y - size * 0.1))
            bar_y = centre_y - size * 0.1
            painter.drawLine(QPointF(cx - size * 0.9, bar_y), QPointF(cx + size * 0.9, bar_y))
            top = centre_y + theme.px(24)
        if page.title:
            colour = WARN if self.status.capture_blocked else WHITE
            title_rect = QRect(page.area.left(), top, page.area.width(), theme.px(TITLE_H))
            draw_text(painter, title_rect, page.title, theme.font(TITLE_PT), colour)
            top += theme.px(TITLE_H)
        if page.fix:
            fix_font = theme.font(FIX_PT)
            height = wrapped_height(fix_font, page.fix, width) + theme.px(4)
            rect = QRect(cx - width // 2, top, width, height)
            draw_wrapped(painter, rect, page.fix, fix_font, GREY, Qt.AlignmentFlag.AlignHCenter)

    def _status_lines(self, theme: Theme, font: QFont, width: int) -> list[list[tuple[StatusPart, int]]]:
        """The status parts, each with its width, flowed onto as many centred lines as they need.

        They wrap rather than shrink, so a larger ``font_scale`` never makes them smaller.
        """
        metrics = QFontMetrics(font)
        gap, dot = theme.px(40), theme.px(12)
        lines: list[list[tuple[StatusPart, int]]] = [[]]
        used = 0
        if not plain_status(self.status):
            return []
        for part in plain_status(self.status):
            # A couple of pixels over the advance: a small font's glyphs may overhang it.
            part_w = min(width, metrics.horizontalAdvance(part.text) + dot + theme.px(12) + 2)
            if lines[-1] and used + gap + part_w > width:
                lines.append([])
                used = 0
            used += (gap if lines[-1] else 0) + part_w
            lines[-1].append((part, part_w))
        return lines

    def _paint_status(self, painter: QPainter, theme: Theme, page: HomeLayout) -> None:
        """The status parts centred line by line, each after a dot in its level's colour."""
        gap, dot = theme.px(40), theme.px(12)
        font, line_h, area = theme.font(STATUS_PT), theme.px(STATUS_LINE_H), page.area
        for index, line in enumerate(page.status_lines):
            rect = QRect(area.left(), page.status_top + index * line_h, area.width(), line_h)
            total = sum(w for _, w in line) + gap * (len(line) - 1)
            x = rect.center().x() - total // 2
            for part, width in line:
                colour = GREY if part.text in _STARTING_PARTS else _LEVEL_COLOURS[part.level]
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colour)
                painter.drawEllipse(QRect(x, rect.center().y() - dot // 2, dot, dot))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                text_rect = QRect(x + dot + theme.px(12), rect.top(), width - dot - theme.px(12), rect.height())
                draw_text(
                    painter,
                    text_rect,
                    part.text,
                    font,
                    GREY if part.level == Level.OK else colour,
                    Qt.AlignmentFlag.AlignLeft,
                )
                x += width + gap
