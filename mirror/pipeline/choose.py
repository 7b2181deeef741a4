"""Which garment of a shot is the one the person held up.

Why: ``analyze`` orders garments by prominence (size, confidence, centrality), which is the
best guess for a photo on its own. The mirror knows more: the capture loop saw *where* the
garment was raised and held still. So, for a shot from the mirror, the garment that
overlaps that box most comes first — a worn shirt or a segmenter false positive on the
wall cannot take its place.
"""

from __future__ import annotations

from dataclasses import replace

from mirror.capture.machine import iou
from mirror.pipeline.result import AnalysisResult

#: Below this overlap with the held box, prominence order is kept.
MIN_OVERLAP = 0.3


def held_first(result: AnalysisResult, held_box: tuple[int, int, int, int] | None) -> tuple[AnalysisResult, bool]:
    """``result`` with the garment best overlapping ``held_box`` (still pixels) first, others in their order;
    and whether the first garment is the one seen held up (False: no box, or none overlaps it enough, so
    the first is only the most prominent; the screen must not claim it was the one held)."""
    if held_box is None or not result.garments:
        return result, False
    overlaps = [iou(g.box, held_box) for g in result.garments]
    best = max(range(len(overlaps)), key=lambda k: overlaps[k])
    if overlaps[best] < MIN_OVERLAP:
        return result, False
    if best == 0:
        return result, True
    garments = (result.garments[best], *(g for k, g in enumerate(result.garments) if k != best))
    return replace(result, garments=garments), True
