"""The whole mirror put together, started and taken apart: core, bridge, window.

``smart-mirror run``, both runs of ``bench --ui`` and the UI tests each want the same mirror:
the core (:class:`mirror.service.MirrorService`), the bridge that carries its events onto the
GUI thread, and the window. The order matters both ways, so it is written once, here:

- up: the window is built and shown, then the bridge starts, then the service (its first
  events find a window to land in);
- down: the bridge stops first (no event reaches a window being taken apart), then the
  service (camera, workers, the closet's close), then the window closes, then a bounded wait
  for threads still finishing their step (:func:`join_stragglers`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from mirror.config import Settings
from mirror.lifecycle import Lifecycle
from mirror.service import MirrorService
from ui.bridge import ServiceBridge
from ui.window import MirrorWindow

log = logging.getLogger(__name__)

#: Longest wait at exit for background threads to finish their current step.
STRAGGLER_TIMEOUT_S = 10.0


class Mirror(NamedTuple):
    """The three parts of a running mirror (a tuple, so ``as (service, bridge, window)`` works)."""

    service: MirrorService
    bridge: ServiceBridge
    window: MirrorWindow


@contextmanager
def running_mirror(
    settings: Settings,
    *,
    size: tuple[int, int] | None,
    life: Lifecycle | None = None,
    on_start_error: Callable[[Mirror, Exception], None] | None = None,
    screenshot_dir: Path | None = None,
) -> Iterator[Mirror]:
    """The mirror of ``settings``, up for the ``with`` block and taken down after it (see the module docstring).

    ``size``: the window's size, or None for full screen. The window takes its type size,
    orientation, preview and result timeout from ``[ui]``, words its hints for ``[vision]
    auto_capture``, and shows sync badges when ``[sync]`` is enabled; ``screenshot_dir`` gets
    a PNG of each screen shown (None: none).

    ``life``: the app's :class:`~mirror.lifecycle.Lifecycle`. The service's stop then becomes
    one of its cleanups, and taking the mirror down runs them all (STOPPING to systemd first,
    the watchdog still beating while the service stops) and gives the signals back.

    ``on_start_error``: a service that does not start is handed to it, and the mirror stays
    up (the app shows the problem on the glass rather than dying at boot). Without it the
    error propagates, once the mirror is down (the benches and tests want to fail).
    """
    service = MirrorService(settings)
    bridge = ServiceBridge(service)
    window = MirrorWindow(
        service,
        bridge,
        font_scale=settings.ui.font_scale,
        orientation=settings.ui.orientation,
        show_preview=settings.ui.preview,
        sync_enabled=settings.sync.enabled,
        screenshot_dir=screenshot_dir,
        result_timeout_s=settings.ui.result_timeout_s,
        auto_capture=settings.vision.auto_capture,
    )
    mirror = Mirror(service, bridge, window)
    if size is None:
        window.showFullScreen()
    else:
        window.resize(*size)
        window.show()
    bridge.start()
    try:
        try:
            service.start()
        except Exception as exc:
            if on_start_error is None:
                raise
            on_start_error(mirror, exc)
        else:
            if life is not None:
                life.on_stop(service.stop, "service")  # camera, workers, then the closet's close
        yield mirror
    finally:
        bridge.stop()
        if life is None:
            service.stop()
        else:
            life.shutdown()
            life.uninstall()
        window.close()
        join_stragglers()


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
