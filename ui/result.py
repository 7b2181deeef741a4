"""Result: the cut-out on black, what the mirror thinks it is, and what to do with it.

The garment is the only large bright thing on the glass, so the person can compare it with
what they hold. Category, colour (swatch + name) and confidence sit beside it; the actions
are keep, retake, change category, change colour and discard. An ``unsure`` result asks a
question ("Is this a shirt?") instead of offering a plain Keep, so a guess is never filed
silently; answering it, or picking the category by hand, counts as the person's word.
A colour in doubt (the colour step names a runner-up) is asked more lightly: "or white?"
under the colour and a one-press "White?" button in place of "Colour"; left alone, the
mirror's own term is kept. A result nobody acts on is settled by the window after a while;
in its last seconds the screen says so ("Keeping it in 8 s…"), so it never happens unseen.
Corrections made here are remembered by the window and stored as an edit right after the
record is kept, so the closet knows which values came from a person.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFont, QImage, QPainter

from mirror.pipeline.result import CUTOUT_PNG, GarmentResult
from ui.buttons import Button, ButtonRow
from ui.images import bgra_image, decoded, fit, scaled_cutout
from ui.screen import Screen
from ui.theme import DIM, GREY, WARN, WHITE, Theme, draw_text, draw_wrapped, message_colour, wrapped_height
from ui.vocab import category_label, colour_label, swatch

KEEP, RETAKE, CATEGORY, COLOUR, DISCARD = "keep", "retake", "category", "colour", "discard"
ALTERNATIVE = "colour-alternative"  # take the colour step's runner-up with one press
#: Design height of the confidence bar and its line under the category.
CONFIDENCE_H = 84


def cutout_of(garment: GarmentResult) -> QImage:
    """The garment's cut-out with its alpha (the array when present, else the encoded PNG)."""
    if garment.cutout_bgra is not None:
        return bgra_image(garment.cutout_bgra)
    return decoded(garment.images.get(CUTOUT_PNG, b""))


class ResultScreen(Screen):
    """One analysed garment and the person's choices about it."""

    name = "result"

    def __init__(self, font_scale: float = 1.0) -> None:
        super().__init__(font_scale)
        self.garment: GarmentResult | None = None
        self.category: str | None = None  # the person's pick, when they changed it
        self.colour: str | None = None
        self.confirmed = False
        self.message = ""  # a failed analysis or keep, one line with the fix
        self.countdown = ""  # what the window will do with the result soon, e.g. "Keeping it in 8 s…"
        self._cutout = QImage()
        self._bgra: npt.NDArray[np.uint8] | None = None
        self._scaled: QImage | None = None  # the cut-out at the size it was last drawn
        self.main = ButtonRow([])
        self.edit = ButtonRow([])
        self._rebuild_buttons()

    # --- data in ------------------------------------------------------------------------
    def show_garment(self, garment: GarmentResult | None, message: str = "") -> None:
        """Show a new result (None: nothing was found, with ``message`` saying so)."""
        self.garment = garment
        self.category = self.colour = None
        self.confirmed = False
        self.message = message
        self.countdown = ""
        self._cutout = cutout_of(garment) if garment is not None else QImage()
        self._bgra = garment.cutout_bgra if garment is not None else None
        self._scaled = None
        self._rebuild_buttons()
        self.focus_row = 0
        self.main.focus = 0
        self.update()

    def set_message(self, text: str) -> None:
        self.message = text
        self.update()

    def set_countdown(self, text: str) -> None:
        """The window's warning that it will settle the result by itself (empty: none)."""
        if text != self.countdown:
            self.countdown = text
            self.update()

    def footer(self) -> str:
        """The lines above the buttons: the message (an error and its fix, or "Saving…"), then the countdown."""
        return "\n".join(line for line in (self.message, self.countdown) if line)

    def choose_category(self, name: str) -> None:
        self.category = name
        self.confirmed = True
        self._rebuild_buttons()
        self.update()

    def choose_colour(self, basic: str) -> None:
        self.colour = basic
        self._rebuild_buttons()
        self.update()

    # --- what the window reads ---------------------------------------------------------------
    @property
    def shown_category(self) -> str:
        return self.category or (self.garment.category if self.garment else "")

    @property
    def shown_colour(self) -> str:
        return self.colour or (self.garment.color.basic if self.garment else "")

    @property
    def colour_doubt(self) -> str | None:
        """The colour step's runner-up while its answer is in doubt and the person has not picked one."""
        if self.garment is None or self.colour is not None:
            return None
        return self.garment.color.alternative

    @property
    def asks(self) -> bool:
        """True while an unsure result waits for the person's answer."""
        return self.garment is not None and self.garment.unsure and not self.confirmed

    def rows(self) -> list[ButtonRow]:
        return [self.main, self.edit]

    def _rebuild_buttons(self) -> None:
        if self.garment is None:
            self.main.set_buttons([Button(RETAKE, "Try again", primary=True), Button(DISCARD, "Done")])
            self.edit.set_buttons([])
            return
        keep = "Yes, keep it" if self.asks else "Keep"
        self.main.set_buttons([Button(KEEP, keep, primary=True), Button(RETAKE, "Retake")])
        other = self.colour_doubt
        colour = (
            Button(ALTERNATIVE, f"{colour_label(other)}?", swatch=swatch(other))
            if other
            else Button(COLOUR, "Colour", swatch=swatch(self.shown_colour, self._hex()))
        )
        self.edit.set_buttons(
            [Button(CATEGORY, "No, change" if self.asks else "Category"), colour, Button(DISCARD, "Discard")]
        )

    def _hex(self) -> str | None:
        if self.garment is None or self.colour is not None:
            return None
        return self.garment.color.hex

    # --- painting -------------------------------------------------------------------------
    def _button_rows(self, theme: Theme, width: int) -> tuple[int, int, int, int]:
        """Fit the two button rows to ``width``; returns (main height, edit height, gap, total height)."""
        height, gap = theme.px(96), theme.lx(24)
        edit_h = int(height * 0.8)
        self.main.fit_columns(theme, width, height, gap, 2)
        self.edit.fit_columns(theme, width, edit_h, gap, 3)
        edit = self.edit.height_for(edit_h, gap)
        return height, edit_h, gap, self.main.height_for(height, gap) + (gap + edit if edit else 0)

    def _info_height(self, theme: Theme) -> int:
        """The height of the text under (or beside) the cut-out, without the message."""
        title = theme.px(100) + theme.px(64) if self.asks else theme.px(116)
        doubt = theme.px(52) if self.colour_doubt else 0
        return title + theme.px(CONFIDENCE_H) + theme.px(60) + doubt + theme.px(16)

    def paint_page(self, painter: QPainter, theme: Theme) -> None:
        """The cut-out gets what the text and the buttons leave (at most half the page)."""
        area = self.content_rect(theme)
        if self.garment is None:
            self._paint_nothing(painter, theme, area)
            return
        gap = theme.px(40)
        if theme.portrait:
            width = min(area.width(), theme.px(860))
            *_, buttons_h = self._button_rows(theme, width)
            text_h = self._info_height(theme) + self._message_height(theme, area.width())
            image_h = min(int(area.height() * 0.5), area.height() - gap - text_h - buttons_h)
            image_area = QRect(area.left(), area.top(), area.width(), max(theme.px(120), image_h))
            info = QRect(area.left(), image_area.bottom() + gap, area.width(), 0)
            info.setBottom(area.bottom())
        else:
            # The cut-out gives up width when the text needs it (on a 16:10 panel at a large
            # font_scale a quarter: there the edit buttons need it to stay on one line).
            for share in (0.5, 0.42, 0.36, 0.3, 0.25):
                image_area = QRect(area.left(), area.top(), int(area.width() * share), area.height())
                info = QRect(image_area.right() + theme.margin, area.top(), 0, 0)
                info.setRight(area.right())
                info.setBottom(area.bottom())
                *_, buttons_h = self._button_rows(theme, info.width())
                text_h = self._info_height(theme) + self._message_height(theme, info.width())
                slack = area.height() - text_h - buttons_h - theme.px(12)
                if slack >= 0:
                    break
            info.setTop(area.top() + max(0, min(int(area.height() * 0.12), slack)))
        if not self._cutout.isNull():
            target = fit(self._cutout.size(), image_area)
            scaled = self._scaled_to(QSize(round(target.width()), round(target.height())))
            if scaled is not None:
                painter.drawImage(target.topLeft(), scaled)
            else:
                painter.drawImage(target, self._cutout)
        self._paint_info(painter, theme, info, self.garment)

    def _message_height(self, theme: Theme, width: int) -> int:
        footer = self.footer()
        return wrapped_height(theme.font(28), footer, width) + theme.px(12) if footer else 0

    def _scaled_to(self, size: QSize) -> QImage | None:
        """The cut-out resized once for ``size`` (cached until the garment or the size changes)."""
        if self._bgra is None:
            return None
        if self._scaled is None or self._scaled.size() != size:
            self._scaled = scaled_cutout(self._bgra, size.width(), size.height())
        return self._scaled

    def _paint_nothing(self, painter: QPainter, theme: Theme, area: QRect) -> None:
        centre = QRect(area.left(), area.top() + area.height() // 3, area.width(), theme.px(90))
        found_none = not self.message or self.message.lower().startswith("no garment")
        title = "No garment found" if found_none else "That did not work"
        draw_text(painter, centre, title, theme.font(72, QFont.Weight.Light), WHITE)
        text = self.message or "Hold it up flat, facing the mirror, and try again"
        if found_none and ": " in text:  # the title already says it: keep only the advice
            text = text.split(": ", 1)[1]
        text = text[:1].upper() + text[1:]
        width = min(area.width(), theme.px(860))
        *_, buttons_h = self._button_rows(theme, width)
        buttons_top = area.bottom() + 1 - buttons_h
        text_top = centre.bottom() + theme.px(10)
        box = QRect(area.left(), text_top, area.width(), max(theme.px(44), buttons_top - theme.px(24) - text_top))
        draw_wrapped(painter, box, text, theme.font(32), GREY, Qt.AlignmentFlag.AlignHCenter)
        self._paint_buttons(painter, theme, QRect(area.center().x() - width // 2, buttons_top, width, 0))

    def _paint_info(self, painter: QPainter, theme: Theme, info: QRect, garment: GarmentResult) -> None:
        """Top down: the category (or the question) with how sure the mirror is of it, then the colour."""
        align = Qt.AlignmentFlag.AlignHCenter if theme.portrait else Qt.AlignmentFlag.AlignLeft
        width = min(info.width(), theme.px(860)) if theme.portrait else info.width()
        *_, buttons_h = self._button_rows(theme, width)
        buttons_top = info.bottom() + 1 - buttons_h
        y = info.top()
        if self.asks:
            question = f"Is this a {category_label(self.shown_category).lower()}?"
            draw_text(
                painter,
                QRect(info.left(), y, info.width(), theme.px(100)),
                question,
                theme.font(76, QFont.Weight.Light),
                WHITE,
                align,
            )
            y += theme.px(100)
            others = " · ".join(f"{category_label(n)} {round(s * 100)} %" for n, s in garment.top3[1:3])
            draw_text(
                painter,
                QRect(info.left(), y, info.width(), theme.px(48)),
                "I am not sure" + (f" (or: {others})" if others else ""),
                theme.font(30),
                WARN,
                align,
            )
            y += theme.px(64)
        else:
            draw_text(
                painter,
                QRect(info.left(), y, info.width(), theme.px(110)),
                category_label(self.shown_category),
                theme.font(92, QFont.Weight.Light),
                WHITE,
                align,
            )
            y += theme.px(116)
        y = self._paint_confidence(
            painter, theme, QRect(info.left(), y, info.width(), theme.px(CONFIDENCE_H)), garment, align
        )
        y = self._paint_colour(painter, theme, QRect(info.left(), y, info.width(), theme.px(60)), garment, align)
        other = self.colour_doubt
        if other:
            y += theme.px(8)
            draw_text(
                painter,
                QRect(info.left(), y, info.width(), theme.px(44)),
                f"or {colour_label(other).lower()}?",
                theme.font(30),
                WARN,
                align,
            )
            y += theme.px(44)
        y += theme.px(16)
        footer = self.footer()
        if footer:  # wrapped: a failed keep says what and how to fix it, never cut off
            top = y
            height = max(theme.px(44), buttons_top - theme.px(12) - top)
            draw_wrapped(
                painter,
                QRect(info.left(), top, info.width(), height),
                footer,
                theme.font(28),
                message_colour(self.message) if self.message else WHITE,
                align,
            )
        left = info.left() if not theme.portrait else info.center().x() - width // 2
        self._paint_buttons(painter, theme, QRect(left, buttons_top, width, 0))

    def _paint_colour(
        self, painter: QPainter, theme: Theme, rect: QRect, garment: GarmentResult, align: Qt.AlignmentFlag
    ) -> int:
        """Swatch dot and ``Navy · blue`` (or just the picked basic colour); returns the next y."""
        if self.colour is not None:
            text = colour_label(self.colour)
        elif garment.color.name and garment.color.name != garment.color.basic:
            text = f"{colour_label(garment.color.name)} · {garment.color.basic}"
        else:
            text = colour_label(garment.color.basic)
        font = theme.font(44)
        painter.setFont(font)
        text_w = painter.fontMetrics().horizontalAdvance(text)
        dot = theme.px(44)
        gap = theme.px(18)
        total = dot + gap + text_w
        x = rect.center().x() - total // 2 if align == Qt.AlignmentFlag.AlignHCenter else rect.left()
        painter.setPen(theme.pen(GREY, 2))
        painter.setBrush(swatch(self.shown_colour, self._hex()))
        painter.drawEllipse(QRect(x, rect.center().y() - dot // 2, dot, dot))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        draw_text(
            painter,
            QRect(x + dot + gap, rect.top(), rect.right() - x - dot - gap, rect.height()),
            text,
            font,
            WHITE,
            Qt.AlignmentFlag.AlignLeft,
        )
        return rect.bottom()

    def _paint_confidence(
        self, painter: QPainter, theme: Theme, rect: QRect, garment: GarmentResult, align: Qt.AlignmentFlag
    ) -> int:
        """Right under the category: a thin bar and ``93 % sure it is a t-shirt`` (``your choice``
        once the person picked), so the figure reads as the category's, not the colour's."""
        if self.category:
            text = "your choice"
        else:
            text = f"{round(garment.category_score * 100)} % sure it is a {category_label(garment.category).lower()}"
        bar_w = min(rect.width(), theme.px(420))
        left = rect.center().x() - bar_w // 2 if align == Qt.AlignmentFlag.AlignHCenter else rect.left()
        y = rect.top() + theme.px(6)
        painter.setPen(theme.pen(DIM, 3))
        painter.drawLine(left, y, left + bar_w, y)
        share = 1.0 if self.category else max(0.0, min(1.0, garment.category_score))
        painter.setPen(theme.pen(WARN if self.asks else WHITE, 3))
        painter.drawLine(left, y, left + int(bar_w * share), y)
        text_rect = QRect(rect.left(), y + theme.px(10), rect.width(), theme.px(40))
        draw_text(painter, text_rect, text, theme.font(30), GREY, align)
        return rect.bottom() + 1

    def _paint_buttons(self, painter: QPainter, theme: Theme, top: QRect) -> None:
        main_h, edit_h, gap, _ = self._button_rows(theme, top.width())
        used = self.main.layout(QRect(top.left(), top.top(), top.width(), main_h), main_h, gap)
        self.edit.layout(QRect(top.left(), top.top() + used + gap, top.width(), edit_h), edit_h, gap)
        self.main.paint(painter, theme, self.row_has_focus(self.main))
        self.edit.paint(painter, theme, self.row_has_focus(self.edit))


__all__ = ["ALTERNATIVE", "CATEGORY", "COLOUR", "DISCARD", "KEEP", "RETAKE", "ResultScreen"]
