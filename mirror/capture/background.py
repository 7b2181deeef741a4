"""What the empty scene looks like, so a garment is only "present" when it was brought in.

Why: the segmenter sees garments in things that never move — a coat on the door, a plain
beige wall that looks like a shirt filling the frame. Those must not start a countdown. A
held-up garment changes the picture where it is; a static false positive does not. So the
loop keeps a slow running average of the scene while nothing is happening, and a detected
garment counts only when enough of its box differs from that average.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from mirror.capture.sharpness import scale_box
from mirror.capture.small import WORK_WIDTH, shrink
from mirror.imagetypes import Box, Image

__all__ = ["DIFFERENT", "LEARN_RATE", "WORK_WIDTH", "Background"]
#: Grey-level difference from the background that makes a pixel foreground.
DIFFERENT = 18.0
#: Weight of each new idle frame in the running average (~1 s memory at 15 fps).
LEARN_RATE = 0.07


class Background:
    """A running average of the idle scene and a foreground test for boxes."""

    def __init__(self, work_width: int = WORK_WIDTH) -> None:
        self.work_width = work_width
        self._mean: npt.NDArray[np.float32] | None = None

    def learn(self, frame: Image, small: npt.NDArray[np.float32] | None = None) -> None:
        """Blend an idle frame into the background (the first frame is taken as it is).

        ``small``: ``shrink(frame, self.work_width)`` when the caller already made it (it is
        not changed: the first frame is copied).
        """
        small = shrink(frame, self.work_width) if small is None else small
        if self._mean is None or self._mean.shape != small.shape:
            self._mean = small.copy()
        else:
            cv2.accumulateWeighted(small, self._mean, LEARN_RATE)

    def foreground(self, frame: Image, box: Box, small: npt.NDArray[np.float32] | None = None) -> float:
        """Fraction of ``box`` (frame pixels) that differs from the background.

        0.0 before the first idle frame was learned: until the mirror has seen the room, it
        cannot tell a held garment from one hanging on the door, and waits. ``small`` as
        for ``learn``.
        """
        small = shrink(frame, self.work_width) if small is None else small
        if self._mean is None or small.shape != self._mean.shape:
            return 0.0
        h, w = frame.shape[:2]
        x0, y0, x1, y1 = scale_box(box, (w, h), (small.shape[1], small.shape[0]))
        if x1 <= x0 or y1 <= y0:
            return 0.0
        diff = np.abs(small[y0:y1, x0:x1] - self._mean[y0:y1, x0:x1])
        return float((diff > DIFFERENT).mean())
