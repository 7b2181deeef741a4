"""The one seam between the Qt UI and the Qt-free core.

``MirrorService`` runs its own threads and reports on a ``queue.Queue``; Qt widgets may only
be touched from the GUI thread. The bridge drains that queue from a short QTimer on the GUI
thread and re-emits each event as a typed Qt signal, so screens never see threads. Commands
go the other way as plain calls that only enqueue work in the service and return at once.

Preview frames are coalesced: when several ``FrameReady`` wait, only the newest is emitted,
so a busy GUI shows fewer frames instead of falling further behind. A drain is also bounded
in time, so a burst of events cannot hold the GUI thread past one frame. Every event wakes the
bridge through the service's ``wake`` hook (a queued signal, at most one pending at a time),
so nothing waits for a poll and an idle GUI thread sleeps: polling every 10 ms woke a Pi's
GUI thread 100 times a second all day. A slow poll stays as a safety net, and a source without
the hook is polled at the old rate.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from PySide6.QtCore import QObject, Qt, QTimer, Signal, SignalInstance

from mirror.events import (
    AnalysisDone,
    AnalysisFailed,
    AnalysisStarted,
    CaptureStateChanged,
    CommandReceived,
    Error,
    Event,
    FrameReady,
    RecordChanged,
    RecordDeleted,
    RecordSaved,
    RecordsSynced,
    StatusChanged,
)

log = logging.getLogger(__name__)

#: How often the queue of a source without a ``wake`` hook is drained: well under a 25 fps frame interval.
DRAIN_INTERVAL_MS = 10
#: The safety-net poll for a source that wakes the bridge itself.
WOKEN_POLL_MS = 500
#: Longest one drain may run before it yields back to the event loop.
DRAIN_BUDGET_S = 0.008


class EventSource(Protocol):
    """What the bridge needs of the service: its event queue."""

    events: queue.Queue[Event]


@runtime_checkable
class Wakeable(Protocol):
    """A source that can say when an event other than a frame is queued (``MirrorService.wake``)."""

    wake: Callable[[], None] | None


class ServiceBridge(QObject):
    """Re-emits the service's events as Qt signals on the GUI thread."""

    frame = Signal(object)  # FrameReady
    capture_state = Signal(object)  # CaptureStateChanged
    analysis_started = Signal(object)  # AnalysisStarted
    analysis_done = Signal(object)  # AnalysisDone
    analysis_failed = Signal(object)  # AnalysisFailed
    record_saved = Signal(object)  # RecordSaved
    record_changed = Signal(object)  # RecordChanged
    record_deleted = Signal(object)  # RecordDeleted
    status = Signal(object)  # StatusChanged
    error = Signal(object)  # Error
    command = Signal(object)  # CommandReceived
    synced = Signal(object)  # RecordsSynced
    _woken = Signal()  # emitted on the service's threads; drains on the GUI thread

    def __init__(self, source: EventSource, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.frames_seen = 0
        self.frames_dropped = 0
        self._routes: dict[type[Event], SignalInstance] = {
            CaptureStateChanged: self.capture_state,
            AnalysisStarted: self.analysis_started,
            AnalysisDone: self.analysis_done,
            AnalysisFailed: self.analysis_failed,
            RecordSaved: self.record_saved,
            RecordChanged: self.record_changed,
            RecordDeleted: self.record_deleted,
            StatusChanged: self.status,
            Error: self.error,
            CommandReceived: self.command,
            RecordsSynced: self.synced,
        }
        self._timer = QTimer(self)
        self._timer.setInterval(DRAIN_INTERVAL_MS)
        self._timer.timeout.connect(self.drain)
        self._woken.connect(self.drain, Qt.ConnectionType.QueuedConnection)
        self._wake_pending = threading.Event()

    def start(self) -> None:
        if isinstance(self.source, Wakeable):
            self.source.wake = self._wake
            self._timer.setInterval(WOKEN_POLL_MS)
        self._timer.start()

    def _wake(self) -> None:
        """Called on the service's threads: one drain is queued for however many events come before it."""
        if not self._wake_pending.is_set():
            self._wake_pending.set()
            self._woken.emit()

    def stop(self) -> None:
        self._timer.stop()
        if isinstance(self.source, Wakeable):
            self.source.wake = None

    def drain(self) -> int:
        """Emit what is waiting (newest frame only); return how many events were handled."""
        self._wake_pending.clear()  # first: an event queued from now on queues another drain
        deadline = time.perf_counter() + DRAIN_BUDGET_S
        handled = 0
        latest: FrameReady | None = None
        while time.perf_counter() < deadline:
            try:
                event = self.source.events.get_nowait()
            except queue.Empty:
                break
            handled += 1
            if isinstance(event, FrameReady):
                if latest is not None:
                    self.frames_dropped += 1
                latest = event
                continue
            if latest is not None and isinstance(event, CaptureStateChanged):
                # Keep the order the service meant: the frame before the state that followed it.
                self._emit_frame(latest)
                latest = None
            self._route(event)
        if latest is not None:
            self._emit_frame(latest)
        return handled

    def _emit_frame(self, frame: FrameReady) -> None:
        self.frames_seen += 1
        self.frame.emit(frame)

    def _route(self, event: Event) -> None:
        signal = self._routes.get(type(event))
        if signal is None:
            log.debug("no route for %s", type(event).__name__)
            return
        signal.emit(event)
