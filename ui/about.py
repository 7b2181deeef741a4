"""About: who this mirror is and how its parts are doing, for the person who installs it.

Device id, software version, the version of each model, the broker and the storage used:
what a support call or ``smart-mirror doctor`` would ask first, readable on the glass. The
technical cause of the last problem (a path, a driver's or a library's words) is listed here
too: the rest of the mirror says problems in plain words for whoever stands in front of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter

from mirror.events import About, Level, Status
from ui.buttons import Button, ButtonRow
from ui.screen import Screen
from ui.theme import (
    FAINT,
    GREY,
    MIN_SHRINK,
    WARN,
    WHITE,
    Theme,
    draw_text,
    draw_wrapped,
    fit_font,
    wrapped_height,
)

BACK_HOME = "back_home"
PROBLEM = "Last problem"


BUTTON_H = 96
TITLE_H = 110
GUTTER = 48
#: A fact's value is made at most this much smaller to stay on one line; longer, it takes two.
ONE_LINE_SHRINK = 0.85
#: A column's labels take at most this share of it ("Model · segmenter" beside "1.2.0").
LABEL_SHARE = 0.6


class AboutScreen(Screen):
    """Two columns of facts; Esc or Back returns home."""

    name = "about"

    def __init__(self, font_scale: float = 1.0) -> None:
        super().__init__(font_scale)
        self.about: About | None = None
        self.status = Status()
        self.problem = ""  # the technical detail of the last error, for the installer
        self.buttons = ButtonRow([Button(BACK_HOME, "Back", primary=True)])

    def rows(self) -> list[ButtonRow]:
        return [self.buttons]

    def set_about(self, about: About | None, status: Status) -> None:
        self.about, self.status = about, status
        self.update()

    def set_problem(self, detail: str) -> None:
        """Remember the technical cause of the last error (shown as the last fact)."""
        self.problem = " ".join(detail.split())
        self.update()

    def facts(self) -> list[tuple[str, str, bool]]:
        """(label, value, is_problem) lines in display order."""
        about = self.about
        lines: list[tuple[str, str, bool]] = []
        if about is not None:
            lines += [("Device", about.device_id, False), ("Version", about.version, False)]
            lines += [(f"Model · {name}", version, False) for name, version in sorted(about.model_versions.items())]
            lines += [
                ("Broker", about.broker, False),
                ("Closet", f"{about.records} garments · {about.storage_used_mb:.1f} MB", False),
            ]
        for part in self.status.parts():
            lines.append((part.label.capitalize(), part.detail, part.level != Level.OK))
        if self.problem:
            lines.append((PROBLEM, self.problem, True))
        return lines

    def fact_rows(self, theme: Theme, count: int, back_in_header: bool = False) -> tuple[int, int]:
        """Top and pitch of ``count`` fact rows at full size.

        Rows share the height above the Back button (beside the title with ``back_in_header``):
        a landscape panel with every status line showing has room for about ten rows at full
        size, so they shrink to fit.
        """
        top, room = self._room(theme, back_in_header)
        return top, min(theme.px(70), room // max(1, count))

    def _room(self, theme: Theme, back_in_header: bool) -> tuple[int, int]:
        """Top and height of the room for the facts (under the title, over the Back button; with
        ``back_in_header``, under the title and the Back button beside it, a little closer)."""
        area = self.content_rect(theme)
        top = area.top() + theme.px(TITLE_H + (20 if back_in_header else 40))
        bottom = area.bottom() if back_in_header else area.bottom() - theme.px(BUTTON_H) - theme.px(24)
        return top, bottom - top

    def columns(self, theme: Theme, count: int, back_in_header: bool = False) -> int:
        """Two columns of facts on a landscape panel where one would make the rows small."""
        _, pitch = self.fact_rows(theme, count, back_in_header)
        return 2 if not theme.portrait and pitch < theme.px(70) * 0.85 else 1

    def _grid_facts(self) -> tuple[list[tuple[str, str, bool]], str]:
        """The facts for the grid, and the last problem (drawn whole under it, not in a cell)."""
        facts = self.facts()
        if self.problem and facts and facts[-1][0] == PROBLEM:
            return facts[:-1], self.problem
        return facts, ""

    def fact_layout(self, theme: Theme) -> AboutLayout:
        """Where the facts go: with the Back button under them, or on a landscape page where the
        type would have to shrink there, beside the title (as the closet has it), if that lets
        it stay larger (a 7" panel lying landscape: all of its height for the facts)."""
        under = self._fit(theme, back_in_header=False)
        if theme.portrait or under.scale >= 1:
            return under
        beside = self._fit(theme, back_in_header=True)
        return beside if beside.scale > under.scale else under

    def _fit(self, theme: Theme, back_in_header: bool) -> AboutLayout:
        """The largest type (from full size down to 60 %) at which every fact and the whole last
        problem fit; at 60 % what still does not fit is made smaller by ``draw_wrapped`` (to 60 %
        again) rather than cut. The rows close up (to 3/4 of their pitch) before the type shrinks, and
        it shrinks as one (the labels too, where their column is too narrow for them).

        Each column's labels take the width its own labels need (up to ``LABEL_SHARE`` of it), so
        a column of short labels ("Sync", "Storage") keeps its values on one line beside them.
        A value too long for its cell goes under its label, across the column, rather than shrink past 85 %
        (a broker address on a 7" panel went to 10 px, 1.9 mm, and was elided); the last problem,
        the point of this page for an installer, is drawn under the grid across the whole width,
        wrapped over as many lines as it needs (it was one cell, elided after 40 characters at
        every size).

        Where the panel's size is known, no text goes under ``MIN_TEXT_MM`` (``Theme.least_text``)
        while closer rows can avoid it: the rows close up as far as a line and a gap before the
        type goes under it (the 7" panel lying landscape: 3.1 mm before), and a value goes under
        its label rather than shrink under it.
        """
        area = self.content_rect(theme)
        grid, problem = self._grid_facts()
        columns = self.columns(theme, len(grid), back_in_header)
        per_column = max(1, -(-len(grid) // columns))
        gutter = theme.px(GUTTER)
        column_w = (area.width() - gutter * (columns - 1)) // columns
        top, room = self._room(theme, back_in_header)
        least = theme.least_text
        steps = [(pitch, 1.0) for pitch in (1.0, 0.93, 0.86, 0.8, 0.75)]
        scale = 0.93
        while scale > MIN_SHRINK:
            steps.append((0.75 * scale, scale))
            scale *= 0.93
        steps.append((0.75 * MIN_SHRINK, MIN_SHRINK))
        if least:  # the type at the floor first, its rows closer (down to a line and a gap), then under it
            above = [step for step in steps if theme.px(32 * step[1]) >= least]
            closer = [
                (pitch / 100, scale)
                for _, scale in above
                for pitch in range(70, 44, -5)
                if pitch / 100 < 0.75 * scale
                and int(theme.px(70) * pitch / 100) >= QFontMetrics(theme.font(32 * scale)).lineSpacing() + theme.px(6)
            ]
            steps = above + closer + [step for step in steps if step not in above]
        for pitch_scale, scale in steps:
            pitch = max(1, int(theme.px(70) * pitch_scale))
            font = theme.font(32 * scale)
            metrics = QFontMetrics(font)
            chunks = [grid[c * per_column : (c + 1) * per_column] for c in range(columns)]
            labels_ws = [
                max((metrics.horizontalAdvance(label) for label, _, _ in chunk), default=0) for chunk in chunks
            ]
            label_ws = tuple(min(int(column_w * LABEL_SHARE), w + theme.px(32)) for w in labels_ws)
            heights = [
                pitch
                if self._one_line(font, value, column_w - label_ws[index // per_column], least)
                else pitch + wrapped_height(font, value, column_w)  # under its label
                for index, (_, value, _) in enumerate(grid)
            ]
            grid_h = max((sum(heights[c * per_column : (c + 1) * per_column]) for c in range(columns)), default=0)
            problem_h = 0
            if problem:
                problem_h = theme.px(24) + metrics.lineSpacing() + wrapped_height(font, problem, area.width())
            labels_fit = all(w + theme.px(24) <= lw for w, lw in zip(labels_ws, label_ws, strict=True))
            if grid_h + problem_h <= room and labels_fit:  # else each label shrinks on its own
                break
        return AboutLayout(
            back_in_header, scale, top, columns, per_column, column_w, label_ws, pitch, font, heights, problem_h
        )

    @staticmethod
    def _one_line(font: QFont, value: str, width: int, least: int) -> bool:
        """``value`` fits ``width`` on one line, made at most ``ONE_LINE_SHRINK`` smaller (and not
        under ``least`` pixels) as ``draw_text`` would make it."""
        wanted = QFontMetrics(font).horizontalAdvance(value)
        if wanted <= width:
            return True
        if wanted * ONE_LINE_SHRINK > width:
            return False
        return fit_font(font, value, width).pixelSize() >= least

    def paint_page(self, painter: QPainter, theme: Theme) -> None:
        area = self.content_rect(theme)
        shape = self.fact_layout(theme)
        button_h = theme.px(BUTTON_H)
        back_w = min(area.width(), theme.px(400 if not shape.back_in_header else 260))
        title = QRect(area.left(), area.top(), area.width(), theme.px(TITLE_H))
        if shape.back_in_header:
            title.setRight(area.right() - back_w - theme.px(24))
        title_font = theme.font(64, QFont.Weight.Light)
        draw_text(painter, title, "About this mirror", title_font, WHITE, Qt.AlignmentFlag.AlignLeft)
        grid, problem = self._grid_facts()
        gap = theme.px(6)
        line_h = QFontMetrics(shape.font).lineSpacing()
        bottom = shape.top
        for index, (label, value, is_problem) in enumerate(grid):
            column = index // shape.per_column
            left = area.left() + column * (shape.column_w + theme.px(GUTTER))
            y = shape.top + sum(shape.heights[column * shape.per_column : index])
            row_h = shape.heights[index] - gap
            line = shape.pitch - gap
            label_w = shape.label_ws[column]
            label_rect = QRect(left, y, label_w - theme.px(16), line)  # a gap before the value
            draw_text(painter, label_rect, label, shape.font, GREY, Qt.AlignmentFlag.AlignLeft)
            colour = WARN if is_problem else WHITE
            value_rect = QRect(left + label_w, y, shape.column_w - label_w, row_h)
            if row_h == line:
                draw_text(painter, value_rect, value, shape.font, colour, Qt.AlignmentFlag.AlignLeft)
            else:  # under its label, the column's whole width (a broker's address on a 7" panel)
                value_rect = QRect(left, y + (line + line_h) // 2, shape.column_w, row_h - (line + line_h) // 2)
                draw_wrapped(painter, value_rect, value, shape.font, colour, Qt.AlignmentFlag.AlignLeft)
            painter.setPen(theme.pen(FAINT, 1))
            painter.drawLine(left, y + row_h, left + shape.column_w, y + row_h)
            bottom = max(bottom, y + row_h)
        if shape.back_in_header:
            back = QRect(area.right() + 1 - back_w, area.top() + (theme.px(TITLE_H) - button_h) // 2, back_w, button_h)
            facts_bottom = area.bottom()
        else:
            back = QRect(area.center().x() - back_w // 2, area.bottom() - button_h, back_w, button_h)
            facts_bottom = back.top() - theme.px(24)
        if problem:
            y = bottom + theme.px(24)
            label_rect = QRect(area.left(), y, area.width(), line_h)
            draw_text(painter, label_rect, PROBLEM, shape.font, GREY, Qt.AlignmentFlag.AlignLeft)
            y += line_h
            room = QRect(area.left(), y, area.width(), max(line_h, facts_bottom - y))
            draw_wrapped(painter, room, problem, shape.font, WARN, Qt.AlignmentFlag.AlignLeft)
        self.buttons.layout(back, button_h, 0)
        self.buttons.paint(painter, theme, self.row_has_focus(self.buttons))


@dataclass(frozen=True)
class AboutLayout:
    """Where the facts go at the type size that fits (see :meth:`AboutScreen.fact_layout`)."""

    back_in_header: bool  # the Back button beside the title, not under the facts
    scale: float  # the type's share of its full size
    top: int
    columns: int
    per_column: int
    column_w: int
    label_ws: tuple[int, ...]  # each column's labels' width, the gap before the values included
    pitch: int  # a one-line row's height and gap
    font: QFont
    heights: list[int]  # each fact's row, in order (a two-line value's is a line taller)
    problem_h: int  # the last problem's label and lines, with the gap over them (0: none)
