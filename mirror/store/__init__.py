"""The closet store: garments kept on the mirror, their images, their versions and the sync outbox.

Everything other packages need is re-exported here::

    from mirror.store import ClosetStore, GarmentDraft, Record, StoreError
"""

from mirror.store.closet import ClosetStore
from mirror.store.errors import StoreCorruptError, StoreError, StoreFullError
from mirror.store.records import (
    IMAGE_KINDS,
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
    "ClosetStore",
    "Color",
    "GarmentDraft",
    "ImageRef",
    "OutboxItem",
    "OutboxStats",
    "PaletteEntry",
    "Record",
    "StoreCorruptError",
    "StoreError",
    "StoreFullError",
]
