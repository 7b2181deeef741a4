"""The real window on the real service, for the UI tests: build, wait, grab pixels, stop."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from mirror.config import Settings
from mirror.config.settings import CameraSettings, StoreSettings, SyncSettings, VisionSettings
from mirror.events import Level
from mirror.service import MirrorService
from ui import assembly
from ui.bench import wait_until
from ui.bridge import ServiceBridge
from ui.window import MirrorWindow

SIZE = (540, 960)


@dataclass
class MirrorUnderTest:
    window: MirrorWindow
    service: MirrorService
    bridge: ServiceBridge

    def wait(self, condition: Callable[[], bool], timeout_s: float = 20.0, what: str = "") -> None:
        assert wait_until(condition, timeout_s), f"timed out after {timeout_s} s waiting for {what or condition}"


def wait_for_models(m: MirrorUnderTest) -> None:
    """The shipped models load: they are part of the checkout, so a failure here fails the test."""
    m.wait(lambda: m.window.home.status.models.level != Level.WARN, timeout_s=60, what="the models")
    models = m.window.home.status.models
    assert models.level == Level.OK, f"the shipped models do not load ({models.text}): {m.window.home.notice}"


def wait_for_garment_result(m: MirrorUnderTest) -> None:
    """After a shot of the demo garment: the result screen, with the garment found (never a failed shot)."""
    w = m.window
    m.wait(lambda: w.current() is w.result, timeout_s=30, what="the result")
    assert w.result.garment is not None, f"the shot of the demo garment held no garment: {w.result.message}"


def settings_for(tmp: Path, **overrides: object) -> Settings:
    """Demo camera, a closet in ``tmp``, sync off, manual capture; ``overrides`` replace whole sections."""
    base = {
        "camera": CameraSettings(source="demo"),
        "store": StoreSettings(data_dir=str(tmp / "closet"), min_free_mb=0),
        "sync": SyncSettings(enabled=False),
        "vision": VisionSettings(auto_capture=False),
    }
    base.update(overrides)
    return Settings(**base)  # type: ignore[arg-type]


@contextmanager
def running_mirror(settings: Settings) -> Iterator[MirrorUnderTest]:
    """The mirror as ``smart-mirror run`` builds it (``ui.assembly``), stopped afterwards."""
    with assembly.running_mirror(settings, size=SIZE) as (service, bridge, window):
        try:
            yield MirrorUnderTest(window, service, bridge)
        finally:
            # Stop once the camera runs or has given up, as a person would meet the mirror (and so
            # a stop never races the camera's start-up).
            wait_until(lambda: bridge.frames_seen > 0 or service.status().camera.level == Level.ERROR, 20.0)


def grab(widget: QWidget) -> npt.NDArray[np.uint8]:
    """The widget as it is on screen, as an RGB array."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    array = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return array[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


