"""Detail: one garment from the closet, large, with what is known about it and its actions.

Reached from the closet grid. It shows the cut-out big, the category and colour (saying
when the person corrected them), when it was added and whether the cloud has it, and
offers the same corrections as the result screen plus delete.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QPainter

from ui.buttons import Button, ButtonRow
from ui.closet import LOCAL, SYNCED, ClosetItem
from ui.images import fit
from ui.screen import Screen
from ui.theme import GREY, WARN, WHITE, Theme, draw_text, draw_wrapped, message_colour
from ui.vocab import category_label, colour_label, swatch

EDIT_CATEGORY, EDIT_COLOUR, DELETE, CONFIRM_DELETE, BACK_TO_CLOSET = (
    "edit_category",
    "edit_colour",
    "delete",
    "confirm_delete",
    "back_to_closet",
)
_SYNC_TEXT = {SYNCED: "in the cloud", LOCAL: "on this mirror only (sync is off)"}


class DetailScreen(Screen):
    """One closet garment; delete asks once more before it happens."""

    name = "detail"

    def __init__(self, font_scale: float = 1.0) -> None:
        super().__init__(font_scale)
        self.item: ClosetItem | None = None
        self.confirming = False
        self.deleting = False  # asked of the core; only Back is offered until it answers
        self.message = ""
        self.buttons = ButtonRow([])

    def rows(self) -> list[ButtonRow]:
        return [self.buttons]

    def show_item(self, item: ClosetItem) -> None:
        self.item = item
        self.confirming = self.deleting = False
        self.message = ""
        self._rebuild()
        self.buttons.focus = 0
        self.update()

    def ask_delete(self) -> None:
        self.confirming = True
        self._rebuild()
        self.buttons.focus_key(BACK_TO_CLOSET)
        self.update()

    def begin_delete(self) -> None:
        """The delete is on its way: say so, and take the buttons away so it cannot be asked twice."""
        self.confirming, self.deleting = False, True
        self.message = "Deleting…"
        self._rebuild()
        self.buttons.focus = 0
        self.update()

    def show_error(self, line: str) -> None:
        """A change or delete failed: the error under the garment, and its actions back."""
        self.confirming = self.deleting = False
        self.message = line
        self._rebuild()
        self.update()

    def _rebuild(self) -> None:
        if self.confirming:
            self.buttons.set_buttons([Button(CONFIRM_DELETE, "Yes, delete"), Button(BACK_TO_CLOSET, "Keep it")])
            return
        if self.deleting:
            self.buttons.set_buttons([Button(BACK_TO_CLOSET, "Back", primary=True)])
            return
        self.buttons.set_buttons(
            [
                Button(EDIT_CATEGORY, "Category"),
                Button(EDIT_COLOUR, "Colour"),
                Button(DELETE, "Delete"),
                Button(BACK_TO_CLOSET, "Back", primary=True),
            ]
        )

    def paint_page(self, painter: QPainter, theme: Theme) -> None:
        if self.item is None:
            return
        area = self.content_rect(theme)
        button_h = theme.px(96)
        if theme.portrait:
            image_area = QRect(area.left(), area.top(), area.width(), int(area.height() * 0.55))
            info = QRect(area.left(), image_area.bottom() + theme.px(40), area.width(), theme.px(400))
            align = Qt.AlignmentFlag.AlignHCenter
        else:
            image_area = QRect(area.left(), area.top(), int(area.width() * 0.5), area.height())
            info = QRect(
                image_area.right() + theme.margin,
                area.top() + int(area.height() * 0.15),
                area.right() - image_area.right() - theme.margin,
                theme.px(400),
            )
            align = Qt.AlignmentFlag.AlignLeft
        thumb = self.item.thumbnail
        if thumb is not None and not thumb.isNull():
            painter.drawImage(fit(thumb.size(), image_area), thumb)
        record = self.item.record
        line = theme.px(64)
        y = info.top()
        edited = "  (corrected)" if getattr(record, "edited", False) else ""
        draw_text(
            painter,
            QRect(info.left(), y, info.width(), theme.px(110)),
            category_label(record.category),
            theme.font(88, QFont.Weight.Light),
            WHITE,
            align,
        )
        y += theme.px(120)
        colour = record.color
        name = colour_label(colour.name) if colour.name and colour.name != colour.basic else colour_label(colour.basic)
        text = f"{name} · {colour.basic}" if colour.name and colour.name != colour.basic else name
        dot = theme.px(40)
        painter.setFont(theme.font(40))
        text_w = painter.fontMetrics().horizontalAdvance(text + edited)
        x = (
            info.left()
            if align == Qt.AlignmentFlag.AlignLeft
            else info.center().x() - (dot + theme.px(16) + text_w) // 2
        )
        painter.setPen(theme.pen(GREY, 2))
        painter.setBrush(swatch(colour.basic, colour.hex))
        painter.drawEllipse(QRect(x, y + (line - dot) // 2, dot, dot))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        draw_text(
            painter,
            QRect(x + dot + theme.px(16), y, info.right() - x, line),
            text + edited,
            theme.font(40),
            WHITE,
            Qt.AlignmentFlag.AlignLeft,
        )
        y += line + theme.px(12)
        added = record.created_at.astimezone().strftime("added %-d %B %Y, %H:%M")
        sync = _SYNC_TEXT.get(self.item.sync, "waiting to sync")
        draw_text(
            painter, QRect(info.left(), y, info.width(), theme.px(44)), f"{added} · {sync}", theme.font(28), GREY, align
        )
        y += theme.px(56)
        if self.confirming:
            draw_text(
                painter,
                QRect(info.left(), y, info.width(), theme.px(56)),
                "Delete this garment?",
                theme.font(40),
                WARN,
                align,
            )
        elif self.message:  # wrapped, up to three lines above the buttons: an error and its fix
            height = max(theme.px(44), min(theme.px(44) * 3, area.bottom() - button_h - theme.px(12) - y))
            draw_wrapped(
                painter,
                QRect(info.left(), y, info.width(), height),
                self.message,
                theme.font(28),
                message_colour(self.message),
                align,
            )
        width = min(info.width() if not theme.portrait else area.width(), theme.px(1000))
        left = info.left() if not theme.portrait else area.center().x() - width // 2
        row = QRect(left, area.bottom() - button_h, width, button_h)
        self.buttons.layout(row, button_h, theme.lx(20))
        self.buttons.paint(painter, theme, self.row_has_focus(self.buttons))
