"""Per-stage wall-clock timing of one analysis.

Why: the bench reports median and p90 per stage, and a regression hides in a stage, not in
the total. ``perf_counter`` because it is monotonic and has sub-microsecond resolution.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class StageTimer:
    """Accumulates milliseconds per named stage (a stage run once per garment is summed).

    ``ms`` is wall time; ``cpu_ms`` is the calling thread's CPU time, which on a machine
    shared with other work is what the wall time would be on an idle core (with one
    inference thread the models run on the calling thread).
    """

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self.cpu_ms: dict[str, float] = {}
        self._start = time.perf_counter()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the ``with`` block and add it to ``name``."""
        t0 = time.perf_counter()
        c0 = time.thread_time()
        try:
            yield
        finally:
            self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - t0) * 1000.0
            self.cpu_ms[name] = self.cpu_ms.get(name, 0.0) + (time.thread_time() - c0) * 1000.0

    def total_ms(self) -> float:
        """Milliseconds since the timer was created."""
        return (time.perf_counter() - self._start) * 1000.0
