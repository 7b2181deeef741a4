"""Detail: one garment from the closet, large, with what is known about it and its actions.

Reached from the closet grid. It shows the cut-out big, the category and colour (saying
when the person corrected them), when it was added and whether it is backed up, and
offers the same corrections as the result screen plus delete.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter

from mirror.wording import BACKED_UP, BACKUP_OFF, NOT_BACKED_UP
from ui.buttons import Button, ButtonRow
from ui.closet import LOCAL, SYNCED, ClosetItem
from ui.images import fit
from ui.screen import Screen
from ui.theme import GREY, WARN, WHITE, Theme, draw_text, draw_wrapped, message_colour, wrapped_height
from ui.vocab import category_label, colour_line, swatch

EDIT_CATEGORY, EDIT_COLOUR, DELETE, CONFIRM_DELETE, BACK_TO_CLOSET = (
    "edit_category",
    "edit_colour",
    "delete",
    "confirm_delete",
    "back_to_closet",
)
_SYNC_TEXT = {SYNCED: BACKED_UP, LOCAL: BACKUP_OFF}


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
        self.buttons.focus_primary()  # Back: the focus fill must not make Category look like the next step
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
        self.buttons.focus_primary()
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

    def added_text(self, theme: Theme, width: int) -> str:
        """When it was added and where it is kept: one line where that fits ``width`` at full
        size, else two ("Added 20 November 2026, 18:05" / "Not backed up yet").

        Two lines rather than one made smaller: on a 7" panel the one line shrank to about
        2.5 mm, under the floor the theme keeps text at (``ui.theme.MIN_TEXT_MM``).
        """
        if self.item is None:
            return ""
        added = self.item.record.created_at.astimezone().strftime("Added %-d %B %Y, %H:%M")
        sync = _SYNC_TEXT.get(self.item.sync, NOT_BACKED_UP)  # mirror.wording's, a line of their own
        line = f"{added} · {sync[:1].lower()}{sync[1:]}"  # after a dot on one line: lower case
        if QFontMetrics(theme.font(28)).horizontalAdvance(line) <= width:
            return line
        return f"{added}\n{sync}"

    def _added_height(self, theme: Theme, width: int) -> int:
        """The room the added lines take (with the gap under them)."""
        text = self.added_text(theme, width)
        return max(theme.px(44), wrapped_height(theme.font(28), text, width)) + theme.px(12)

    def _text_height(self, theme: Theme, width: int) -> int:
        """The category, colour and added lines, and the question or message under them."""
        height = theme.px(120) + theme.px(64) + theme.px(12) + self._added_height(theme, width)
        if self.confirming:
            return height + theme.px(56)
        if self.message:
            return height + wrapped_height(theme.font(28), self.message, width) + theme.px(12)
        return height

    def _buttons_height(self, theme: Theme, width: int) -> tuple[int, int]:
        """Fit the buttons to ``width`` (four on a line when their labels fit); (button height, total)."""
        button_h, gap = theme.px(96), theme.lx(20)
        self.buttons.fit_columns(theme, width, button_h, gap)
        return button_h, self.buttons.height_for(button_h, gap)

    def paint_page(self, painter: QPainter, theme: Theme) -> None:
        """The cut-out gets what the text and the buttons leave; nothing sits at a fixed height."""
        if self.item is None:
            return
        area = self.content_rect(theme)
        gap = theme.px(40)
        if theme.portrait:
            width = min(area.width(), theme.px(1000))
            button_h, buttons_h = self._buttons_height(theme, width)
            text_h = self._text_height(theme, area.width())
            image_h = min(int(area.height() * 0.55), area.height() - gap - text_h - buttons_h - theme.px(24))
            image_area = QRect(area.left(), area.top(), area.width(), max(theme.px(120), image_h))
            info = QRect(area.left(), image_area.bottom() + gap, area.width(), 0)
            align = Qt.AlignmentFlag.AlignHCenter
            left = area.center().x() - width // 2
        else:
            for share in (0.5, 0.42, 0.36):  # the cut-out gives up width when the text needs it
                image_area = QRect(area.left(), area.top(), int(area.width() * share), area.height())
                info = QRect(image_area.right() + theme.margin, area.top(), 0, 0)
                info.setRight(area.right())
                width = min(info.width(), theme.px(1000))
                button_h, buttons_h = self._buttons_height(theme, width)
                slack = area.height() - self._text_height(theme, info.width()) - buttons_h - theme.px(24)
                if slack >= 0:
                    break
            info.moveTop(area.top() + max(0, min(int(area.height() * 0.15), slack)))
            align = Qt.AlignmentFlag.AlignLeft
            left = info.left()
        buttons_top = area.bottom() + 1 - buttons_h
        info.setBottom(buttons_top - theme.px(12))
        thumb = self.item.thumbnail
        if thumb is not None and not thumb.isNull():
            painter.drawImage(fit(thumb.size(), image_area), thumb)
        self._paint_text(painter, theme, info, align)
        row = QRect(left, buttons_top, width, button_h)
        self.buttons.layout(row, button_h, theme.lx(20))
        self.buttons.paint(painter, theme, self.row_has_focus(self.buttons))

    def _paint_text(self, painter: QPainter, theme: Theme, info: QRect, align: Qt.AlignmentFlag) -> None:
        assert self.item is not None
        record = self.item.record
        line = theme.px(64)
        y = info.top()
        edited = "  (corrected)" if record.edited else ""
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
        text = colour_line(colour.name, colour.basic)  # "Light grey", never "Light grey · grey"
        dot = theme.px(40)
        painter.setFont(theme.font(40))
        text_w = min(info.width() - dot - theme.px(16), painter.fontMetrics().horizontalAdvance(text + edited))
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
            QRect(x + dot + theme.px(16), y, info.right() - x - dot - theme.px(16), line),
            text + edited,
            theme.font(40),
            WHITE,
            Qt.AlignmentFlag.AlignLeft,
        )
        y += line + theme.px(12)
        added_h = self._added_height(theme, info.width())
        error = self.message if not self.confirming else ""
        if wrapped_height(theme.font(28), error, info.width()) > info.bottom() - y - added_h:
            added_h = 0  # an error and its fix come first: the date line makes room rather than it shrink
        else:
            draw_wrapped(
                painter,
                QRect(info.left(), y, info.width(), added_h - theme.px(12)),
                self.added_text(theme, info.width()),
                theme.font(28),
                GREY,
                align,
            )
        y += added_h
        if self.confirming:
            draw_text(
                painter,
                QRect(info.left(), y, info.width(), theme.px(56)),
                "Delete this garment?",
                theme.font(40),
                WARN,
                align,
            )
        elif self.message:  # wrapped above the buttons: an error and its fix
            height = max(theme.px(44), info.bottom() - y)
            draw_wrapped(
                painter,
                QRect(info.left(), y, info.width(), height),
                self.message,
                theme.font(28),
                message_colour(self.message),
                align,
            )
