"""Worker threads step back for the GUI; the process (and so the GUI thread) does not."""

from __future__ import annotations

import os
import threading

from mirror.threads import WORKER_NICENESS, lower_this_thread_priority


def test_only_the_calling_thread_is_lowered() -> None:
    before = os.getpriority(os.PRIO_PROCESS, 0)
    seen: list[int] = []

    def worker() -> None:
        lower_this_thread_priority()
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [min(19, before + WORKER_NICENESS)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before
