"""Closet thumbnails decoded on a worker thread and handed back on the GUI thread.

A closet of a few hundred garments would cost the GUI thread hundreds of milliseconds of
PNG decoding if done inline; one background thread decodes them (QImage is safe off the GUI
thread) and a timer on the GUI thread collects what is ready, so scrolling never stutters.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QImage

from ui.images import load_thumbnail

#: Longest side of a decoded thumbnail: sharp in a closet tile and acceptable in the detail view.
THUMB_PX = 560


class ThumbnailLoader(QObject):
    """``request(key, path)``; ``on_ready(key, image)`` is called later on the GUI thread."""

    def __init__(self, on_ready: Callable[[str, QImage], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_ready = on_ready
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="thumbs")
        self._done: queue.Queue[tuple[str, QImage]] = queue.Queue()
        self._cache: dict[str, QImage] = {}
        self._pending = 0  # requests submitted and not yet collected: the timer runs only while any are
        self._timer = QTimer(self)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self._collect)

    def cached(self, key: str) -> QImage | None:
        return self._cache.get(key)

    def request(self, key: str, path: Path) -> None:
        if key in self._cache:
            self._on_ready(key, self._cache[key])
            return
        self._pending += 1
        self._timer.start()
        self._pool.submit(lambda: self._done.put((key, load_thumbnail(path, THUMB_PX))))

    @property
    def busy(self) -> bool:
        """Thumbnails are being decoded (the collecting timer runs; otherwise nothing wakes)."""
        return self._timer.isActive()

    def _collect(self) -> None:
        while True:
            try:
                key, image = self._done.get_nowait()
            except queue.Empty:
                break
            self._pending -= 1
            self._cache[key] = image
            self._on_ready(key, image)
        if self._pending <= 0:
            self._timer.stop()

    def close(self) -> None:
        self._timer.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)
