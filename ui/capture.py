"""Capture: the dimmed live preview, corner marks, the garment found, hold-still feedback.

The person sees themselves in the glass already, so the preview is only a faint helper:
drawn at low opacity (it arrives mirror-flipped from the service when ``[camera] hflip``),
with the garment the segmenter found traced in bright white, so what the mirror will cut
out is unmistakable. A ring fills while the garment is held still and then counts down.
The screen only paints the newest frame it was given; it never waits for one. "Capture now"
is offered only while it can do something: not while the shot is being taken or analysed,
nor without a camera (then Cancel alone). A refused capture (the closet full) is said here,
in amber in place of the hint, since this is where the person pressed it. With ``[vision]
auto_capture`` off nothing counts down, so a garment in view is met with "Tap Capture now",
not "Hold still". Without a camera the hint is the core's own sentence (``mirror.wording``).

A preview frame repaints only the preview (with the garment's outline drawn over it), and a
turn of the ring only the ring: the rest of the 1080×1920 page does not change 15 to 30 times
a second, and repainting all of it cost a Pi's CPU-only raster ~30 ms a frame. The frame is
darkened and resized once when it arrives (:func:`ui.images.dimmed_frame`), so a paint copies it.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics, QImage, QPainter, QPainterPath, QPen, QTextLayout, QTextOption

from mirror.events import CaptureState, CaptureStateChanged, FrameReady
from mirror.wording import NO_CAMERA
from ui.buttons import Button, ButtonRow
from ui.images import dimmed_frame, fit
from ui.screen import Screen
from ui.theme import DIM, GREY, WARN, WHITE, Theme, draw_text, draw_wrapped, wrapped_height
from ui.vocab import on_lines

SHOOT, CANCEL = "shoot", "cancel"
#: Preview opacity: enough to find yourself in frame, dim enough not to outshine the glass.
PREVIEW_OPACITY = 0.42

_HINTS = {
    CaptureState.IDLE: "Hold the garment up between the corners",
    CaptureState.PRESENT: "Hold still",
    CaptureState.HOLDING: "Hold still",
    CaptureState.COUNTDOWN: "Hold still",
    CaptureState.CAPTURING: "Got it",
    CaptureState.ANALYSING: "Looking at it…",
    CaptureState.REVIEW: "",
    CaptureState.NO_CAMERA: on_lines(" · ".join(NO_CAMERA)),
}
#: A garment in view with ``[vision] auto_capture`` off: the shot is the person's tap.
TAP_NOW = "Tap Capture now"
#: An analysis takes well under a second; one still going after this long is not normal (a model
#: stuck in its runtime, a Pi throttled hot), and "Looking at it…" for ever reads as a frozen
#: mirror. Past it the hint says so and what the person can do. If the analysis never ends, the
#: health watchdog restarts the mirror (mirror.health, about a minute).
SLOW_ANALYSIS_S = 8.0
SLOW_HINT = "Taking longer than it should · wait, or Cancel and try again"


def orphaned(font: QFont, text: str, width: int) -> bool:
    """True when ``text`` wrapped to ``width`` leaves one word alone on a paragraph's last line
    ("Looking at / it…"). Lines the text breaks itself ("\\n", one per sense) are not judged."""
    metrics = QFontMetrics(font)
    for paragraph in text.split("\n"):
        words = paragraph.split()
        if len(words) < 2 or metrics.horizontalAdvance(paragraph) <= width:
            continue
        layout = QTextLayout(paragraph, font)
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WordWrap)
        layout.setTextOption(option)
        layout.beginLayout()
        last = ""
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            last = paragraph[line.textStart() : line.textStart() + line.textLength()]
        layout.endLayout()
        if len(last.split()) == 1:
            return True
    return False


class CaptureScreen(Screen):
    """Shows :class:`FrameReady` frames and :class:`CaptureStateChanged` feedback."""

    name = "capture"

    def __init__(self, font_scale: float = 1.0, show_preview: bool = True) -> None:
        super().__init__(font_scale)
        self.show_preview = show_preview
        self.auto_capture = True  # ``[vision] auto_capture``: a garment held still is shot by itself
        self.frame: FrameReady | None = None
        self._frame_no = 0  # counts set_frame calls: which frame the prepared image is of
        self._frame_size = QSize()  # the frame's pixels (the layout follows its shape)
        self._shown: QImage | None = None  # the frame darkened and resized for the preview
        self._shown_key: tuple[int, int, int] = (0, 0, 0)  # (frame, width, height) it was made for
        self.state = CaptureStateChanged(CaptureState.IDLE)
        # Distinct camera frames that reached the screen (a repaint of the same frame, e.g. for
        # the spinner, is not a preview frame): what the bench's preview fps counts.
        self.frames_painted = 0
        self._last_painted = 0
        # Where the last paint put what changes on its own (page coordinates), and for which
        # widget size, turn and frame shape: a new frame or a turn of the ring repaints only these.
        self._preview_placed = QRect()  # the preview image, on whole pixels
        self._preview_rect = QRect()  # that with its frame line and the garment's outline
        self._ring_rect = QRect()  # the ring, the countdown in it, the spinner
        self._laid_out_for: tuple[QSize, bool, QSize] | None = None
        self.message = ""  # why the last "Capture now" did nothing (amber, in place of the hint)
        self.buttons = ButtonRow([])
        self._offer_buttons()
        # Turns the spinner while the worker analyses, even when no preview frames come.
        self._spinner = QTimer(self)
        self._spinner.setInterval(50)
        self._spinner.timeout.connect(self._tick)
        self._busy_since: float | None = None  # monotonic time the shot's analysis started
        self._slow_shown = False

    def rows(self) -> list[ButtonRow]:
        return [self.buttons]

    def set_frame(self, frame: FrameReady) -> None:
        """Show this frame next paint (older ones are simply replaced), repainting only the preview.

        The frame is darkened and resized here, once, at the size the last paint gave the
        preview (a paint at another size makes it again, once)."""
        self.frame = frame
        self._frame_no += 1
        height, width = frame.image.shape[:2]
        self._frame_size = QSize(width, height)
        if not self._laid_out():
            self.update()  # first frame, a new frame shape, or a resized or turned panel: lay out again
            return
        if self.show_preview:
            self._preview_image(self._preview_placed.size())
        self.update_page(self._preview_rect)

    def set_state(self, state: CaptureStateChanged) -> None:
        changed = state.state != self.state.state
        self.state = state
        busy = state.state in (CaptureState.ANALYSING, CaptureState.CAPTURING)
        if busy != self._spinner.isActive():
            self._spinner.start() if busy else self._spinner.stop()
        if changed:
            self._busy_since = time.monotonic() if state.state == CaptureState.ANALYSING else None
            self._slow_shown = False
        if changed and busy:
            self.message = ""  # a shot is under way after all: the old refusal is out of date
        self._offer_buttons()
        if changed:
            self.update()  # the hint, the buttons and with them the layout may change
        else:
            self._repaint_ring()  # the hold progress or the countdown: only the ring moved

    def _laid_out(self) -> bool:
        """The last paint's rects still hold (same widget size, turn and frame shape)."""
        return self._laid_out_for == (self.size(), self.rotated(), self._frame_size)

    def _tick(self) -> None:
        """The spinner's step; once the analysis is slow, the whole page (the hint changes)."""
        if self.analysis_is_slow() and not self._slow_shown:
            self._slow_shown = True
            self.update()
        else:
            self._repaint_ring()

    def analysis_is_slow(self) -> bool:
        """The shot's analysis has run past :data:`SLOW_ANALYSIS_S`."""
        since = self._busy_since
        return since is not None and time.monotonic() - since >= SLOW_ANALYSIS_S

    def _repaint_ring(self) -> None:
        if self._laid_out():
            self.update_page(self._ring_rect)
        else:
            self.update()

    def _preview_image(self, size: QSize) -> QImage | None:
        """The current frame darkened and resized to ``size``: made once per frame and size."""
        frame = self.frame
        if frame is None or size.isEmpty():
            return None
        key = (self._frame_no, size.width(), size.height())
        if self._shown is None or self._shown_key != key:
            self._shown = dimmed_frame(frame.image, size.width(), size.height(), PREVIEW_OPACITY)
            self._shown_key = key
        return self._shown

    def set_message(self, text: str) -> None:
        """Say why a capture did not happen (empty: the state's own hint again)."""
        self.message = text
        self.update()

    def clear(self) -> None:
        self.frame = None
        self._shown = None
        self.message = ""
        self.set_state(CaptureStateChanged(CaptureState.IDLE))
        self.update()  # the preview goes too (set_state repaints only the ring when already idle)

    @property
    def can_shoot(self) -> bool:
        """True while "Capture now" would do something: a camera, and no shot being taken or analysed."""
        return self.state.state not in (CaptureState.CAPTURING, CaptureState.ANALYSING, CaptureState.NO_CAMERA)

    def _offer_buttons(self) -> None:
        """Capture now and Cancel, or Cancel alone while a shot cannot be taken (presses were ignored)."""
        shoot = self.can_shoot
        if shoot == (SHOOT in [b.key for b in self.buttons.buttons]) and self.buttons.buttons:
            return
        if shoot:
            self.buttons.set_buttons([Button(SHOOT, "Capture now", primary=True), Button(CANCEL, "Cancel")])
            self.buttons.focus_key(SHOOT)
        else:
            self.buttons.set_buttons([Button(CANCEL, "Cancel")])

    def hint(self) -> str:
        """The line under the ring: a refused capture's reason, else what to do in this state."""
        if self.message:
            return self.message
        if not self.auto_capture and self.state.state == CaptureState.PRESENT:
            return TAP_NOW
        if self.analysis_is_slow():
            return on_lines(SLOW_HINT)
        return _HINTS.get(self.state.state, "")

    def paint_page(self, painter: QPainter, theme: Theme) -> None:
        """Portrait: preview, ring, hint, buttons down the page. Landscape: the preview on the left,
        the ring and the hint under it in one column on the right (the eye goes from the ring to
        the words), the buttons at the bottom. The column widens when the hint needs it, and the
        preview gets what the others leave, so the hint is never cut off."""
        area = self.content_rect(theme)
        button_h = theme.px(96)
        radius = theme.px(96)
        gap = theme.px(32)
        frame_size = self._frame_size if self.frame is not None and not self._frame_size.isEmpty() else QSize(640, 480)
        hint = self.hint()
        hint_font = theme.font(52)
        buttons_top = area.bottom() + 1 - button_h
        if theme.portrait:  # preview on top, the ring and the hint under it
            hint_w = area.width()
            hint_h = max(theme.px(84), wrapped_height(hint_font, hint, hint_w) + theme.px(8))
            below = theme.px(60) + 2 * radius + gap + hint_h + gap + button_h
            preview_h = max(theme.px(120), min(int(area.width() * 0.9), area.height() - theme.px(40) - below))
            preview_area = QRect(area.left(), area.top() + theme.px(40), area.width(), preview_h)
            target = fit(frame_size, preview_area)
            centre = QPointF(area.center().x(), target.bottom() + theme.px(60) + radius)
            hint_top = int(centre.y() + radius + gap)
            hint_left = area.left()
        else:  # preview on the left, the ring and the hint in one column beside it
            room = buttons_top - gap - area.top()
            # The narrowest column that holds the hint and leaves no word alone on its last line
            # ("Looking at / it…" on a 7" panel); failing that, the narrowest that holds it.
            fallback: tuple[int, int] | None = None
            for share in (0.3, 0.36, 0.42, 0.5):
                hint_w = int(area.width() * share)
                hint_h = max(theme.px(84), wrapped_height(hint_font, hint, hint_w) + theme.px(8))
                if 2 * radius + gap + hint_h > room:
                    continue
                if not orphaned(hint_font, hint, hint_w):
                    break
                fallback = fallback or (hint_w, hint_h)
            else:
                hint_w, hint_h = fallback or (hint_w, hint_h)
            column_left = area.right() + 1 - hint_w
            preview_area = QRect(area.left(), area.top(), column_left - gap - area.left(), room)
            target = fit(frame_size, preview_area)
            column_h = min(room, 2 * radius + gap + hint_h)
            column_top = area.top() + max(0, min(int(target.center().y()) - column_h // 2, room - column_h))
            centre = QPointF(column_left + hint_w / 2, column_top + radius)
            hint_top = column_top + 2 * radius + gap
            hint_left = column_left
        # On whole pixels: the prepared image is then a plain copy, sampled as Qt's own smooth
        # scaling would (within 3 levels), and the frame line, the corners and the outline lie on it.
        placed = QRect(round(target.left()), round(target.top()), round(target.width()), round(target.height()))
        target = QRectF(placed)
        reach = theme.lx(4) + 2  # the outline's pen and its antialiasing, past the preview's edge
        self._preview_placed = placed
        self._preview_rect = placed.adjusted(-reach, -reach, reach, reach)
        ring = QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius).toAlignedRect()
        ring_reach = theme.lx(8) + 2  # the ring's widest pen
        self._ring_rect = ring.adjusted(-ring_reach, -ring_reach, ring_reach, ring_reach)
        self._laid_out_for = (self.size(), self.rotated(), frame_size)
        image = self._preview_image(placed.size()) if self.show_preview else None
        if image is not None:
            painter.drawImage(placed.topLeft(), image)
            if self._frame_no != self._last_painted:
                self._last_painted = self._frame_no
                self.frames_painted += 1
        painter.setPen(theme.pen(DIM, 1.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(target)
        self._paint_guide(painter, theme, target)
        if self.frame is not None:
            # Kept inside what a new frame repaints, so a stray point leaves no trace behind.
            painter.save()
            painter.setClipRect(self._preview_rect)
            self._paint_garment(painter, theme, target, self.frame, frame_size.width(), frame_size.height())
            painter.restore()
        self._paint_ring(painter, theme, centre, radius)

        colour = WARN if self.message or self.state.state == CaptureState.NO_CAMERA else WHITE
        hint_rect = QRect(hint_left, hint_top, hint_w, min(hint_h, buttons_top - gap // 2 - hint_top))
        draw_wrapped(painter, hint_rect, hint, hint_font, colour, Qt.AlignmentFlag.AlignCenter)
        width = min(area.width(), theme.px(700))
        row = QRect(area.center().x() - width // 2, buttons_top, width, button_h)
        self.buttons.layout(row, button_h, theme.lx(24))
        self.buttons.paint(painter, theme, self.row_has_focus(self.buttons))

    def _paint_guide(self, painter: QPainter, theme: Theme, target: QRectF) -> None:
        """Corner marks of the zone where a held-up garment is best seen."""
        dx, dy = target.width() * 0.2, target.height() * 0.1
        zone = target.adjusted(dx, dy, -dx, -dy)
        arm = min(zone.width(), zone.height()) * 0.14
        painter.setPen(theme.pen(GREY, 3))
        for corner, dx, dy in (
            (zone.topLeft(), 1, 1),
            (zone.topRight(), -1, 1),
            (zone.bottomLeft(), 1, -1),
            (zone.bottomRight(), -1, -1),
        ):
            painter.drawLine(corner, corner + QPointF(dx * arm, 0))
            painter.drawLine(corner, corner + QPointF(0, dy * arm))

    def _paint_garment(
        self, painter: QPainter, theme: Theme, target: QRectF, frame: FrameReady, width: int, height: int
    ) -> None:
        """The found garment's outline (or box) in white, mapped from frame pixels to the screen."""
        sx, sy = target.width() / max(1, width), target.height() / max(1, height)

        def mapped(x: float, y: float) -> QPointF:
            return QPointF(target.left() + x * sx, target.top() + y * sy)

        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(theme.pen(WHITE, 4))
        if frame.outline:
            path = QPainterPath()
            for polygon in frame.outline:
                if len(polygon) < 3:
                    continue
                path.moveTo(mapped(*polygon[0]))
                for x, y in polygon[1:]:
                    path.lineTo(mapped(x, y))
                path.closeSubpath()
            painter.drawPath(path)
        elif frame.box is not None:
            x0, y0, x1, y1 = frame.box
            painter.drawRoundedRect(QRectF(mapped(x0, y0), mapped(x1, y1)), theme.lx(12), theme.lx(12))

    def _paint_ring(self, painter: QPainter, theme: Theme, centre: QPointF, radius: int) -> None:
        """Hold progress as a filling ring, then the countdown number inside it; a spinner while analysing."""
        state = self.state
        ring = QRectF(centre.x() - radius, centre.y() - radius, radius * 2, radius * 2)
        if state.state in (CaptureState.HOLDING, CaptureState.COUNTDOWN):
            painter.setPen(theme.pen(DIM, 6))
            painter.drawEllipse(ring)
            progress = 1.0 if state.state == CaptureState.COUNTDOWN else max(0.0, min(1.0, state.progress))
            pen = QPen(theme.pen(WHITE, 8))
            painter.setPen(pen)
            painter.drawArc(ring, 90 * 16, -int(360 * 16 * progress))
            if state.state == CaptureState.COUNTDOWN and state.countdown is not None:
                draw_text(painter, ring.toRect(), str(state.countdown), theme.font(110, QFont.Weight.Light), WHITE)
        elif state.state in (CaptureState.ANALYSING, CaptureState.CAPTURING):
            painter.setPen(theme.pen(WHITE, 8))
            start = int((time.monotonic() * 360) % 360)
            painter.drawArc(ring, -start * 16, 100 * 16)
        elif state.state == CaptureState.PRESENT:
            painter.setPen(theme.pen(GREY, 3))
            for i in range(12):
                angle = math.radians(i * 30)
                inner, outer = radius * 0.8, radius
                painter.drawLine(
                    QPointF(centre.x() + inner * math.cos(angle), centre.y() + inner * math.sin(angle)),
                    QPointF(centre.x() + outer * math.cos(angle), centre.y() + outer * math.sin(angle)),
                )
