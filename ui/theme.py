"""Sizes, type and colours for a screen seen through two-way glass.

Only bright pixels show through the glass, so everything is drawn on pure black: white for
what matters, grey for what explains, thin lines, and colour only where it carries meaning
(the garment itself and its colour swatch). Every size is derived from the shorter side of
the screen (1080 px on both the portrait and the landscape panel) times ``[ui] font_scale``,
so one layout reads the same from 1.5 m on either panel and in a half-size dev window.
Screens stack their parts by the room each one's text needs rather than at fixed heights, so
they hold over the whole allowed ``font_scale`` range (0.5–1.5, see mirror.config.settings).

Pixels alone say nothing about millimetres: the official 7" panel (800×480) made the smallest
text 12 px (about 2.3 mm) and chips 30 px (under 6 mm), too small to read or to hit. Where the
panel's physical size is known (``QScreen.physicalSize``, sensible values only: see
:func:`px_per_mm`), the sizes get a floor in millimetres: the smallest text at least
``MIN_TEXT_MM`` and the smallest touch target at least ``MIN_TOUCH_MM``, as if font_scale had
been raised, but never past the largest scale the layouts are tested to hold: on a tall portrait
page (``TALL_PORTRAIT``, 10:16 or taller) ``MAX_FLOOR_SCALE_PORTRAIT`` (1.7, so the 7" panel
turned upright, as a mirror hangs, gets both: it needs about 1.67), elsewhere ``MAX_FLOOR_SCALE``
(1.5, the largest font_scale; there the cap binds on the 7" panel lying landscape, 800×480 on
154×86 mm: the smallest text would be 19 px, 3.4 mm down its denser side (5.59 px/mm), and a
68-design-px touch target only 45 px, 8.7 mm across). So the smallest sizes keep floors of their
own rather than every size grow past what the layouts hold: :meth:`Theme.touch` makes a touch
target at least ``MIN_TOUCH_MM`` high (``Theme.least_touch``) and :meth:`Theme.font` the smallest
type (``SMALLEST_TEXT`` and below) at least ``MIN_TEXT_MM`` (``Theme.least_text``), whatever the
type's scale; text a screen makes smaller to fit stops there where it can reflow instead (About's
facts close up their rows); the closet's tile labels and the result's error line make room rather
than shrink (a swatch moves, the confidence line goes, a failed keep's error takes the runners-up's
row); tests/test_ui_layout.py holds every screen on the 7" panels to both floors.
Unknown or absurd sizes (an HDMI display's EDID may say 16×9 "mm", the offscreen platform
makes them up) leave the sizes as they were.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen

BLACK = QColor(0, 0, 0)
WHITE = QColor(255, 255, 255)
# Behind two-way glass a pixel shows at about a third of its level over the room's reflection,
# so anything much under 90 vanishes: the greys are as dark as they can be and still be seen
# (secondary text, unfocused button outlines, separators), not as dark as on a monitor.
GREY = QColor(190, 190, 190)
DIM = QColor(130, 130, 130)
FAINT = QColor(90, 90, 90)
#: Warnings stay readable through the glass without shouting: a warm amber, used sparingly.
WARN = QColor(255, 196, 87)

FAMILY = "DejaVu Sans"
_VERTICAL = Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignVCenter
#: The panel the sizes below are designed for (shorter side, in pixels).
REFERENCE_SHORT_SIDE = 1080
#: Type is never shrunk below this share of its size to fit (beyond it, it wraps or is elided).
MIN_SHRINK = 0.6
#: Where the panel's size in millimetres is known: the smallest regular text (design size
#: ``SMALLEST_TEXT``, e.g. Home's notes and the result's footer) is at least this tall...
MIN_TEXT_MM = 3.5
SMALLEST_TEXT = 28
#: ...and the smallest touch target (design height ``SMALLEST_TOUCH``: the closet's chips, the
#: result's edit buttons are 77) at least this tall: the usual minimum for a fingertip.
MIN_TOUCH_MM = 9.0
SMALLEST_TOUCH = 68
#: The floor raises the sizes at most as far as the largest ``[ui] font_scale`` would (the layouts
#: are tested up to it; tests/test_ui_layout checks the two agree)...
MAX_FLOOR_SCALE = 1.5
#: ...except on a tall portrait page (height at least ``TALL_PORTRAIT`` times the width: 9:16, 10:16
#: and the 7" panel's 3:5), where every screen is tested to hold at this scale too
#: (tests/test_ui_layout): above 1.5 a landscape page no longer fits the result's three rows of
#: buttons beside its text, and a 3:4 or square one not below them. The 7" panel upright needs ~1.67.
MAX_FLOOR_SCALE_PORTRAIT = 1.7
TALL_PORTRAIT = 1.6
#: A touch target's own floor (``Theme.least_touch``, where the scale's cap leaves it short) takes at
#: most this share of the page's shorter side: the 7" panel lying landscape needs 47–51 px of 480.
MAX_TOUCH_SHARE = 0.125
#: A panel whose diagonal is outside this range (millimetres) reports a size that is not its own.
SENSIBLE_DIAGONAL_MM = (60.0, 2600.0)
#: Pixels per millimetre outside this range (about 25 to 500 dpi) are not a real panel's either.
SENSIBLE_PX_PER_MM = (1.0, 20.0)


def px_per_mm(pixels: tuple[int, int], millimetres: tuple[float, float]) -> float | None:
    """Pixels per millimetre of a panel ``pixels`` (width, height) big and ``millimetres`` wide and high.

    ``None`` when the physical size is unknown (0) or absurd: a diagonal under 6 cm or over 2.6 m,
    a density outside 25–500 dpi, or a shape that does not match the pixels' (an EDID giving the
    aspect ratio instead of a size). A panel turned by the compositor may report its size unturned,
    so the other pairing is tried too. Of the two directions the denser one, so both meet the floor.
    """
    (w_px, h_px), (w_mm, h_mm) = pixels, millimetres
    if min(w_px, h_px) <= 0 or min(w_mm, h_mm) <= 0:
        return None
    if not SENSIBLE_DIAGONAL_MM[0] <= (w_mm**2 + h_mm**2) ** 0.5 <= SENSIBLE_DIAGONAL_MM[1]:
        return None
    low, high = SENSIBLE_PX_PER_MM
    for across_mm, down_mm in ((w_mm, h_mm), (h_mm, w_mm)):
        across, down = w_px / across_mm, h_px / down_mm
        if low <= min(across, down) and max(across, down) <= min(high, 1.25 * min(across, down)):
            return max(across, down)
    return None


@dataclass(frozen=True)
class Theme:
    """Pixel sizes for one screen size; build one per paint with :meth:`for_size`."""

    width: int
    height: int
    unit: float  # pixels per design pixel (1.0 on a 1080-wide portrait panel at font_scale 1)
    line_unit: float  # like ``unit`` but without font_scale: lines and margins track the panel only
    #: Where the panel's size is known and ``unit`` does not already give it: the least height
    #: (pixels) of a touch target, ``MIN_TOUCH_MM`` (0: none, or the sizes meet it as they are)...
    least_touch: int = 0
    #: ...and the least size (pixels) that text made smaller to fit should take, ``MIN_TEXT_MM`` (0: none,
    #: or ``MIN_SHRINK`` of the smallest text is that big already).
    least_text: int = 0

    @classmethod
    def for_size(cls, width: int, height: int, font_scale: float = 1.0, px_per_mm: float | None = None) -> Theme:
        """Sizes for a page ``width`` × ``height``; with the panel's ``px_per_mm`` (None: unknown),
        at least the floor in millimetres (see the module's doc)."""
        base = max(1, min(width, height)) / REFERENCE_SHORT_SIDE
        floor = floor_unit(base, px_per_mm, tall=height >= TALL_PORTRAIT * width)
        unit = max(base * font_scale, floor)
        least_touch = least_text = 0
        if floor and px_per_mm:  # a sensible size is known (``floor_unit`` is 0 otherwise)
            touch, text = (math.ceil(mm * px_per_mm - 1e-6) for mm in (MIN_TOUCH_MM, MIN_TEXT_MM))
            touch = min(touch, int(min(width, height) * MAX_TOUCH_SHARE))
            least_touch = touch if touch > round(SMALLEST_TOUCH * unit) else 0
            least_text = text if text > int(round(SMALLEST_TEXT * unit) * MIN_SHRINK) else 0
        return cls(width, height, unit, base, least_touch, least_text)

    @property
    def portrait(self) -> bool:
        return self.height >= self.width

    def px(self, design: float) -> int:
        """A type-related size (scales with font_scale)."""
        return max(1, round(design * self.unit))

    def touch(self, design: float) -> int:
        """The height of a touch target ``design`` high: like :meth:`px`, but at least ``MIN_TOUCH_MM``
        where the panel's size is known (the 7" panel lying landscape, where the type's scale is capped)."""
        return max(self.px(design), self.least_touch)

    def lx(self, design: float) -> int:
        """A line or margin size (scales with the panel only)."""
        return max(1, round(design * self.line_unit))

    @property
    def margin(self) -> int:
        return self.lx(64)

    def font(self, size: float, weight: QFont.Weight = QFont.Weight.Normal) -> QFont:
        """DejaVu Sans at ``size`` design pixels; the smallest sizes at least ``least_text`` (``MIN_TEXT_MM``)."""
        font = QFont(FAMILY)
        font.setPixelSize(max(self.px(size), self.least_text) if size <= SMALLEST_TEXT else self.px(size))
        font.setWeight(weight)
        return font

    def pen(self, color: QColor, width: float = 2.0) -> QPen:
        pen = QPen(color)
        pen.setWidthF(max(1.0, width * self.line_unit))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return pen


def floor_unit(base: float, px_per_mm: float | None, *, tall: bool = False) -> float:
    """The least ``Theme.unit`` that keeps text and touch targets their size in mm (0: none known),
    capped at the largest scale the layouts hold on that shape of page (``tall``: a tall portrait)."""
    if not px_per_mm:
        return 0.0
    text = MIN_TEXT_MM * px_per_mm / SMALLEST_TEXT
    touch = MIN_TOUCH_MM * px_per_mm / SMALLEST_TOUCH
    return min(max(text, touch), base * (MAX_FLOOR_SCALE_PORTRAIT if tall else MAX_FLOOR_SCALE))


@dataclass(frozen=True)
class TextBlock:
    """One piece of text as it was painted: the room it had and where its glyphs went."""

    text: str
    box: QRect  # the room it was given
    drawn: QRect  # its glyphs' bounds (outside ``box`` when it did not fit and was clipped)
    size: int  # the font's pixel size
    in_button: bool = False  # a button's label (it lies inside the button by design)
    elided: bool = False  # cut with an ellipsis to fit


_log: list[TextBlock] | None = None


@contextmanager
def text_log() -> Iterator[list[TextBlock]]:
    """Collect the text blocks painted inside the ``with`` (layout tests check them against the buttons)."""
    global _log
    outer, _log = _log, []
    try:
        yield _log
    finally:
        _log = outer


def _note(block: TextBlock) -> None:
    if _log is not None:
        _log.append(block)


def draw_text(
    painter: QPainter,
    rect: QRect | QRectF,
    text: str,
    font: QFont,
    color: QColor = WHITE,
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignCenter,
    *,
    in_button: bool = False,
) -> QRect:
    """Draw ``text`` on one line in ``rect``: made smaller (to 60 %) to fit, then elided, never clipped.

    Returns the bounds of the glyphs drawn.
    """
    flags = align if align & _VERTICAL else align | Qt.AlignmentFlag.AlignVCenter
    box = rect.toRect() if isinstance(rect, QRectF) else QRect(rect)
    fitted = fit_font(font, text, box.width())
    shown = text
    if QFontMetrics(fitted).horizontalAdvance(text) > box.width():
        shown = elide(fitted, text, box.width())
    painter.setFont(fitted)
    painter.setPen(color)
    drawn = QRectF(painter.drawText(box, int(flags), shown)).toRect()
    if text:
        _note(TextBlock(text, box, drawn, fitted.pixelSize(), in_button, shown != text))
    return drawn


def message_colour(text: str) -> QColor:
    """Progress lines ("Saving…") in grey, anything else (a problem and its fix) in amber."""
    return GREY if text.endswith("…") else WARN


def wrapped_height(font: QFont, text: str, width: int) -> int:
    """The height ``text`` takes wrapped to ``width`` pixels in ``font``."""
    if not text:
        return 0
    flags = int(Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap)
    return QFontMetrics(font).boundingRect(QRect(0, 0, max(1, width), 1 << 20), flags, text).height()


def fit_wrapped(font: QFont, text: str, width: int, height: int) -> QFont:
    """``font``, made smaller (never below 60 %) until ``text`` wrapped to ``width`` fits ``height``."""
    size = font.pixelSize()
    smallest = max(1, int(size * MIN_SHRINK))
    fitted = QFont(font)
    while size > smallest and wrapped_height(fitted, text, width) > height:
        size = max(smallest, int(size * 0.93))
        fitted.setPixelSize(size)
    return fitted


def draw_wrapped(
    painter: QPainter,
    rect: QRect | QRectF,
    text: str,
    font: QFont,
    color: QColor = WHITE,
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignCenter,
) -> QRect:
    """Draw ``text`` in ``rect``, wrapped over as many lines as it needs (messages with their fix).

    When those lines are taller than ``rect`` the type is made smaller (to 60 %) to fit.
    With a horizontal ``align`` only, the text starts at the top of ``rect``. Returns the
    bounds of the glyphs drawn.
    """
    flags = align if align & _VERTICAL else align | Qt.AlignmentFlag.AlignTop
    box = rect.toRect() if isinstance(rect, QRectF) else QRect(rect)
    fitted = fit_wrapped(font, text, box.width(), box.height())
    painter.setFont(fitted)
    painter.setPen(color)
    drawn = QRectF(painter.drawText(box, int(flags | Qt.TextFlag.TextWordWrap), text)).toRect()
    if text:
        _note(TextBlock(text, box, drawn, fitted.pixelSize()))
    return drawn


def fit_font(font: QFont, text: str, width: int) -> QFont:
    """``font``, made smaller when ``text`` would not fit in ``width`` pixels (never below 60 %)."""
    wanted = QFontMetrics(font).horizontalAdvance(text)
    if wanted <= width or wanted == 0:
        return font
    fitted = QFont(font)
    smallest = max(1, int(font.pixelSize() * MIN_SHRINK))
    size = max(smallest, int(font.pixelSize() * width / wanted))
    fitted.setPixelSize(size)
    while size > smallest and QFontMetrics(fitted).horizontalAdvance(text) > width:  # hinting is not linear
        size -= 1
        fitted.setPixelSize(size)
    return fitted


def elide(font: QFont, text: str, width: int) -> str:
    """``text`` cut with an ellipsis to fit ``width`` pixels."""
    return QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, width)
