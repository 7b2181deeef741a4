"""Open the closet the settings describe, as the CLI's commands do.

(The service opens it with ``ClosetStore.open`` itself: it retries a closet that cannot be
opened yet and keeps the device id it read for sync.)"""

from __future__ import annotations

from mirror.config import Settings
from mirror.store.closet import ClosetStore


def open_closet(settings: Settings) -> ClosetStore:
    """The closet under ``[store] data_dir`` for this device, with ``[store] min_free_mb`` enforced."""
    # Imported here: mirror.device reads the closet through this package (mirror.store.peek), so a
    # module-level import made ``import mirror.device`` fail when it came before ``mirror.store``.
    from mirror.device import device_id

    return ClosetStore.open(settings.store.path(), device_id(settings), min_free_mb=settings.store.min_free_mb)
