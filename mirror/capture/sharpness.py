"""Which of a few frames is sharpest: variance of the Laplacian.

Why this measure: motion blur and defocus both remove high frequencies, and the Laplacian's
variance drops with them; it costs one convolution, so a burst of full-resolution stills
can be ranked in milliseconds right at the shutter. Measured inside the garment's box when
known, because a sharp door frame behind a smeared shirt is not a sharp shot.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from mirror.imagetypes import Box, Image


def laplacian_variance(image: Image, box: Box | None = None) -> float:
    """Variance of the Laplacian of the grey image (inside ``box`` when given): higher is sharper."""
    if box is not None:
        x0, y0, x1, y1 = box
        if x1 - x0 >= 3 and y1 - y0 >= 3:
            image = image[y0:y1, x0:x1]
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def sharpest(frames: Sequence[Image], box: Box | None = None) -> int:
    """Index of the sharpest frame (the first of equals); ``frames`` must not be empty."""
    if not frames:
        raise ValueError("no frames to choose from")
    scores = [laplacian_variance(f, box) for f in frames]
    return int(np.argmax(scores))


def scale_box(box: Box, from_size: tuple[int, int], to_size: tuple[int, int]) -> Box:
    """``box`` in a ``from_size`` (w, h) frame, in the pixels of a ``to_size`` frame of the same view."""
    fx = to_size[0] / from_size[0]
    fy = to_size[1] / from_size[1]
    x0, y0, x1, y1 = box
    return (
        max(0, int(x0 * fx)),
        max(0, int(y0 * fy)),
        min(to_size[0], round(x1 * fx)),
        min(to_size[1], round(y1 * fy)),
    )
