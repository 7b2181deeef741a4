"""The app as systemd sees it (``Type=notify``, ``WatchdogSec=``): stop requests, heartbeat, READY.

Apart from ``ui.app`` because it is the service manager's contract, not the window's:

- SIGTERM (and SIGINT, SIGHUP) asks for a stop and ends the event loop (``mirror.lifecycle``);
  the cleanups then run newest first, the service's among them (``ui.assembly``).
- The GUI thread beats the ``gui`` heartbeat from a timer that also measures stalls
  (:class:`ui.stall.StallMonitor`), so a hung event loop stops the watchdog pings and systemd
  restarts the mirror.
- READY is said once, when the service reports its models loaded or missing, or when the
  core did not start at all: either way the mirror is up and saying so, and a restart would
  not help.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer

from mirror.events import StatusChanged
from mirror.health import HEALTH, Watchdog
from mirror.lifecycle import Lifecycle
from mirror.notify import SystemdNotifier
from ui.stall import StallMonitor

#: The GUI thread counts as hung after this long without a tick (systemd then restarts the mirror).
GUI_DEADLINE_S = 10.0
#: The GUI heartbeat's tick (it also lets the SIGTERM handler run during ``app.exec()``): a tenth of a
#: second is plenty for a 10 s deadline; ``bench --ui`` measures stalls with its own 10 ms monitor.
HEARTBEAT_MS = 100


class Supervision:
    """Started before the window: signals routed to ``quit``, the watchdog pinging, the heartbeat ticking.

    ``life`` takes the app's cleanups (``ui.assembly.running_mirror`` adds the service's);
    ``monitor`` is the heartbeat's timer, whose ``max_block_ms`` the app logs at exit.
    """

    def __init__(self, quit_loop: Callable[[], None], life: Lifecycle | None = None) -> None:
        """``quit_loop`` ends the event loop; ``life``: the stop handling installed before the app was built
        (a stop asked for meanwhile then ends the loop as soon as it runs)."""
        self.notifier = SystemdNotifier.from_env()
        self.life = life or Lifecycle().install()
        self.life.notifier = self.notifier
        # Queued, not called: from a signal handler it must not run the app's shutdown (a last screenshot)
        # inside a paint in progress, and before ``exec()`` a direct quit does nothing at all.
        self.life.wake_with(lambda: QTimer.singleShot(0, quit_loop))
        HEALTH.register("gui", deadline_s=GUI_DEADLINE_S)
        watchdog = Watchdog(HEALTH, self.notifier).start()
        self.life.on_stop(watchdog.stop, "watchdog")
        self.life.on_stop(lambda: HEALTH.unregister("gui"), "gui heartbeat")
        self.monitor = StallMonitor(interval_ms=HEARTBEAT_MS, beat=lambda: HEALTH.beat("gui"))
        self.monitor.start()
        self._told_ready = False

    def ready(self, why: str) -> None:
        """Say READY to systemd (once: later calls do nothing)."""
        if not self._told_ready:
            self._told_ready = True
            self.notifier.ready(why)

    def on_status(self, event: StatusChanged) -> None:
        """READY once the models settle: loaded (OK) or failed (ERROR); WARN is "models: loading"."""
        if not event.status.models_loading:
            self.ready("showing the mirror")
