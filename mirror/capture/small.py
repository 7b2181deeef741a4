"""The preview frame shrunk, greyed and blurred: what the motion meter and the background compare.

Why one function: the camera loop measures motion on every frame, learns the idle scene and
tests each detected garment against it, and each of those used to shrink the same frame
itself (three times a frame, ~0.6 ms each here and 3-5x that on a Pi). The loop now shrinks
once per frame and hands the result to all of them (``small=``); each still shrinks for
itself when called alone.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from mirror.imagetypes import Image

#: Width of the shrunk frame (height follows the aspect).
WORK_WIDTH = 160


def shrink(frame: Image, work_width: int = WORK_WIDTH) -> npt.NDArray[np.float32]:
    """``frame`` (BGR or grey) as grey at ``work_width`` px wide, blurred so sensor noise reads ~0."""
    h, w = frame.shape[:2]
    size = (work_width, max(1, round(h * work_width / w)))
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.GaussianBlur(small, (3, 3), 0), dtype=np.float32)
