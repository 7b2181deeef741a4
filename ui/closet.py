"""Closet: every kept garment as a cut-out on black, filtered by category and by colour.

Two rows of filter chips (each with its count, so the person sees what is there before
choosing; a colour's count is within the category chosen and the other way round) above a
grid of cut-outs; arrows move between the rows and within them, Enter applies a filter or
opens a garment, PageUp/PageDown move a page of the grid and Home/End go to the first and
the last garment. The mirror may have a touch frame and nothing else, so a drag up or down
on the grid scrolls it and, when the garments fill more than one screen, ▲ and ▼ buttons
(beside the count, or over the grid where the header has no room) page through them.
Where the wrapped chips would leave fewer than two lines of garments (a large
``font_scale``, a landscape panel) each filter row becomes one line that scrolls with the
focus, with a chevron where more chips wait (a finger-sized one: the chips' height square);
where even that leaves fewer than two lines (the 7" panel lying landscape) the two rows share
one line, side by side, and the grid takes smaller tiles (down to ``SMALLEST_TILE``) rather
than show one line of three garments to page through a hundred times. A filter with nothing
in it is drawn in the theme's disabled greys (at full strength: a half-transparent grey is
under what shows through the glass), and an empty closet shows no filters at all, only what
to do. The header says which garments
show of how many, and a thin bar beside the grid shows where they are in the list. Each
cut-out carries a small sync badge: a filled dot once the cloud has it, a ring while it
waits in the outbox, nothing when sync is off. Thumbnails arrive later from a worker thread;
until then the tile shows its category. Dark swatches get a light ring (a black dot on black
is not there through the glass).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QMouseEvent, QPainter

from mirror.events import ClosetCounts, Record
from ui.buttons import Button, ButtonRow, button_width, paint_button
from ui.images import fit
from ui.screen import BACK, FIRST, LAST, PAGE_DOWN, PAGE_UP, Screen
from ui.theme import DIM, FAINT, GREY, SMALLEST_TOUCH, WHITE, Theme, draw_text, draw_wrapped
from ui.vocab import BASIC_TERMS, CATEGORIES, category_label, colour_label, swatch

CAT_PREFIX, COL_PREFIX, ITEM_PREFIX = "cat:", "col:", "item:"
ALL = "*"
#: The ▲/▼ buttons' keys: the screen pages itself on them (the window has nothing to do).
PAGE_BACK, PAGE_MORE = "page:up", "page:down"
#: Rows in focus order: Back (for touch; Esc does the same), the two filter rows, the grid,
#: then ▲/▼ (after the grid, so Up from the grid still reaches the filters).
BACK_ROW, FILTER_ROW, COLOUR_ROW, GRID_ROW, PAGER_ROW = 0, 1, 2, 3, 4
SYNCED, WAITING, LOCAL = "synced", "waiting", "local"
EMPTY_CLOSET = "Nothing here yet · go Back and hold up a garment"
NO_MATCH = "No garment matches these filters · choose All types or All colours"
#: Below this luma a swatch is lost on black (through the glass more so): it gets a light ring.
DARK_LUMA = 72
#: A faint chip's swatch at this ``QColor.darker`` factor: a white dot at about DIM's level.
DIMMED_SWATCH = 200
#: Tiles are about this wide (design px); where one line of those is all the height holds, the
#: grid takes more, smaller ones, down to about ``SMALLEST_TILE``, until two lines fit.
TILE, SMALLEST_TILE = 300, 200


def is_dark(colour: QColor) -> bool:
    """Too dark to see as a dot on black (black, navy, deep purple)."""
    return 0.299 * colour.red() + 0.587 * colour.green() + 0.114 * colour.blue() < DARK_LUMA


def ring_dark_swatch(painter: QPainter, theme: Theme, dot: QRect, colour: QColor) -> None:
    """A light ring round a dark swatch ``dot``, so a black garment's dot is there on the glass."""
    if is_dark(colour):
        painter.setPen(theme.pen(WHITE, 2.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(dot)


def swatch_dot(button: QRect) -> QRect:
    """Where ``ui.buttons.paint_button`` puts the swatch dot in a button at ``button``."""
    dot = int(button.height() * 0.42)
    return QRect(button.left() + int(button.height() / 4), button.center().y() - dot // 2, dot, dot)


def ring_dark_swatches(painter: QPainter, theme: Theme, row: ButtonRow, has_focus: bool) -> None:
    """Ring the dark swatches of ``row`` as painted (not the focused button's: it is white, its dot shows)."""
    for index, (button, rect) in enumerate(zip(row.buttons, row.rects, strict=False)):
        if button.swatch is not None and not rect.isEmpty() and not (has_focus and index == row.focus):
            ring_dark_swatch(painter, theme, swatch_dot(rect), button.swatch)


@dataclass
class ChipRow(ButtonRow):
    """A row whose ``dimmed`` buttons are drawn faint: still there (and tappable, so nothing
    moves under the finger), but a filter with no garment, or ▲ at the top, does not invite.

    Faint is the disabled look (``FAINT`` outline, ``DIM`` type) at full opacity, not the
    button made transparent: through two-way glass anything much under 90 vanishes, and a
    grey at 40 % is 76 (a gap in the row, not a quiet chip). Its swatch is darkened to match.
    """

    dimmed: set[int] = field(default_factory=set)

    def paint(self, painter: QPainter, theme: Theme, has_focus: bool) -> None:
        for index, (button, rect) in enumerate(zip(self.buttons, self.rects, strict=False)):
            if rect.isEmpty():  # scrolled out of view
                continue
            focused = has_focus and index == self.focus
            if index in self.dimmed and not focused:
                paint_button(painter, theme, rect, replace(button, disabled=True), focused=False)
                if button.swatch is not None:  # its dot and ring as faint as the rest of it
                    painter.setPen(theme.pen(FAINT, 2.5))
                    painter.setBrush(button.swatch.darker(DIMMED_SWATCH))
                    painter.drawEllipse(swatch_dot(rect))
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                continue
            paint_button(painter, theme, rect, button, focused=focused)
            if button.swatch is not None and not focused:
                ring_dark_swatch(painter, theme, swatch_dot(rect), button.swatch)


@dataclass
class _Drag:
    """A finger down on the grid: a tap when it lifts where it landed, else a scroll."""

    start: QPoint
    first_line: int
    moved: bool = False


@dataclass
class ClosetItem:
    """One garment as the closet grid shows it."""

    record: Record
    sync: str = LOCAL  # SYNCED, WAITING or LOCAL
    thumbnail: QImage | None = None


class ClosetScreen(Screen):
    """Filters with counts and a scrolling grid of the garments that match them."""

    name = "closet"

    def __init__(self, font_scale: float = 1.0) -> None:
        super().__init__(font_scale)
        self.category: str | None = None
        self.colour: str | None = None
        self.items: list[ClosetItem] = []
        self.counts = ClosetCounts()
        self.total = 0
        self.categories = ChipRow([])
        self.colours = ChipRow([])
        self.grid = ButtonRow([])
        self.back = ButtonRow([Button(BACK, "Back")])
        self.pager = ChipRow([])  # ▲/▼, set at paint: only while the garments fill more than one screen
        self.first_line = 0  # the grid line shown at the top (scrolls with the focus)
        self.visible_lines = 1  # grid lines that fit (a PageUp/PageDown moves this many)
        self.chips_first = {id(self.categories): 0, id(self.colours): 0}  # one-line filter rows: first chip shown
        self.one_line_filters = False  # the filter rows each on one scrolling line (set at paint)
        self.shared_filter_line = False  # ...and those two lines side by side on one (a short page)
        self._filter_lines: dict[int, QRect] = {}  # a one-line filter row's line, chevrons included
        self._split: tuple[tuple[object, ...], int] | None = None  # _shared_split's last (inputs, answer)
        self._chevrons: list[tuple[QRect, ButtonRow, int]] = []  # tap targets: (where, row, chips to scroll)
        self._grid_area = QRect()  # where a finger down starts a drag (set at paint)
        self._line_h = 1  # a grid line's height and gap: the drag that scrolls one line
        self._drag: _Drag | None = None
        self.focus_row = GRID_ROW
        self.action.connect(self._page)

    def rows(self) -> list[ButtonRow]:
        return [self.back, self.categories, self.colours, self.grid, self.pager]

    def set_content(
        self,
        items: list[ClosetItem],
        counts: ClosetCounts,
        category: str | None,
        colour: str | None,
        total: int | None = None,
    ) -> None:
        """Show ``items`` (already filtered by ``category``/``colour``) and the counts for the chips.

        ``total``: garments in the closet (default: the sum of the category counts).
        """
        self.items, self.counts, self.category, self.colour = items, counts, category, colour
        by_category, by_colour = counts.category, counts.basic_color
        self.total = counts.garments if total is None else total
        self.categories.set_buttons(
            [Button(CAT_PREFIX + ALL, "All types", badge=str(sum(by_category.values())), selected=category is None)]
            + [
                Button(CAT_PREFIX + c, category_label(c), badge=str(by_category.get(c, 0)), selected=c == category)
                for c in CATEGORIES
            ]
        )
        self.colours.set_buttons(
            [Button(COL_PREFIX + ALL, "All colours", badge=str(sum(by_colour.values())), selected=colour is None)]
            + [
                Button(
                    COL_PREFIX + c,
                    colour_label(c),
                    badge=str(by_colour.get(c, 0)),
                    swatch=swatch(c),
                    selected=c == colour,
                )
                for c in BASIC_TERMS
            ]
        )
        for row in (self.categories, self.colours):
            if not self.total:  # nothing to filter: the chips would only say 0 twenty times
                row.set_buttons([])
            row.dimmed = {i for i, b in enumerate(row.buttons) if b.badge == "0" and not b.selected}
        self.grid.set_buttons([Button(ITEM_PREFIX + item.record.id, "") for item in items])
        if not items and self.focus_row == GRID_ROW:
            self.focus_row = FILTER_ROW
        self.update()

    def jump(self, where: str) -> bool:
        """PageUp/PageDown: a page of grid lines; Home/End: the first and the last garment."""
        if not self.items:
            return False
        cols = max(1, self.grid.columns)
        last_line = (len(self.items) - 1) // cols
        in_grid = self.focus_row == GRID_ROW
        self.focus_row = GRID_ROW
        if where == FIRST:
            self.grid.focus = 0
        elif where == LAST:
            self.grid.focus = len(self.items) - 1
        elif where == PAGE_DOWN and in_grid:
            page = max(1, self.visible_lines)
            self.grid.focus = min(len(self.items) - 1, self.grid.focus + page * cols)
            self.first_line = min(max(0, last_line - page + 1), self.first_line + page)
        elif where == PAGE_UP:
            if not in_grid:
                return False
            page = max(1, self.visible_lines)
            self.grid.focus = max(0, self.grid.focus - page * cols)
            self.first_line = max(0, self.first_line - page)
        return True

    def scroll_lines(self, lines: int) -> None:
        """Move the view ``lines`` grid lines down (up when negative), as far as the list goes.

        The grid's focus moves along, staying in view (the paint brings the focused garment
        into view, so a view without it would spring back).
        """
        if not self.items:
            return
        cols, page = max(1, self.grid.columns), max(1, self.visible_lines)
        last_line = (len(self.items) - 1) // cols
        self.first_line = max(0, min(self.first_line + lines, last_line - page + 1))
        line, col = divmod(self.grid.focus, cols)
        line = max(self.first_line, min(line + lines, self.first_line + page - 1, last_line))
        self.grid.focus = min(len(self.items) - 1, line * cols + col)
        self.update()

    def _page(self, key: str) -> None:
        """▲/▼ (tapped, or Enter on one): a screenful of garments back or on."""
        if key in (PAGE_BACK, PAGE_MORE):
            self.scroll_lines(max(1, self.visible_lines) * (1 if key == PAGE_MORE else -1))

    # --- touch: a finger on the grid taps a garment when it lifts where it landed, else scrolls ---
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        point = self.page_point(event)
        self._drag = _Drag(point, self.first_line) if self._grid_area.contains(point) else None
        if self._drag is None:
            self.press_at(point)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        drag = self._drag
        if drag is None:
            return
        moved = self.page_point(event) - drag.start
        if not drag.moved and moved.manhattanLength() < self.theme().lx(24):
            return  # a finger's wobble: still a tap
        drag.moved = True
        self.focus_row = GRID_ROW
        self.scroll_lines(drag.first_line - round(moved.y() / self._line_h) - self.first_line)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802, ARG002 (Qt's signature)
        drag, self._drag = self._drag, None
        if drag is not None and not drag.moved:
            self.press_at(drag.start)

    def tapped(self, x: int, y: int) -> None:
        """A tap on a chevron scrolls its filter row by the chips in view (the focus goes along)."""
        for rect, row, step in self._chevrons:
            if rect.contains(x, y):
                count = len(row.buttons)
                first = max(0, min(self.chips_first[id(row)] + step, count - 1))
                self.chips_first[id(row)] = first
                row.focus = first if step > 0 else min(count - 1, first - step - 1)
                self.focus_row = self.rows().index(row)
                self.update()
                return

    def item(self, record_id: str) -> ClosetItem | None:
        return next((i for i in self.items if i.record.id == record_id), None)

    # --- painting -------------------------------------------------------------------------
    def paint_page(self, painter: QPainter, theme: Theme) -> None:
        self._clamp_focus(self.rows())  # e.g. onto Back when an empty closet has no filters
        area = self.content_rect(theme)
        header_h = theme.px(100)
        chip_h, gap = theme.touch(SMALLEST_TOUCH), theme.lx(14)  # a fingertip's height, in mm where known
        back_w = max(theme.px(180), self.back.natural_width(theme, chip_h))
        title_rect = draw_text(
            painter,
            QRect(area.left(), area.top(), area.width() - back_w - theme.px(24), header_h),
            "Closet",
            theme.font(64, QFont.Weight.Light),
            WHITE,
            Qt.AlignmentFlag.AlignLeft,
        )
        self.back.layout(
            QRect(area.right() + 1 - back_w, area.top() + (header_h - chip_h) // 2, back_w, 0), chip_h, gap
        )
        self.back.paint(painter, theme, self.row_has_focus(self.back))
        font = theme.font(28)
        info_left = title_rect.right() + theme.px(24)
        info_right = area.right() + 1 - back_w - theme.px(24)
        pager_w = 2 * chip_h + gap
        most = len(self.items)
        # ▲/▼ beside the count where it still fits whole (its height is for garments), else on
        # a line of their own over the grid.
        room = info_right - info_left - pager_w - theme.px(24)
        pager_in_header = room >= QFontMetrics(font).horizontalAdvance(f"{most}–{most} of {most} garments")
        y = area.top() + header_h + theme.px(16)
        self._chevrons = []
        if self.total:  # an empty closet has nothing to filter
            y = self._layout_filters(theme, QRect(area.left(), y, area.width(), area.bottom() - y), chip_h, gap)
            for row in (self.categories, self.colours):
                row.paint(painter, theme, self.row_has_focus(row))
                if self.one_line_filters:
                    self._paint_chevrons(painter, theme, row, self._filter_lines[id(row)])
            painter.setPen(theme.pen(FAINT, 2))
            painter.drawLine(area.left(), y - theme.px(14), area.right(), y - theme.px(14))
        grid = QRect(area.left(), y, area.width(), area.bottom() + 1 - y)
        shown = self._paint_grid(painter, theme, grid, 0 if pager_in_header else chip_h + theme.px(16))
        if self.pager.buttons:
            top = area.top() + (header_h - chip_h) // 2 if pager_in_header else y
            right = info_right if pager_in_header else area.right() + 1
            self.pager.rects = [QRect(right - pager_w, top, chip_h, chip_h), QRect(right - chip_h, top, chip_h, chip_h)]
            self.pager.paint(painter, theme, self.row_has_focus(self.pager))
            if pager_in_header:
                info_right -= pager_w + theme.px(24)
        info = QRect(info_left, area.top(), info_right - info_left, header_h)
        fits = QFontMetrics(font).horizontalAdvance(shown) <= info.width()
        if "–" in shown and not fits:
            shown = shown.removesuffix(" garments")  # "7–12 of 300" still says it, at full size
        if self.total or fits:  # an empty closet's page says so in words: "0 garments" squeezed adds nothing
            draw_text(painter, info, shown, font, GREY, Qt.AlignmentFlag.AlignRight)

    def _min_grid_height(self, theme: Theme, width: int, tile: int = TILE) -> int:
        """One line of garments at a size where they still read as garments (tiles about
        ``tile`` design px wide)."""
        cols = max(2, width // theme.px(tile))
        cell = (width - theme.lx(20) * (cols - 1)) // cols
        return min(theme.px(tile), int(cell * 0.9))

    def _layout_filters(self, theme: Theme, area: QRect, chip_h: int, gap: int) -> int:
        """Lay out both filter rows from the top of ``area``; return the grid's top.

        Wrapped over as many lines as their labels need when that leaves two lines of garments
        (one line of a long closet is a letterbox to page through), else each on one line that
        scrolls with its focus; where two such lines still leave no room for two lines of the
        smallest tiles (a short landscape panel), the two share one line, side by side.
        """
        rows = (self.categories, self.colours)
        for row in rows:
            row.fit_columns(theme, area.width(), chip_h, gap)
        wrapped = sum(row.height_for(chip_h, gap) for row in rows) + theme.px(20) + theme.px(28)
        self.one_line_filters = wrapped + 2 * self._min_grid_height(theme, area.width()) > area.height()
        stacked = 2 * chip_h + theme.px(20) + theme.px(28)
        smallest = 2 * self._min_grid_height(theme, area.width(), SMALLEST_TILE) + theme.lx(20)
        self.shared_filter_line = self.one_line_filters and stacked + smallest > area.height()
        self._filter_lines = {}
        y = area.top()
        if not self.one_line_filters:
            y += self.categories.layout(QRect(area.left(), y, area.width(), 0), chip_h, gap) + theme.px(20)
            y += self.colours.layout(QRect(area.left(), y, area.width(), 0), chip_h, gap) + theme.px(28)
            return y
        if self.shared_filter_line:
            room = area.width() - theme.px(24)
            split = self._shared_split(theme, room, chip_h, gap)
            lines = (
                QRect(area.left(), y, split, chip_h),
                QRect(area.right() + 1 - (room - split), y, room - split, chip_h),
            )
            for row, line in zip(rows, lines, strict=True):
                self._filter_lines[id(row)] = line
                self._layout_one_line(theme, row, line, gap)
            return y + chip_h + theme.px(28)
        for row, after in ((self.categories, theme.px(20)), (self.colours, theme.px(28))):
            line = QRect(area.left(), y, area.width(), chip_h)
            self._filter_lines[id(row)] = line
            self._layout_one_line(theme, row, line, gap)
            y += chip_h + after
        return y

    def _shared_split(self, theme: Theme, room: int, chip_h: int, gap: int) -> int:
        """The categories' share of ``room`` on a shared filter line: half, or where one row then
        shows a chip more from its start and the other none fewer (on the 7" panel "T-shirt" joins
        "All types", and "All colours" still shows in a little less than half). From the rows'
        starts, so the line does not move under the finger as they scroll. Worked out once per
        panel and set of chips: it measures every chip, and the closet paints at every scroll step."""
        rows = (self.categories, self.colours)
        chips = tuple(tuple((b.label, b.badge, b.swatch is None) for b in row.buttons) for row in rows)  # their widths
        inputs = (theme, room, chip_h, gap, chips)
        if self._split is not None and self._split[0] == inputs:
            return self._split[1]
        natural = [[button_width(theme, b, chip_h) for b in row.buttons] for row in rows]

        def shown(split: int) -> tuple[int, ...]:
            """Chips shown whole in each row (none where the first is squeezed to fit)."""
            counts = []
            for row, width, wanted in zip(rows, (split, room - split), natural, strict=True):
                _, last, widths = self._one_line_span(theme, row, width, chip_h, gap, from_start=True)
                counts.append(last + 1 if widths[: last + 1] == wanted[: last + 1] else 0)
            return tuple(counts)

        half = room // 2
        at_half = shown(half)
        candidates = []
        for index, widths in enumerate(natural):
            used = 0
            for last, width in enumerate(widths):
                used += width + (gap if last else 0)
                need = used + (chip_h if last < len(widths) - 1 else 0)  # › while more wait
                if 2 * chip_h <= need <= room - 2 * chip_h:
                    candidates.append(need if index == 0 else room - need)
        best, best_shown = half, at_half
        for split in sorted(candidates, key=lambda s: abs(s - half)):
            counts = shown(split)
            if all(n >= h for n, h in zip(counts, at_half, strict=True)) and sum(counts) > sum(best_shown):
                best, best_shown = split, counts
        self._split = (inputs, best)
        return best

    def _one_line_span(
        self, theme: Theme, row: ButtonRow, width: int, height: int, gap: int, *, from_start: bool = False
    ) -> tuple[int, int, list[int]]:
        """(first, last, widths): the chips a one-line row ``width`` wide shows, the focused one
        among them (``from_start``: the first one), and every chip's width there."""
        count = len(row.buttons)
        widths = [min(width, button_width(theme, b, height)) for b in row.buttons]
        if sum(widths) + gap * (count - 1) <= width:
            return 0, count - 1, widths
        chevron = height
        widths = [min(w, max(1, width - 2 * chevron)) for w in widths]

        def last_shown(first: int) -> int:
            room = width - (2 if first > 0 else 1) * chevron  # ‹ only once scrolled
            used, last = widths[first], first
            while last + 1 < count and used + gap + widths[last + 1] <= room:
                last += 1
                used += gap + widths[last]
            return last

        if from_start:
            return 0, last_shown(0), widths
        first = min(self.chips_first[id(row)], row.focus)
        while last_shown(first) < row.focus:
            first += 1
        while first > 0 and last_shown(first - 1) == count - 1:  # no room left empty at the end
            first -= 1
        return first, last_shown(first), widths

    def _layout_one_line(self, theme: Theme, row: ButtonRow, line: QRect, gap: int) -> None:
        """As many chips as fit on ``line`` at their own widths, the focused one among them; a
        chevron's room (as wide as the chips are high: a fingertip's target) at an end where
        more chips wait."""
        row.columns = 0  # one line: Left/Right go through every chip
        count = len(row.buttons)
        first, last, widths = self._one_line_span(theme, row, line.width(), line.height(), gap)
        if first > 0:
            line = line.adjusted(line.height(), 0, 0, 0)
        self.chips_first[id(row)] = first
        row.rects = [QRect() for _ in range(count)]
        x = line.left()
        for index in range(first, last + 1):
            row.rects[index] = QRect(x, line.top(), widths[index], line.height())
            x += widths[index] + gap

    def _paint_chevrons(self, painter: QPainter, theme: Theme, row: ButtonRow, line: QRect) -> None:
        """‹ and › at the ends of a one-line filter row's ``line`` where chips are out of view
        (a tap scrolls to them); each a square as high as the chips, a fingertip's target."""
        shown = [i for i, r in enumerate(row.rects) if not r.isEmpty()]
        if not shown or len(shown) == len(row.buttons):
            return
        size = line.height()
        painter.setPen(theme.pen(GREY, 3))
        for more, left, step in (
            (shown[0] > 0, line.left(), -len(shown)),
            (shown[-1] < len(row.buttons) - 1, line.right() + 1 - size, len(shown)),
        ):
            if not more:
                continue
            rect = QRect(left, line.top(), size, size)
            self._chevrons.append((rect, row, step))
            cx, cy, arm = rect.center().x(), rect.center().y(), size * 0.18
            tip = cx - arm / 2 if step < 0 else cx + arm / 2
            back = cx + arm / 2 if step < 0 else cx - arm / 2
            painter.drawLine(QPointF(back, cy - arm), QPointF(tip, cy))
            painter.drawLine(QPointF(tip, cy), QPointF(back, cy + arm))

    def _paint_grid(self, painter: QPainter, theme: Theme, area: QRect, pager_room: int) -> str:
        """The garments that fit, as tall as the room allows; returns the header's count line.

        When they fill more than one screen, ▲/▼ are offered (``pager_room``: the height they
        take over the grid, 0 when they go in the header).
        """
        filtered = bool(self.category or self.colour)
        everything = f"{len(self.items)} of {self.total}" if filtered else f"{self.total} garments"
        self._grid_area = QRect()
        if not self.items:
            self._offer_pager(False, False, False)
            text = NO_MATCH if self.total else EMPTY_CLOSET
            room = QRect(area.left(), area.top(), area.width(), min(area.height(), theme.px(240)))
            draw_wrapped(painter, room, text, theme.font(40), GREY, Qt.AlignmentFlag.AlignHCenter)
            self.grid.rects = []
            return everything
        gap = theme.lx(20)
        bar_w = theme.lx(24)
        cols, cell, cell_h, lines = self._grid_shape(theme, area.width(), area.height(), gap)
        total_lines = -(-len(self.items) // cols)
        scrolls = total_lines > lines
        if scrolls:  # room for the position bar at the right, and for ▲/▼
            area = area.adjusted(0, pager_room, 0, 0)
            cols, cell, cell_h, lines = self._grid_shape(theme, area.width() - bar_w, area.height(), gap)
            total_lines = -(-len(self.items) // cols)
        self.grid.columns = cols
        self.visible_lines = lines
        self._grid_area, self._line_h = area, cell_h + gap
        focus_line = self.grid.focus // cols
        self.first_line = max(0, min(self.first_line, total_lines - lines))
        if focus_line < self.first_line:
            self.first_line = focus_line
        elif focus_line >= self.first_line + lines:
            self.first_line = focus_line - lines + 1
        self._offer_pager(scrolls, self.first_line == 0, self.first_line + lines >= total_lines)
        self.grid.rects = []
        for index, item in enumerate(self.items):
            line, col = divmod(index, cols)
            rect = QRect(
                area.left() + col * (cell + gap), area.top() + (line - self.first_line) * (cell_h + gap), cell, cell_h
            )
            visible = self.first_line <= line < self.first_line + lines
            self.grid.rects.append(rect if visible else QRect())
            if visible:
                focused = self.row_has_focus(self.grid) and index == self.grid.focus
                self._paint_tile(painter, theme, rect, item, focused)
        if not scrolls:
            return everything
        first = self.first_line * cols + 1
        last = min(len(self.items), (self.first_line + lines) * cols)
        self._paint_position(painter, theme, area, lines, total_lines)
        return f"{first}–{last} of {len(self.items)}" if filtered else f"{first}–{last} of {self.total} garments"

    def _offer_pager(self, scrolls: bool, at_top: bool, at_end: bool) -> None:
        """▲/▼ while the garments fill more than one screen, faint at the end they cannot go past."""
        self.pager.set_buttons([Button(PAGE_BACK, "▲"), Button(PAGE_MORE, "▼")] if scrolls else [])
        self.pager.dimmed = {i for i, end in enumerate((at_top, at_end)) if end and scrolls}
        if not scrolls and self.focus_row == PAGER_ROW:  # they went (a filter, a resize): back to the grid
            self.focus_row = GRID_ROW if self.items else FILTER_ROW

    def _grid_shape(self, theme: Theme, width: int, height: int, gap: int) -> tuple[int, int, int, int]:
        """(columns, cell width, cell height, lines) filling ``height`` with whole lines of tiles.

        As many columns as tiles about ``TILE`` wide fit, or fewer where one line of those could
        not grow tall enough to fill the height (a 16:10 landscape panel): wider tiles, no band
        of empty glass under them. Where that is one line only (a short landscape panel), more
        columns of smaller tiles (down to about ``SMALLEST_TILE``) when two lines of them fit:
        a screen of one line is a letterbox to page through.
        """

        def shape(cols: int) -> tuple[int, int, int, int, bool]:
            cell = (width - gap * (cols - 1)) // cols
            ideal = int(cell * 1.15)
            lines = max(1, (height + gap) // (int(ideal * 0.8) + gap))
            room = (height - gap * (lines - 1)) // lines
            return cols, cell, max(1, min(int(ideal * 1.3), room)), lines, room <= int(ideal * 1.3)

        most = max(2, width // theme.px(TILE))
        shapes = [shape(cols) for cols in range(most, 1, -1)]
        found = next((s for s in shapes if s[4]), shapes[0])  # the tiles fill the height
        if found[3] < 2:
            for cols in range(most + 1, max(2, width // theme.px(SMALLEST_TILE)) + 1):
                smaller = shape(cols)
                if smaller[3] >= 2:
                    found = smaller
                    break
        return found[:4]

    def _paint_position(self, painter: QPainter, theme: Theme, area: QRect, lines: int, total_lines: int) -> None:
        """A thin bar at the right of the grid: how much of the list shows, and where."""
        x = area.right() - theme.lx(6)
        top, height = area.top(), area.height()
        painter.setPen(theme.pen(FAINT, 4))
        painter.drawLine(x, top, x, top + height)
        start = top + height * self.first_line // total_lines
        end = top + height * min(total_lines, self.first_line + lines) // total_lines
        painter.setPen(theme.pen(GREY, 4))
        painter.drawLine(x, start, x, max(start + theme.lx(8), end))

    def _paint_tile(self, painter: QPainter, theme: Theme, rect: QRect, item: ClosetItem, focused: bool) -> None:
        label_h = theme.px(44)
        image_rect = rect.adjusted(theme.lx(12), theme.lx(12), -theme.lx(12), -label_h - theme.lx(8))
        if item.thumbnail is not None and not item.thumbnail.isNull():
            painter.drawImage(fit(item.thumbnail.size(), image_rect), item.thumbnail)
        record = item.record
        label = category_label(record.category)
        painter.setPen(theme.pen(GREY, 1.5))
        dot = theme.px(20)
        label_rect = QRect(rect.left(), rect.bottom() - label_h, rect.width(), label_h)
        colour = swatch(record.color.basic, record.color.hex)
        dot_rect = QRect(label_rect.left() + theme.lx(16), label_rect.center().y() - dot // 2, dot, dot)
        font = theme.font(28)
        label_w = QFontMetrics(font).horizontalAdvance(label)
        text_rect = label_rect.adjusted(theme.lx(16) + dot + theme.px(12), 0, -theme.px(40), 0)
        badge = QRect(label_rect.right() - theme.px(36), label_rect.center().y() - dot // 2, dot, dot)
        if label_w > text_rect.width():
            # A small tile (a short panel): the sync badge goes to the top corner, so that the
            # label keeps its size rather than shrink under the mm floor ("Trousers" on the 7")...
            text_rect.setRight(rect.right() - theme.lx(12))
            badge.moveTo(rect.right() - theme.lx(12) - dot, rect.top() + theme.lx(12))
        if label_w > text_rect.width():
            # ...and where that is not enough ("Long sleeve", "Outerwear"), the swatch goes to the
            # other top corner: the label has the tile's whole width.
            text_rect.setLeft(rect.left() + theme.lx(12))
            dot_rect.moveTo(rect.left() + theme.lx(12), rect.top() + theme.lx(12))
        painter.setBrush(colour)
        painter.drawEllipse(dot_rect)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        ring_dark_swatch(painter, theme, dot_rect, colour)
        draw_text(
            painter,
            text_rect,
            label,
            font,
            WHITE if focused else GREY,
            Qt.AlignmentFlag.AlignLeft,
            in_button=True,
        )
        self._paint_badge(painter, theme, badge, item.sync)
        painter.setPen(theme.pen(WHITE if focused else FAINT, 4 if focused else 1.5))
        radius = theme.lx(18)
        painter.drawRoundedRect(QRectF(rect), radius, radius)

    @staticmethod
    def _paint_badge(painter: QPainter, theme: Theme, rect: QRect, sync: str) -> None:
        """Filled dot: backed up. Ring: not backed up yet. Nothing: backup (sync) is off."""
        if sync == LOCAL:
            return
        painter.setPen(theme.pen(GREY if sync == SYNCED else DIM, 2))
        painter.setBrush(GREY if sync == SYNCED else Qt.BrushStyle.NoBrush)
        painter.drawEllipse(rect)
        painter.setBrush(Qt.BrushStyle.NoBrush)
