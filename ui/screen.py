"""The base of every screen: a black, painted page with focusable button rows.

Screens are painted rather than assembled from stock widgets because the look is the
product here (pure black, thin lines, sizes that follow the panel) and because painting
keeps each screen a plain function of the data it was given, which the screenshot script
and the tests render without a camera or a service. A screen never talks to the core: it
reports what the person pressed through :attr:`Screen.action` and the window decides.

A button acts as the finger lands on it. A tap on the bare glass (which some screens use, Home
starts a capture on it) counts only when it is one: a :class:`Contact` that lifts soon, near
where it landed, with one finger. Someone wiping the mirror with a cloth or a palm drags, rests,
or touches with several points at once, and must not set anything off.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QEventPoint,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QTouchEvent,
    QTransform,
)
from PySide6.QtWidgets import QWidget

from ui.buttons import ButtonRow
from ui.theme import BLACK, TextBlock, Theme, text_log

#: Keys every screen understands, mapped to (dx, dy) focus moves.
_MOVES = {
    Qt.Key.Key_Left: (-1, 0),
    Qt.Key.Key_Right: (1, 0),
    Qt.Key.Key_Up: (0, -1),
    Qt.Key.Key_Down: (0, 1),
}

#: Keys that jump rather than step (a screen with a long list may use them, see :meth:`Screen.jump`).
PAGE_UP, PAGE_DOWN, FIRST, LAST = "page_up", "page_down", "first", "last"
_JUMPS = {
    Qt.Key.Key_PageUp: PAGE_UP,
    Qt.Key.Key_PageDown: PAGE_DOWN,
    Qt.Key.Key_Home: FIRST,
    Qt.Key.Key_End: LAST,
}

BACK = "back"
SPACE = "space"

#: A tap on the glass lifts within this many seconds (Qt's own press-and-hold starts at 0.8 s):
#: a longer contact is a hand resting on the mirror or a cloth going over it, not a tap.
TAP_MAX_S = 0.8
#: How far (design units, ``Theme.lx``) a finger may wobble and still tap; the closet's drag
#: scrolling uses the same distance before a finger on a garment becomes a scroll.
TAP_SLOP = 24

_TOUCH_EVENTS = (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd, QEvent.Type.TouchCancel)


@dataclass
class Contact:
    """Something on the glass since ``since`` (``time.monotonic()``): a finger, or a cloth or palm wiping it.

    Only a tap when it lifts soon, near where it landed, and alone: what a person does to press.
    Wiping the mirror drags across it, rests on it, or touches with several points at once.
    """

    start: QPoint
    since: float
    moved: bool = False  # went further than the slop from ``start`` at some point
    crowded: bool = False  # more than one touch point at some point (a palm, two fingers, a cloth)

    def move_to(self, point: QPoint, slop: int) -> None:
        if (point - self.start).manhattanLength() >= slop:
            self.moved = True

    def is_tap(self, now: float) -> bool:
        return not self.moved and not self.crowded and now - self.since <= TAP_MAX_S


class Screen(QWidget):
    """A page of the mirror. Subclasses implement :meth:`paint_page` and list their :meth:`rows`."""

    #: The key of the button the person pressed, or ``back`` (Esc) / ``space`` (Space).
    action = Signal(str)
    name = "screen"
    #: Take the touch frame's own events rather than the mouse events Qt makes from them: only
    #: those say that a second finger (or a palm, or a cloth) is on the glass. For screens where a
    #: tap on the bare glass does something (Home); a screen with its own mouse handling (the
    #: closet's drag scrolling) keeps the mouse events, which touch events taken here would stop.
    counts_fingers: ClassVar[bool] = False

    def __init__(self, font_scale: float = 1.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.font_scale = font_scale
        #: ``[ui] orientation``: ``auto`` lays out for the window's shape; ``portrait`` or
        #: ``landscape`` on a window of the other shape (a panel mounted turned) turns the page.
        self.orientation = "auto"
        #: The panel's pixels per millimetre where known (see ``ui.theme.px_per_mm``): text and
        #: touch targets then keep a least size in millimetres. None: sized from pixels only.
        self.px_per_mm: float | None = None
        self.focus_row = 0
        #: The text painted last time, with its room and bounds (what the layout tests check).
        self.text_blocks: list[TextBlock] = []
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAutoFillBackground(False)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, self.counts_fingers)
        self._contact: Contact | None = None  # on the bare glass, not yet lifted
        self._finger_id = -1  # the touch point that started ``_contact``

    # --- what subclasses provide -------------------------------------------------------
    def rows(self) -> list[ButtonRow]:
        """The focusable rows, top to bottom (empty rows are skipped by the focus)."""
        return []

    def paint_page(self, painter: QPainter, theme: Theme) -> None:
        """Draw the page (the background is already black) and lay out the rows' rects."""

    def jump(self, where: str) -> bool:  # noqa: ARG002 (a screen without a long list ignores it)
        """PageUp/PageDown/Home/End (``page_up``, ``page_down``, ``first``, ``last``); False: not used here."""
        return False

    def _paint(self, painter: QPainter, theme: Theme) -> None:
        with text_log() as blocks:
            self.paint_page(painter, theme)
        self.text_blocks = blocks

    # --- shared behaviour ----------------------------------------------------------------
    def rotated(self) -> bool:
        """True when the page is drawn turned 90° (the configured orientation differs from the window's)."""
        wide = self.width() > self.height()
        return (self.orientation == "portrait" and wide) or (self.orientation == "landscape" and not wide)

    def theme(self) -> Theme:
        if self.rotated():
            return Theme.for_size(self.height(), self.width(), self.font_scale, self.px_per_mm)
        return Theme.for_size(self.width(), self.height(), self.font_scale, self.px_per_mm)

    def page_transform(self) -> QTransform:
        """From page to widget coordinates: none, or turned 90° (page x runs down the window,
        page y runs right to left) when :meth:`rotated`."""
        transform = QTransform()
        if self.rotated():
            transform.translate(self.width(), 0)
            transform.rotate(90)
        return transform

    def update_page(self, rect: QRect) -> None:
        """Repaint only ``rect`` of the page (page coordinates): what changed, not the whole panel."""
        self.update(self.page_transform().mapRect(QRectF(rect)).toAlignedRect())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802, ARG002 (Qt's signature)
        painter = QPainter(self)
        painter.fillRect(self.rect(), BLACK)  # clipped by Qt to what was asked to be repainted
        painter.setTransform(self.page_transform())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self._paint(painter, self.theme())
        painter.end()

    def relayout(self) -> None:
        """Lay the rows out without showing anything (hit tests before the first paint)."""
        theme = self.theme()
        image = QImage(max(1, theme.width), max(1, theme.height), QImage.Format.Format_RGB32)
        painter = QPainter(image)
        self._paint(painter, theme)
        painter.end()

    def current_key(self) -> str | None:
        rows = self.rows()
        self._clamp_focus(rows)
        return rows[self.focus_row].current() if rows and rows[self.focus_row].buttons else None

    def focus_key(self, key: str) -> bool:
        """Put the focus on the button ``key`` wherever it is."""
        for index, row in enumerate(self.rows()):
            if row.focus_key(key):
                self.focus_row = index
                self.update()
                return True
        return False

    def row_has_focus(self, row: ButtonRow) -> bool:
        rows = self.rows()
        return bool(rows) and 0 <= self.focus_row < len(rows) and rows[self.focus_row] is row

    def _clamp_focus(self, rows: list[ButtonRow]) -> None:
        if not rows:
            self.focus_row = 0
            return
        self.focus_row = max(0, min(self.focus_row, len(rows) - 1))
        if not rows[self.focus_row].buttons:
            for index, row in enumerate(rows):
                if row.buttons:
                    self.focus_row = index
                    break

    def move_focus(self, dx: int, dy: int) -> None:
        rows = self.rows()
        self._clamp_focus(rows)
        if not rows or rows[self.focus_row].move(dx, dy) or not dy:
            self.update()
            return
        index = self.focus_row + dy
        while 0 <= index < len(rows) and not rows[index].buttons:
            index += dy
        if 0 <= index < len(rows):
            self.focus_row = index
        self.update()

    def press(self) -> None:
        key = self.current_key()
        if key is not None:
            self.action.emit(key)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        key = Qt.Key(event.key())
        if key in _MOVES:
            self.move_focus(*_MOVES[key])
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.press()
        elif key == Qt.Key.Key_Escape or key == Qt.Key.Key_Backspace:
            self.action.emit(BACK)
        elif key == Qt.Key.Key_Space:
            self.action.emit(SPACE)
        elif key in _JUMPS and self.jump(_JUMPS[key]):
            self.update()
        else:
            super().keyPressEvent(event)

    # --- mouse and touch: a button acts as the finger lands, the bare glass when a tap lifts ---
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        self.finger_down(self.page_point(event))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        self.finger_moved(self.page_point(event))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802, ARG002 (Qt's signature)
        self.finger_up()

    def event(self, event: QEvent) -> bool:
        """Touch events (only with :attr:`counts_fingers`): every point on the glass, so a second one is seen."""
        if event.type() in _TOUCH_EVENTS and isinstance(event, QTouchEvent):
            self._touch(event)
            event.accept()  # taken: Qt makes no mouse events of it
            return True
        return super().event(event)

    def _touch(self, event: QTouchEvent) -> None:
        kind, points = event.type(), event.points()
        if kind == QEvent.Type.TouchCancel or not points:
            self._contact = None  # the system took the touch (a gesture, the window lost it)
            return
        if kind == QEvent.Type.TouchBegin:
            self._finger_id = points[0].id()
            self.finger_down(self.page_pos(points[0].position()), fingers=len(points))
        else:
            contact = self._contact
            if contact is not None:
                contact.crowded |= len(points) > 1 or points[0].id() != self._finger_id
                for point in points:
                    if point.id() == self._finger_id and point.state() != QEventPoint.State.Stationary:
                        self.finger_moved(self.page_pos(point.position()))
            if kind == QEvent.Type.TouchEnd:
                self.finger_up()

    def finger_down(self, point: QPoint, fingers: int = 1) -> None:
        """Something touched the page at ``point``: one finger on a button presses it now; else the
        bare glass waits for the contact to lift (:meth:`finger_up`)."""
        if fingers == 1 and self.press_button(point):
            self._contact = None
            return
        self._contact = Contact(point, time.monotonic(), crowded=fingers > 1)

    def finger_moved(self, point: QPoint) -> None:
        if self._contact is not None:
            self._contact.move_to(point, self.theme().lx(TAP_SLOP))

    def finger_up(self) -> None:
        """The contact lifted: a tap on the bare glass if it was one (see :class:`Contact`)."""
        contact, self._contact = self._contact, None
        # Not once the page is gone (the mirror turned to Capture on its own while the finger was down).
        if contact is not None and self.isVisible() and contact.is_tap(time.monotonic()):
            self.tapped(contact.start.x(), contact.start.y())

    def page_point(self, event: QMouseEvent) -> QPoint:
        """Where ``event`` is on the page (the page may be drawn turned, see :meth:`rotated`)."""
        return self.page_pos(event.position())

    def page_pos(self, position: QPointF) -> QPoint:
        """Where a point of the widget is on the page (the page may be drawn turned, see :meth:`rotated`)."""
        point = position.toPoint()
        return QPoint(point.y(), self.width() - point.x()) if self.rotated() else point

    def press_button(self, point: QPoint) -> bool:
        """Press the button at ``point`` (page coordinates), if there is one there."""
        for index, row in enumerate(self.rows()):
            key = row.hit(point)
            if key is not None:
                self.focus_row = index
                row.focus_key(key)
                self.update()
                self.action.emit(key)
                return True
        return False

    def press_at(self, point: QPoint) -> None:
        """A tap already judged one at ``point`` (page coordinates): press the button there, else :meth:`tapped`."""
        if not self.press_button(point):
            self.tapped(point.x(), point.y())

    def tapped(self, x: int, y: int) -> None:
        """A tap that hit no button (the home screen starts a capture on it): short, still, one finger."""

    def content_rect(self, theme: Theme) -> QRect:
        m = theme.margin
        return QRect(0, 0, theme.width, theme.height).adjusted(m, m, -m, -m)
