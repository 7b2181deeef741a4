"""What the glass shows when the mirror cannot start because of its config file.

Why: under systemd a config error used to end the process before any window existed: a black
mirror, with the reason only in the journal of a Pi nobody is logged in to. The core is not
started on guessed settings (defaults could open another closet, or sync somewhere else), so
this screen stands alone: it says that the settings need fixing and lists the problems for
whoever fixes them, tells systemd it is up and alive, and watches the file. When the file
changes it exits with :data:`RESTART`, and systemd starts the mirror again on the fixed file.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from mirror.notify import SystemdNotifier, watchdog_interval
from ui.platform import choose_platform
from ui.theme import GREY, WARN, Theme, px_per_mm

#: The exit status after the config file changed: a failure, so ``Restart=on-failure`` starts the
#: mirror again (2, a config error, is not restarted: ``RestartPreventExitStatus=2``).
RESTART = 1
#: How often the config file is looked at.
RECHECK_MS = 3000
#: Design sizes (``ui.theme``: pixels on a 1080-wide panel): the title as the other screens' titles,
#: the problems and the fix as their explaining text.
TITLE, TEXT = 64, 32


def _stamp(path: Path | None) -> tuple[float, int] | None:
    try:
        info = path.stat() if path is not None else None
    except OSError:
        return None
    return None if info is None else (info.st_mtime, info.st_size)


class SettingsProblemScreen(QWidget):
    """Black, a title the person can read from across the room, then the problems for the installer.

    Sized like every other screen, from ``ui.theme.Theme`` for the window's size (and the panel's
    millimetres where the screen says them): fixed pixel sizes were a small block in the middle of
    a 1080×1920 panel, and under the mm floor on a dense 7" one.
    """

    def __init__(self, problems: Sequence[str], config: Path | None) -> None:
        super().__init__()
        self.setStyleSheet("background: black;")
        where = str(config) if config is not None else "the config file"
        self.title = QLabel("The mirror's settings need fixing")
        self.title.setStyleSheet(f"color: {WARN.name()};")
        self.lines = QLabel("\n".join(problems))
        self.lines.setStyleSheet(f"color: {GREY.name()};")
        self.fix = QLabel(f"Fix {where} (smart-mirror doctor checks it); the mirror starts again by itself")
        self.fix.setStyleSheet(f"color: {GREY.name()};")
        self._layout = QVBoxLayout(self)
        self._layout.addStretch(1)
        for label in (self.title, self.lines, self.fix):
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self._layout.addWidget(label)
        self._layout.addStretch(1)
        self.texts = [self.title.text(), self.lines.text(), self.fix.text()]
        self._size_type()

    def theme(self) -> Theme:
        """The sizes for this window as it is now (with the panel's density where it is known)."""
        screen = self.screen()
        density = None
        if screen is not None:
            geometry, physical = screen.geometry(), screen.physicalSize()
            density = px_per_mm((geometry.width(), geometry.height()), (physical.width(), physical.height()))
        return Theme.for_size(self.width(), self.height(), px_per_mm=density)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        self._size_type()
        super().resizeEvent(event)

    def _size_type(self) -> None:
        """The title at the size of the other screens' titles, the problems and the fix at their
        text's (``TEXT``: a reading size, above the smallest), margins as theirs."""
        theme = self.theme()
        self.title.setFont(theme.font(TITLE))  # regular: thin amber strokes fade behind the glass
        for label in (self.lines, self.fix):
            label.setFont(theme.font(TEXT))
        margin = theme.margin
        self._layout.setContentsMargins(margin, margin, margin, margin)
        self._layout.setSpacing(theme.px(24))


def run_settings_problem(
    problems: Sequence[str],
    config: Path | None,
    notifier: SystemdNotifier,
    *,
    recheck_ms: int = RECHECK_MS,
    windowed: bool = False,
) -> int:
    """Show the problems until the config file changes (:data:`RESTART`) or SIGTERM (0)."""
    choose_platform()
    app = QApplication.instance() or QApplication(["smart-mirror"])
    assert isinstance(app, QApplication)
    screen = SettingsProblemScreen(problems, config)
    if windowed:
        screen.resize(960, 540)
        screen.show()
    else:
        screen.showFullScreen()
    code = [0]
    seen = _stamp(config)

    def recheck() -> None:
        if _stamp(config) != seen:
            code[0] = RESTART
            app.quit()

    watcher = QTimer(screen)
    watcher.timeout.connect(recheck)  # it also lets Python run the SIGTERM handler during exec()
    watcher.start(recheck_ms)
    interval = watchdog_interval()
    pinger = QTimer(screen)
    if interval is not None:
        pinger.timeout.connect(notifier.watchdog)
        pinger.start(int(interval * 1000))
    # Queued: a quit called before exec() (a SIGTERM in the next lines) would do nothing at all.
    previous = signal.signal(signal.SIGTERM, lambda *_: QTimer.singleShot(0, app.quit))
    notifier.ready("the config file has problems: shown on the glass")
    notifier.status(f"config error: {problems[0] if problems else 'see the journal'}")
    try:
        app.exec()
    finally:
        signal.signal(signal.SIGTERM, previous)
        watcher.stop()
        pinger.stop()
        screen.close()
    if code[0] == RESTART:
        notifier.stopping("the config file changed: starting again")
    return code[0]
