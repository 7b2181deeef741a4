"""Closet thumbnails: decoded off the GUI thread, and nothing polls while none are being decoded."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from mirror.pipeline.result import CUTOUT_PNG
from mirror.store.records import ClosetCounts, Color, ImageRef, Record
from ui import thumbs
from ui.closet import PAGE_BACK, PAGE_MORE, ClosetItem, ClosetScreen
from ui.closet_browser import ClosetBrowser
from ui.detail import DetailScreen
from ui.screen import LAST
from ui.thumbs import ThumbnailLoader

T = TypeVar("T")
#: The detail view's decode (ui.thumbs.DETAIL_PX; 560, as every thumbnail was, where it has none).
DETAIL_PX = getattr(thumbs, "DETAIL_PX", 560)


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


# --- a closet of hundreds: a bounded number of thumbnails, each at its tile's size ----------------

GARMENTS = 300
PORTRAIT = (1080, 1920)


def garment_records(count: int) -> list[Record]:
    when = datetime(2026, 11, 20, 18, 5, tzinfo=UTC)
    png = {CUTOUT_PNG: ImageRef(CUTOUT_PNG, "0" * 64, 1, "image/png")}
    return [
        Record(
            id=f"r{index:04d}",
            version=1,
            device_id="mirror-test",
            created_at=when,
            updated_at=when,
            deleted=False,
            category="top",
            category_score=0.9,
            color=Color("red", "red", "#c03030"),
            images=png,
        )
        for index in range(count)
    ]


class FakeCore:
    """The core's closet reads over ``count`` garments sharing one cut-out file."""

    def __init__(self, records: list[Record], cutout: Path) -> None:
        self.records, self.cutout = records, cutout

    def closet(self, category: str | None = None, basic_color: str | None = None) -> list[Record]:
        return list(self.records)

    def counts(self) -> ClosetCounts:
        return ClosetCounts.tally(self.records)

    def image_path(self, record: Record, kind: str) -> Path:
        return self.cutout

    def unsynced_ids(self) -> set[str]:
        return set()


DECODES: list[int] = []  # the longest side of every thumbnail decoded, in order


@pytest.fixture
def browser(tmp_path: Path, qtbot, monkeypatch: pytest.MonkeyPatch) -> Iterator[ClosetBrowser]:
    import cv2

    from ui import images

    decode = images.load_thumbnail

    def counted(path: Path, longest: int) -> QImage:
        DECODES.append(longest)
        return decode(path, longest)

    DECODES.clear()
    monkeypatch.setattr(images, "load_thumbnail", counted)
    monkeypatch.setattr(thumbs, "load_thumbnail", counted, raising=False)

    cutout = tmp_path / "cutout.png"
    garment = np.zeros((900, 640, 4), np.uint8)  # larger than any tile, like a real cut-out
    garment[100:800, 100:540] = (60, 60, 200, 255)
    cv2.imwrite(str(cutout), garment)
    closet, detail = ClosetScreen(), DetailScreen()
    for screen in (closet, detail):
        qtbot.addWidget(screen)
        screen.resize(*PORTRAIT)

    def read(call: Callable[[], T], default: T) -> T:
        return call()

    made = ClosetBrowser(
        core=FakeCore(garment_records(GARMENTS), cutout), closet=closet, detail=detail, read=read, sync_enabled=False
    )
    try:
        yield made
    finally:
        made.close()


def settle(browser: ClosetBrowser) -> None:
    """Paint what is shown and let every thumbnail asked for arrive (and the paints they cause)."""
    app = QApplication.instance()
    assert app is not None
    deadline = time.monotonic() + 30
    quiet = 0
    while quiet < 3 and time.monotonic() < deadline:
        for screen in (browser.closet, browser.detail):
            if screen.isVisible():
                screen.repaint()
        app.processEvents()
        time.sleep(0.01)
        quiet = 0 if browser.thumbs.busy else quiet + 1
    assert not browser.thumbs.busy, "thumbnails still on their way after 30 s"


def page_size(closet: ClosetScreen) -> int:
    return closet.grid.columns * closet.visible_lines


def in_view(closet: ClosetScreen) -> list[ClosetItem]:
    return [item for item, rect in zip(closet.items, closet.grid.rects, strict=True) if not rect.isEmpty()]


def test_opening_a_closet_of_300_decodes_the_page_in_view_and_a_page_either_side(browser: ClosetBrowser) -> None:
    """It decoded all 300 at 560 px (~1 MB each, kept for good): +275 MB, and ~10 s of a Pi's thumbs thread."""
    browser.closet.show()
    browser.refresh(None, None, keep_focus=False)
    settle(browser)
    page = page_size(browser.closet)
    assert page > 0
    # At the top there is no page before: the page in view and the next are decoded (a real picture each, not
    # a null image), so the bound below is met by decoding them, not by decoding nothing.
    reach = browser.closet.items[: 2 * page]
    assert all(item.thumbnail is not None and not item.thumbnail.isNull() for item in reach)
    assert 2 * page <= len(DECODES) <= 3 * page, f"{len(DECODES)} decoded for pages of {page}"
    count, size = browser.thumbs.size
    assert count <= browser.thumbs.max_items and size <= browser.thumbs.max_bytes


def test_tiles_are_decoded_at_their_size_and_the_detail_view_gets_a_larger_one(browser: ClosetBrowser) -> None:
    browser.closet.show()
    browser.refresh(None, None, keep_focus=False)
    settle(browser)
    tile = next(r for r in browser.closet.grid.rects if not r.isEmpty())
    first = in_view(browser.closet)[0]
    assert first.thumbnail is not None
    longest = max(first.thumbnail.width(), first.thumbnail.height())
    assert max(tile.width(), tile.height()) <= longest < DETAIL_PX
    browser.detail.show_item(first)
    browser.closet.hide()
    browser.detail.show()
    settle(browser)
    shown = browser.detail.item
    assert shown is not None and shown.record == first.record and shown.thumbnail is not None
    assert max(shown.thumbnail.width(), shown.thumbnail.height()) == DETAIL_PX
    assert first.thumbnail is not None and max(first.thumbnail.width(), first.thumbnail.height()) == longest


def test_paging_through_300_keeps_the_cache_under_its_cap_and_every_page_shows(browser: ClosetBrowser) -> None:
    browser.thumbs.max_items = 20  # fewer than three pages of 9: the cap, not the reach, decides
    browser.closet.resize(540, 960)  # the same 3 × 3 tiles as the portrait panel, quicker to paint 34 times
    browser.closet.show()
    browser.refresh(None, None, keep_focus=False)
    settle(browser)
    pages = 0
    while True:
        shown = in_view(browser.closet)
        assert shown and all(item.thumbnail is not None for item in shown), f"page {pages} without pictures"
        count, size = browser.thumbs.size
        assert count <= 20 and size <= browser.thumbs.max_bytes
        holding = sum(item.thumbnail is not None for item in browser.closet.items)
        assert holding <= 20, f"{holding} tiles hold a thumbnail (memory the cache cannot free)"
        if shown[-1] is browser.closet.items[-1]:
            break
        browser.closet.action.emit(PAGE_MORE)
        settle(browser)
        pages += 1
    assert pages >= GARMENTS // (3 * page_size(browser.closet)) - 1
    browser.closet.action.emit(PAGE_BACK)  # back a page: still (or again) there
    settle(browser)
    assert all(item.thumbnail is not None for item in in_view(browser.closet))


def test_a_jump_to_the_end_drops_the_decodes_not_yet_started(browser: ClosetBrowser) -> None:
    """Requests for pages scrolled past are not decoded on the way (the one thread would be busy for seconds)."""
    browser.closet.show()
    browser.refresh(None, None, keep_focus=False)
    browser.closet.repaint()  # laid out, the first pages asked for; none collected yet
    browser.closet.jump(LAST)
    settle(browser)
    assert all(item.thumbnail is not None and not item.thumbnail.isNull() for item in in_view(browser.closet))
    assert len(DECODES) <= 5 * page_size(browser.closet)
