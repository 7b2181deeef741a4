"""Rotation for cameras mounted sideways (``[camera] rotation``), applied to previews and stills alike."""

from __future__ import annotations

import cv2
import numpy as np

from mirror.camera.base import FrameSource
from mirror.imagetypes import Image

_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def rotate(image: Image, degrees: int) -> Image:
    """``image`` turned clockwise by 0, 90, 180 or 270 degrees."""
    if degrees == 0:
        return image
    return np.asarray(cv2.rotate(image, _ROTATE[degrees]), dtype=np.uint8)


class Rotated(FrameSource):
    """Wraps a source so every frame it gives is turned by ``degrees`` (clockwise).

    Why here and not in the service: the still that is analysed and stored must be upright
    too, and each adapter would otherwise repeat it.
    """

    def __init__(self, inner: FrameSource, degrees: int) -> None:
        if degrees not in (0, 90, 180, 270):
            raise ValueError(f"rotation must be 0, 90, 180 or 270, not {degrees}")
        self.inner = inner
        self.degrees = degrees
        self.name = inner.name

    def open(self) -> None:
        self.inner.open()

    def read(self) -> Image | None:
        frame = self.inner.read()
        return None if frame is None else rotate(frame, self.degrees)

    def still(self) -> Image:
        return rotate(self.inner.still(), self.degrees)

    def stills(self, count: int) -> list[Image]:
        return [rotate(f, self.degrees) for f in self.inner.stills(count)]

    def close(self) -> None:
        self.inner.close()
