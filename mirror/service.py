"""The headless core the UI drives: camera, auto-capture, analysis, closet, sync.

Why a service with a queue: the UI (Qt, in ``ui/``) must stay responsive and the core must
stay Qt-free. ``MirrorService`` runs its own threads and reports everything through
``events`` (``mirror.events``). Every public method returns quickly and is safe to call
from the GUI thread: slow work (a model run, a store write with fsync) is queued to a
worker and answered with an event.

Threads: *startup*, renamed *camera* once started (opens the closet, loads the models, starts
sync; then runs ``mirror.capture.supervisor``: the ``CaptureLoop`` — preview, motion,
auto-capture, the shot — reopening the camera every few seconds while it is missing),
*garment-detector* (segmenter on the preview a few times a second), *analysis* (the shot →
``AnalysisResult``; refreshes the status line when idle), *store* (keep/correct/delete), and
the optional *sync-worker*.

API (stable; the UI codes against it):

- ``MirrorService(settings, *, source=None, store=None, models=None, clock=time.monotonic, health=HEALTH,
  sync_factory=mqtt_link)``
- ``events: queue.Queue[Event]``; ``start()``; ``stop()``; ``wake``: an optional callable run after
  each event but a preview frame is queued (a UI drains at once instead of at its next poll)
- ``capture_now()``: shoot now (manual capture) -> ``AnalysisStarted`` ... ``AnalysisDone``
- ``keep(result, index=0)`` -> ``RecordSaved``; ``retake()`` -> back to capture
- ``cancel()``: stop the capture in progress (a countdown never shoots, a shot being analysed
  is dropped with ``AnalysisFailed(cancelled=True)``); the garment must be lowered before the
  next auto-capture
- ``hold_auto_capture(on)``: while the person browses, a garment in view is not shot by itself
- ``watch_preview(on)``: the capture screen shows the preview; while it does not, an empty, still
  room is looked at a few times a second (``FrameReady`` comes that often then)
- ``command(name, screen=, record_id=, command_id=)`` -> ``""`` and ``CommandReceived`` when a
  remote command can be carried out now, else the reason it is refused (``mirror.refusals``;
  the sync worker calls it)
- ``unsynced_ids()``: records with a version the cloud has not acked (``RecordsSynced`` on acks)
- ``correct(id, category=..., color=...)`` -> ``RecordChanged``; ``delete(id)`` -> ``RecordDeleted``
- ``closet(category=None, basic_color=None) -> list[Record]``; ``counts()``; ``image_path(record, kind)``
- ``status() -> Status``; ``about() -> About``
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from mirror.camera import FrameSource
from mirror.capture.detector import Candidate, Detector
from mirror.capture.flow import CaptureFlow
from mirror.capture.loop import Shot
from mirror.capture.machine import AutoCapture
from mirror.capture.supervisor import CameraSupervisor
from mirror.closet_access import NOT_OPEN_NOTICE, ClosetAccess
from mirror.config import ConfigError, Settings
from mirror.events import (
    STORAGE_FULL,
    About,
    CaptureState,
    CaptureStateChanged,
    CommandReceived,
    Error,
    Event,
    FrameReady,
    Level,
    Record,
    RecordChanged,
    RecordDeleted,
    RecordSaved,
    RecordsSynced,
    Status,
    StatusPart,
)
from mirror.health import HEALTH, Health
from mirror.housekeeping import CLOSET_UNAVAILABLE, STATUS_EVERY_S, Housekeeper
from mirror.imagetypes import Image
from mirror.pipeline.analyzer import Analyzer
from mirror.pipeline.choose import held_first
from mirror.pipeline.drafts import basic_color, to_draft
from mirror.pipeline.models import Models, ModelsError, load_models, models_dir
from mirror.pipeline.result import AnalysisResult
from mirror.refusals import FlowNow, refusal
from mirror.status_board import StatusBoard
from mirror.store import ClosetCounts, ClosetStore, Color
from mirror.synclink import SyncFactory, SyncLink, SyncNotInstalledError, mqtt_link
from mirror.version import describe
from mirror.wording import (
    CAMERA_NOT_SET_UP,
    CLOSET_FULL,
    NO_CAMERA,
    NO_GARMENT,
    NO_MODELS,
    PART_NAMES,
    PHOTO_FAILED,
    STARTING_UP,
)

log = logging.getLogger(__name__)

#: Preview frames allowed to wait in ``events`` before new ones are dropped (the UI is behind).
MAX_FRAME_BACKLOG = 4


class MirrorService:
    """Camera -> auto-capture -> analysis -> closet (-> sync), reported on ``events``."""

    def __init__(
        self,
        settings: Settings,
        *,
        source: FrameSource | None = None,
        store: ClosetStore | None = None,
        models: Models | None = None,
        clock: Callable[[], float] = time.monotonic,
        health: Health = HEALTH,
        sync_factory: SyncFactory = mqtt_link,
    ) -> None:
        """``sync_factory`` makes the cloud link when ``[sync] enabled`` (``mirror.synclink``)."""
        self.settings = settings
        self.events: queue.Queue[Event] = queue.Queue()
        self._models = models
        self._analyzer: Analyzer | None = None
        self._clock = clock
        self._health = health
        sync = StatusPart("sync", "connecting", Level.WARN) if settings.sync.enabled else StatusPart("sync", "off")
        self._board = StatusBoard(Status(sync=sync), self._emit, clock)
        self._closet = ClosetAccess(
            settings, self._board, emit=self._emit, clock=clock, after_change=self._closet_changed, store=store
        )
        # One analysis at a time (TFLite interpreters are not thread-safe); the preview detector has its own.
        self._model_lock = threading.Lock()
        self._stop = threading.Event()
        self._jobs: queue.Queue[tuple[Shot, int] | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._sync: SyncLink | None = None
        self._sync_factory = sync_factory
        self._sync_lock = threading.Lock()
        vision = settings.vision
        self._machine = AutoCapture(vision.hold_still_ms, vision.countdown_s, auto=vision.auto_capture)
        self._detector = Detector(on_beat=lambda: self._health.beat("detector"))
        self._preview_watched = threading.Event()  # set while the capture screen shows (watch_preview)
        self._camera = CameraSupervisor(
            settings.camera,
            self._machine,
            self._detector,
            emit=self._from_camera,
            on_loop_event=self._from_loop,
            on_shot=self._on_shot,
            set_status=lambda part: self._board.set(camera=part),
            stop=self._stop,
            clock=self._clock,
            health=self._health,
            source=source,
            preview_watched=self._preview_watched,
        )
        self._holds: set[str] = set()  # why auto-capture is off: "browsing" (the UI), STORAGE_FULL, CLOSET_UNAVAILABLE
        self._hold_lock = threading.Lock()
        self._keeper = Housekeeper(
            settings.store.path(),
            self._board,
            store=lambda: self._closet.store,
            link=lambda: self._sync,
            hold=self._hold,
            reopen_store=self._retry_store,
            clock=clock,
        )
        self._flow = CaptureFlow(self._camera, self._emit, clock)
        self._started = False
        self._stopped = False
        #: Called (from the emitting thread) after any event but a preview frame is queued, so
        #: a UI can drain at once instead of at its next poll; it must only schedule work.
        self.wake: Callable[[], None] | None = None

    @property
    def device_id(self) -> str:
        """The id the mirror goes by (``mirror.device``), read again when the closet opens."""
        return self._closet.device_id

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Open the closet, load the models and open the camera on background threads (returns at once).

        A service runs once: after ``stop`` make a new one (its threads and closet are gone).
        """
        if self._started:
            return
        if self._stopped:
            raise RuntimeError("this MirrorService was stopped; create a new one to start again")
        self._started = True
        self._stop.clear()
        self._board.announce()
        self._health.register("analysis", deadline_s=60)
        self._health.register("detector", deadline_s=30)
        self._spawn("startup", self._startup)
        self._spawn("analysis", self._analysis_worker)
        self._detector.start()

    def stop(self) -> None:
        """Stop every thread, close camera and closet; safe to call twice."""
        if not self._started:
            return
        self._started = False
        self._stopped = True
        self._stop.set()
        self._jobs.put(None)
        self._camera.stop_loop()
        self._detector.stop()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
        self._closet.finish()  # its queued changes first: a garment kept at the last moment is kept
        # Before the closet closes: the link reads it until it stops. One that outlasts the wait keeps it
        # open (closing it under the link would log store errors that send people to doctor for nothing).
        link_stopped = self._sync is None or self._sync.stop()
        if not link_stopped:
            log.warning(
                "sync: the link did not stop within 5 s (a broker slow to answer); the closet closes when "
                "the mirror exits, and versions not yet acknowledged are sent again at the next start"
            )
        self._camera.close_camera()
        if link_stopped:
            self._closet.close()
        for name in ("camera", "analysis", "detector"):
            self._health.unregister(name)

    def __enter__(self) -> MirrorService:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _startup(self) -> None:
        """Open the closet, load the models, start sync, then run the camera on this thread.

        A step failing in a way its own code did not foresee (a damaged model file, a sync
        password file that is gone) is said as that part's error, and the next steps still run:
        before, the exception ended this thread, so the camera never opened and nothing said why
        ("camera: starting" for good, with every health check content)."""
        for part, step in (
            ("storage", self._open_store),
            ("models", self._load_models),
            ("storage", self._closet.warm),
            ("sync", self._start_sync),
        ):
            self._start_part(part, step)
        threading.current_thread().name = "camera"  # from here on this thread runs the camera
        self._camera.run()

    def _start_part(self, part: str, step: Callable[[], None]) -> None:
        """Run one start-up ``step``; a failure is said as ``part``'s error and goes no further."""
        try:
            step()
        except ConfigError as exc:  # e.g. [sync] password_file unreadable: the config's own words
            detail = f"{' '.join(exc.problems)}; fix the config file (smart-mirror doctor checks it)"
            self._board.fail(part, f"The {PART_NAMES[part]} could not start", "its settings need checking", detail)
        except Exception as exc:  # see _startup: the camera must still start
            log.exception("starting the %s failed", part)
            detail = f"{part} could not start ({exc}); smart-mirror doctor checks the install"
            self._board.fail(part, f"The {PART_NAMES[part]} could not start", "restarting the mirror may help", detail)

    # --- the closet -----------------------------------------------------------------------

    def _open_store(self) -> None:
        self._closet.open()
        self._keeper.refresh()

    def _closet_changed(self) -> None:
        """After each change (on the closet's worker): the disk and the outbox, looked at again now."""
        self._keeper.refresh()

    def _retry_store(self) -> None:
        """Open the closet again if it could not be opened at start (a card mounted late, or
        remounted writable after a check), so captures work again without a restart."""
        if self._closet.reopen():
            self._keeper.refresh()
            self._closet.warm()
            self._start_part("sync", self._start_sync)  # said as sync's error, not as the closet check's

    def _load_models(self) -> None:
        if self._models is None:
            vision = self.settings.vision
            self._board.set(models=StatusPart("models", "loading", Level.WARN))
            try:
                self._models = load_models(
                    models_dir(vision.models_dir), vision.backend, vision.threads, vision.min_garment_area, preview=True
                )
            except ModelsError as exc:  # Home says what it means; this says what is wrong
                message = "Its clothes-recognition software is missing or damaged"
                self._board.fail("models", message, "About shows which part", str(exc))
                return
        self._analyzer = Analyzer(self._models, unsure_below=self.settings.vision.unsure_below)
        self._detector.detect = self._detect
        self._board.set(models=StatusPart("models", "ready"))
        log.info("models loaded in %.0f ms (%s)", self._models.load_ms, self._models.backend)

    def _start_sync(self) -> None:
        """Make and start the cloud link, once: at start-up, or when a closet that could not be opened
        then opens later (``_retry_store``, on another thread: the two may race, hence the lock; two
        links would share one client id and keep knocking each other off the broker)."""
        with self._sync_lock:
            store = self._closet.store
            if self._sync is not None or not self.settings.sync.enabled or store is None:
                return
            try:
                link = self._sync_factory(
                    store,
                    self.settings.sync,
                    store.device_id,  # the id it was opened under, whichever thread opened it
                    self.settings.device.name,
                    self.command,
                    self._on_acked,
                )
            except SyncNotInstalledError as exc:
                log.warning("%s", exc)
                self._board.set(sync=StatusPart("sync", "not installed", Level.WARN))
                return
            self._sync = link  # before start(): a link that fails half-way is still stopped at shutdown
            link.start()

    # --- camera (``mirror.capture.supervisor`` keeps it open) -------------------------------

    def _detect(self, frame: Image) -> list[Candidate]:
        analyzer = self._analyzer
        if analyzer is None:
            return []
        if analyzer.models.preview_finder is not None:  # its own interpreter, used by this thread alone
            found = analyzer.detect(frame)
        else:  # models loaded without one (a test's): the analysis's interpreter is not thread-safe
            with self._model_lock:
                found = analyzer.detect(frame)
        return [Candidate(f.box, f.polygons, f.group) for f in found]

    # --- capture and analysis ----------------------------------------------------------------

    def capture_now(self) -> None:
        """Take the shot now (manual capture), whatever the auto-capture state."""
        if not self._camera.running:
            detail = "no camera to capture with; connect the camera or use --source demo"
            self._emit(Error(*self._no_camera_words(), "camera", detail, at=self._clock()))
        elif STORAGE_FULL in self._holds:  # the garment could not be kept: say so before the shot, not after
            detail = f"the closet's disk ({self.settings.store.path()}) is below [store] min_free_mb"
            self._emit(Error(*CLOSET_FULL, "storage", detail, at=self._clock()))
        elif CLOSET_UNAVAILABLE in self._holds:
            self._emit(Error(*NOT_OPEN_NOTICE, "storage", self._closet.problem, at=self._clock()))
        else:
            self._camera.request_shot()

    def cancel(self) -> None:
        """Stop the capture in progress and any result waiting; wait for the garment to be lowered.

        A countdown stops at once and never shoots; a burst being taken or a shot being
        analysed is dropped (``AnalysisFailed(cancelled=True)`` once its analysis ends); a
        result on screen is discarded. The garment still held up does not start a new
        countdown until it has been lowered (as after keep); ``capture_now`` still works.
        """
        self._flow.cancel()

    def watch_preview(self, on: bool) -> None:
        """The capture screen shows the preview (``on``), or no longer does: while nobody watches it,
        an empty, still room is looked at a few times a second instead of at the camera's rate
        (``mirror.capture.loop.IDLE_REST_FPS``)."""
        if on:
            self._preview_watched.set()
        else:
            self._preview_watched.clear()

    def hold_auto_capture(self, on: bool) -> None:
        """While the person browses the closet (``on``), a garment in view is not shot by itself.

        Why: the mirror sees whatever the person holds, including the garment they are looking
        up; a countdown they cannot see would replace the screen they are reading with a result.
        """
        self._hold("browsing", on)

    def _hold(self, reason: str, on: bool) -> None:
        """Auto-capture is off while any reason holds it: the person browsing, a full closet disk, or a closet
        not open (a countdown and an analysis whose garment cannot be kept would only end in an error)."""
        with self._hold_lock:
            before = bool(self._holds)
            if on:
                self._holds.add(reason)
            else:
                self._holds.discard(reason)
            held = bool(self._holds)
            if held == before:
                return  # e.g. the status tick saying "still full" every few seconds
            self._camera.hold_off(held)

    def _from_camera(self, event: Event) -> None:
        """The camera supervisor's events; its errors name the device and the driver's words, which
        go to the log and About, while the glass says what the person can do about it."""
        if isinstance(event, Error) and not event.detail:
            log.warning("camera: %s", event.message)
            event = Error(*self._no_camera_words(), event.about or "camera", event.message, at=event.at)
        self._emit(event)

    def _no_camera_words(self) -> tuple[str, str]:
        """What the glass says of a camera that does not deliver: its cable, unless it is not set up at all."""
        return CAMERA_NOT_SET_UP if self._board.current().camera_not_set_up else NO_CAMERA

    def _from_loop(self, event: Event) -> None:
        """The capture loop's events; the start of a shot notes the cancel epoch it belongs to."""
        if isinstance(event, CaptureStateChanged) and event.state is CaptureState.CAPTURING:
            self._flow.shot_begins()
        self._emit(event)

    def _on_shot(self, shot: Shot) -> None:
        epoch = self._flow.shot_taken(shot)
        if epoch is not None:
            self._jobs.put((shot, epoch))

    def _analysis_worker(self) -> None:
        # Normal priority, unlike the preview detector: a shot is analysed while the person
        # waits for its result, and at nice +8 any other busy process on the machine
        # (measured on the shared 2-core box) stretched that wait by a third. The detector
        # is paused meanwhile, so the analysis only shares the CPU with the preview and GUI.
        while True:
            self._health.beat("analysis")
            self._keeper.tick()
            try:
                job = self._jobs.get(timeout=STATUS_EVERY_S)
            except queue.Empty:
                continue
            if job is None:
                return
            self._analyse(*job)

    def _analyse(self, shot: Shot, epoch: int) -> None:
        analyzer = self._analyzer
        reason = detail = ""
        result: AnalysisResult | None = None
        held = False
        if not self._flow.still_wanted(shot, epoch):
            return
        if analyzer is None:
            # Loading at start-up is not a fault: the person only has to wait a moment.
            loading = self.status().models_loading
            reason = STARTING_UP if loading else " · ".join(NO_MODELS)
            detail = "the models are still loading" if loading else "the models are not loaded; see smart-mirror doctor"
        else:
            try:
                with self._model_lock:
                    # The files are encoded on keep() (store thread): the result shows ~50 ms
                    # sooner on a Pi, and a retaken shot encodes nothing.
                    result = analyzer.analyze(
                        shot.still, capture_id=shot.capture_id, encode=False, encode_later=True, keep_photo=True
                    )
                result, held = held_first(result, shot.box)
            except Exception as exc:  # one bad shot must not stop the mirror
                log.exception("analysis of capture %d failed", shot.capture_id)
                reason, detail = PHOTO_FAILED, f"the analysis failed ({exc})"
        if result is not None and not result.garments:
            reason = NO_GARMENT
        if reason or result is None:
            self._flow.fail(shot, epoch, reason, detail)
        else:
            self._flow.show(shot, epoch, result, held=held)

    def retake(self) -> None:
        """Discard the shown result and go back to capturing."""
        self._flow.retake()

    # --- remote commands --------------------------------------------------------------------

    def command(self, name: str, *, screen: str = "", record_id: str = "", command_id: str = "") -> str:
        """Whether a remote command can be carried out now: ``""`` (and ``CommandReceived`` for
        the UI, which carries it out as its keys would), else why not, as ``code: one line``.

        Called on the sync worker's thread; it only reads state and queues an event. A command
        that cannot be done now is refused rather than queued: the sender sees the reason at
        once and may send it again when the mirror is free.
        """
        reason = self._refusal(name, record_id)
        if not reason:
            self._emit(CommandReceived(name, screen, record_id, command_id, at=self._clock()))
        return reason

    def _refusal(self, name: str, record_id: str) -> str:
        now = FlowNow(
            self._machine.state,
            showing=self._flow.showing,
            camera=self._camera.running,
            storage_full=STORAGE_FULL in self._holds,
            closet_open=CLOSET_UNAVAILABLE not in self._holds,
        )
        store = self._closet.store
        return refusal(name, now, record_id, None if store is None else lambda rid: store.get(rid) is not None)

    # --- closet operations ----------------------------------------------------------------

    def keep(self, result: AnalysisResult, index: int = 0) -> None:
        """Store ``result.garments[index]`` as a new closet record; answers ``RecordSaved`` or ``Error``."""

        self._flow.kept(result)

        def add(store: ClosetStore) -> Event:
            record = store.add(to_draft(result, index))
            self._camera.resume(rearm=False)
            return RecordSaved(record, at=self._clock())

        self._closet.submit(add)

    def correct(self, record_id: str, *, category: str | None = None, color: str | Color | None = None) -> None:
        """Store the person's correction of a record's category and/or colour as a new version.

        ``color`` may be a basic term (``"navy"`` is not one; ``"blue"`` is) or a full ``Color``.
        """

        def edit(store: ClosetStore) -> Event:
            new_color = basic_color(color) if isinstance(color, str) else color
            return RecordChanged(store.edit(record_id, category=category, color=new_color), at=self._clock())

        self._closet.submit(edit)

    def delete(self, record_id: str) -> None:
        """Delete a record (a tombstone version, synced like any other); answers ``RecordDeleted``."""

        def remove(store: ClosetStore) -> Event:
            store.delete(record_id)
            return RecordDeleted(record_id, at=self._clock())

        self._closet.submit(remove)

    def closet(self, category: str | None = None, basic_color: str | None = None) -> list[Record]:
        """Live records, newest first, optionally filtered (empty while the closet is not open)."""
        return self._closet.records(category, basic_color)

    def counts(self) -> ClosetCounts:
        """Records per category and per basic colour (for the closet's filter counts)."""
        return self._closet.counts()

    def unsynced_ids(self) -> set[str]:
        """Ids of records with a version still in the outbox (waiting, or sent and not acked yet).

        Read on the GUI thread for the closet's sync badges: one indexed query, no record bodies.
        """
        return self._closet.unacked_ids() if self.settings.sync.enabled else set()

    def _on_acked(self, acks: list[tuple[str, int]]) -> None:
        """The sync worker's ack listener: the closet's badges follow the cloud."""
        self._emit(RecordsSynced(tuple(sorted({record_id for record_id, _version in acks})), at=self._clock()))

    def image_path(self, record: Record, kind: str) -> Path:
        """The file of one of a record's images (kinds as in ``mirror.store.records.IMAGE_KINDS``)."""
        return self._closet.image_path(record, kind)

    # --- status ---------------------------------------------------------------------------

    def status(self) -> Status:
        """The current status line."""
        return self._board.current()

    def about(self) -> About:
        """Device id, version, model versions, broker and storage (the closet folder as measured
        at most 30 s ago)."""
        used = self._keeper.storage_used
        sync = self.status().sync.detail
        return About(
            device_id=self.device_id,
            version=describe(),  # with the installed commit: "0.1.0" alone names every install
            model_versions=self._models.versions if self._models is not None else {},
            broker=f"{self.settings.sync.host}:{self.settings.sync.port} ({sync})"
            if self.settings.sync.enabled
            else "off",
            storage_used_mb=round(used / 1e6, 1),
            records=self.counts().garments,  # counted in SQL, no record decoded
        )

    # --- events ---------------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        """Queue an event for the UI and wake it; preview frames are dropped when the UI falls behind."""
        if isinstance(event, FrameReady) and self.events.qsize() > MAX_FRAME_BACKLOG:
            return
        self.events.put(event)
        wake = self.wake
        if wake is not None:
            try:
                wake()
            except Exception:  # a UI that went away must not break the thread that emitted
                log.debug("the event listener's wake-up failed", exc_info=True)
