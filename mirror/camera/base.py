"""The one interface every frame source implements, and the pieces they share.

Why one interface: the capture flow, the demo, the tests and the UI must not care whether
frames come from the Pi camera, a USB webcam, a folder of photos or the synthetic scene.
A source gives small preview frames continuously (``read``) and, on demand, one
full-resolution still (``still``), because the preview has to be cheap (the mirror shows
and watches it at 15+ fps) while the analysed shot should have all the detail there is.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType

import cv2
import numpy as np
import numpy.typing as npt

from mirror.imagetypes import Image


class CameraError(RuntimeError):
    """A source could not open or stopped delivering; the message is one line with the fix."""


class CameraSetupError(CameraError):
    """The camera is not set up (the config, or an install step), rather than unplugged or broken: the glass
    must not tell the person to check a cable that is fine."""


class FrameSource(ABC):
    """Preview frames plus full-resolution stills, BGR ``uint8`` as OpenCV uses them.

    Use as a context manager or call ``open``/``close``. ``read`` returns the next preview
    frame or ``None`` when the source has ended (replay without loop) — a broken camera
    raises :class:`CameraError` instead, so the service can say what to do.
    """

    #: Short name for the status line ("demo", "v4l2 /dev/video0", ...).
    name: str = "camera"

    @abstractmethod
    def open(self) -> None:
        """Start the source; raise :class:`CameraError` when it is not there."""

    @abstractmethod
    def read(self) -> Image | None:
        """The next preview frame (blocks up to about one frame interval)."""

    @abstractmethod
    def still(self) -> Image:
        """One full-resolution frame of what the camera sees now."""

    def stills(self, count: int) -> list[Image]:
        """``count`` full-resolution frames in quick succession, for picking the sharpest.

        Sources whose stills need a mode switch override this to switch once for the burst.
        """
        return [self.still() for _ in range(max(1, count))]

    def close(self) -> None:  # noqa: B027 - most sources have nothing to release
        """Release the device; safe to call twice."""

    def __enter__(self) -> FrameSource:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class Pacer:
    """Sleeps so that frames come at ``fps`` for sources that would otherwise run flat out.

    Cameras pace themselves; the replay and demo sources do not, so without this a replay
    would spin a core. ``clock``/``sleep`` are injectable so tests can run paced sources
    without waiting. ``fps <= 0`` disables pacing (tests, benchmarks).
    """

    def __init__(
        self,
        fps: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / fps if fps > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None

    def wait(self) -> None:
        """Return when the next frame is due (at once when behind: no catch-up bursts)."""
        if self.interval <= 0:
            return
        now = self._clock()
        if self._next is not None and self._next > now:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self.interval


def fit_size(width: int, height: int, max_w: int, max_h: int) -> tuple[int, int]:
    """The largest size with ``width:height``'s aspect that fits in ``max_w`` × ``max_h``."""
    scale = min(max_w / width, max_h / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def to_preview(image: Image, max_w: int, max_h: int) -> Image:
    """Downscale a frame to fit the preview size, keeping its aspect (never upscales)."""
    h, w = image.shape[:2]
    size = fit_size(w, h, max_w, max_h)
    if size == (w, h):
        return image
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def as_bgr(image: npt.NDArray[np.uint8]) -> Image:
    """Grey or BGRA to 3-channel BGR (video files and PNGs come in all three)."""
    if image.ndim == 2:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    if image.shape[2] == 4:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGRA2BGR), dtype=np.uint8)
    return image
