"""Garments in a frame: the segmenter's group map turned into instances, most prominent first.

This is the only module of the pipeline that knows the segmenter's API
(``mirror.vision.segmenter`` and ``mirror.vision.instances``), so a change there is
absorbed here. It adds what the mirror needs on top: the minimum garment size from the
config, and the prominence order (``mirror.pipeline.prominence``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from mirror.imagetypes import Box, Image, Polygon
from mirror.pipeline.encode import halve_to
from mirror.pipeline.prominence import prominence
from mirror.vision.instances import extract_instances
from mirror.vision.segmenter import Segmentation, Segmenter

#: The segmenter runs on the frame halved while its longer side stays at least this. The model
#: itself sees 256×192 and predicts at a quarter of that, so a larger class map adds no detail,
#: only post-processing time; masks are brought back to the frame smoothly (bilinear, then
#: thresholded), so cut-out edges do not turn blocky.
SEGMENT_MIN_SIDE = 320


@dataclass(frozen=True)
class Found:
    """One garment instance; box, polygons and area in the analysed frame's pixels."""

    group: str
    score: float
    box: Box
    polygons: tuple[Polygon, ...]
    area: int
    seg_mask: npt.NDArray[np.bool_]  # at the segmentation's resolution
    frame_size: tuple[int, int]  # width, height of the frame the box is in

    def mask(self) -> npt.NDArray[np.bool_]:
        """The garment's mask at the frame's size (holes kept), upsampled smoothly."""
        w, h = self.frame_size
        if self.seg_mask.shape == (h, w):
            return self.seg_mask
        soft = cv2.resize(self.seg_mask.astype(np.uint8) * 255, (w, h), interpolation=cv2.INTER_LINEAR)
        return np.asarray(soft > 127, dtype=bool)


def _polygons(raw: Sequence[npt.NDArray[np.int32]]) -> tuple[Polygon, ...]:
    return tuple(tuple((int(p[0]), int(p[1])) for p in poly) for poly in raw)


class GarmentFinder:
    """Runs the segmenter on a frame and returns its garments, biggest-and-central first."""

    def __init__(self, segmenter: Segmenter, min_area: float) -> None:
        self.segmenter = segmenter
        self.min_area = min_area

    @classmethod
    def load(cls, folder: Path, backend: str, threads: int, min_area: float) -> GarmentFinder:
        """Load the shipped segmenter from ``folder`` (``models/segmenter``)."""
        return cls(Segmenter(folder, backend, threads), min_area)

    @property
    def version(self) -> str:
        return str(self.segmenter.manifest.version)

    def segment(self, image: Image) -> Segmentation:
        """The segmenter's classes and confidence for ``image``, at ``SEGMENT_MIN_SIDE``-ish resolution."""
        return self.segmenter.analyse(halve_to(image, SEGMENT_MIN_SIDE))

    def instances(self, image: Image, segmentation: Segmentation) -> list[Found]:
        """Garment instances from a segmentation, at least ``min_area`` of the frame, by prominence.

        Coordinates are mapped from the segmentation's resolution to ``image``'s. Only the
        outer outlines become ``polygons`` (the analyze contract has no holes); the mask
        keeps the holes, so cut-outs show them.
        """
        h, w = image.shape[:2]
        seg_h, seg_w = segmentation.classes.shape[:2]
        sx, sy = w / seg_w, h / seg_h
        found = []
        for inst in extract_instances(
            segmentation.classes,
            segmentation.names,
            segmentation.garment_ids,
            segmentation.confidence,
            min_area_frac=max(self.min_area, 1e-6),
        ):
            x, y, bw, bh = (int(v) for v in inst.box)
            box = (round(x * sx), round(y * sy), min(w, round((x + bw) * sx)), min(h, round((y + bh) * sy)))
            polygons = tuple(
                tuple((round(px * sx), round(py * sy)) for px, py in poly) for poly in _polygons(inst.outlines)
            )
            found.append(
                Found(str(inst.group), float(inst.score), box, polygons, round(inst.area * sx * sy), inst.mask, (w, h))
            )
        found.sort(key=lambda f: prominence(f.area, f.score, f.box, w, h), reverse=True)
        return found

    def find(self, image: Image) -> list[Found]:
        """Segment and extract in one call (the live preview's presence check)."""
        return self.instances(image, self.segment(image))
