"""Start the mirror UI: the entry ``smart-mirror run`` calls."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from mirror.config import Settings
from ui.platform import choose_platform

log = logging.getLogger(__name__)

OFFSCREEN_DEFAULT_DURATION_S = 20.0


def run_app(settings: Settings, args: argparse.Namespace) -> int:
    """Build the window and run Qt's event loop until quit (or ``--duration`` ends)."""
    offscreen = choose_platform()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from ui.home import HomeWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    shots = args.screenshots or settings.ui.screenshot_dir or None
    if offscreen and not shots:
        shots = str(settings.store.path() / "screenshots")
    duration = args.duration if args.duration is not None else (OFFSCREEN_DEFAULT_DURATION_S if offscreen else None)
    window = HomeWindow(
        settings, source=args.source or settings.camera.source, screenshot_dir=Path(shots) if shots else None
    )
    if args.windowed or not settings.ui.fullscreen or offscreen:
        window.resize(1080 // 2, 1920 // 2)
        window.show()
    else:
        window.showFullScreen()
    if shots:
        print(f"smart-mirror: writing screenshots to {Path(shots).resolve()}", flush=True)
    if duration is not None:
        QTimer.singleShot(int(duration * 1000), app.quit)
    code = app.exec()
    window.save_screenshot("last")
    return int(code)
