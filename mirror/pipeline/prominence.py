"""Which garment the mirror registers when a frame shows several: the most prominent one.

Why not simply the largest: a person holding up a shirt also wears trousers, and the worn
trousers can be as large as the shirt. The held garment is the one in the middle of the
frame, big, and confidently segmented, so prominence = area × score × a centre weight that
falls with the distance from the centre, from 1 there to 0.5 at the frame's corners (about
0.65 in the middle of an edge).
"""

from __future__ import annotations

import math

from mirror.imagetypes import Box


def prominence(area: float, score: float, box: Box, width: int, height: int) -> float:
    """How likely this garment is the one being shown to the mirror (higher first)."""
    cx = (box[0] + box[2]) / 2 / width - 0.5
    cy = (box[1] + box[3]) / 2 / height - 0.5
    off_centre = min(1.0, math.hypot(cx, cy) / math.hypot(0.5, 0.5))
    return area * score * (1.0 - 0.5 * off_centre)
