"""Closet thumbnails decoded on a worker thread and handed back on the GUI thread.

A closet of a few hundred garments would cost the GUI thread hundreds of milliseconds of
PNG decoding if done inline; one background thread decodes them (QImage is safe off the GUI
thread) and a timer on the GUI thread collects what is ready, so scrolling never stutters.

Memory is bounded whatever the closet's size: each thumbnail is decoded at the size it is
drawn at (the caller says, per request), the cache is a least-recently-used one capped by
count and by bytes, and requests the caller no longer wants (a page scrolled past) are
dropped before they are decoded (``keep_only``).
"""

from __future__ import annotations

import queue
from collections import OrderedDict
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QImage

from ui import images

#: Longest side of a thumbnail decoded for a closet tile when the caller does not say
#: (a tile on the 1080-wide panel at font_scale 1 is about 300 px).
TILE_PX = 320
#: Longest side of the one thumbnail the detail view shows large (as sharp as it always was).
DETAIL_PX = 560
#: The cache holds at most this many thumbnails...
CACHE_ITEMS = 192
#: ...and at most this many bytes of them: three pages need 11-16 MB whatever the panel and
#: font_scale (the tiles' area is the screen's); the rest keeps paging back free.
CACHE_BYTES = 32 * 1024 * 1024


def thumbnail_bytes(longest: int) -> int:
    """The most a thumbnail decoded at ``longest`` px can hold (square, 32-bit)."""
    return longest * longest * 4


class ThumbnailLoader(QObject):
    """``request(key, path, longest)``; ``on_ready(key, image)`` is called later on the GUI thread.

    ``key`` names one decode (a record's version at one size): the same key is decoded once
    while it stays in the cache.
    """

    def __init__(
        self,
        on_ready: Callable[[str, QImage], None],
        parent: QObject | None = None,
        max_items: int = CACHE_ITEMS,
        max_bytes: int = CACHE_BYTES,
    ) -> None:
        super().__init__(parent)
        self._on_ready = on_ready
        self.max_items, self.max_bytes = max_items, max_bytes
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="thumbs")
        self._done: queue.Queue[tuple[str, QImage]] = queue.Queue()
        self._cache: OrderedDict[str, QImage] = OrderedDict()  # oldest use first
        self._cache_bytes = 0
        self._queued: dict[str, Future[None]] = {}  # submitted, not yet collected
        self.decoded = 0  # thumbnails decoded so far (what a closet of hundreds must keep small)
        self._timer = QTimer(self)  # runs only while requests are on their way
        self._timer.setInterval(30)
        self._timer.timeout.connect(self._collect)

    def cached(self, key: str) -> QImage | None:
        return self._cache.get(key)

    def touch(self, keys: Collection[str]) -> None:
        """Mark ``keys`` (those cached) as just used: they are the last to be evicted."""
        for key in keys:
            if key in self._cache:
                self._cache.move_to_end(key)

    def request(self, key: str, path: Path, longest: int = TILE_PX) -> None:
        if key in self._cache:
            self._cache.move_to_end(key)
            self._on_ready(key, self._cache[key])
            return
        if key in self._queued:
            return
        self._timer.start()
        self._queued[key] = self._pool.submit(self._decode, key, path, longest)

    def keep_only(self, keys: Collection[str]) -> None:
        """Drop the requests not yet decoded whose key is not in ``keys`` (scrolled out of reach)."""
        for key in [k for k in self._queued if k not in keys]:
            if self._queued[key].cancel():
                del self._queued[key]
        if not self._queued:
            self._timer.stop()

    @property
    def busy(self) -> bool:
        """Thumbnails are being decoded (the collecting timer runs; otherwise nothing wakes)."""
        return self._timer.isActive()

    @property
    def size(self) -> tuple[int, int]:
        """(thumbnails, bytes) in the cache."""
        return len(self._cache), self._cache_bytes

    def _decode(self, key: str, path: Path, longest: int) -> None:
        try:
            image = images.load_thumbnail(path, longest)
        except Exception:  # a broken file shows no picture; the collector must still hear of it
            image = QImage()
        self._done.put((key, image))

    def _collect(self) -> None:
        while True:
            try:
                key, image = self._done.get_nowait()
            except queue.Empty:
                break
            self._queued.pop(key, None)
            self.decoded += 1
            self._store(key, image)
            self._on_ready(key, image)
        if not self._queued:
            self._timer.stop()

    def _store(self, key: str, image: QImage) -> None:
        old = self._cache.pop(key, None)
        if old is not None:
            self._cache_bytes -= old.sizeInBytes()
        self._cache[key] = image
        self._cache_bytes += image.sizeInBytes()
        while len(self._cache) > 1 and (len(self._cache) > self.max_items or self._cache_bytes > self.max_bytes):
            _, evicted = self._cache.popitem(last=False)
            self._cache_bytes -= evicted.sizeInBytes()

    def close(self) -> None:
        self._timer.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)
