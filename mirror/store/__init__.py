"""The closet store: garments kept on the mirror, their images, their versions and the sync outbox.

Everything other packages need is re-exported here::

    from mirror.store import ClosetStore, GarmentDraft, Record, StoreError
"""

from mirror.store.closet import ClosetStore
from mirror.store.errors import (
    DamagedRecordError,
    RecordNotFoundError,
    StoreCorruptError,
    StoreError,
    StoreFullError,
    StoreReadOnlyError,
)
from mirror.store.factory import open_closet
from mirror.store.records import (
    IMAGE_KINDS,
    ClosetCounts,
    Color,
    GarmentDraft,
    ImageRef,
    OutboxItem,
    OutboxStats,
    PaletteEntry,
    Record,
)

__all__ = [
    "IMAGE_KINDS",
    "ClosetCounts",
    "ClosetStore",
    "Color",
    "DamagedRecordError",
    "GarmentDraft",
    "ImageRef",
    "OutboxItem",
    "OutboxStats",
    "PaletteEntry",
    "Record",
    "RecordNotFoundError",
    "StoreCorruptError",
    "StoreError",
    "StoreFullError",
    "StoreReadOnlyError",
    "open_closet",
]
