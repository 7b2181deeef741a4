"""Per-stage wall-clock timing of one analysis.

Why: the bench reports median and p90 per stage, and a regression hides in a stage, not in
the total. ``perf_counter`` because it is monotonic and has sub-microsecond resolution.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class StageTimer:
    """Accumulates milliseconds per named stage (a stage run once per garment is summed)."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self._start = time.perf_counter()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the ``with`` block and add it to ``name``."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - t0) * 1000.0

    def total_ms(self) -> float:
        """Milliseconds since the timer was created."""
        return (time.perf_counter() - self._start) * 1000.0
