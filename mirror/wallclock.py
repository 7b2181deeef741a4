"""The wall clock, and when it is certainly wrong.

A Pi 4 has no real-time clock: after a power cut it boots at the time systemd last saved
(``/var/lib/systemd/timesync/clock``), which can be hours or days behind, and stays there
until NTP answers, which an offline mirror never gets. Two readings prove the clock wrong
without any network: a year before the software existed, and a time before the newest
garment in the closet (which was stamped by a clock that was right, or at least later).
The closet stamps new versions no earlier than that newest time, so the closet's order
holds, and the home screen says the clock is not set.

Unless the kernel says NTP has set the clock (:func:`kernel_synchronised`): then the clock is
right and a newest garment "after now" was stamped by a clock that was ahead (set by hand, a
bad time source). Pinning new versions to it would date every later garment in the future for
good, and "clock: not set" would stay on Home for ever.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from datetime import UTC, datetime, timedelta
from functools import cache

EARLIEST_PLAUSIBLE_YEAR = 2025
"""A clock before this is certainly wrong (a Pi without RTC battery boots at its last save)."""
BEHIND_SLACK = timedelta(seconds=60)
"""A clock this far behind the newest garment is wrong, not merely adjusted by NTP's last slew."""
STEP = timedelta(milliseconds=1)
"""The closet's time resolution (``mirror.store.codec.iso`` keeps milliseconds)."""


def now_ms() -> datetime:
    """Now (UTC) at the millisecond precision the record JSON keeps (so a re-read record compares equal)."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def not_before(now: datetime, newest: datetime | None) -> datetime:
    """``now``, or just after ``newest`` when the clock reads earlier: versions keep their order."""
    return now if newest is None or now > newest else newest + STEP


def clock_problem(now: datetime, newest: datetime | None) -> str:
    """Why ``now`` is certainly wrong, in a few words, or ``""`` when nothing says so."""
    if now.year < EARLIEST_PLAUSIBLE_YEAR:
        return f"it reads {now:%Y-%m-%d}"
    if newest is not None and now < newest - BEHIND_SLACK:
        return f"it reads {now:%Y-%m-%d %H:%M} UTC, before the newest garment ({newest:%Y-%m-%d %H:%M} UTC)"
    return ""


TIME_ERROR = 5
"""adjtimex(2): the kernel's clock is not synchronised (what ``timedatectl`` reports too)."""


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True) if name else None
    except OSError:
        return None


def kernel_synchronised() -> bool | None:
    """Whether NTP (timesyncd, chrony) has set the clock, from adjtimex with no modes (read-only, no
    privileges, one system call); None where that cannot be asked."""
    libc = _libc()
    if libc is None:
        return None
    try:
        buf = ctypes.create_string_buffer(512)  # struct timex is ~208 bytes; modes=0 means read only
        state = int(libc.adjtimex(buf))
    except AttributeError:
        return None
    return None if state < 0 else state != TIME_ERROR


def trusted_newest(newest: datetime | None, synchronised: bool | None) -> datetime | None:
    """``newest`` as a floor for the clock, or None when a synchronised clock overrules it."""
    return None if synchronised else newest
