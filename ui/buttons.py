"""Painted buttons and chips that keyboard, touch and mouse drive alike.

The mirror has no pointer most of the time (a remote's arrows, a keyboard, or a finger on a
touch frame), so every action is a button in a :class:`ButtonRow` that keeps its own focus:
arrows move it, Enter presses it, a tap presses what it hits. Buttons are drawn as thin
outlines with grey type; the focused one is filled white with black type, the brightest
thing on the glass, so the focus is never mistaken for the expected next step (grey bold
type) or the filter in force (white type).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QPoint, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter

from ui.theme import BLACK, DIM, FAINT, GREY, WHITE, Theme, draw_text


@dataclass
class Button:
    """One pressable thing. ``key`` is what the screen reports; ``label`` what the person reads."""

    key: str
    label: str
    badge: str = ""  # e.g. a count beside a filter name
    swatch: QColor | None = None  # a colour dot before the label (colour filters and pickers)
    selected: bool = False  # the filter in force, the current choice
    primary: bool = False  # the expected next step (Keep)
    disabled: bool = False  # shown subdued: it cannot work now (the screen says why elsewhere)


@dataclass
class ButtonRow:
    """Buttons laid out on a grid of ``columns``; the focus moves inside and tells when it leaves."""

    buttons: list[Button]
    columns: int = 0  # 0: all on one line
    focus: int = 0
    rects: list[QRect] = field(default_factory=list)

    def set_buttons(self, buttons: list[Button]) -> None:
        """Replace the buttons, keeping the focus on the same key when it still exists, else
        putting it on the main button (the focus fill is the strongest look on the glass: it
        must not make a side action look like the next step)."""
        key = self.current()
        self.buttons = buttons
        keys = [b.key for b in buttons]
        if key in keys:
            self.focus = keys.index(key)
        elif not self.focus_primary():
            self.focus = min(self.focus, max(0, len(buttons) - 1))

    def focus_primary(self) -> bool:
        """Put the focus on the first primary button; False when there is none."""
        for index, button in enumerate(self.buttons):
            if button.primary:
                self.focus = index
                return True
        return False

    def current(self) -> str | None:
        return self.buttons[self.focus].key if self.buttons else None

    def focus_key(self, key: str) -> bool:
        for index, button in enumerate(self.buttons):
            if button.key == key:
                self.focus = index
                return True
        return False

    def _cols(self) -> int:
        return self.columns or max(1, len(self.buttons))

    def move(self, dx: int, dy: int) -> bool:
        """Move the focus; False when the move would leave the row (the screen moves on)."""
        if not self.buttons:
            return False
        cols = self._cols()
        if dx:
            target = self.focus + dx
            if target < 0 or target >= len(self.buttons) or (target // cols) != (self.focus // cols):
                return False
            self.focus = target
            return True
        target = self.focus + dy * cols
        if target < 0 or (target // cols) > (len(self.buttons) - 1) // cols:
            return False
        self.focus = min(target, len(self.buttons) - 1)
        return True

    def natural_width(self, theme: Theme, height: int) -> int:
        """The width the widest button needs for its label at full size."""
        return max((button_width(theme, b, height) for b in self.buttons), default=0)

    def fit_columns(self, theme: Theme, width: int, height: int, gap: int, most: int = 0) -> int:
        """Set (and return) the most columns, up to ``most`` (0: all), whose labels fit ``width``.

        A label may be made a little smaller (to 92 %) to stay on one line with the others.
        """
        most = most or max(1, len(self.buttons))
        need = int(self.natural_width(theme, height) * 0.92)
        columns = max(1, min(most, (width + gap) // max(1, need + gap)))
        lines = -(-len(self.buttons) // columns) if self.buttons else 1
        self.columns = max(1, -(-len(self.buttons) // lines)) if self.buttons else columns  # 2 + 2, not 3 + 1
        return self.columns

    def lines(self) -> int:
        return (len(self.buttons) + self._cols() - 1) // self._cols()

    def height_for(self, height: int, gap: int) -> int:
        """The height :meth:`layout` will use for buttons ``height`` high, ``gap`` apart."""
        lines = self.lines()
        return max(0, lines * height + (lines - 1) * gap)

    def layout(self, area: QRect, height: int, gap: int) -> int:
        """Place the buttons in ``area`` from its top; return the height used."""
        cols = self._cols()
        width = (area.width() - gap * (cols - 1)) // cols
        self.rects = []
        for index in range(len(self.buttons)):
            row, col = divmod(index, cols)
            self.rects.append(
                QRect(area.left() + col * (width + gap), area.top() + row * (height + gap), width, height)
            )
        lines = (len(self.buttons) + cols - 1) // cols
        return max(0, lines * height + (lines - 1) * gap)

    def hit(self, point: QPoint) -> str | None:
        for button, rect in zip(self.buttons, self.rects, strict=False):
            if rect.contains(point):
                return button.key
        return None

    def paint(self, painter: QPainter, theme: Theme, has_focus: bool) -> None:
        for index, (button, rect) in enumerate(zip(self.buttons, self.rects, strict=False)):
            if rect.isEmpty():  # scrolled out of view
                continue
            paint_button(painter, theme, rect, button, focused=has_focus and index == self.focus)


def label_size(theme: Theme, height: int) -> float:
    """The design size of a label in a button ``height`` pixels high."""
    return min(34.0, height / theme.unit * 0.42)


def button_width(theme: Theme, button: Button, height: int) -> int:
    """The width ``button`` needs to show its label (and swatch) at full size."""
    font = theme.font(label_size(theme, height), QFont.Weight.DemiBold)
    label = f"{button.label}  {button.badge}" if button.badge else button.label
    width = QFontMetrics(font).horizontalAdvance(label) + int(height * 0.5) + theme.lx(4)
    if button.swatch is not None:
        width += int(height * 0.42) + theme.lx(12)
    return width


def paint_button(painter: QPainter, theme: Theme, rect: QRect, button: Button, focused: bool) -> None:
    """A pill: filled white with black type when focused; else an outline, grey (white type when selected)."""
    radius = rect.height() / 2
    inset = theme.lx(2)
    pill = QRectF(rect).adjusted(inset, inset, -inset, -inset)
    if focused:
        painter.setPen(theme.pen(WHITE, 2.0))
        painter.setBrush(WHITE)
    else:
        outline = FAINT if button.disabled else GREY if button.selected or button.primary else DIM
        painter.setPen(theme.pen(outline, 2.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(pill, radius, radius)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    text_color = BLACK if focused else DIM if button.disabled else WHITE if button.selected else GREY
    bold = focused or button.primary or button.selected
    font = theme.font(label_size(theme, rect.height()), QFont.Weight.DemiBold if bold else QFont.Weight.Normal)
    inner = rect.adjusted(int(radius * 0.5), 0, -int(radius * 0.5), 0)
    if button.swatch is not None:
        dot = int(rect.height() * 0.42)
        dot_rect = QRect(inner.left(), rect.center().y() - dot // 2, dot, dot)
        painter.setPen(theme.pen(DIM if focused else GREY, 1.5))
        painter.setBrush(button.swatch)
        painter.drawEllipse(dot_rect)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        inner.setLeft(dot_rect.right() + theme.lx(12))
    label = f"{button.label}  {button.badge}" if button.badge else button.label
    align = Qt.AlignmentFlag.AlignLeft if button.swatch is not None else Qt.AlignmentFlag.AlignHCenter
    draw_text(painter, inner, label, font, text_color, align | Qt.AlignmentFlag.AlignVCenter, in_button=True)
