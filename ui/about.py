"""About: who this mirror is and how its parts are doing, for the person who installs it.

Device id, software version, the version of each model, the broker and the storage used:
what a support call or ``smart-mirror doctor`` would ask first, readable on the glass. The
technical cause of the last problem (a path, a driver's or a library's words) is listed here
too: the rest of the mirror says problems in plain words for whoever stands in front of it.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter

from mirror.events import About, Level, Status
from ui.buttons import Button, ButtonRow
from ui.screen import Screen
from ui.theme import FAINT, GREY, WARN, WHITE, Theme, draw_text

BACK_HOME = "back_home"


BUTTON_H = 96


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
            lines.append(("Last problem", self.problem, True))
        return lines

    def fact_rows(self, theme: Theme, count: int) -> tuple[int, int]:
        """Top and pitch of ``count`` fact rows.

        Rows share the height above the Back button: a landscape panel with every status
        line showing has room for about ten rows at full size, so they shrink to fit.
        """
        area = self.content_rect(theme)
        top = area.top() + theme.px(150)
        room = area.bottom() - theme.px(BUTTON_H) - theme.px(24) - top
        return top, min(theme.px(70), room // max(1, count))

    def columns(self, theme: Theme, count: int) -> int:
        """Two columns of facts on a landscape panel where one would make the rows small."""
        _, pitch = self.fact_rows(theme, count)
        return 2 if not theme.portrait and pitch < theme.px(70) * 0.85 else 1

    def paint_page(self, painter: QPainter, theme: Theme) -> None:
        area = self.content_rect(theme)
        draw_text(
            painter,
            QRect(area.left(), area.top(), area.width(), theme.px(110)),
            "About this mirror",
            theme.font(64, QFont.Weight.Light),
            WHITE,
            Qt.AlignmentFlag.AlignLeft,
        )
        facts = self.facts()
        columns = self.columns(theme, len(facts))
        per_column = -(-len(facts) // columns)
        top, pitch = self.fact_rows(theme, per_column)
        button_h = theme.px(BUTTON_H)
        line = pitch - theme.px(6)
        font = theme.font(32 * min(1.0, pitch / theme.px(70)))
        gutter = theme.px(48)
        column_w = (area.width() - gutter * (columns - 1)) // columns
        labels_w = max((QFontMetrics(font).horizontalAdvance(label) for label, _, _ in facts), default=0)
        label_w = min(int(column_w * 0.45), labels_w + theme.px(32))
        for index, (label, value, problem) in enumerate(facts):
            column, row = divmod(index, per_column)
            left = area.left() + column * (column_w + gutter)
            y = top + row * pitch
            draw_text(painter, QRect(left, y, label_w, line), label, font, GREY, Qt.AlignmentFlag.AlignLeft)
            draw_text(
                painter,
                QRect(left + label_w, y, column_w - label_w, line),
                value,
                font,
                WARN if problem else WHITE,
                Qt.AlignmentFlag.AlignLeft,
            )
            painter.setPen(theme.pen(FAINT, 1))
            painter.drawLine(left, y + line, left + column_w, y + line)
        width = min(area.width(), theme.px(400))
        self.buttons.layout(
            QRect(area.center().x() - width // 2, area.bottom() - button_h, width, button_h), button_h, 0
        )
        self.buttons.paint(painter, theme, self.row_has_focus(self.buttons))
