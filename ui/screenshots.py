"""Screenshots of the mirror as it runs: each screen once, written off the GUI thread.

``smart-mirror run --screenshots DIR`` (and the offscreen demo) leave a PNG of every screen
the mirror showed, and one of the last moment, so a run without a display can still be
looked at.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)

#: A screen is grabbed this long after it first shows, once it has painted.
SETTLE_MS = 400


class ScreenshotWriter:
    """Grabs one widget into ``<folder>/<name>.png``: each name once on its first showing, or on demand.

    It is apart from the window because it takes no part in the flow: the window only says
    which screen just showed; this owns the files, the writer thread and what happens
    when the folder cannot be written (one warning, then screenshots stop and the mirror
    runs on). With no folder every call does nothing.
    """

    def __init__(self, widget: QWidget, folder: Path | None) -> None:
        self.widget = widget
        self.folder = folder
        self._names: set[str] = set()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="screenshots")

    def shown(self, name: str) -> None:
        """The screen ``name`` just showed: the first time, grab it once it has painted."""
        if self.folder is not None and name not in self._names:
            self._names.add(name)
            QTimer.singleShot(SETTLE_MS, lambda: self.save(name))

    def save(self, name: str) -> Path | None:
        """Grab the widget into ``<folder>/<name>.png``; the path, or None with screenshots off.

        The grab is on the GUI thread (it must be); the PNG encoding, tens of milliseconds
        at panel size, runs on a writer thread so the preview does not stutter.
        """
        if self.folder is None:
            return None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # the folder went away or filled up: say it once, then stop trying
            log.warning("screenshots off: cannot write to %s (%s)", self.folder, exc.strerror or exc)
            self.folder = None
            return None
        path = self.folder / f"{name}.png"
        image = self.widget.grab().toImage()

        def write() -> None:
            if not image.save(str(path)):
                log.warning("could not write screenshot %s", path)

        try:
            self._pool.submit(write)
        except RuntimeError:  # closed already (the window is closing): write it here
            write()
        return path

    def close(self) -> None:
        """Wait for the screenshots already grabbed to be written; later ones are written inline."""
        self._pool.shutdown(wait=True)
