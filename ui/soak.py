"""``smart-mirror bench --soak MINUTES``: the whole mirror used for minutes on end, and what grows.

Why: the mirror runs for weeks on a Pi nobody watches. A few hundred kilobytes kept per garment,
a file left open per reconnect or a thread per closet visit never shows in a 20 s bench, yet ends
the service against its ``MemoryMax`` or its file limit a month later. This bench uses the mirror
as a busy person would, for as long as it is told, and reports how memory, open files and threads
move as the closet grows; and that every garment kept reached the cloud, across a broker outage.

How, with the real window, service, pipeline, store and sync on the built-in demo source (a
throwaway closet in a temporary folder):

- its own ``mosquitto`` on a free loopback port and the reference consumer in a process of its
  own (``python -m sync.consumer``, accepting this mirror only), so the consumer's memory is not
  counted as the mirror's;
- over and over: Space on Home (the shot), Keep on the result once it is painted; after every
  ``BROWSE_EVERY`` garments kept, the closet: End, PageUp twice, Enter on a garment, and on its
  page, by turns, its colour corrected through the picker or the garment deleted (Delete, "Yes,
  delete"); then back home (each page's thumbnails decoded);
- half-way, the broker is killed for ``BROKER_DOWN_S`` while garments are still kept, then started
  again: those garments wait in the outbox and must arrive too;
- every ``SAMPLE_EVERY`` garments: this process's resident memory, open files and threads (all of
  them, Qt's and the runtimes' included: ``/proc/self/status``);
- at the end, up to ``DRAIN_S`` for the last acks (``last_acks_after_s``: a version the broker had
  taken but lost when it was killed goes again only after ``[sync] ack_timeout_s``, 60 s by
  default); the consumer is stopped and its database set beside the closet: ``records_lost``
  counts the garments whose newest version (a correction or a delete included) the cloud does
  not hold.

Growth is judged after a warm-up (the first quarter of the run, at least a minute but at most
half of it: caches fill, the allocator finds its size): memory as a least-squares slope in MB per
100 garments, files and threads as the largest count of the run's last half minus that of the
first half (a reconnect's socket or a store job's thread is there in both). Runs under ten
minutes are noisy: the allocator's own swings are ±20 MB here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mirror.config import Settings
from mirror.config.settings import UiSettings
from sync.bench import BenchUnavailableError
from sync.localbroker import Mosquitto, mosquitto_binary
from ui.bench import PANEL, application, interruptible, rss_mb, run_events_for, wait_until

if TYPE_CHECKING:  # Qt and the core are imported when the soak runs, not with this module
    from ui.screen import Screen
    from ui.window import MirrorWindow

SAMPLE_EVERY = 10
BROWSE_EVERY = 10
BROKER_DOWN_S = 5.0
DRAIN_S = 120.0
WARM_UP_SHARE = 0.25
WARM_UP_MIN_S = 60.0
#: The consumer's log line once it has subscribed (sync.consumer.service), and how long to wait for it.
CONSUMER_READY = "consumer connected to"
CONSUMER_START_S = 30.0
#: Sync's timing in a soak, at most (the defaults): the drain below must outlast a resend.
SOAK_SYNC = {"ack_timeout_s": 60, "backoff_min_s": 1.0, "backoff_max_s": 60.0}
#: Shots taken and results kept are timed over the first and the last this many garments: does the
#: mirror slow down as its closet grows?
TREND_N = 20
TARGETS = {
    # 1,000 garments (a large wardrobe, registered at once) would add at most 50 MB.
    "rss_growth_mb_per_100_garments_max": 5.0,
    "open_files_growth_max": 0,
    "threads_growth_max": 0,
    "records_lost_max": 0,
}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Sample:
    """One look at the process, after ``garments`` had been kept."""

    seconds: float
    garments: int
    rss_mb: float | None
    open_files: int
    threads: int


def process_sample(seconds: float, garments: int) -> Sample:
    """This process now: resident memory, open file descriptors and OS threads (Linux ``/proc``)."""
    threads = 0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Threads:"):
                threads = int(line.split()[1])
        open_files = sum(1 for _ in Path("/proc/self/fd").iterdir())
    except (OSError, ValueError, IndexError):
        open_files = 0
    return Sample(round(seconds, 1), garments, rss_mb(), open_files, threads)


def growth_per_100(samples: Sequence[Sample]) -> float | None:
    """Least-squares slope of resident memory against garments kept, in MB per 100 garments
    (None with fewer than two samples at different counts)."""
    points = [(s.garments, s.rss_mb) for s in samples if s.rss_mb is not None]
    if len({g for g, _ in points}) < 2:
        return None
    mean_g = statistics.fmean(g for g, _ in points)
    mean_m = statistics.fmean(m for _, m in points)
    slope = sum((g - mean_g) * (m - mean_m) for g, m in points) / sum((g - mean_g) ** 2 for g, _ in points)
    return round(100.0 * slope, 2)


def count_growth(values: Sequence[int]) -> int | None:
    """The largest of the last half minus the largest of the first half (None under two values)."""
    if len(values) < 2:
        return None
    half = len(values) // 2
    return max(values[half:]) - max(values[:half])


def soak_settings(settings: Settings, root: Path, port: int) -> Settings:
    """The mirror of a soak: demo camera, the shutter pressed by the bench (auto-capture off, so
    every shot is one the bench took), a throwaway closet, sync to the bench's broker.

    Sync's timing is the defaults' at most (``SOAK_SYNC``): a production ``ack_timeout_s`` of minutes
    would outlast the drain, and every garment the killed broker had lost would read as lost."""
    timing = {key: min(getattr(settings.sync, key), most) for key, most in SOAK_SYNC.items()}
    sync = dataclasses.replace(settings.sync, enabled=True, host="127.0.0.1", port=port, tls=False, username="",
                               password_file="", client_id="", ha_discovery=False, images="mqtt", **timing)  # fmt: skip
    return dataclasses.replace(
        settings,
        ui=UiSettings(),
        camera=dataclasses.replace(settings.camera, source="demo"),
        vision=dataclasses.replace(settings.vision, auto_capture=False),
        store=dataclasses.replace(settings.store, data_dir=str(root / "closet"), min_free_mb=0),
        sync=sync,
    )


def run_soak(settings: Settings, minutes: float, progress: Progress = lambda _line: None) -> dict[str, Any]:
    """Run the soak for ``minutes`` (see the module docstring); the JSON-able report."""
    if mosquitto_binary() is None:
        raise BenchUnavailableError("bench --soak needs the mosquitto broker; install it: apt-get install mosquitto")
    application()
    with interruptible(), tempfile.TemporaryDirectory(prefix="smart-mirror-soak-") as tmp:
        root = Path(tmp)
        broker = Mosquitto(root / "broker").start()
        try:
            return _Soak(soak_settings(settings, root, broker.port), root, broker, minutes, progress).run()
        finally:
            broker.stop()


@dataclass
class _Soak:
    """One soak run; :meth:`run` gives the report."""

    settings: Settings
    root: Path
    broker: Mosquitto
    minutes: float
    progress: Progress
    samples: list[Sample] = field(default_factory=list)
    shot_ms: list[float] = field(default_factory=list)  # shutter -> result painted, per garment kept
    keep_ms: list[float] = field(default_factory=list)  # Keep -> the closet has it, per garment kept
    kept: int = 0
    corrected: int = 0
    deleted: set[str] = field(default_factory=set)
    shots_without_garment: int = 0
    outage_at: int | None = None
    drain_s: float = 0.0  # the end of use to the last ack
    consumer_died: str = ""  # how, when the reference consumer ended before the soak stopped it

    def run(self) -> dict[str, Any]:
        from ui.assembly import running_mirror

        with running_mirror(self.settings, size=PANEL) as (service, bridge, window):
            if not wait_until(lambda: not window.home.status.models_loading, 120.0):
                raise BenchUnavailableError("the models did not load within 2 minutes")
            if not window.home.status.models_ready:
                raise BenchUnavailableError(f"the models did not load ({window.home.notice})")
            saved: list[float] = []
            bridge.record_saved.connect(lambda _event: saved.append(time.perf_counter()))
            bridge.record_changed.connect(lambda _event: setattr(self, "corrected", self.corrected + 1))
            bridge.record_deleted.connect(lambda event: self.deleted.add(event.record_id))
            consumer = self._start_consumer(service.device_id)
            try:
                self._use(window, saved)
                waiting = self._drain(service.unsynced_ids)
            finally:
                cloud = self._stop_consumer(consumer)
            closet = {record.id: record.version for record in service.closet()}
        closet_bytes = folder_bytes(self.root / "closet")  # the mirror is down: nothing moves there now
        return self._report(waiting, cloud_differences(closet, self.deleted, cloud), len(closet), closet_bytes)

    # --- the person -------------------------------------------------------------------------------
    def _use(self, window: MirrorWindow, saved: list[float]) -> None:
        started = time.monotonic()
        deadline = started + self.minutes * 60.0
        self.samples.append(process_sample(0.0, 0))
        while time.monotonic() < deadline:
            if self.outage_at is None and time.monotonic() - started >= self.minutes * 30.0:
                self._outage(window, saved)
            if not self._keep_one(window, saved):
                continue
            if self.kept % BROWSE_EVERY == 0:
                self._browse(window)
            if self.kept % SAMPLE_EVERY == 0:
                sample = process_sample(time.monotonic() - started, self.kept)
                self.samples.append(sample)
                self.progress(
                    f"soak: {sample.seconds / 60:.1f} of {self.minutes:g} min, {self.kept} garments kept, "
                    f"RSS {sample.rss_mb} MB, {sample.open_files} files, {sample.threads} threads"
                )

    def _keep_one(self, window: MirrorWindow, saved: list[float]) -> bool:
        """Space on Home, Keep on the result; False when the shot found no garment (it goes home)."""
        from PySide6.QtCore import Qt

        from ui import result as result_mod

        window.show_screen(window.home)
        if not wait_until(lambda: window.capture.frame is not None and window.capture.frame.box is not None, 30.0):
            raise RuntimeError("the demo garment was not seen for 30 s (is the demo source working?)")
        window.result_shown_at = None
        failed: list[object] = []
        window.bridge.analysis_failed.connect(failed.append)
        try:
            press(window.home, Qt.Key.Key_Space)
            if not wait_until(lambda: window.result_shown_at is not None or bool(failed), 30.0):
                raise RuntimeError("no analysis result within 30 s")
        finally:
            window.bridge.analysis_failed.disconnect(failed.append)
        if window.result_shown_at is None or window.result.garment is None:
            self.shots_without_garment += 1
            window.cancel()
            return False
        assert window.shutter_at is not None
        self.shot_ms.append((window.result_shown_at - window.shutter_at) * 1000.0)
        count, pressed = len(saved), time.perf_counter()
        window.result.action.emit(result_mod.KEEP)  # what a press on Keep sends
        if not wait_until(lambda: len(saved) > count, 30.0):
            raise RuntimeError("a kept garment was not stored within 30 s")
        self.keep_ms.append((saved[-1] - pressed) * 1000.0)
        self.kept += 1
        return True

    def _browse(self, window: MirrorWindow) -> None:
        """The closet as a person looks through it: the last garment, two pages up, one opened and, by
        turns, its colour corrected or the garment deleted; then home."""
        from PySide6.QtCore import Qt

        window.open_closet()
        for key in (Qt.Key.Key_End, Qt.Key.Key_PageUp, Qt.Key.Key_PageUp, Qt.Key.Key_Return):
            press(window.current(), key)
            run_events_for(0.1)  # the page's thumbnails decode meanwhile
        if window.current() is window.detail and window.detail.item is not None:
            if (self.kept // BROWSE_EVERY) % 2:
                self._correct_colour(window)
            else:
                self._delete(window)
        for _ in range(4):  # the picker, the garment's page, the closet: each goes back one step
            if window.current() is window.home:
                break
            press(window.current(), Qt.Key.Key_Escape)
        run_events_for(0.1)

    def _correct_colour(self, window: MirrorWindow) -> None:
        """Colour on the garment's page, another colour in the picker; until the closet has the new version."""
        from mirror.vocab import BASIC_TERMS
        from ui import detail as detail_mod
        from ui.picker import PICK_PREFIX

        assert window.detail.item is not None
        current, before = window.detail.item.record.color.basic, self.corrected
        window.detail.action.emit(detail_mod.EDIT_COLOUR)
        window.picker.action.emit(PICK_PREFIX + next(c for c in BASIC_TERMS if c != current))
        if not wait_until(lambda: self.corrected > before, 30.0):
            raise RuntimeError("a corrected colour was not stored within 30 s")

    def _delete(self, window: MirrorWindow) -> None:
        """Delete on the garment's page, then "Yes, delete"; until the closet has let it go."""
        from ui import detail as detail_mod

        assert window.detail.item is not None
        record_id = window.detail.item.record.id
        window.detail.action.emit(detail_mod.DELETE)
        window.detail.action.emit(detail_mod.CONFIRM_DELETE)
        if not wait_until(lambda: record_id in self.deleted, 30.0):
            raise RuntimeError("a deleted garment was not deleted within 30 s")

    def _outage(self, window: MirrorWindow, saved: list[float]) -> None:
        """The broker dies, garments are kept meanwhile, the broker comes back."""
        self.outage_at = self.kept
        self.progress(f"soak: broker stopped for {BROKER_DOWN_S:g} s after {self.kept} garments")
        self.broker.kill()
        down_until = time.monotonic() + BROKER_DOWN_S
        while time.monotonic() < down_until:
            self._keep_one(window, saved)
        self.broker.start()

    # --- the cloud ----------------------------------------------------------------------------------
    def _start_consumer(self, device_id: str) -> subprocess.Popen[bytes]:
        """The reference consumer, in a session of its own (a Ctrl-C goes to the bench, which stops it);
        returned once it has connected and subscribed."""
        command = [
            sys.executable, "-m", "sync.consumer", "--host", "127.0.0.1", "--port", str(self.broker.port),
            "--prefix", self.settings.sync.topic_prefix, "--device", device_id, "--db", str(self.root / "cloud.db"),
        ]  # fmt: skip
        log = self.root / "consumer.log"
        with log.open("wb") as out:
            consumer = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        if not wait_until(lambda: consumer.poll() is not None or CONSUMER_READY in _tail(log), CONSUMER_START_S):
            consumer.kill()
        if consumer.poll() is not None:
            consumer.wait()
            raise BenchUnavailableError(f"the reference consumer did not start: {_tail(log) or 'it said nothing'}")
        return consumer

    def _drain(self, unsynced: Callable[[], set[str]]) -> int:
        """Wait up to ``DRAIN_S`` for the cloud's last acks; the garments still waiting."""
        self.progress(f"soak: {self.kept} garments kept; waiting up to {DRAIN_S:g} s for the last acks")
        started = time.perf_counter()
        wait_until(lambda: not unsynced(), DRAIN_S)
        self.drain_s = round(time.perf_counter() - started, 1)
        return len(unsynced())

    def _stop_consumer(self, consumer: subprocess.Popen[bytes]) -> dict[str, tuple[int, bool]] | None:
        """Stop the consumer; each garment's newest version in its database and whether it is a delete
        (None if the database could not be read). A consumer that died meanwhile is said in the report."""
        from sync.consumer.db import ConsumerDB, ConsumerDBError

        if consumer.poll() is not None:
            self.consumer_died = f"exit {consumer.returncode}: {_tail(self.root / 'consumer.log')}"
        consumer.send_signal(signal.SIGTERM)
        try:
            consumer.wait(15)
        except subprocess.TimeoutExpired:
            consumer.kill()
            consumer.wait()
        try:
            db = ConsumerDB.open(str(self.root / "cloud.db"))
        except ConsumerDBError:
            return None
        try:
            return db.newest()
        finally:
            db.close()

    # --- the report ---------------------------------------------------------------------------------
    def _report(self, waiting: int, lost: int | None, in_closet: int, closet_bytes: int) -> dict[str, Any]:
        run_s = self.samples[-1].seconds if self.samples else 0.0
        warm = min(max(WARM_UP_MIN_S, WARM_UP_SHARE * run_s), run_s / 2)  # a short run keeps its second half
        settled = [s for s in self.samples if s.seconds >= warm]
        rss = [s.rss_mb for s in settled if s.rss_mb is not None]
        report: dict[str, Any] = {
            "minutes": self.minutes,
            "panel": f"{PANEL[0]}x{PANEL[1]}",
            "load_avg_1min": round(os.getloadavg()[0], 2),
            "garments_kept": self.kept,
            "colours_corrected": self.corrected,
            "garments_deleted": len(self.deleted),
            "garments_in_closet": in_closet,
            "shots_without_garment": self.shots_without_garment,
            "broker_outage": {"after_garments": self.outage_at, "seconds": BROKER_DOWN_S},
            "warm_up_s": round(warm, 1),
            "rss_mb": {
                "after_warm_up": rss[0] if rss else None,
                "end": rss[-1] if rss else None,
                "max": max(rss) if rss else None,
            },
            "rss_growth_mb_per_100_garments": growth_per_100(settled),
            "open_files_growth": count_growth([s.open_files for s in settled]),
            "threads_growth": count_growth([s.threads for s in settled]),
            "closet_kb_per_garment": round(closet_bytes / 1000 / in_closet, 1) if in_closet else None,
            "shot_to_result_ms_median": _trend(self.shot_ms),
            "keep_to_stored_ms_median": _trend(self.keep_ms),
            "sync": {"still_waiting": waiting, "last_acks_after_s": self.drain_s},
            **({"consumer_died": self.consumer_died} if self.consumer_died else {}),
            "records_lost": lost,
            "samples": [dataclasses.asdict(s) for s in self.samples],
            "targets": TARGETS,
        }
        report["meets_targets"] = meets_targets(report)
        return report


def folder_bytes(folder: Path) -> int:
    """The size of the files under ``folder``."""
    total = 0
    for path in folder.rglob("*"):
        with contextlib.suppress(OSError):  # gone between the listing and the look
            if path.is_file():
                total += path.stat().st_size
    return total


def _tail(log: Path, limit: int = 400) -> str:
    """The end of a child's log, on one line ("" while there is none)."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return ""
    return " ".join(text.split())[-limit:]


def cloud_differences(
    closet: dict[str, int], deleted: set[str], cloud: dict[str, tuple[int, bool]] | None
) -> int | None:
    """Garments whose newest version the cloud does not hold: one in the closet missing there or at an
    older version, or deleted here and not there (None: the cloud's database could not be read)."""
    if cloud is None:
        return None
    behind = sum(1 for record_id, version in closet.items() if cloud.get(record_id) != (version, False))
    return behind + sum(1 for record_id in deleted if not cloud.get(record_id, (0, False))[1])


def _trend(values: Sequence[float]) -> dict[str, float | None]:
    """Median of the first and of the last ``TREND_N`` values: slower as the closet grows?"""
    def median(part: Sequence[float]) -> float | None:
        return round(statistics.median(part), 1) if part else None

    return {"first": median(values[:TREND_N]), "last": median(values[-TREND_N:])}


def meets_targets(report: dict[str, Any]) -> dict[str, bool]:
    """Each target against its figure; a figure the run was too short to give does not meet it."""
    def at_most(figure: float | None, limit: float) -> bool:
        return figure is not None and figure <= limit

    return {
        "rss_growth": at_most(report["rss_growth_mb_per_100_garments"], TARGETS["rss_growth_mb_per_100_garments_max"]),
        "open_files": at_most(report["open_files_growth"], TARGETS["open_files_growth_max"]),
        "threads": at_most(report["threads_growth"], TARGETS["threads_growth_max"]),
        "records_lost": at_most(report["records_lost"], TARGETS["records_lost_max"])
        and report["sync"]["still_waiting"] == 0,
    }


def press(screen: Screen, key: Any) -> None:
    """A key press on ``screen``, delivered as Qt delivers the keyboard's."""
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    QApplication.sendEvent(screen, QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier))
