"""What the closet screen shows, kept in step with the core: records, thumbnails, sync badges.

The closet screen only draws the items it is given and the window only decides which screen
shows; this reads the closet through the filters chosen, fills the grid, has the cut-outs
decoded into thumbnails (and hands each to the grid, and to the detail view showing that
garment, as it arrives), and repaints the sync badges when the cloud acks.

Thumbnails cost memory and a decode each, so only the garments in view and a page either
side have one: each decoded at the size its tile is drawn at (the detail view gets one
larger decode of its garment), the rest dropped as the grid scrolls away from them, and the
loader's cache is capped. The closet screen says nothing when it scrolls, so the browser
looks again after each of its paints (``view_changed``, which the screen could call itself).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QImage

from mirror.events import ClosetCounts, Record, RecordsSynced
from mirror.store.records import CUTOUT_PNG
from ui import closet as closet_mod
from ui.closet import ClosetItem, ClosetScreen
from ui.detail import DetailScreen
from ui.thumbs import DETAIL_PX, TILE_PX, ThumbnailLoader, thumbnail_bytes

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Tiles per page assumed before the grid has been laid out once.
FIRST_PAGE_GUESS = 12
#: Thumbnails are decoded at their tile's size rounded up to this step (a resize of a few
#: pixels decodes nothing again), within these bounds.
SIZE_STEP, SMALLEST_PX, LARGEST_PX = 64, 64, 1024


class ClosetReads(Protocol):
    """The core's two reads behind the grid and its filter chips (:func:`filtered_closet`)."""

    def closet(self, category: str | None = None, basic_color: str | None = None) -> list[Record]: ...
    def counts(self) -> ClosetCounts: ...


class ClosetCore(ClosetReads, Protocol):
    """The core's reads the closet needs (``mirror.service.MirrorService``)."""

    def image_path(self, record: Record, kind: str) -> Path: ...
    def unsynced_ids(self) -> set[str]: ...


class Reader(Protocol):
    """A read from the core that, on failure, says so on the mirror and gives ``default``."""

    def __call__(self, call: Callable[[], T], default: T) -> T: ...


def filtered_closet(
    core: ClosetReads, category: str | None, colour: str | None
) -> tuple[list[Record], ClosetCounts, int]:
    """The records to show, the counts for the chips, and the closet's total, in two or three reads.

    A category chip counts the garments of that category in the colour chosen (all colours
    when none is), a colour chip those of that colour in the category chosen, so with
    Dress on, Red says how many red dresses there are. Here, not in ``ui.closet``: it is a
    query over the core's reads (no Qt), and the screen only draws what it is given.
    """
    overall = core.counts()
    total = overall.garments
    if category is None and colour is None:
        return core.closet(category=None, basic_color=None), overall, total
    if colour is None:
        records = core.closet(category=category, basic_color=None)
        return records, ClosetCounts(overall.category, ClosetCounts.tally(records).basic_color), total
    if category is None:
        records = core.closet(category=None, basic_color=colour)
        return records, ClosetCounts(ClosetCounts.tally(records).category, overall.basic_color), total
    in_category = core.closet(category=category, basic_color=None)
    in_colour = core.closet(category=None, basic_color=colour)
    records = [r for r in in_category if r.color.basic == colour]
    within = ClosetCounts(ClosetCounts.tally(in_colour).category, ClosetCounts.tally(in_category).basic_color)
    return records, within, total


class _AfterPaint(QObject):
    """Calls ``then`` once the watched widget has painted (a burst of paints: once)."""

    def __init__(self, watched: QObject, then: Callable[[], None], parent: QObject | None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(then)
        watched.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint:
            self._timer.start()
        return super().eventFilter(watched, event)


@dataclass(eq=False, kw_only=True)
class ClosetBrowser:
    """Fills the closet screen (and the detail view's thumbnail and badge) from the core.

    Apart from the window because it is the closet's own bookkeeping (which thumbnail
    belongs to which version of a record, which badge each garment wears) and none of the
    screen flow: the window calls ``refresh`` and forwards ``RecordsSynced``.
    """

    core: ClosetCore
    closet: ClosetScreen
    detail: DetailScreen
    read: Reader
    sync_enabled: bool
    parent: InitVar[QObject | None] = None
    thumbs: ThumbnailLoader = field(init=False)
    _wanted: dict[str, ClosetItem] = field(init=False, default_factory=dict)  # thumbnail key -> tile
    _view: tuple[object, ...] = field(init=False, default=())  # what the reach was worked out for
    _detail_key: str = field(init=False, default="")  # the detail view's large decode
    _px: int = field(init=False, default=TILE_PX)  # tile size as last laid out
    _watchers: tuple[QObject, ...] = field(init=False, default=())

    def __post_init__(self, parent: QObject | None) -> None:
        self.thumbs = ThumbnailLoader(self._thumbnail_ready, parent)
        self._watchers = (
            _AfterPaint(self.closet, self.view_changed, parent),
            _AfterPaint(self.detail, self._detail_shown, parent),
        )

    def refresh(self, category: str | None, colour: str | None, keep_focus: bool) -> None:
        """Read the closet (filtered) and the counts into the closet screen; start loading thumbnails."""
        nothing: tuple[list[Record], ClosetCounts, int] = ([], ClosetCounts(), 0)
        records, counts, total = self.read(lambda: filtered_closet(self.core, category, colour), nothing)
        states = self._sync_states(records)
        items = [ClosetItem(r, states.get(r.id, closet_mod.LOCAL)) for r in records]
        focus_row = self.closet.focus_row
        self.closet.set_content(items, counts, category, colour, total)
        if not keep_focus:
            self.closet.focus_row = closet_mod.GRID_ROW if items else closet_mod.FILTER_ROW
            self.closet.grid.focus = 0
            self.closet.first_line = 0
        else:
            self.closet.focus_row = focus_row
        self.view_changed()

    def view_changed(self) -> None:
        """The grid scrolled, paged, was laid out or refilled: thumbnails for the garments in
        view and a page either side (the page in view first), none kept for the rest."""
        items = self.closet.items
        px = self._tile_px()
        cols = self.closet.grid.columns
        page = cols * max(1, self.closet.visible_lines) if cols > 0 else FIRST_PAGE_GUESS
        first = min(self.closet.first_line * max(1, cols), max(0, len(items) - 1))
        view = (id(items), len(items), first, page, px)
        if view == self._view:
            return
        self._view = view
        budget = max(1, min(self.thumbs.max_items, self.thumbs.max_bytes // thumbnail_bytes(px)) - 1)
        order = [*range(first, first + 2 * page), *range(first - 1, first - page - 1, -1)]
        reach = [i for i in order if 0 <= i < len(items)][:budget]
        self._wanted = {self._thumb_key(items[i].record, px): items[i] for i in reach}
        kept = {id(item) for item in self._wanted.values()}
        for item in items:
            if id(item) not in kept:
                item.thumbnail = None  # out of reach: the cache alone decides what stays decoded
        self.thumbs.keep_only({*self._wanted, self._detail_key})
        self.thumbs.touch(self._wanted)
        for key, item in self._wanted.items():
            image = self.thumbs.cached(key)
            if image is not None:
                item.thumbnail = image
                continue
            try:
                path = self.core.image_path(item.record, CUTOUT_PNG)
            except Exception as exc:  # a record without its cut-out still lists, without a picture
                log.warning("no cut-out for %s: %s", item.record.id, exc)
                continue
            self.thumbs.request(key, path, px)
        self.closet.update()

    def reread(self) -> None:
        """The closet changed: read it again with the filters and the focus it has."""
        self.refresh(self.closet.category, self.closet.colour, keep_focus=True)

    def on_synced(self, _event: RecordsSynced) -> None:
        """The cloud acked something: repaint the badges shown (the closet is not read again)."""
        items = list(self.closet.items)
        if self.detail.item is not None and self.detail.item not in items:
            items.append(self.detail.item)
        if not items:
            return
        states = self._sync_states([item.record for item in items])
        for item in items:
            item.sync = states.get(item.record.id, closet_mod.LOCAL)
        self.closet.update()
        self.detail.update()

    def close(self) -> None:
        """Stop decoding thumbnails (the window is closing)."""
        self.thumbs.close()

    def _tile_px(self) -> int:
        """The size to decode tiles at: the tile's longest side as last laid out, in steps."""
        rect = next((r for r in self.closet.grid.rects if not r.isEmpty()), None)
        if rect is not None:
            longest = max(rect.width(), rect.height())
            self._px = max(SMALLEST_PX, min(LARGEST_PX, -(-longest // SIZE_STEP) * SIZE_STEP))
        return self._px

    @staticmethod
    def _thumb_key(record: Record, px: int) -> str:
        return f"{record.id}@{record.version}@{px}"

    def _detail_shown(self) -> None:
        """The detail view painted: its garment gets one larger decode (unless the tiles are larger)."""
        item = self.detail.item
        if item is None or self._tile_px() >= DETAIL_PX:
            self._detail_key = ""
            return
        key = self._thumb_key(item.record, DETAIL_PX)
        if key == self._detail_key:
            return
        self._detail_key = key
        image = self.thumbs.cached(key)
        if image is not None:
            self._thumbnail_ready(key, image)
            return
        try:
            path = self.core.image_path(item.record, CUTOUT_PNG)
        except Exception as exc:  # the tile's picture (if any) stays
            log.warning("no cut-out for %s: %s", item.record.id, exc)
            return
        self.thumbs.request(key, path, DETAIL_PX)

    def _thumbnail_ready(self, key: str, image: QImage) -> None:
        tile = self._wanted.get(key)
        if tile is not None:
            tile.thumbnail = image
            self.closet.update()
        shown = self.detail.item
        if shown is None or not key.startswith(f"{shown.record.id}@{shown.record.version}@"):
            return
        if key == self._detail_key and shown.thumbnail is not image:
            # A copy, so the grid's tile keeps its own small picture (and memory stays bounded).
            self.detail.item = dataclasses.replace(shown, thumbnail=image)
            self.detail.update()
        elif shown.thumbnail is None:  # the tile arrived first: shown until the large one does
            shown.thumbnail = image
            self.detail.update()

    def _sync_states(self, records: list[Record]) -> dict[str, str]:
        """Per-record sync badge: none with sync off, else waiting (a version still in the
        outbox, from the core's ``unsynced_ids()``) or synced."""
        if not self.sync_enabled:
            return {}
        no_ids: set[str] = set()
        ids = self.read(self.core.unsynced_ids, no_ids)
        return {r.id: closet_mod.WAITING if r.id in ids else closet_mod.SYNCED for r in records}
