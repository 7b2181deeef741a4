"""Closet thumbnails: decoded off the GUI thread, and nothing polls while none are being decoded."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from ui.thumbs import ThumbnailLoader


def test_the_collecting_timer_runs_only_while_thumbnails_are_on_their_way(tmp_path: Path) -> None:
    """It fired every 30 ms for the life of the window, on Home too: a wake-up a Pi pays for all day."""
    import cv2

    app = QApplication.instance() or QApplication([])
    path = tmp_path / "cutout.png"
    cv2.imwrite(str(path), np.full((80, 60, 4), 200, np.uint8))
    ready: list[tuple[str, QImage]] = []
    loader = ThumbnailLoader(lambda key, image: ready.append((key, image)))
    try:
        assert not loader.busy
        loader.request("a", path)
        loader.request("b", path)
        assert loader.busy
        deadline = time.monotonic() + 10
        while len(ready) < 2 and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        assert sorted(key for key, _ in ready) == ["a", "b"] and not ready[0][1].isNull()
        assert not loader.busy
        loader.request("a", path)  # cached: handed back at once, nothing to collect
        assert len(ready) == 3 and not loader.busy
    finally:
        loader.close()
