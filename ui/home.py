"""Home: the clock, the date, one status line and the hint to hold up a garment.

This is what the mirror shows most of the day, so it is mostly empty glass: a large thin
clock, a grey date, and at the bottom one line saying whether the camera, the models and
sync are fine. Anything broken (no camera, models missing, broker down, disk full) is said
there in words with the fix, in amber, instead of a dialog nobody can dismiss.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QPointF, QRect, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics, QPainter

from mirror.events import Level, Status
from ui.buttons import Button, ButtonRow
from ui.screen import Screen
from ui.theme import GREY, WARN, WHITE, Theme, draw_text, draw_wrapped, fit_font

CAPTURE, CLOSET, ABOUT = "capture", "closet", "about"

_LEVEL_COLOURS = {Level.OK: WHITE, Level.WARN: WARN, Level.ERROR: WARN}


class HomeScreen(Screen):
    """Clock and status; Space or a tap anywhere starts a capture."""

    name = "home"

    def __init__(self, font_scale: float = 1.0) -> None:
        super().__init__(font_scale)
        self.status = Status()
        self.notice = ""  # one line about the last thing that went wrong, with its fix (amber)
        self.notice_about = ""  # the status part it concerns; cleared when that part recovers
        self.note = ""  # one line of good news, e.g. what was just added (white)
        self.now: datetime | None = None  # fixed time for screenshots; None: the real clock
        self.buttons = ButtonRow(
            [Button(CAPTURE, "Capture", primary=True), Button(CLOSET, "Closet"), Button(ABOUT, "About")]
        )
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
        self.status = status
        self.update()

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
        return [self.buttons]

    def tapped(self, x: int, y: int) -> None:  # noqa: ARG002 (anywhere off the buttons)
        self.action.emit(CAPTURE)

    def paint_page(self, painter: QPainter, theme: Theme) -> None:
        now = self.now or datetime.now()
        self._shown_minute = now.strftime("%H:%M")
        area = self.content_rect(theme)
        top = area.top() + int(area.height() * (0.12 if theme.portrait else 0.06))
        clock_h = theme.px(230)
        draw_text(
            painter,
            QRect(area.left(), top, area.width(), clock_h),
            now.strftime("%H:%M"),
            theme.font(210, QFont.Weight.ExtraLight),
            WHITE,
        )
        date_rect = QRect(area.left(), top + clock_h, area.width(), theme.px(64))
        draw_text(painter, date_rect, now.strftime("%A %-d %B"), theme.font(46, QFont.Weight.Light), GREY)

        self._paint_hint(painter, theme, area)

        bottom = area.bottom()
        status_h = theme.px(44)
        self._paint_status(painter, theme, QRect(area.left(), bottom - status_h, area.width(), status_h))
        notice_h = status_h * 2  # two lines: a message and its fix may wrap, never shrink to unreadable
        if self.notice or self.note:
            width = min(area.width(), theme.px(1400))
            notice_rect = QRect(
                area.center().x() - width // 2, bottom - status_h - notice_h - theme.px(8), width, notice_h
            )
            draw_wrapped(painter, notice_rect, self.notice or self.note, theme.font(30), WARN if self.notice else WHITE)
        button_h = theme.px(96)
        width = min(area.width(), theme.px(900))
        row = QRect(
            area.center().x() - width // 2, bottom - status_h - notice_h - theme.px(40) - button_h, width, button_h
        )
        self.buttons.layout(row, button_h, theme.lx(24))
        self.buttons.paint(painter, theme, self.row_has_focus(self.buttons))

    def _paint_hint(self, painter: QPainter, theme: Theme, area: QRect) -> None:
        """A hanger glyph and two lines of hint in the middle of the glass."""
        centre_y = area.top() + int(area.height() * (0.56 if theme.portrait else 0.5))
        size = theme.px(120 if theme.portrait else 90)
        cx = area.center().x()
        painter.setPen(theme.pen(WHITE, 3))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        hook_top = centre_y - size
        painter.drawArc(QRect(cx - size // 8, hook_top, size // 4, size // 4), 180 * 16, -270 * 16)
        neck = QPointF(cx, hook_top + size * 0.25 + size * 0.08)
        painter.drawLine(QPointF(cx, hook_top + size * 0.25), neck)
        painter.drawLine(neck, QPointF(cx - size * 0.9, centre_y - size * 0.1))
        painter.drawLine(neck, QPointF(cx + size * 0.9, centre_y - size * 0.1))
        bar_y = centre_y - size * 0.1
        painter.drawLine(QPointF(cx - size * 0.9, bar_y), QPointF(cx + size * 0.9, bar_y))
        text_top = centre_y + theme.px(24)
        draw_text(
            painter,
            QRect(area.left(), text_top, area.width(), theme.px(76)),
            "Hold up a garment",
            theme.font(60),
            WHITE,
        )
        draw_text(
            painter,
            QRect(area.left(), text_top + theme.px(80), area.width(), theme.px(48)),
            "Hold it still to add it to your closet · Space to capture now",
            theme.font(30),
            GREY,
        )

    def _paint_status(self, painter: QPainter, theme: Theme, rect: QRect) -> None:
        """The status parts centred on one line, each after a dot in its level's colour."""
        parts = self.status.parts()
        font = theme.font(28)
        gap, dot = theme.px(40), theme.px(12)
        metrics = QFontMetrics(font)
        widths = [metrics.horizontalAdvance(p.text) + dot + theme.px(12) for p in parts]
        total = sum(widths) + gap * (len(parts) - 1)
        if total > rect.width():
            font = fit_font(font, self.status.line() + "    " * len(parts), rect.width())
            metrics = QFontMetrics(font)
            gap = int(gap * font.pixelSize() / max(1, theme.px(28)))
            widths = [metrics.horizontalAdvance(p.text) + dot + theme.px(12) for p in parts]
            total = sum(widths) + gap * (len(parts) - 1)
        x = rect.center().x() - total // 2
        painter.setFont(font)
        for part, width in zip(parts, widths, strict=True):
            colour = _LEVEL_COLOURS[part.level]
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawEllipse(QRect(x, rect.center().y() - dot // 2, dot, dot))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(GREY if part.level == Level.OK else colour)
            text_rect = QRect(x + dot + theme.px(12), rect.top(), width, rect.height())
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, part.text)
            x += width + gap
