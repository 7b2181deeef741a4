"""Reconnect delays: exponential with jitter.

Jitter matters for a fleet: after a broker restart, every mirror would otherwise reconnect in
the same second, every time. "Equal jitter": half the delay is fixed, half random, so one mirror
never retries too eagerly yet a fleet spreads out.
"""

from __future__ import annotations

import random

#: Failures counted at most: 2**64 times any sane minimum is past any maximum, and counting on
#: would overflow a float (``2.0**1024``) after 1024 straight failures — a broker down for about
#: 13 hours with the default 1-60 s — and end the sync thread (review s13, H1).
MAX_DOUBLINGS = 64


class Backoff:
    """``next()`` gives the delay before the next try; ``reset()`` after a success."""

    def __init__(self, minimum: float, maximum: float, rng: random.Random | None = None) -> None:
        self.minimum = minimum
        self.maximum = max(maximum, minimum)
        self.failures = 0
        self._rng = rng or random.Random()

    def next(self) -> float:
        base = min(self.maximum, self.minimum * (2.0**self.failures))
        self.failures = min(self.failures + 1, MAX_DOUBLINGS)
        return base / 2 + self._rng.uniform(0, base / 2)

    def reset(self) -> None:
        self.failures = 0
