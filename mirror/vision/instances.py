"""Post-processing: per-pixel class map -> garment instances with outlines.

One instance is one connected region of one garment class. Tiny fragments are dropped
(speckle is not a garment); holes are kept (a bag strap or an arm through a sleeve leaves
real holes), so each instance carries its outer polygon(s) and its hole polygons, all in
source-image pixels, simplified with Douglas-Peucker to a few pixels. Instances come
back most prominent first (largest area).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

Polygon = npt.NDArray[np.int32]  # (N, 2) x, y points


@dataclass(frozen=True)
class GarmentInstance:
    """One garment found in a frame."""

    group: str
    class_id: int
    box: tuple[int, int, int, int]  # x, y, width, height in source pixels
    area: int  # pixels, holes excluded
    score: float  # mean class confidence over the region (1.0 without a confidence map)
    outlines: list[Polygon]  # outer boundary polygon(s)
    holes: list[Polygon]
    mask: npt.NDArray[np.bool_]  # full-frame boolean mask of this instance


def extract_instances(
    classes: npt.NDArray[np.uint8],
    names: Sequence[str],
    garment_ids: Sequence[int],
    confidence: npt.NDArray[np.float32] | None = None,
    min_area_frac: float = 0.005,
    epsilon_px: float = 2.0,
) -> list[GarmentInstance]:
    """Split ``classes`` into garment instances; drop regions under ``min_area_frac`` of the frame."""
    min_area = max(1, int(min_area_frac * classes.size))
    found: list[GarmentInstance] = []
    for class_id in garment_ids:
        binary = (classes == class_id).astype(np.uint8)
        if int(binary.sum()) < min_area:
            continue
        count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        for k in range(1, count):
            area = int(stats[k, cv2.CC_STAT_AREA])
            if area < min_area:
                continue
            mask = labels == k
            outlines, holes = _polygons(mask, epsilon_px)
            x, y, w, h = (
                int(stats[k, i]) for i in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT)
            )
            score = float(confidence[mask].mean()) if confidence is not None else 1.0
            found.append(GarmentInstance(names[class_id], class_id, (x, y, w, h), area, score, outlines, holes, mask))
    return sorted(found, key=lambda g: g.area, reverse=True)


def _polygons(mask: npt.NDArray[np.bool_], epsilon_px: float) -> tuple[list[Polygon], list[Polygon]]:
    """Outer and hole polygons of a mask (two-level contour hierarchy), simplified."""
    contours, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    outlines: list[Polygon] = []
    holes: list[Polygon] = []
    if hierarchy is None:
        return outlines, holes
    for contour, (_, _, _, parent) in zip(contours, hierarchy[0], strict=True):
        poly = cv2.approxPolyDP(contour, epsilon_px, True).reshape(-1, 2).astype(np.int32)
        if len(poly) < 3:
            continue
        (holes if parent >= 0 else outlines).append(poly)
    return outlines, holes
