"""What the closet screen shows, kept in step with the core: records, thumbnails, sync badges.

The closet screen only draws the items it is given and the window only decides which screen
shows; this reads the closet through the filters chosen, fills the grid, has the cut-outs
decoded into thumbnails (and hands each to the grid, and to the detail view showing that
garment, as it arrives), and repaints the sync badges when the cloud acks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from PySide6.QtCore import QObject
from PySide6.QtGui import QImage

from mirror.events import Record, RecordsSynced
from mirror.pipeline.result import CUTOUT_PNG
from ui import closet as closet_mod
from ui.closet import ClosetItem, ClosetScreen
from ui.detail import DetailScreen
from ui.thumbs import ThumbnailLoader

log = logging.getLogger(__name__)
T = TypeVar("T")


class ClosetCore(Protocol):
    """The core's reads the closet needs (``mirror.service.MirrorService``)."""

    def closet(self, category: str | None = None, basic_color: str | None = None) -> list[Record]: ...
    def counts(self) -> dict[str, dict[str, int]]: ...
    def image_path(self, record: Record, kind: str) -> Path: ...
    def unsynced_ids(self) -> set[str]: ...


class Reader(Protocol):
    """A read from the core that, on failure, says so on the mirror and gives ``default``."""

    def __call__(self, call: Callable[[], T], default: T) -> T: ...


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

    def __post_init__(self, parent: QObject | None) -> None:
        self.thumbs = ThumbnailLoader(self._thumbnail_ready, parent)

    def refresh(self, category: str | None, colour: str | None, keep_focus: bool) -> None:
        """Read the closet (filtered) and the counts into the closet screen; start loading thumbnails."""
        nothing: tuple[list[Record], dict[str, dict[str, int]], int] = ([], {}, 0)
        records, counts, total = self.read(
            lambda: closet_mod.filtered_closet(self.core.closet, self.core.counts, category, colour), nothing
        )
        states = self._sync_states(records)
        items = [
            ClosetItem(r, states.get(str(r.id), closet_mod.LOCAL), self.thumbs.cached(self._thumb_key(r)))
            for r in records
        ]
        focus_row = self.closet.focus_row
        self.closet.set_content(items, counts, category, colour, total)
        if not keep_focus:
            self.closet.focus_row = closet_mod.GRID_ROW if items else closet_mod.FILTER_ROW
            self.closet.grid.focus = 0
            self.closet.first_line = 0
        else:
            self.closet.focus_row = focus_row
        for record in records:
            if self.thumbs.cached(self._thumb_key(record)) is None:
                try:
                    path = self.core.image_path(record, CUTOUT_PNG)
                except Exception as exc:  # a record without its cut-out still lists, without a picture
                    log.warning("no cut-out for %s: %s", record.id, exc)
                    continue
                self.thumbs.request(self._thumb_key(record), path)

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
            item.sync = states.get(str(item.record.id), closet_mod.LOCAL)
        self.closet.update()
        self.detail.update()

    def close(self) -> None:
        """Stop decoding thumbnails (the window is closing)."""
        self.thumbs.close()

    @staticmethod
    def _thumb_key(record: Record) -> str:
        return f"{record.id}@{record.version}"

    def _thumbnail_ready(self, key: str, image: QImage) -> None:
        record_id = key.split("@", 1)[0]
        self.closet.set_thumbnail(record_id, image)
        if self.detail.item is not None and str(self.detail.item.record.id) == record_id:
            self.detail.item.thumbnail = image
            self.detail.update()

    def _sync_states(self, records: list[Record]) -> dict[str, str]:
        """Per-record sync badge: none with sync off, else waiting (a version still in the
        outbox, from the core's ``unsynced_ids()``) or synced."""
        if not self.sync_enabled:
            return {}
        no_ids: set[str] = set()
        ids = {str(i) for i in self.read(self.core.unsynced_ids, no_ids)}
        return {str(r.id): closet_mod.WAITING if str(r.id) in ids else closet_mod.SYNCED for r in records}
