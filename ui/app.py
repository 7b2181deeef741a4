"""Start the mirror UI: the entry ``smart-mirror run`` calls.

Order matters for systemd (``Type=notify``, see ``mirror.notify``): the window is shown and
the service started first; READY is sent only once the service reports its models loaded
(or reports them missing: the mirror is then up and saying so, and a restart would not
help). The GUI beats the ``gui`` heartbeat from a 10 ms timer that also measures stalls, so
a hung event loop stops the watchdog pings. SIGTERM ends the event loop; the shutdown then
says STOPPING, stops the service (camera, workers) and closes the closet, newest first.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from mirror.config import Settings
from ui.platform import choose_platform

log = logging.getLogger(__name__)

OFFSCREEN_DEFAULT_DURATION_S = 20.0
#: The GUI thread counts as hung after this long without a tick (systemd then restarts the mirror).
GUI_DEADLINE_S = 10.0
#: The GUI heartbeat's tick (it also lets the SIGTERM handler run during ``app.exec()``): a tenth of a
#: second is plenty for a 10 s deadline; ``bench --ui`` measures stalls with its own 10 ms monitor.
HEARTBEAT_MS = 100
#: Longest wait at exit for background threads to finish their current step.
STRAGGLER_TIMEOUT_S = 10.0
#: Window creation, first paint and font loading are not what the stall figure is about.
STARTUP_GRACE_MS = 2000
#: Development window size (half of the portrait panel).
WINDOW_SIZE = (1080 // 2, 1920 // 2)


def with_source(settings: Settings, source: str | None) -> Settings:
    """The settings with ``--source`` applied to ``[camera] source``."""
    if not source:
        return settings
    return dataclasses.replace(settings, camera=dataclasses.replace(settings.camera, source=source))


def default_duration(offscreen: bool, environ: Mapping[str, str]) -> float | None:
    """How long to run without ``--duration``: a demo on a machine with no display stops by itself, the
    service never does (an offscreen platform under systemd, a drop-in gone wrong, must not quit with
    status 0 after 20 s, which ``Restart=on-failure`` would take as done)."""
    return OFFSCREEN_DEFAULT_DURATION_S if offscreen and not environ.get("NOTIFY_SOCKET") else None


def run_app(settings: Settings, args: argparse.Namespace) -> int:
    """Build the window and run Qt's event loop until quit, SIGTERM, or ``--duration`` ends."""
    offscreen = choose_platform()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from mirror.events import Level, StatusChanged
    from mirror.health import HEALTH, Watchdog
    from mirror.lifecycle import Lifecycle
    from mirror.notify import SystemdNotifier
    from mirror.service import MirrorService
    from ui.bridge import ServiceBridge
    from ui.stall import StallMonitor
    from ui.window import MirrorWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    settings = with_source(settings, args.source)
    shots = args.screenshots or settings.ui.screenshot_dir or None
    if offscreen and not shots:
        shots = str(settings.store.path() / "screenshots")
    duration = args.duration if args.duration is not None else default_duration(offscreen, os.environ)

    notifier = SystemdNotifier.from_env()
    life = Lifecycle(notifier, wake=app.quit).install()
    HEALTH.register("gui", deadline_s=GUI_DEADLINE_S)
    watchdog = Watchdog(HEALTH, notifier).start()
    life.on_stop(watchdog.stop, "watchdog")
    life.on_stop(lambda: HEALTH.unregister("gui"), "gui heartbeat")
    monitor = StallMonitor(interval_ms=HEARTBEAT_MS, beat=lambda: HEALTH.beat("gui"))
    monitor.start()

    service = MirrorService(settings)
    bridge = ServiceBridge(service)
    window = MirrorWindow(
        service,
        bridge,
        font_scale=settings.ui.font_scale,
        orientation=settings.ui.orientation,
        show_preview=settings.ui.preview,
        sync_enabled=settings.sync.enabled,
        screenshot_dir=Path(shots) if shots else None,
        result_timeout_s=settings.ui.result_timeout_s,
    )
    if args.windowed or not settings.ui.fullscreen or offscreen:
        window.resize(*WINDOW_SIZE)
        window.show()
    else:
        window.showFullScreen()
    QTimer.singleShot(STARTUP_GRACE_MS, monitor.reset)  # the figure logged at exit is the steady state
    if shots:
        print(f"smart-mirror: writing screenshots to {Path(shots).resolve()}", flush=True)

    told_ready: list[bool] = []

    def ready_once_models_settle(event: StatusChanged) -> None:
        # Loaded (OK) or failed (ERROR): either way the mirror is up; WARN is "models: loading".
        if not told_ready and event.status.models.level is not Level.WARN:
            told_ready.append(True)
            notifier.ready("showing the mirror")

    bridge.status.connect(ready_once_models_settle)
    bridge.start()
    try:
        service.start()
        life.on_stop(service.stop, "service")  # camera, workers, then the closet's close
    except Exception as exc:  # the mirror shows what is wrong instead of dying at boot
        log.error("the mirror core did not start: %s", exc)
        window.home.set_notice(f"The mirror could not start: {exc}")
        if not told_ready:
            told_ready.append(True)
            notifier.ready("up, core failed to start")
    if duration is not None:
        QTimer.singleShot(int(duration * 1000), lambda: life.request_stop(f"--duration {duration:g} s over"))
    app.aboutToQuit.connect(lambda: window.screenshots.save("last"))
    code = app.exec()
    monitor.stop()
    bridge.stop()
    life.shutdown()
    life.uninstall()
    window.close()
    join_stragglers()
    log.info("GUI thread: longest block %.0f ms after start-up", monitor.max_block_ms)
    return int(code)


def join_stragglers(timeout_s: float = STRAGGLER_TIMEOUT_S) -> list[str]:
    """Wait (bounded) for background threads still running after shutdown; return those left.

    A daemon thread caught inside native code (OpenCV, a model runtime) while the interpreter
    tears down aborts the process ("terminate called without an active exception"), turning
    a clean stop into a crash report; the demo camera, for one, pre-renders in such a thread.
    """
    deadline = time.monotonic() + timeout_s
    for thread in threading.enumerate():
        if thread is threading.main_thread() or not thread.is_alive():
            continue
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    left = [t.name for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive()]
    if left:
        log.warning("threads still running at exit: %s", ", ".join(left))
    return left
