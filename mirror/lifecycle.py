"""Orderly shutdown: SIGTERM (``systemctl stop``, a reboot) becomes "finish, then close".

The default SIGTERM kills Python between any two bytecodes. SQLite in WAL mode survives
that, but the mirror should still stop the camera, let the worker finish the record it is
writing, say ``STOPPING=1`` to systemd, and close the store so the WAL is checkpointed.
So the signal handler only *asks* for a stop (sets an event and wakes the main loop); the
main thread then leaves its loop and runs the registered cleanups, newest first, each
guarded so one failure does not skip the store's close.

Headless use (``smart-mirror sync drain``, ``mirror/service.py``)::

    with Lifecycle(notifier) as life:           # installs SIGTERM/SIGINT handlers
        store = ClosetStore.open(data_dir, device)
        life.on_stop(store.close, "store")     # registered first, runs last
        worker.start(); life.on_stop(worker.join, "worker")
        while not life.wait(1.0):
            ...                                # leaving the block runs the cleanups

Short commands that block in the main thread (``smart-mirror sync drain``, ``closet``) use
:func:`interrupt_on_terminate` instead (``mirror/cli/main.py`` wraps every subcommand but ``run``
in it): SIGTERM then unwinds like Ctrl-C, so every ``with open_closet(...)`` on the way out
closes the store and an unfinished write transaction rolls back.

Qt use (``smart-mirror run``, ui/supervision.py): the handlers go in before Qt is imported, and
:meth:`Lifecycle.wake_with` later names how to end the event loop, queued
(``QTimer.singleShot(0, app.quit)``: a direct quit does nothing before ``app.exec()``, and must not
run the app's shutdown inside a paint). Python runs signal handlers only when the interpreter gets
control, so keep a ``QTimer`` ticking while ``app.exec()`` runs; call :meth:`Lifecycle.shutdown`
after it returns.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType

from mirror.notify import SystemdNotifier

log = logging.getLogger(__name__)

DEFAULT_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
"""SIGHUP too: a mirror has no terminal to lose, and a hang-up must not skip the cleanups."""

Handler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


class Lifecycle:
    """One stop request, many cleanups: the process's shutdown sequence in one place."""

    def __init__(self, notifier: SystemdNotifier | None = None, wake: Callable[[], None] | None = None) -> None:
        """``wake`` is called (from the signal handler) to end a blocking main loop (see :meth:`wake_with`)."""
        self.notifier = notifier or SystemdNotifier(None)
        self._wake = wake
        self._stop = threading.Event()
        self._cleanups: list[tuple[str, Callable[[], object]]] = []
        self._done = False
        self._lock = threading.Lock()
        self._previous: dict[int, Handler] = {}
        self.reason = ""

    def wake_with(self, wake: Callable[[], None]) -> None:
        """End the main loop with ``wake`` from now on, and at once when a stop was asked for already.

        For a loop that starts long after the handlers are in (``smart-mirror run`` installs them before it
        imports Qt, which takes seconds on a Pi): a SIGTERM in that time is kept, not lost, and ``wake``
        must be one that still works before the loop runs (a queued ``app.quit``, not a direct one).
        """
        self._wake = wake
        if self._stop.is_set():
            wake()

    def on_stop(self, cleanup: Callable[[], object], name: str) -> None:
        """Run ``cleanup`` at shutdown; cleanups run in reverse order of registration."""
        with self._lock:
            self._cleanups.append((name, cleanup))

    def install(self, signals: Iterable[signal.Signals] = DEFAULT_SIGNALS) -> Lifecycle:
        """Route ``signals`` to :meth:`request_stop` (main thread only, as Python requires)."""
        for sig in signals:
            self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def uninstall(self) -> None:
        """Give the signals back their previous handlers."""
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    def request_stop(self, reason: str) -> None:
        """Ask the main loop to finish; safe from signal handlers and any thread."""
        if not self._stop.is_set():
            self.reason = reason
            log.info("stopping: %s", reason)
        self._stop.set()
        if self._wake is not None:
            self._wake()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a stop is requested or ``timeout`` passes; True when stopping."""
        return self._stop.wait(timeout)

    def shutdown(self) -> None:
        """Say STOPPING to systemd and run every cleanup once, newest first, whatever fails."""
        with self._lock:
            if self._done:
                return
            self._done = True
            cleanups = list(reversed(self._cleanups))
        self._stop.set()
        self.notifier.stopping(f"stopping: {self.reason or 'shutdown'}")
        for name, cleanup in cleanups:
            try:
                cleanup()
            except Exception:  # the next cleanup (the store's close) must still run
                log.exception("shutdown: %s failed to stop cleanly", name)
            else:
                log.debug("shutdown: %s stopped", name)

    def __enter__(self) -> Lifecycle:
        return self.install()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.shutdown()
        finally:
            self.uninstall()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.request_stop(signal.Signals(signum).name)


class Terminated(KeyboardInterrupt):
    """SIGTERM/SIGHUP, raised in the main thread like Ctrl-C's KeyboardInterrupt."""


@contextmanager
def interrupt_on_terminate(signals: Iterable[signal.Signals] = (signal.SIGTERM, signal.SIGHUP)) -> Iterator[None]:
    """Within the block, ``signals`` raise :class:`Terminated` (a KeyboardInterrupt) in the main thread.

    For commands whose work blocks the main thread and that hold resources in ``with``
    blocks: the exception unwinds them, as Ctrl-C already does, instead of the default
    SIGTERM death that skips every ``finally``. Outside the main thread (where Python cannot
    install handlers) it does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_terminated(signum: int, _frame: FrameType | None) -> None:
        raise Terminated(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, raise_terminated) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
