"""The Raspberry Pi camera through picamera2 (libcamera).

``picamera2`` is imported only when this source opens: it exists only on Raspberry Pi OS
(as the apt package ``python3-picamera2``, not from PyPI), and the rest of the mirror must
run, test and demo without it.
"""

from __future__ import annotations

import contextlib
import importlib
from typing import Any

from mirror.camera.base import CameraError, CameraSetupError, FrameSource
from mirror.imagetypes import Image

MISSING = (
    "picamera2 is not installed: sudo apt install python3-picamera2 (Raspberry Pi OS), "
    'or set [camera] source = "v4l2" or "demo"'
)

#: What libcamera raises for a missing, busy or stalled camera (it has no exception type of its own).
DRIVER_ERRORS = (RuntimeError, IndexError, OSError, TimeoutError)

CHECK = "check the ribbon cable, that no other program uses the camera, and run 'rpicam-hello --list-cameras'"


def picamera2_available() -> bool:
    """True when ``picamera2`` can be imported (the auto source then prefers it)."""
    try:
        importlib.import_module("picamera2")
    except ImportError:
        return False
    return True


class PiCameraSource(FrameSource):
    """Preview stream at the preview size; stills by switching to the full-resolution mode.

    ``RGB888`` in libcamera terms is B, G, R in memory: exactly OpenCV's order, no copy.
    """

    name = "picamera2"

    def __init__(self, preview: tuple[int, int], capture: tuple[int, int], fps: int) -> None:
        self.preview = preview
        self.capture = capture
        self.fps = fps
        self._cam: Any = None
        self._still_config: Any = None

    def open(self) -> None:
        try:
            module = importlib.import_module("picamera2")
        except ImportError as exc:
            raise CameraSetupError(MISSING) from exc
        cam: Any = None
        try:
            cam = module.Picamera2()
            config = cam.create_preview_configuration(
                main={"size": self.preview, "format": "RGB888"}, controls={"FrameRate": self.fps}
            )
            self._still_config = cam.create_still_configuration(main={"size": self.capture, "format": "RGB888"})
            cam.configure(config)
            cam.start()
        except DRIVER_ERRORS as exc:
            _release(cam)  # a half-opened camera stays acquired, and the next retry would find it busy
            raise CameraError(f"the Pi camera did not start ({_first_line(exc)}); {CHECK}") from exc
        self._cam = cam

    def read(self) -> Image | None:
        if self._cam is None:
            raise CameraError("the Pi camera is not open; start the source first")
        try:
            frame: Image = self._cam.capture_array("main")
        except DRIVER_ERRORS as exc:
            raise CameraError(f"the Pi camera stopped delivering frames ({_first_line(exc)}); {CHECK}") from exc
        return frame

    def still(self) -> Image:
        return self.stills(1)[0]

    def stills(self, count: int) -> list[Image]:
        """Switch to the still mode once, take ``count`` frames, switch back."""
        if self._cam is None:
            raise CameraError("the Pi camera is not open; start the source first")
        preview_config = self._cam.camera_config
        try:
            self._cam.switch_mode(self._still_config)
            try:
                return [self._cam.capture_array("main") for _ in range(max(1, count))]
            finally:
                self._cam.switch_mode(preview_config)
        except DRIVER_ERRORS as exc:
            raise CameraError(f"the Pi camera failed to take a photo ({_first_line(exc)}); {CHECK}") from exc

    def close(self) -> None:
        cam, self._cam = self._cam, None
        _release(cam)


def _release(cam: Any) -> None:
    """Stop and close a camera object, ignoring the driver's complaints about a dead one."""
    if cam is None:
        return
    for step in (cam.stop, cam.close):
        with contextlib.suppress(*DRIVER_ERRORS):
            step()


def _first_line(exc: BaseException) -> str:
    """libcamera's messages can span lines; the mirror's errors are one line."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
