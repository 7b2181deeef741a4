"""Start the mirror UI: the entry ``smart-mirror run`` calls.

Order matters for systemd (``Type=notify``, see ``mirror.notify``): the window is shown and
the service started first; READY is sent only once the service reports its models loaded
(or reports them missing: the mirror is then up and saying so, and a restart would not
help). The GUI beats the ``gui`` heartbeat from a timer that also measures stalls, so
a hung event loop stops the watchdog pings. SIGTERM ends the event loop; the shutdown then
says STOPPING, stops the service (camera, workers) and closes the closet, newest first.
That contract lives in ``ui.supervision``; putting the mirror together and taking it apart
in ``ui.assembly``; this module reads the options and runs the event loop.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from mirror.config import Settings
from mirror.lifecycle import Lifecycle
from ui.platform import choose_platform

log = logging.getLogger(__name__)

OFFSCREEN_DEFAULT_DURATION_S = 20.0
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


def run_app(settings: Settings, args: argparse.Namespace, life: Lifecycle | None = None) -> int:
    """Build the window and run Qt's event loop until quit, SIGTERM, or ``--duration`` ends."""
    offscreen = choose_platform()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from ui.assembly import Mirror, running_mirror
    from ui.supervision import Supervision

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    settings = with_source(settings, args.source)
    shots = args.screenshots or settings.ui.screenshot_dir or None
    if offscreen and not shots:
        shots = str(settings.store.path() / "screenshots")
    duration = args.duration if args.duration is not None else default_duration(offscreen, os.environ)
    windowed = args.windowed or not settings.ui.fullscreen or offscreen

    supervision = Supervision(quit_loop=app.quit, life=life)
    life = supervision.life
    if life.stop_requested:  # stopped while Qt loaded: start nothing (a Pi would load the models first)
        supervision.monitor.stop()
        life.shutdown()
        life.uninstall()
        return 0

    def core_failed(mirror: Mirror, exc: Exception) -> None:  # the mirror shows what is wrong instead of dying
        log.error("the mirror core did not start: %s", exc)
        mirror.window.home.set_notice(f"The mirror could not start: {exc}")
        supervision.ready("up, core failed to start")

    with running_mirror(
        settings,
        size=WINDOW_SIZE if windowed else None,
        life=life,
        on_start_error=core_failed,
        screenshot_dir=Path(shots) if shots else None,
    ) as (_service, bridge, window):
        # Connected after the start, yet in time: the bridge delivers events only once the loop runs.
        bridge.status.connect(supervision.on_status)
        QTimer.singleShot(STARTUP_GRACE_MS, supervision.monitor.reset)  # the figure logged at exit is the steady state
        if shots:
            print(f"smart-mirror: writing screenshots to {Path(shots).resolve()}", flush=True)
        if duration is not None:
            QTimer.singleShot(int(duration * 1000), lambda: life.request_stop(f"--duration {duration:g} s over"))
        app.aboutToQuit.connect(lambda: window.screenshots.save("last"))
        code = app.exec()
        supervision.monitor.stop()
    log.info("GUI thread: longest block %.0f ms after start-up", supervision.monitor.max_block_ms)
    return int(code)
