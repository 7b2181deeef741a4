"""Measure how long the GUI thread goes without running its event loop.

A timer that should fire every ``interval_ms`` fires late exactly when something held the
GUI thread (a decode, a query, a paint); the lateness is the block. The same tick beats the
``gui`` heartbeat (``mirror.health``), so a hung event loop also stops systemd's watchdog
pings, and it gives Python a chance to run the SIGTERM handler while ``app.exec()`` runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer


class StallMonitor(QObject):
    """Ticks every ``interval_ms``; ``max_block_ms`` is the worst lateness seen since :meth:`reset`."""

    def __init__(
        self, interval_ms: int = 10, beat: Callable[[], None] | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self._beat = beat
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = time.perf_counter()
        self.max_block_ms = 0.0
        self.blocks_over_50ms = 0
        self.ticks = 0

    def start(self) -> None:
        self.reset()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def reset(self) -> None:
        self._last = time.perf_counter()
        self.max_block_ms = 0.0
        self.blocks_over_50ms = 0
        self.ticks = 0

    def _tick(self) -> None:
        now = time.perf_counter()
        block = (now - self._last) * 1000.0 - self.interval_ms
        self._last = now
        self.ticks += 1
        if block > self.max_block_ms:
            self.max_block_ms = block
        if block > 50.0:
            self.blocks_over_50ms += 1
        if self._beat is not None:
            self._beat()
