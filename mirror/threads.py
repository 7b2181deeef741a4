"""Scheduling hints for the core's worker threads.

On a Pi the GUI thread shares four small cores with model inference. Linux schedules
threads individually, so the background model threads (the preview's garment detection, the
demo camera's scene renderer) ask for a lower priority for themselves: the preview and the GUI
loop then get the CPU first and stay smooth. Measured on the 2-core dev box under load: GUI
stalls over 50 ms fell from 11 to 1 when the workers ran at nice +8. The analysis of a shot
keeps normal priority (``MirrorService._analysis_worker`` says why: the person waits for it).
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)

WORKER_NICENESS = 8


def lower_this_thread_priority(niceness: int = WORKER_NICENESS) -> None:
    """Raise the calling thread's nice value by ``niceness`` (best effort, never fails)."""
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + niceness))
    except (OSError, AttributeError) as exc:  # not Linux, or not permitted: run at normal priority
        log.debug("could not lower thread priority: %s", exc)
