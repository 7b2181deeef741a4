"""Result: the cut-out on black, what the mirror thinks it is, and what to do with it.

The garment is the only large bright thing on the glass, so the person can compare it with
what they hold. Category, colour (swatch + name) and confidence sit beside it; the actions
are keep, retake, change category, change colour and discard. An ``unsure`` result asks a
question ("Is this a shirt?", "Are these trousers?": ``ui.vocab.category_question``) instead
of offering a plain Keep, so a guess is never filed silently; its two runners-up are one tap
each ("Long sleeve?", "T-shirt?") beside "Something else" (the full list), and no percentages
are shown while it asks. Answering it, or picking the category by hand, counts as the
person's word. When the shot held more than one garment a grey line says so ("I saw 2
garments · showing the one you held", or "the main one" when the preview did not see which
was held). Discard asks for a second tap within a few seconds ("Tap again to discard"), so a
hand wiping the glass does not throw a result away.
A colour in doubt (the colour step names a runner-up) is asked more lightly: "or white?"
under the colour and a one-press "White?" button in the answers row, once no category is
being asked (one question at a time); "Colour" stays beside Discard, so a garment that is
neither (beige) goes straight to the full list. Left alone, the mirror's own term is kept.
Where room runs out (a failed keep's words on the 7" panel lying landscape), the lines that say
least go first rather than that text be made small: "I saw 2 garments", then "or white?" (its
button still asks), then the confidence figures.
A result nobody acts on is settled by the window after a while; in its last seconds the
screen says so ("Keeping it in 8 s…"), so it never happens unseen.
Corrections made here are remembered by the window and stored as an edit right after the
record is kept, so the closet knows which values came from a person.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QRect, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter

from mirror.pipeline.result import CUTOUT_PNG, GarmentResult
from ui.buttons import Button, ButtonRow
from ui.images import bgra_image, decoded, fit, scaled_cutout
from ui.screen import Screen
from ui.theme import (
    DIM,
    GREY,
    WARN,
    WHITE,
    Theme,
    draw_text,
    draw_wrapped,
    message_colour,
    wrapped_height,
)
from ui.vocab import category_claim, category_label, category_question, colour_label, colour_line, swatch

KEEP, RETAKE, CATEGORY, COLOUR, DISCARD = "keep", "retake", "category", "colour", "discard"
ALTERNATIVE = "colour-alternative"  # take the colour step's runner-up with one press
#: An unsure result's one-tap answers: this prefix and a runner-up category.
ANSWER_PREFIX = "answer:"
#: Discard's first tap arms it for this long; a second tap in that time discards.
DISCARD_CONFIRM_MS = 4000
#: Said over the buttons while Discard is armed (in the countdown's place: it is the more urgent).
DISCARD_AGAIN = "Tap again to discard"
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
        self.seen = 1  # garments in the shot
        self.held = False  # the one shown is the one seen held up (not only the most prominent)
        self._say_seen = False  # the "I saw 2 garments" line has room (it goes first when room runs out)
        self._show_answers = True  # the runners-up's row has room (a failed keep on a small panel: it goes)
        self._say_doubt = False  # the "or white?" line has room (next to go: its "White?" button still asks)
        self._say_confidence = True  # the confidence line has room (the last to go, for a failed keep's words)
        self.discard_armed = False  # Discard was tapped once: a second tap soon discards
        self._disarm = QTimer(self)
        self._disarm.setSingleShot(True)
        self._disarm.setInterval(DISCARD_CONFIRM_MS)
        self._disarm.timeout.connect(self.disarm_discard)
        self._cutout = QImage()
        self._bgra: npt.NDArray[np.uint8] | None = None
        self._scaled: QImage | None = None  # the cut-out at the size it was last drawn
        self.main = ButtonRow([])
        self.answers = ButtonRow([])  # an unsure result's runners-up, one tap each
        self.edit = ButtonRow([])
        self._rebuild_buttons()

    # --- data in ------------------------------------------------------------------------
    def show_garment(self, garment: GarmentResult | None, message: str = "", seen: int = 1, held: bool = False) -> None:
        """Show a new result (None: nothing was found, with ``message`` saying so); ``seen``: how
        many garments the shot held; ``held``: the one shown is the one seen held up (else only the
        most prominent, e.g. a manual shot with no garment found in the preview)."""
        self.garment = garment
        self.category = self.colour = None
        self.confirmed = False
        self.message = message
        self.countdown = ""
        self.seen = seen
        self.held = held
        self.discard_armed = False
        self._disarm.stop()
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
        """The lines above the buttons: the message (an error and its fix, or "Saving…"), then
        "Tap again to discard" while Discard is armed, else the countdown."""
        second = DISCARD_AGAIN if self.discard_armed else self.countdown
        return "\n".join(line for line in (self.message, second) if line)

    def choose_category(self, name: str) -> None:
        self.category = name
        self.confirmed = True
        self._rebuild_buttons()
        self.update()

    def choose_colour(self, basic: str) -> None:
        self.colour = basic
        self._rebuild_buttons()
        self.update()

    def confirm_discard(self) -> bool:
        """Discard was pressed: True on the second press within ``DISCARD_CONFIRM_MS`` (discard now),
        False on the first (it now says "Tap again to discard")."""
        if self.discard_armed:
            self.disarm_discard()
            return True
        self.discard_armed = True
        self._disarm.start()
        self._rebuild_buttons()
        self.update()
        return False

    def disarm_discard(self) -> None:
        """Back to a plain Discard (the time ran out, or the person did something else)."""
        self._disarm.stop()
        if self.discard_armed:
            self.discard_armed = False
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

    @property
    def alternatives(self) -> list[str]:
        """While asking: the classifier's next two categories, offered as one-tap answers."""
        if not self.asks or self.garment is None:
            return []
        return [name for name, _ in self.garment.top3 if name != self.shown_category][:2]

    def rows(self) -> list[ButtonRow]:
        return [self.main, self.answers, self.edit] if self._show_answers else [self.main, self.edit]

    def _rebuild_buttons(self) -> None:
        if self.garment is None:
            self.main.set_buttons([Button(RETAKE, "Try again", primary=True), Button(DISCARD, "Done")])
            self.answers.set_buttons([])
            self.edit.set_buttons([])
            return
        keep = "Yes, keep it" if self.asks else "Keep"
        self.main.set_buttons([Button(KEEP, keep, primary=True), Button(RETAKE, "Retake")])
        # The answers row holds the one question being asked: the category's runners-up while it
        # is asked, else the colour's. "Colour" itself never gives way to a guess: the full list
        # must stay one tap away for a garment that is neither of the two colours.
        other = self.colour_doubt
        answers = [Button(ANSWER_PREFIX + name, f"{category_label(name)}?") for name in self.alternatives]
        if other and not self.asks:
            answers = [Button(ALTERNATIVE, f"{colour_label(other)}?", swatch=swatch(other))]
        self.answers.set_buttons(answers)
        colour = Button(COLOUR, "Colour", swatch=swatch(self.shown_colour, self._hex()))
        discard = Button(DISCARD, "Discard", selected=self.discard_armed)
        self.edit.set_buttons([Button(CATEGORY, "Something else" if self.asks else "Category"), colour, discard])

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
        self.answers.fit_columns(theme, width, edit_h, gap, 3)
        self.edit.fit_columns(theme, width, edit_h, gap, 3)
        total = self.main.height_for(height, gap)
        for row in self.rows()[1:]:
            used = row.height_for(edit_h, gap) if row.buttons else 0
            total += gap + used if used else 0
        return height, edit_h, gap, total

    def _info_height(self, theme: Theme) -> int:
        """The height of the text under (or beside) the cut-out, without the message."""
        doubt = theme.px(52) if self._say_doubt else 0
        seen = theme.px(48) if self._say_seen else 0
        confidence = theme.px(CONFIDENCE_H) if self._say_confidence else 0
        return theme.px(116) + confidence + theme.px(60) + doubt + seen + theme.px(16)

    def paint_page(self, painter: QPainter, theme: Theme) -> None:
        """The cut-out gets what the text and the buttons leave (at most half the page)."""
        area = self.content_rect(theme)
        if self.garment is None:
            self._paint_nothing(painter, theme, area)
            return
        gap = theme.px(40)
        self._say_seen = self.seen > 1
        self._say_doubt = bool(self.colour_doubt) and not self.asks
        self._say_confidence = not self.asks  # the question says it: no figures
        self._show_answers = True
        if theme.portrait:
            width = min(area.width(), theme.px(860))
            *_, buttons_h = self._button_rows(theme, width)
            text_h = self._info_height(theme) + self._message_height(theme, area.width())
            if self._say_seen and area.height() - gap - text_h - buttons_h < theme.px(120):
                self._say_seen = False  # the least needed line goes first
                text_h -= theme.px(48)
            if self._say_doubt and area.height() - gap - text_h - buttons_h < theme.px(120):
                self._say_doubt = False  # then the colour's note: its button asks the same
                text_h -= theme.px(52)
            if self._say_confidence and area.height() - gap - text_h - buttons_h < theme.px(120):
                self._say_confidence = False  # then the figures: what went wrong and its fix come first
                text_h -= theme.px(CONFIDENCE_H)
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
            if slack < 0 and self._say_seen:  # the least needed line goes first: what to do must show
                self._say_seen = False
                slack += theme.px(48)
            if slack < 0 and self._say_doubt:  # then the colour's note: its "White?" button asks the same
                self._say_doubt = False
                slack += theme.px(52)
            if slack < 0 and self._say_confidence:
                # Then the figures (a sure result: they only say how sure), rather than make what
                # went wrong and its fix smaller than the floor (a failed keep on the 7" panel).
                self._say_confidence = False
                slack += theme.px(CONFIDENCE_H)
            if slack < 0 and self.asks and self.message and self.answers.buttons:
                # A keep that failed on a garment the mirror asked about: the runners-up give way to what
                # went wrong and its fix ("Something else" still offers every category), rather than it
                # be squeezed under the floor (four rows of buttons on the 7" panel lying landscape).
                before = self._button_rows(theme, info.width())[3]
                self._show_answers = False
                slack += before - self._button_rows(theme, info.width())[3]
                self._clamp_focus(self.rows())
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
        """The footer's room, always with its second line (the countdown or "Tap again to discard"):
        when one comes, the layout (and so the button the person is about to tap again) stays."""
        footer = "\n".join(line for line in (self.message, DISCARD_AGAIN) if line)
        return wrapped_height(theme.font(28), footer, width) + theme.px(12)

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
            question = category_question(self.shown_category)
            draw_text(
                painter,
                QRect(info.left(), y, info.width(), theme.px(100)),
                question,
                theme.font(76, QFont.Weight.Light),
                WHITE,
                align,
            )
            y += theme.px(116)  # the runners-up are buttons: no "I am not sure (or: …)" line, no percentages
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
        if self._say_confidence:  # while asking, the question is the one line about the category
            y = self._paint_confidence(
                painter, theme, QRect(info.left(), y, info.width(), theme.px(CONFIDENCE_H)), garment, align
            )
        y = self._paint_colour(painter, theme, QRect(info.left(), y, info.width(), theme.px(60)), garment, align)
        other = self.colour_doubt
        if other and self._say_doubt:  # while the category is asked, the colour waits: one question at a time
            y = self._paint_note(painter, theme, info, y, f"or {colour_label(other).lower()}?", (30, 44), WARN, align)
        if self._say_seen:  # the others were not lost unseen: say that this is the one held up
            which = "the one you held" if self.held else "the main one"
            seen = f"I saw {self.seen} garments · showing {which}"
            if QFontMetrics(theme.font(28)).horizontalAdvance(seen) > info.width():
                seen = f"I saw {self.seen} garments"  # whole at full size rather than all of it squeezed
            y = self._paint_note(painter, theme, info, y, seen, (28, 40), GREY, align)
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

    @staticmethod
    def _paint_note(
        painter: QPainter,
        theme: Theme,
        info: QRect,
        y: int,
        text: str,
        size_and_height: tuple[int, int],
        colour: QColor,
        align: Qt.AlignmentFlag,
    ) -> int:
        """One short line under the answer, a little apart from what is above it; returns the next y."""
        size, height = size_and_height
        y += theme.px(8)
        draw_text(painter, QRect(info.left(), y, info.width(), theme.px(height)), text, theme.font(size), colour, align)
        return y + theme.px(height)

    def _paint_colour(
        self, painter: QPainter, theme: Theme, rect: QRect, garment: GarmentResult, align: Qt.AlignmentFlag
    ) -> int:
        """Swatch dot and ``Navy · blue`` or ``Light grey`` (or just the picked basic colour); returns the next y."""
        if self.colour is not None:
            text = colour_label(self.colour)
        else:
            text = colour_line(garment.color.name, garment.color.basic)
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
        """Right under the category: a thin bar and ``93 % sure it is a T-shirt`` (``your choice``
        once the person picked), so the figure reads as the category's, not the colour's. Not drawn
        while the mirror asks: the question says it is unsure, and its runners-up are buttons."""
        if self.category:
            text = "your choice"
        else:
            text = f"{round(garment.category_score * 100)} % sure {category_claim(garment.category)}"
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
        y = top.top() + self.main.layout(QRect(top.left(), top.top(), top.width(), main_h), main_h, gap) + gap
        answers_y = y
        if self.answers.buttons and self._show_answers:
            y += self.answers.layout(QRect(top.left(), y, top.width(), edit_h), edit_h, gap) + gap
        else:
            self.answers.rects = []
        self.edit.layout(QRect(top.left(), y, top.width(), edit_h), edit_h, gap)
        colour = next((r for b, r in zip(self.edit.buttons, self.edit.rects, strict=True) if b.key == COLOUR), None)
        if [b.key for b in self.answers.buttons] == [ALTERNATIVE] and colour is not None and colour.top() == y:
            # The colour's one-tap answer right above "Colour": the two read as one question.
            self.answers.rects = [QRect(colour.left(), answers_y, colour.width(), edit_h)]
        for row in self.rows():
            row.paint(painter, theme, self.row_has_focus(row))


__all__ = ["ALTERNATIVE", "ANSWER_PREFIX", "CATEGORY", "COLOUR", "DISCARD", "KEEP", "RETAKE", "ResultScreen"]
