"""UI benchmark figures: preview rate, shutter-to-result latency, longest GUI-thread block, idle cost.

Targets (issue 7) are figures in ``smart-mirror bench``, not timed tests, because they depend
on the machine: the preview paints at ≥25 fps at 640×480 while idle; the result is on screen
≤300 ms after the shutter (analysis included); the GUI thread never blocks longer than 50 ms.

How it measures, with the real window, service, pipeline and store on the built-in demo
source (a throwaway closet in a temporary folder, sync off):

1. *Idle preview*: auto-capture off, the capture screen shown at the panel's size; frames
   painted per second over a few seconds.
2. *Shutter to result*: ``capture_now()`` several times, each once the demo garment is in
   view (as a person would shoot; a shot that still finds no garment is counted in
   ``shots_without_garment`` and taken again); for each, the service clock at the
   shutter (``AnalysisStarted.at``) to the moment the result screen has been painted.
   Frames painted while the analysis runs are counted too (the preview must not stall).
   The figures split it into the pipeline's own time (``analysis_ms_median``) and the UI's
   part, result ready in the service to result painted (``result_ready_to_screen_ms_median``).
3. A :class:`ui.stall.StallMonitor` runs throughout and reports the worst lateness of a
   10 ms timer on the GUI thread, i.e. the longest block.
4. *An idle mirror* (``idle_room``, measured first, so its RSS is not the demo run's): a fresh
   app (window, service, auto-capture on, Home shown) on a replay of one still, empty room at
   the default 15 fps, as a mirror spends most of its day. Once the models are loaded it
   settles for a few seconds, then the process's CPU time, context switches and RSS are read
   over ``idle_room_s``: what a Pi pays for all day.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mirror.benchstats import summary
from mirror.config import Settings
from mirror.config.settings import UiSettings
from mirror.lifecycle import DEFAULT_SIGNALS, Terminated
from ui.platform import choose_platform

if TYPE_CHECKING:  # Qt and the core are imported when the bench runs, not with this module
    from types import FrameType

    from PySide6.QtCore import QEventLoop

    from mirror.service import MirrorService
    from ui.bridge import ServiceBridge
    from ui.stall import StallMonitor
    from ui.window import MirrorWindow

PANEL = (1080, 1920)
IDLE_SECONDS = 4.0
CAPTURES = 5
_APP: object = None
IDLE_ROOM_SECONDS = 20.0
TARGETS = {
    "preview_fps_idle": 25.0,
    "capture_to_result_ms_max": 300.0,
    "gui_max_block_ms": 50.0,
    # On this x86 box: a Pi 4 core is 3-5x slower, so 10 % here is a third to a half of one of its
    # four cores at most. Measured 7 % (it was 27 % before the idle work of session 10).
    "idle_cpu_percent_max": 10.0,
}


def bench_settings(settings: Settings, data_dir: Path) -> Settings:
    """The settings for a bench run: demo camera at 640×480 and 30 fps, manual capture, no sync,
    and the window as shipped (``[ui]``'s defaults: a config without the preview has no frame rate)."""
    return dataclasses.replace(
        settings,
        ui=UiSettings(),
        camera=dataclasses.replace(
            settings.camera, source="demo", fps=30, preview_width=640, preview_height=480, hflip=True
        ),
        vision=dataclasses.replace(settings.vision, auto_capture=False),
        store=dataclasses.replace(settings.store, data_dir=str(data_dir), min_free_mb=0),
        sync=dataclasses.replace(settings.sync, enabled=False),
    )


def run_ui_bench(
    settings: Settings, captures: int = CAPTURES, idle_s: float = IDLE_SECONDS, idle_room_s: float = IDLE_ROOM_SECONDS
) -> dict[str, Any]:
    """Run the UI benchmark and return its figures (see the module docstring)."""
    application()
    with interruptible(), tempfile.TemporaryDirectory(prefix="mirror-ui-bench-") as tmp:
        # The idle room first: its RSS is then the idle app's, not the demo run's high-water mark.
        idle = _idle_room(settings, Path(tmp) / "room", idle_room_s)
        figures = _run(bench_settings(settings, Path(tmp) / "demo"), captures, idle_s)
    figures["idle_room"] = idle
    figures["meets_targets"]["idle_cpu_percent"] = idle["cpu_percent_of_one_core"] <= TARGETS["idle_cpu_percent_max"]
    return figures


def application() -> object:
    """The Qt application a bench runs in: the running one (a test's), else one made on the platform
    :func:`ui.platform.choose_platform` picks and kept for the life of the process (it must outlive
    every widget)."""
    choose_platform()
    from PySide6.QtWidgets import QApplication

    global _APP
    if QApplication.instance() is None:
        _APP = QApplication(sys.argv[:1])
    return QApplication.instance()


def _idle_room(settings: Settings, folder: Path, seconds: float) -> dict[str, Any]:
    """Figure 4 of the module docstring: the whole app on a still, empty room."""
    import resource

    import cv2
    import numpy as np

    from ui.assembly import running_mirror

    room = folder / "room"
    room.mkdir(parents=True)
    # At preview size, uncompressed: the replay source reads its file at every frame, which a camera
    # does not; a full-size PNG would time the decoder (most of a core), not the mirror.
    height, width = settings.camera.preview_height, settings.camera.preview_width
    rng = np.random.default_rng(7)  # a wall with some texture, lit from one side
    wall = np.linspace(70, 150, width, dtype=np.float32)[None, :, None] + rng.normal(0, 4, (height, width, 3))
    cv2.imwrite(str(room / "empty.bmp"), np.clip(wall, 0, 255).astype(np.uint8))
    quiet = dataclasses.replace(
        settings,
        ui=UiSettings(),
        camera=dataclasses.replace(settings.camera, source="replay", replay_path=str(room)),
        vision=dataclasses.replace(settings.vision, auto_capture=True),
        store=dataclasses.replace(settings.store, data_dir=str(folder / "closet"), min_free_mb=0),
        sync=dataclasses.replace(settings.sync, enabled=False),
    )
    with running_mirror(quiet, size=PANEL) as (_service, _bridge, window):
        wait_until(lambda: not window.home.status.models_loading, 120.0)
        run_events_for(3.0)  # start-up work (first detections, caches) is not the idle state
        cpu0, wall0, usage0 = time.process_time(), time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        run_events_for(seconds)  # one timer: a polling wait would add its own wake-ups to the figure
        cpu1, wall1, usage1 = time.process_time(), time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        resident = rss_mb()
    elapsed = wall1 - wall0
    switches = (usage1.ru_nvcsw + usage1.ru_nivcsw) - (usage0.ru_nvcsw + usage0.ru_nivcsw)
    return {
        "seconds": round(elapsed, 1),
        "fps": quiet.camera.fps,
        "cpu_percent_of_one_core": round(100.0 * (cpu1 - cpu0) / elapsed, 1),
        "context_switches_per_s": round(switches / elapsed),
        "rss_mb": resident,
    }


def rss_mb() -> float | None:
    """This process's resident memory now (Linux), in MB."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 1e6, 1)


def _run(settings: Settings, captures: int, idle_s: float) -> dict[str, Any]:
    """Figures 1 to 3 of the module docstring, on the demo source."""
    from ui.assembly import running_mirror
    from ui.stall import StallMonitor

    monitor = StallMonitor()
    with running_mirror(settings, size=PANEL) as (service, bridge, window):
        window.show_screen(window.capture)
        if not wait_until(lambda: window.capture.frames_painted > 3, 60.0):
            raise RuntimeError("no preview frame arrived within 60 s (is the demo source working?)")
        monitor.start()
        start_frames, start = window.capture.frames_painted, time.perf_counter()
        wait_until(lambda: False, idle_s)
        idle_fps = (window.capture.frames_painted - start_frames) / (time.perf_counter() - start)
        shots = _time_captures(service, bridge, window, captures)
        monitor.stop()
    return _figures(settings, idle_fps, shots, monitor, bridge, window)


@dataclass
class _Shots:
    """What ``_time_captures`` measured, in ms per shot timed (``busy_*``: the preview meanwhile)."""

    models_ok: bool
    latencies: list[float] = field(default_factory=list)  # shutter -> result painted
    analysis: list[float] = field(default_factory=list)  # the pipeline's own time
    to_screen: list[float] = field(default_factory=list)  # result ready in the service -> painted
    busy_frames: int = 0
    busy_time: float = 0.0
    without_garment: int = 0


def _time_captures(service: MirrorService, bridge: ServiceBridge, window: MirrorWindow, captures: int) -> _Shots:
    """Figure 2: ``captures`` shots of the demo garment, each timed from the shutter to the result painted.

    A shot that finds no garment is taken again (at most three tries a shot); with no models
    nothing is shot at all."""

    failed: list[object] = []
    bridge.analysis_failed.connect(failed.append)
    wait_until(lambda: not window.home.status.models_loading, 120.0)
    shots = _Shots(models_ok=window.home.status.models_ready)
    attempts = captures * 3 if shots.models_ok else 0
    while len(shots.latencies) < captures and attempts > 0:
        attempts -= 1
        window.show_screen(window.capture)
        wait_until(lambda: False, 0.3)
        wait_until(lambda: window.capture.frame is not None and window.capture.frame.box is not None, 30.0)
        window.result_shown_at = None
        failed.clear()
        frames, t0 = window.capture.frames_painted, time.perf_counter()
        service.capture_now()
        if not wait_until(lambda: window.result_shown_at is not None or bool(failed), 30.0):
            raise RuntimeError("no analysis result within 30 s")
        if window.result_shown_at is None:  # no garment in that shot: shoot again
            window.core.retake()
            continue
        shots.busy_frames += window.capture.frames_painted - frames
        shots.busy_time += time.perf_counter() - t0
        assert window.shutter_at is not None and window.result_shown_at is not None
        shots.latencies.append((window.result_shown_at - window.shutter_at) * 1000.0)
        shots.analysis.append(window.analysis_ms)
        if window.analysis_done_at is not None:
            shots.to_screen.append((window.result_shown_at - window.analysis_done_at) * 1000.0)
        window.core.retake()
    if shots.models_ok:
        shots.without_garment = captures * 3 - attempts - len(shots.latencies)
    return shots


def _figures(
    settings: Settings,
    idle_fps: float,
    shots: _Shots,
    monitor: StallMonitor,
    bridge: ServiceBridge,
    window: MirrorWindow,
) -> dict[str, Any]:
    """The report of figures 1 to 3, and which targets they meet."""
    latency = summary(shots.latencies, (50, 90))  # one method for every bench report (mirror.benchstats)
    figures: dict[str, Any] = {
        "panel": f"{PANEL[0]}x{PANEL[1]}",
        "load_avg_1min": round(os.getloadavg()[0], 2),  # other work on the machine skews every figure
        "preview_size": f"{settings.camera.preview_width}x{settings.camera.preview_height}",
        "preview_fps_idle": round(idle_fps, 1),
        "preview_fps_while_analysing": round(shots.busy_frames / shots.busy_time, 1) if shots.busy_time else None,
        "capture_to_result_ms": {
            "n": latency.n,
            "median": round(latency.at[50], 1),
            "p90": round(latency.at[90], 1),
            "max": round(latency.max, 1),
        },
        "analysis_ms_median": round(statistics.median(shots.analysis), 1) if shots.analysis else None,
        "result_ready_to_screen_ms_median": round(statistics.median(shots.to_screen), 1) if shots.to_screen else None,
        "gui_max_block_ms": round(monitor.max_block_ms, 1),
        "gui_blocks_over_50ms": monitor.blocks_over_50ms,
        "frames_dropped_by_bridge": bridge.frames_dropped,
        "shots_without_garment": shots.without_garment,
        "targets": TARGETS,
    }
    if not shots.models_ok:
        figures["capture_to_result_ms"] = None
        figures["note"] = f"no capture timings: the models did not load ({window.home.notice})"
    figures["meets_targets"] = {
        "preview_fps_idle": figures["preview_fps_idle"] >= TARGETS["preview_fps_idle"],
        "capture_to_result_ms": shots.models_ok
        and figures["capture_to_result_ms"]["max"] <= TARGETS["capture_to_result_ms_max"],
        "gui_max_block_ms": figures["gui_max_block_ms"] <= TARGETS["gui_max_block_ms"],
    }
    return figures


class _Interrupt:
    """A stop signal during a bench, as :func:`interruptible` notes it, and the wait it ends."""

    signum: int | None = None
    loop: QEventLoop | None = None


@contextmanager
def interruptible(signals: tuple[signal.Signals, ...] = DEFAULT_SIGNALS) -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP end a bench between two waits, as KeyboardInterrupt.

    Why not the usual KeyboardInterrupt (or ``mirror.lifecycle.Terminated``) raised by the handler:
    Python runs a handler in whatever Python code runs next, which in a Qt app is mostly some slot,
    and PySide prints an exception raised in a slot and carries on. A bench then ran on for its
    minutes after a Ctrl-C (which had already killed children in its process group). Here the
    handler only notes the signal and quits the wait in progress; :func:`wait_until` and
    :func:`run_events_for` raise once the event loop has returned, and every ``with`` and
    ``finally`` on the way out (the mirror, the broker, the consumer) takes its part down."""
    def note(signum: int, _frame: FrameType | None) -> None:
        _Interrupt.signum = signum
        if _Interrupt.loop is not None:
            _Interrupt.loop.quit()

    previous = {sig: signal.signal(sig, note) for sig in signals}
    try:
        yield
        _raise_noted()  # one that came after the last wait
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _Interrupt.signum = None


def _raise_noted() -> None:
    """Raise the stop signal :func:`interruptible` noted, once: the take-down it starts may wait again."""
    signum, _Interrupt.signum = _Interrupt.signum, None
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    if signum is not None:
        raise Terminated(signal.Signals(signum).name)


def _exec(loop: QEventLoop) -> None:
    """``loop.exec()``, ended early by a stop signal (:func:`interruptible`), which it then raises."""
    if _Interrupt.signum is None:
        _Interrupt.loop = loop
        try:
            loop.exec()
        finally:
            _Interrupt.loop = None
    _raise_noted()


def wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Run the Qt event loop until ``condition()`` holds or ``timeout_s`` passes; return the condition.

    What the check raises ends the wait and is raised here (PySide would print it and carry on); so
    does a stop signal under :func:`interruptible`."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(5)
    raised: list[BaseException] = []

    def check() -> None:
        try:
            done = condition() or time.monotonic() >= deadline
        except BaseException as exc:  # carried out of Qt and raised again below
            raised.append(exc)
            done = True
        if done:
            loop.quit()

    timer.timeout.connect(check)
    timer.start()
    try:
        _exec(loop)
    finally:
        timer.stop()
    if raised:
        raise raised[0]
    return condition()


def run_events_for(seconds: float) -> None:
    """Run the Qt event loop for ``seconds``, waking for nothing else (a stop signal ends it early)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    _exec(loop)
