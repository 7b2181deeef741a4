"""Sizes, type and colours for a screen seen through two-way glass.

Only bright pixels show through the glass, so everything is drawn on pure black: white for
what matters, grey for what explains, thin lines, and colour only where it carries meaning
(the garment itself and its colour swatch). Every size is derived from the shorter side of
the screen (1080 px on both the portrait and the landscape panel) times ``[ui] font_scale``,
so one layout reads the same from 1.5 m on either panel and in a half-size dev window.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen

BLACK = QColor(0, 0, 0)
WHITE = QColor(255, 255, 255)
GREY = QColor(150, 150, 150)
DIM = QColor(80, 80, 80)
FAINT = QColor(40, 40, 40)
#: Warnings stay readable through the glass without shouting: a warm amber, used sparingly.
WARN = QColor(255, 196, 87)

FAMILY = "DejaVu Sans"
_VERTICAL = Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignVCenter
#: The panel the sizes below are designed for (shorter side, in pixels).
REFERENCE_SHORT_SIDE = 1080


@dataclass(frozen=True)
class Theme:
    """Pixel sizes for one screen size; build one per paint with :meth:`for_size`."""

    width: int
    height: int
    unit: float  # pixels per design pixel (1.0 on a 1080-wide portrait panel at font_scale 1)
    line_unit: float  # like ``unit`` but without font_scale: lines and margins track the panel only

    @classmethod
    def for_size(cls, width: int, height: int, font_scale: float = 1.0) -> Theme:
        base = max(1, min(width, height)) / REFERENCE_SHORT_SIDE
        return cls(width=width, height=height, unit=base * font_scale, line_unit=base)

    @property
    def portrait(self) -> bool:
        return self.height >= self.width

    def px(self, design: float) -> int:
        """A type-related size (scales with font_scale)."""
        return max(1, round(design * self.unit))

    def lx(self, design: float) -> int:
        """A line or margin size (scales with the panel only)."""
        return max(1, round(design * self.line_unit))

    @property
    def margin(self) -> int:
        return self.lx(64)

    def font(self, size: float, weight: QFont.Weight = QFont.Weight.Normal) -> QFont:
        font = QFont(FAMILY)
        font.setPixelSize(self.px(size))
        font.setWeight(weight)
        return font

    def pen(self, color: QColor, width: float = 2.0) -> QPen:
        pen = QPen(color)
        pen.setWidthF(max(1.0, width * self.line_unit))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return pen


def draw_text(
    painter: QPainter,
    rect: QRect | QRectF,
    text: str,
    font: QFont,
    color: QColor = WHITE,
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignCenter,
) -> None:
    """Draw ``text`` in ``rect``, shrinking it to one line's width instead of clipping it."""
    flags = align if align & _VERTICAL else align | Qt.AlignmentFlag.AlignVCenter
    painter.setFont(fit_font(font, text, int(rect.width())))
    painter.setPen(color)
    painter.drawText(rect, flags, text)


def message_colour(text: str) -> QColor:
    """Progress lines ("Saving…") in grey, anything else (a problem and its fix) in amber."""
    return GREY if text.endswith("…") else WARN


def draw_wrapped(
    painter: QPainter,
    rect: QRect | QRectF,
    text: str,
    font: QFont,
    color: QColor = WHITE,
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignCenter,
) -> None:
    """Draw ``text`` in ``rect``, wrapped over as many lines as fit (messages with their fix).

    With a horizontal ``align`` only, the text starts at the top of ``rect``.
    """
    flags = align if align & _VERTICAL else align | Qt.AlignmentFlag.AlignTop
    painter.setFont(font)
    painter.setPen(color)
    painter.drawText(rect, flags | Qt.TextFlag.TextWordWrap, text)


def fit_font(font: QFont, text: str, width: int) -> QFont:
    """``font``, made smaller when ``text`` would not fit in ``width`` pixels (never below 60 %)."""
    wanted = QFontMetrics(font).horizontalAdvance(text)
    if wanted <= width or wanted == 0:
        return font
    fitted = QFont(font)
    fitted.setPixelSize(max(1, int(font.pixelSize() * max(0.6, width / wanted))))
    return fitted


def elide(font: QFont, text: str, width: int) -> str:
    """``text`` cut with an ellipsis to fit ``width`` pixels."""
    return QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, width)
