"""Closet: every kept garment as a cut-out on black, filtered by category and by colour.

Two rows of filter chips (each with its count, so the person sees what is there before
choosing) above a grid of cut-outs; arrows move between the rows and within them, Enter
applies a filter or opens a garment. Each cut-out carries a small sync badge: a filled dot
once the cloud has it, a ring while it waits in the outbox, nothing when sync is off.
Thumbnails arrive later from a worker thread; until then the tile shows its category.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QFont, QImage, QPainter

from mirror.events import Record
from ui.buttons import Button, ButtonRow
from ui.images import fit
from ui.screen import BACK, Screen
from ui.theme import DIM, FAINT, GREY, WHITE, Theme, draw_text
from ui.vocab import BASIC_TERMS, CATEGORIES, category_label, colour_label, swatch

CAT_PREFIX, COL_PREFIX, ITEM_PREFIX = "cat:", "col:", "item:"
ALL = "*"
#: Rows, top to bottom: Back (for touch; Esc does the same), the two filter rows, the grid.
BACK_ROW, FILTER_ROW, GRID_ROW = 0, 1, 3
SYNCED, WAITING, LOCAL = "synced", "waiting", "local"


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
        self.counts: dict[str, dict[str, int]] = {}
        self.total = 0
        self.categories = ButtonRow([])
        self.colours = ButtonRow([])
        self.grid = ButtonRow([])
        self.back = ButtonRow([Button(BACK, "Back")])
        self.first_line = 0  # the grid line shown at the top (scrolls with the focus)
        self.focus_row = GRID_ROW

    def rows(self) -> list[ButtonRow]:
        return [self.back, self.categories, self.colours, self.grid]

    def set_content(
        self, items: list[ClosetItem], counts: dict[str, dict[str, int]], category: str | None, colour: str | None
    ) -> None:
        """Show ``items`` (already filtered by ``category``/``colour``) and the counts for the chips."""
        self.items, self.counts, self.category, self.colour = items, counts, category, colour
        by_category = counts.get("category", {})
        self.total = sum(by_category.values())
        self.categories.set_buttons(
            [Button(CAT_PREFIX + ALL, "All", badge=str(self.total), selected=category is None)]
            + [
                Button(CAT_PREFIX + c, category_label(c), badge=str(by_category.get(c, 0)), selected=c == category)
                for c in CATEGORIES
            ]
        )
        by_colour = counts.get("basic_color", {})
        self.colours.set_buttons(
            [Button(COL_PREFIX + ALL, "All", badge=str(self.total), selected=colour is None)]
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
        self.grid.set_buttons([Button(ITEM_PREFIX + str(item.record.id), "") for item in items])
        if not items and self.focus_row == GRID_ROW:
            self.focus_row = FILTER_ROW
        self.update()

    def set_thumbnail(self, record_id: str, image: QImage) -> None:
        for item in self.items:
            if item.record.id == record_id:
                item.thumbnail = image
                self.update()

    def item(self, record_id: str) -> ClosetItem | None:
        return next((i for i in self.items if i.record.id == record_id), None)

    # --- painting -------------------------------------------------------------------------
    def paint_page(self, painter: QPainter, theme: Theme) -> None:
        area = self.content_rect(theme)
        header_h = theme.px(100)
        title = "Closet"
        draw_text(
            painter,
            QRect(area.left(), area.top(), area.width(), header_h),
            title,
            theme.font(64, QFont.Weight.Light),
            WHITE,
            Qt.AlignmentFlag.AlignLeft,
        )
        chip_h, gap = theme.px(68), theme.lx(14)
        back_w = theme.px(180)
        self.back.layout(
            QRect(area.right() - back_w, area.top() + (header_h - chip_h) // 2, back_w, 0), chip_h, gap
        )
        self.back.paint(painter, theme, self.row_has_focus(self.back))
        shown = f"{len(self.items)} of {self.total}" if (self.category or self.colour) else f"{self.total} garments"
        draw_text(
            painter,
            QRect(area.left(), area.top(), area.width() - back_w - theme.px(24), header_h),
            shown,
            theme.font(28),
            GREY,
            Qt.AlignmentFlag.AlignRight,
        )
        y = area.top() + header_h + theme.px(16)
        self.categories.columns = max(3, area.width() // theme.px(250))
        y += self.categories.layout(QRect(area.left(), y, area.width(), 0), chip_h, gap) + theme.px(20)
        self.colours.columns = max(3, area.width() // theme.px(210))
        y += self.colours.layout(QRect(area.left(), y, area.width(), 0), chip_h, gap) + theme.px(28)
        self.categories.paint(painter, theme, self.row_has_focus(self.categories))
        self.colours.paint(painter, theme, self.row_has_focus(self.colours))
        painter.setPen(theme.pen(FAINT, 2))
        painter.drawLine(area.left(), y - theme.px(14), area.right(), y - theme.px(14))
        self._paint_grid(painter, theme, QRect(area.left(), y, area.width(), area.bottom() - y))

    def _paint_grid(self, painter: QPainter, theme: Theme, area: QRect) -> None:
        if not self.items:
            text = "Nothing here yet: hold up a garment" if not self.total else "No garment matches these filters"
            draw_text(painter, QRect(area.left(), area.top(), area.width(), theme.px(160)), text, theme.font(40), GREY)
            self.grid.rects = []
            return
        gap = theme.lx(20)
        cols = max(2, area.width() // theme.px(300))
        cell = (area.width() - gap * (cols - 1)) // cols
        cell_h = int(cell * 1.15)
        visible_lines = max(1, (area.height() + gap) // (cell_h + gap))
        self.grid.columns = cols
        focus_line = self.grid.focus // cols
        if focus_line < self.first_line:
            self.first_line = focus_line
        elif focus_line >= self.first_line + visible_lines:
            self.first_line = focus_line - visible_lines + 1
        self.grid.rects = []
        for index, item in enumerate(self.items):
            line, col = divmod(index, cols)
            rect = QRect(
                area.left() + col * (cell + gap), area.top() + (line - self.first_line) * (cell_h + gap), cell, cell_h
            )
            visible = self.first_line <= line < self.first_line + visible_lines
            self.grid.rects.append(rect if visible else QRect())
            if visible:
                focused = self.row_has_focus(self.grid) and index == self.grid.focus
                self._paint_tile(painter, theme, rect, item, focused)

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
        painter.setBrush(swatch(record.color.basic, record.color.hex))
        painter.drawEllipse(QRect(label_rect.left() + theme.lx(16), label_rect.center().y() - dot // 2, dot, dot))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        draw_text(
            painter,
            label_rect.adjusted(theme.lx(16) + dot + theme.px(12), 0, -theme.px(40), 0),
            label,
            theme.font(28),
            WHITE if focused else GREY,
            Qt.AlignmentFlag.AlignLeft,
        )
        self._paint_badge(
            painter,
            theme,
            QRect(label_rect.right() - theme.px(36), label_rect.center().y() - dot // 2, dot, dot),
            item.sync,
        )
        painter.setPen(theme.pen(WHITE if focused else FAINT, 4 if focused else 1.5))
        radius = theme.lx(18)
        painter.drawRoundedRect(QRectF(rect), radius, radius)

    @staticmethod
    def _paint_badge(painter: QPainter, theme: Theme, rect: QRect, sync: str) -> None:
        """Filled dot: in the cloud. Ring: waiting to sync. Nothing: sync is off."""
        if sync == LOCAL:
            return
        painter.setPen(theme.pen(GREY if sync == SYNCED else DIM, 2))
        painter.setBrush(GREY if sync == SYNCED else Qt.BrushStyle.NoBrush)
        painter.drawEllipse(rect)
        painter.setBrush(Qt.BrushStyle.NoBrush)
