"""The headless core the UI drives: camera, auto-capture, analysis, closet, sync.

Why a service with a queue: the UI (Qt, in ``ui/``) must stay responsive and the core must
stay Qt-free. ``MirrorService`` runs its own threads (camera + detection, analysis worker,
store worker, optional sync worker) and reports everything through ``events``
(``mirror.events``). Every public method returns quickly and is safe to call from the GUI
thread: heavy work is queued to a worker and answered with an event.

API (stable; the UI codes against it):

- ``MirrorService(settings, *, source=None, store=None, clock=time.monotonic)``
- ``events: queue.Queue[Event]``; ``start()``; ``stop()``
- ``capture_now()``: shoot now (manual capture) -> ``AnalysisStarted`` ... ``AnalysisDone``
- ``keep(result, index=0)`` -> ``RecordSaved``; ``retake()`` -> back to capture
- ``correct(id, category=..., color=...)`` -> ``RecordChanged``; ``delete(id)`` -> ``RecordDeleted``
- ``closet(category=None, basic_color=None) -> list[Record]``; ``counts()``; ``image_path(record, kind)``
- ``status() -> Status``; ``about() -> About``
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mirror.config import Settings
from mirror.events import Event, Record, Status
from mirror.pipeline.result import AnalysisResult


@dataclass(frozen=True)
class About:
    """What the About screen shows."""

    device_id: str
    version: str
    model_versions: dict[str, str] = field(default_factory=dict)
    broker: str = "off"
    storage_used_mb: float = 0.0
    records: int = 0


class MirrorService:
    """Camera -> auto-capture -> analysis -> closet (-> sync), reported on ``events``."""

    def __init__(
        self,
        settings: Settings,
        *,
        source: object | None = None,
        store: object | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.events: queue.Queue[Event] = queue.Queue()
        self._source = source
        self._store = store
        self._clock = clock

    def start(self) -> None:
        """Open the camera, load the models and the closet, start the threads (returns at once)."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop every thread, close camera and closet; safe to call twice."""
        raise NotImplementedError

    def capture_now(self) -> None:
        """Take the shot now (manual capture), whatever the auto-capture state."""
        raise NotImplementedError

    def keep(self, result: AnalysisResult, index: int = 0) -> None:
        """Store ``result.garments[index]`` as a new closet record; answers ``RecordSaved`` or ``Error``."""
        raise NotImplementedError

    def retake(self) -> None:
        """Discard the shown result and go back to capturing."""
        raise NotImplementedError

    def correct(self, record_id: str, *, category: str | None = None, color: str | None = None) -> None:
        """Store the person's correction of a record's category and/or basic colour as a new version."""
        raise NotImplementedError

    def delete(self, record_id: str) -> None:
        """Delete a record (a tombstone version, synced like any other); answers ``RecordDeleted``."""
        raise NotImplementedError

    def closet(self, category: str | None = None, basic_color: str | None = None) -> list[Record]:
        """Live records, newest first, optionally filtered."""
        raise NotImplementedError

    def counts(self) -> dict[str, dict[str, int]]:
        """Records per category and per basic colour (for the closet's filter counts)."""
        raise NotImplementedError

    def image_path(self, record: Record, kind: str) -> Path:
        """The file of one of a record's images (kinds as in ``mirror.pipeline.result.IMAGE_KINDS``)."""
        raise NotImplementedError

    def status(self) -> Status:
        """The current status line."""
        raise NotImplementedError

    def about(self) -> About:
        """Device id, version, model versions, broker and storage figures."""
        raise NotImplementedError
