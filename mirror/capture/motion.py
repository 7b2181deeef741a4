"""How much the picture changes inside the garment's box from one preview frame to the next.

Why a cheap frame difference and not the segmenter: "held still" needs an answer every
frame, and the segmenter runs only a few times a second. Frames are shrunk and blurred
first so sensor noise reads as ~0 and only real movement counts.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from mirror.capture.sharpness import scale_box
from mirror.capture.small import WORK_WIDTH, shrink
from mirror.imagetypes import Box, Image

__all__ = ["WORK_WIDTH", "MotionMeter"]


class MotionMeter:
    """Mean absolute grey-level change inside a box between consecutive frames."""

    def __init__(self, work_width: int = WORK_WIDTH) -> None:
        self.work_width = work_width
        self._previous: npt.NDArray[np.float32] | None = None

    def measure(self, frame: Image, box: Box | None, small: npt.NDArray[np.float32] | None = None) -> float | None:
        """Change inside ``box`` (frame pixels) since the last frame, in grey levels; None for the first frame.

        ``small``: ``shrink(frame, self.work_width)`` when the caller already made it.
        """
        current = shrink(frame, self.work_width) if small is None else small
        previous, self._previous = self._previous, current
        if previous is None or previous.shape != current.shape:
            return None
        h, w = frame.shape[:2]
        if box is None:
            region = (0, 0, current.shape[1], current.shape[0])
        else:
            region = scale_box(box, (w, h), (current.shape[1], current.shape[0]))
        x0, y0, x1, y1 = region
        if x1 <= x0 or y1 <= y0:
            return None
        return float(np.abs(current[y0:y1, x0:x1] - previous[y0:y1, x0:x1]).mean())

    def reset(self) -> None:
        """Forget the last frame (after a pause in the stream)."""
        self._previous = None
