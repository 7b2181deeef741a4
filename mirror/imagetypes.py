"""The image and geometry types every stage hands on, defined once.

Camera, capture, pipeline, events and UI pass the same three things around: a BGR image, a
box and an outline. Each module once wrote its own alias for them, and two different types
came to share the name ``Polygon``; here each has one name and one meaning.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
"""H×W×3 BGR (as OpenCV gives it), or H×W×4 BGRA for a cut-out."""

Box = tuple[int, int, int, int]
"""x0, y0, x1, y1 in the image's pixels."""

Polygon = tuple[tuple[int, int], ...]
"""An outline as (x, y) points in the image's pixels (hashable: events and results are frozen)."""

Contour = npt.NDArray[np.int32]
"""An outline as OpenCV draws and measures it: N×2 x, y points."""
