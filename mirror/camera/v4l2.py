"""A USB or built-in camera through OpenCV's V4L2 backend.

Why OpenCV rather than raw V4L2 ioctls: it is already a dependency, handles MJPEG and YUYV
decoding, and works the same on the Pi and on a laptop. The stream runs at the preview size
(cheap to decode and watch); ``still`` switches the device to the capture size for one
frame and back, which costs a few hundred milliseconds once per capture — during the
"analysing" state the person is already waiting for.
"""

from __future__ import annotations

import cv2
import numpy as np

from mirror.camera.base import CameraError, FrameSource, as_bgr
from mirror.imagetypes import Image

#: Frames read and dropped after a mode switch: drivers hand out stale buffers first.
_FLUSH_FRAMES = 3


def _device_arg(device: str) -> int | str:
    """OpenCV takes an index (``0``) or a path (``/dev/video0``)."""
    return int(device) if device.isdigit() else device


class V4L2Source(FrameSource):
    """Frames from ``device`` (a ``/dev/videoN`` path or an index)."""

    def __init__(self, device: str, preview: tuple[int, int], capture: tuple[int, int], fps: int) -> None:
        self.device = device
        self.preview = preview
        self.capture = capture
        self.fps = fps
        self.name = f"v4l2 {device}"
        self._cap: cv2.VideoCapture | None = None

    def open(self) -> None:
        cap = cv2.VideoCapture(_device_arg(self.device), cv2.CAP_V4L2)
        if not cap.isOpened():
            cap.release()
            raise CameraError(
                f"no camera at {self.device}: plug in a camera, or set [camera] device, "
                'or use --source demo / [camera] source = "demo"'
            )
        self._cap = cap
        self._set_size(self.preview)
        cap.set(cv2.CAP_PROP_FPS, self.fps)

    def _opened(self) -> cv2.VideoCapture:
        if self._cap is None:
            raise CameraError(f"camera {self.device} is not open; start the source first")
        return self._cap

    def _set_size(self, size: tuple[int, int]) -> None:
        cap = self._opened()
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])

    def _grab(self) -> Image:
        ok, frame = self._opened().read()
        if not ok or frame is None:
            raise CameraError(f"camera {self.device} stopped delivering frames; check its cable and restart")
        return as_bgr(np.asarray(frame, dtype=np.uint8))  # typed as any depth; a camera's frames are 8-bit

    def read(self) -> Image | None:
        return self._grab()

    def still(self) -> Image:
        return self.stills(1)[0]

    def stills(self, count: int) -> list[Image]:
        if self.capture == self.preview:
            return [self._grab() for _ in range(max(1, count))]
        self._set_size(self.capture)
        try:
            for _ in range(_FLUSH_FRAMES):
                self._opened().grab()
            return [self._grab() for _ in range(max(1, count))]
        finally:
            self._set_size(self.preview)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
