"""UUIDv7 record ids (RFC 9562), without a dependency.

Why v7: ids are made on many mirrors with no coordination, so they need enough randomness to
never collide (62 random bits, plus a 12-bit counter that starts at a random 10-bit value in
each millisecond), and they sort by creation time, which keeps SQLite's index
appends cheap and makes "newest first" a plain ordering. Within one process, ids made in the
same millisecond stay increasing (the 12-bit ``rand_a`` field is used as a counter, as RFC 9562
section 6.2 method 1 allows).
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def uuid7(now_ms: int | None = None) -> str:
    """A new UUIDv7 as the canonical 36-character lower-case string."""
    global _last_ms, _counter
    with _lock:
        ms = int(time.time() * 1000) if now_ms is None else now_ms
        if ms <= _last_ms:
            _counter += 1
            if _counter > 0xFFF:  # 4096 ids in one ms: borrow the next millisecond
                _last_ms += 1
                _counter = 0
            ms = _last_ms
        else:
            _last_ms = ms
            _counter = int.from_bytes(os.urandom(2), "big") & 0x3FF  # random start, room to count
        rand_a = _counter
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))

