"""ui.screenshots.ScreenshotWriter: real offscreen grabs, one PNG per screen name, written off
the GUI thread; a folder that cannot be made is one warning, then screenshots are off."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from ui.screenshots import ScreenshotWriter

pytestmark = pytest.mark.usefixtures("qapp")


def red_widget(qtbot: QtBot) -> QLabel:
    widget = QLabel("")
    widget.setStyleSheet("background: #ff0000;")
    widget.resize(120, 80)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_each_name_is_grabbed_once_into_its_png(tmp_path: Path, qtbot: QtBot) -> None:
    folder = tmp_path / "made" / "shots"  # made on the first grab
    shots = ScreenshotWriter(red_widget(qtbot), folder)
    for name in ("home", "capture", "home", "home"):
        shots.shown(name)
    qtbot.waitUntil(lambda: {p.name for p in folder.glob("*.png")} == {"home.png", "capture.png"}, timeout=5000)
    shots.close()
    assert sorted(p.name for p in folder.iterdir()) == ["capture.png", "home.png"]
    image = QImage(str(folder / "home.png"))
    assert (image.width(), image.height()) == (120, 80)
    assert image.pixelColor(60, 40) == QColor(255, 0, 0), "the widget's pixels, not a blank image"


def test_save_encodes_on_the_writer_thread_and_inline_once_closed(
    tmp_path: Path, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real_save = QImage.save

    def save(image: QImage, path: str) -> bool:
        threads.append(threading.current_thread().name)
        return bool(real_save(image, path))

    monkeypatch.setattr(QImage, "save", save)
    shots = ScreenshotWriter(red_widget(qtbot), tmp_path)
    assert shots.save("result") == tmp_path / "result.png"
    shots.close()  # waits for what was grabbed
    assert (tmp_path / "result.png").is_file()
    assert threads == ["screenshots_0"], "the PNG is encoded off the GUI thread"

    assert shots.save("last") == tmp_path / "last.png"  # at quit, after close: written here and now
    assert (tmp_path / "last.png").is_file()
    assert threads[-1] == threading.main_thread().name


def test_a_folder_that_cannot_be_made_is_one_warning_then_screenshots_are_off(
    tmp_path: Path, qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    folder = blocker / "shots"
    shots = ScreenshotWriter(red_widget(qtbot), folder)
    with caplog.at_level(logging.WARNING, logger="ui.screenshots"):
        assert shots.save("home") is None
        assert shots.save("closet") is None
        shots.shown("about")
        qtbot.wait(600)  # past the settle delay: nothing was scheduled
    shots.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "ui.screenshots"]
    assert lines == [f"screenshots off: cannot write to {folder} (Not a directory)"]
    assert shots.folder is None
    assert blocker.read_text() == "not a folder"


def test_without_a_folder_nothing_is_grabbed(tmp_path: Path, qtbot: QtBot) -> None:
    shots = ScreenshotWriter(red_widget(qtbot), None)
    shots.shown("home")
    assert shots.save("last") is None
    shots.close()
    assert list(tmp_path.iterdir()) == []
