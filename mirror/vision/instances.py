"""Post-processing: per-pixel class map -> garment instances with outlines.

One instance is one connected region of one garment class. Tiny fragments are dropped
(speckle is not a garment); holes are kept (a bag strap or an arm through a sleeve leaves
real holes), so each instance carries its outer polygon(s) and its hole polygons, all in
source-image pixels, simplified with Douglas-Peucker to a few pixels. Instances come
back most prominent first (largest area).

Before that, fragments are absorbed: a region of one garment class whose boundary
mostly touches a larger region of another garment class (a sandal strap called "top"
inside a shoe, a patch of "outerwear" on a dress) takes that region's class. Without
this a single garment with an uncertain patch would come back as several instances,
or with a hole. Touching garments that merely share an edge (a top above trousers)
stay apart: the fragment must share at least ``absorb_share`` of its boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from mirror.imagetypes import Contour


@dataclass(frozen=True)
class GarmentInstance:
    """One garment found in a frame."""

    group: str
    class_id: int
    box: tuple[int, int, int, int]  # x, y, width, height in source pixels
    area: int  # pixels, holes excluded
    score: float  # mean class confidence over the region (1.0 without a confidence map)
    outlines: list[Contour]  # outer boundary polygon(s)
    holes: list[Contour]
    mask: npt.NDArray[np.bool_]  # full-frame boolean mask of this instance


def extract_instances(
    classes: npt.NDArray[np.uint8],
    names: Sequence[str],
    garment_ids: Sequence[int],
    confidence: npt.NDArray[np.float32] | None = None,
    min_area_frac: float = 0.005,
    epsilon_px: float = 2.0,
    absorb_share: float = 0.3,
) -> list[GarmentInstance]:
    """Split ``classes`` into garment instances; drop regions under ``min_area_frac`` of the frame."""
    min_area = max(1, int(min_area_frac * classes.size))
    classes = absorb_fragments(classes, garment_ids, absorb_share)
    found: list[GarmentInstance] = []
    present = np.bincount(classes.ravel(), minlength=max(garment_ids, default=0) + 1)
    for class_id in garment_ids:
        if present[class_id] < min_area:
            continue
        binary = (classes == class_id).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        for k in range(1, count):
            area = int(stats[k, cv2.CC_STAT_AREA])
            if area < min_area:
                continue
            x, y, w, h = (
                int(stats[k, i]) for i in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT)
            )
            # Work inside the component's box grown by 1 px (the outline tracer sees the same
            # zero border as on the full frame): same polygons and score, a fraction of the pixels.
            y0, y1, x0, x1 = _grown(y, h, x, w, classes.shape)
            local = labels[y0:y1, x0:x1] == k
            outlines, holes = _polygons(local, epsilon_px, (x0, y0))
            score = float(confidence[y0:y1, x0:x1][local].mean()) if confidence is not None else 1.0
            mask = np.zeros(classes.shape, np.bool_)
            mask[y0:y1, x0:x1] = local
            found.append(GarmentInstance(names[class_id], class_id, (x, y, w, h), area, score, outlines, holes, mask))
    return sorted(pair_up(found, PAIRED_GROUPS), key=lambda g: g.area, reverse=True)


#: Groups that come in pairs: two shoes are one closet item.
PAIRED_GROUPS = ("footwear",)


def pair_up(found: list[GarmentInstance], groups: Sequence[str], min_ratio: float = 0.25) -> list[GarmentInstance]:
    """Merge each group's second-largest instance into its largest when they look like a pair.

    A pair: the smaller is at least ``min_ratio`` of the larger's area and the gap between
    their boxes is at most the larger box's longer side.
    """
    out = list(found)
    for group in groups:
        same = sorted((g for g in out if g.group == group), key=lambda g: g.area, reverse=True)
        if len(same) < 2:
            continue
        big, small = same[0], same[1]
        bx, by, bw, bh = big.box
        sx, sy, sw, sh = small.box
        gap = max(sx - (bx + bw), bx - (sx + sw), sy - (by + bh), by - (sy + sh), 0)
        if small.area < min_ratio * big.area or gap > max(bw, bh):
            continue
        x0, y0 = min(bx, sx), min(by, sy)
        box = (x0, y0, max(bx + bw, sx + sw) - x0, max(by + bh, sy + sh) - y0)
        area = big.area + small.area
        score = (big.score * big.area + small.score * small.area) / area
        pair = GarmentInstance(
            group, big.class_id, box, area, score, big.outlines + small.outlines, big.holes + small.holes,
            big.mask | small.mask,
        )  # fmt: skip
        out = [g for g in out if g is not big and g is not small] + [pair]
    return out


def absorb_fragments(classes: npt.NDArray[np.uint8], garment_ids: Sequence[int], share: float) -> npt.NDArray[np.uint8]:
    """Relabel garment regions mostly bordered by one larger garment region of another class."""
    regions = np.zeros(classes.shape, np.int32)
    region_class: dict[int, int] = {}
    boxes: dict[int, tuple[int, int, int, int]] = {}
    areas: dict[int, int] = {}
    next_id = 1
    present = np.bincount(classes.ravel(), minlength=max(garment_ids, default=0) + 1)
    for class_id in garment_ids:
        if present[class_id] == 0:
            continue  # labelling an empty map costs as much as a full one; usually most classes are absent
        count, labels, stats, _ = cv2.connectedComponentsWithStats(
            (classes == class_id).astype(np.uint8), connectivity=8
        )
        for k in range(1, count):
            ry0, ry1, rx0, rx1 = _grown(
                int(stats[k, 1]), int(stats[k, 3]), int(stats[k, 0]), int(stats[k, 2]), classes.shape
            )
            regions[ry0:ry1, rx0:rx1][labels[ry0:ry1, rx0:rx1] == k] = next_id
            region_class[next_id] = class_id
            boxes[next_id] = (int(stats[k, 0]), int(stats[k, 1]), int(stats[k, 2]), int(stats[k, 3]))
            areas[next_id] = int(stats[k, cv2.CC_STAT_AREA])
            next_id += 1
    if len(region_class) < 2:
        return classes
    out = classes.copy()
    kernel = np.ones((3, 3), np.uint8)
    for rid in sorted(areas, key=areas.__getitem__):
        x, y, w, h = boxes[rid]
        y0, y1, x0, x1 = (
            max(0, y - 1),
            min(classes.shape[0], y + h + 1),
            max(0, x - 1),
            min(classes.shape[1], x + w + 1),
        )
        crop = regions[y0:y1, x0:x1]
        own = (crop == rid).astype(np.uint8)
        ring = (cv2.dilate(own, kernel) > 0) & (own == 0)
        if not ring.any():
            continue
        neighbours, counts = np.unique(crop[ring], return_counts=True)
        best = int(np.argmax(np.where(neighbours > 0, counts, 0)))
        nid = int(neighbours[best])
        if nid == 0 or counts[best] < share * ring.sum() or areas[nid] <= areas[rid]:
            continue
        crop[own > 0] = nid
        out[y0:y1, x0:x1][own > 0] = region_class[nid]
        areas[nid] += areas[rid]
        nx, ny, nw, nh = boxes[nid]
        ux, uy = min(nx, x), min(ny, y)
        boxes[nid] = (ux, uy, max(nx + nw, x + w) - ux, max(ny + nh, y + h) - uy)
    return out


def _grown(y: int, h: int, x: int, w: int, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """``(y0, y1, x0, x1)`` of the box ``x, y, w, h`` grown by one pixel, inside ``shape``."""
    return max(0, y - 1), min(shape[0], y + h + 1), max(0, x - 1), min(shape[1], x + w + 1)


def _polygons(
    mask: npt.NDArray[np.bool_], epsilon_px: float, offset: tuple[int, int] = (0, 0)
) -> tuple[list[Contour], list[Contour]]:
    """Outer and hole polygons of a mask (two-level contour hierarchy), simplified, shifted by ``offset``."""
    contours, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE, offset=offset)
    outlines: list[Contour] = []
    holes: list[Contour] = []
    if hierarchy is None:
        return outlines, holes
    for contour, (_, _, _, parent) in zip(contours, hierarchy[0], strict=True):
        poly = cv2.approxPolyDP(contour, epsilon_px, True).reshape(-1, 2).astype(np.int32)
        if len(poly) < 3:
            continue
        (holes if parent >= 0 else outlines).append(poly)
    return outlines, holes
