"""Heartbeats: is every part of the mirror still making progress?

A process that is alive is not necessarily working: the GUI loop can block on a lock, the
analysis worker can hang inside a model. systemd's watchdog only sees the pings, so the
pings must mean "everything beat recently". Each long-running component registers with a
deadline and calls :meth:`Health.beat` from its loop; :class:`Watchdog` pings systemd only
while no registered component is overdue. When one hangs, the pings stop and systemd kills
and restarts the mirror after ``WatchdogSec``.

Beat from the loop, not from the work: a worker that blocks on an empty queue must wake up
(``queue.get(timeout=...)``) and beat, and its deadline must exceed the longest single step
(one garment analysis on a Pi 4, a model load). The GUI beats from a ``QTimer``.

Example (the UI does this in ui/app.py)::

    from mirror.health import HEALTH
    HEALTH.register("gui", deadline_s=10)
    timer = QTimer(); timer.timeout.connect(lambda: HEALTH.beat("gui")); timer.start(1000)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from mirror.notify import SystemdNotifier, watchdog_interval

log = logging.getLogger(__name__)


class Health:
    """A thread-safe registry of components, their deadlines and their last beat."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._deadlines: dict[str, float] = {}
        self._last: dict[str, float] = {}

    def register(self, name: str, deadline_s: float) -> None:
        """Watch ``name``: it counts as hung when it has not beaten for ``deadline_s`` seconds.

        Registering counts as a beat, so a component has a full deadline to start.
        """
        if deadline_s <= 0:
            raise ValueError(f"health deadline for {name!r} must be positive, got {deadline_s}")
        with self._lock:
            self._deadlines[name] = deadline_s
            self._last[name] = self._clock()

    def unregister(self, name: str) -> None:
        """Stop watching ``name`` (it finished on purpose, e.g. on shutdown)."""
        with self._lock:
            self._deadlines.pop(name, None)
            self._last.pop(name, None)

    def beat(self, name: str) -> None:
        """``name`` made progress just now. Cheap enough to call every loop iteration."""
        with self._lock:
            self._last[name] = self._clock()

    def overdue(self) -> dict[str, float]:
        """Registered components past their deadline, with seconds since their last beat."""
        now = self._clock()
        with self._lock:
            ages = {name: now - self._last[name] for name in self._deadlines}
            return {name: age for name, age in ages.items() if age > self._deadlines[name]}

    def healthy(self) -> bool:
        """True when every registered component beat within its deadline."""
        return not self.overdue()


HEALTH = Health()
"""The process-wide registry the GUI and the pipeline beat into."""


def beat(name: str) -> None:
    """Shorthand for ``HEALTH.beat(name)``."""
    HEALTH.beat(name)


class Watchdog:
    """A daemon thread that pings systemd's watchdog while :class:`Health` is healthy.

    The interval is half of ``$WATCHDOG_USEC`` (systemd's advice), so one late ping is not
    a restart. When a component is overdue the pinger logs which one, says so in
    ``systemctl status``, and stops pinging; if the component recovers before systemd
    acts, pinging resumes. Without ``$WATCHDOG_USEC`` (not under systemd, or no
    ``WatchdogSec=``) :meth:`start` does nothing.

    ``wait(seconds)`` is the pause between two rounds; it returns True when the pinger is to
    stop. The default waits on :meth:`stop`; a test passes its own to step a fake clock.
    """

    def __init__(
        self,
        health: Health,
        notifier: SystemdNotifier,
        interval_s: float | None = None,
        *,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self.health = health
        self.notifier = notifier
        self.interval_s = watchdog_interval() if interval_s is None else interval_s
        self._stop = threading.Event()
        self._wait = self._stop.wait if wait is None else wait
        self._thread: threading.Thread | None = None

    def start(self) -> Watchdog:
        """Start pinging (returns self, so ``Watchdog(...).start()`` reads as one step)."""
        if self.interval_s is None or not self.notifier.enabled or self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="systemd-watchdog", daemon=True)
        self._thread.start()
        log.info("systemd watchdog: pinging every %.1f s while all components beat", self.interval_s)
        return self

    def stop(self) -> None:
        """Stop pinging (on shutdown, after ``notifier.stopping()``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def check_once(self, was_healthy: bool = True) -> bool:
        """One round: ping when healthy, else report the overdue components. Returns healthy."""
        overdue = self.health.overdue()
        if not overdue:
            self.notifier.watchdog()
            if not was_healthy:
                log.warning("all components beat again: watchdog pings resume")
                self.notifier.status("running")
            return True
        if was_healthy:
            what = ", ".join(f"{name} silent for {age:.0f} s" for name, age in sorted(overdue.items()))
            log.error("hung: %s; stopping watchdog pings so systemd restarts the mirror", what)
            self.notifier.status(f"hung: {what}")
        return False

    def _run(self) -> None:
        assert self.interval_s is not None
        healthy = True
        while True:
            healthy = self.check_once(healthy)
            if self._wait(self.interval_s):
                return
