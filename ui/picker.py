"""Picker: choose one category or one basic colour from the full list.

Corrections must land on names the models and the closet filters know, so the person picks
from the fixed lists (the ten categories, the eleven basic colours) rather than typing.
The same screen serves both; the window knows what the pick is for. Opened from a result
that the window will settle by itself soon, it says so in its last seconds ("Keeping it in
8 s…", white, in the help line's place), as the result screen would: a person lingering over
the list must not have the result kept or dropped unseen.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter

from ui.buttons import Button, ButtonRow
from ui.closet import ring_dark_swatches
from ui.screen import BACK, Screen
from ui.theme import GREY, WHITE, Theme, draw_text, draw_wrapped, wrapped_height
from ui.vocab import BASIC_TERMS, CATEGORIES, category_label, colour_label, on_lines, swatch

PICK_PREFIX = "pick:"
HELP = "Tap one · Back leaves it as it was"


class PickerScreen(Screen):
    """A title and a grid of choices; pressing one reports ``pick:<name>``, Esc goes back."""

    name = "picker"

    def __init__(self, font_scale: float = 1.0) -> None:
        super().__init__(font_scale)
        self.title = ""
        self.purpose = ""  # "category" or "colour": what the window will do with the pick
        self.countdown = ""  # the result's settle countdown, while choosing for that result
        self.grid = ButtonRow([], columns=2)
        self.back = ButtonRow([Button(BACK, "Back")])  # for touch; Esc does the same

    def rows(self) -> list[ButtonRow]:
        return [self.grid, self.back]

    def set_countdown(self, text: str) -> None:
        """The window's warning that it will settle the result this pick is for (empty: none)."""
        if text != self.countdown:
            self.countdown = text
            self.update()

    def ask_category(self, current: str) -> None:
        self.purpose, self.title = "category", "What is it?"
        self._offer([Button(PICK_PREFIX + c, category_label(c), selected=c == current) for c in CATEGORIES], current)

    def ask_colour(self, current: str) -> None:
        self.purpose, self.title = "colour", "Which colour?"
        self._offer(
            [Button(PICK_PREFIX + c, colour_label(c), swatch=swatch(c), selected=c == current) for c in BASIC_TERMS],
            current,
        )

    def _offer(self, buttons: list[Button], current: str) -> None:
        self.grid.set_buttons(buttons)
        if not self.grid.focus_key(PICK_PREFIX + current):
            self.grid.focus = 0
        self.focus_row = 0
        self.update()

    def paint_page(self, painter: QPainter, theme: Theme) -> None:
        """Title, how to use it, the choices and Back; the choices get lower when the page is short."""
        area = self.content_rect(theme)
        draw_text(
            painter,
            QRect(area.left(), area.top(), area.width(), theme.px(120)),
            self.title,
            theme.font(72, QFont.Weight.Light),
            WHITE,
        )
        help_text = HELP  # for a finger on the glass: the mirror has no keyboard in front of it
        help_font = theme.font(28)
        if QFontMetrics(help_font).horizontalAdvance(help_text) > area.width():
            help_text = on_lines(help_text)
        # Room for the help, the taller of the two: the choices do not move when the countdown comes.
        help_h = wrapped_height(help_font, help_text, area.width()) + theme.px(8)
        help_rect = QRect(area.left(), area.top() + theme.px(120), area.width(), help_h)
        shown, colour = (self.countdown, WHITE) if self.countdown else (help_text, GREY)
        draw_wrapped(painter, help_rect, shown, help_font, colour, Qt.AlignmentFlag.AlignHCenter)
        gap = theme.lx(24)
        width = min(area.width(), theme.px(900 if theme.portrait else 1500))
        top = help_rect.bottom() + theme.px(40)
        height = theme.px(104)
        self.grid.fit_columns(theme, width, height, gap, 2 if theme.portrait else 4)
        lines = self.grid.lines()
        room = area.bottom() + 1 - top - theme.px(48) - gap * (lines - 1)
        height = max(theme.px(56), min(height, room // (lines + 1)))
        grid = QRect(area.center().x() - width // 2, top, width, 0)
        used = self.grid.layout(grid, height, gap)
        self.grid.paint(painter, theme, self.row_has_focus(self.grid))
        ring_dark_swatches(painter, theme, self.grid, self.row_has_focus(self.grid))
        back_w = min(width, max(theme.px(300), self.back.natural_width(theme, height)))
        back = QRect(area.center().x() - back_w // 2, grid.top() + used + theme.px(48), back_w, 0)
        self.back.layout(back, height, 0)
        self.back.paint(painter, theme, self.row_has_focus(self.back))
