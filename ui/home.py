"""The home screen: clock, date, one status line and the hint to hold up a garment.

Everything is white or grey on pure black: through two-way glass only bright pixels show.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QDateTime, Qt, QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from mirror.config import Settings

log = logging.getLogger(__name__)


class HomeWindow(QWidget):
    """A black fullscreen page with the time and what the mirror is doing."""

    def __init__(self, settings: Settings, source: str, screenshot_dir: Path | None = None) -> None:
        super().__init__()
        self._screenshot_dir = screenshot_dir
        self.setWindowTitle("Smart mirror")
        self.setStyleSheet("background-color: black; color: white;")
        scale = settings.ui.font_scale
        self.clock = self._label(int(96 * scale), bold=False)
        self.date = self._label(int(28 * scale), grey=True)
        self.status = self._label(int(20 * scale), grey=True)
        self.hint = self._label(int(32 * scale))
        self.status.setText(f"camera: {source} · models: loading · sync: offline")
        self.hint.setText("Hold up a garment to add it to your closet")
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for widget in (self.clock, self.date):
            layout.addWidget(widget)
        layout.addStretch(2)
        layout.addWidget(self.hint)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self._tick()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._timer.start(1000)
        QTimer.singleShot(500, lambda: self.save_screenshot("home"))

    def _label(self, size: int, bold: bool = False, grey: bool = False) -> QLabel:
        label = QLabel()
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        color = "#9a9a9a" if grey else "white"
        label.setStyleSheet(f"font-size: {size}px; color: {color}; font-weight: {'bold' if bold else 'normal'};")
        return label

    def _tick(self) -> None:
        now = QDateTime.currentDateTime()
        self.clock.setText(now.toString("HH:mm"))
        self.date.setText(now.toString("dddd d MMMM"))

    def save_screenshot(self, name: str) -> Path | None:
        """Grab the window into ``<screenshot_dir>/<name>.png`` when screenshots are on."""
        if self._screenshot_dir is None:
            return None
        self._screenshot_dir.mkdir(parents=True, exist_ok=True)
        path = self._screenshot_dir / f"{name}.png"
        if not self.grab().save(str(path)):
            log.warning("could not write screenshot %s", path)
            return None
        return path
