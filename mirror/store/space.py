"""Free space on the closet's disk, measured one way for everyone who asks.

The store refuses a garment below ``[store] min_free_mb``, the service stops capturing there and
doctor fails there. They once measured it three ways (decimal MB in the service, MiB in the store
and doctor), so in a 10 MB band the status line said "storage: ok" and invited a capture that
Keep then refused. Now all three ask this module; a "MB" in the setting and in every message is
a MiB (1,048,576 bytes).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from mirror.store import reserve

MB = 1024 * 1024
"""One MB of ``[store] min_free_mb`` (a MiB)."""


@dataclass(frozen=True)
class FreeSpace:
    """What is free on a disk against the closet's floor, and whether a garment would be refused."""

    free_bytes: int
    floor_mb: int
    reserve_held: bool = True
    """False while ``closet.reserve`` is given up to a full disk (``mirror.store.reserve``)."""

    @property
    def free_mb(self) -> int:
        return self.free_bytes // MB

    @property
    def below_floor(self) -> bool:
        return self.free_bytes < self.floor_mb * MB

    def refuses(self, incoming: int = 0) -> bool:
        """Would the closet refuse ``incoming`` more bytes: below the floor, or (the reserve being
        given up) into the room that deleting garments needs."""
        return self.below_floor or (not self.reserve_held and self.free_bytes - incoming < reserve.RESERVE_BYTES)


def measure(path: Path, floor_mb: int) -> FreeSpace:
    """Free space at ``path`` (an existing folder; ``OSError`` when it cannot be measured)."""
    return FreeSpace(shutil.disk_usage(path).free, floor_mb, reserve.held(path))
