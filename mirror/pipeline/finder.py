"""Garments in a frame: the segmenter's group map turned into instances, most prominent first.

This is the only module of the pipeline that knows the segmenter's API (helper-1's
``mirror.vision.segmenter`` and ``mirror.vision.instances``), so a change there is
absorbed here. It adds what the mirror needs on top: the minimum garment size from the
config, and the prominence order (``mirror.pipeline.prominence``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mirror.pipeline.prominence import prominence
from mirror.vision.instances import extract_instances
from mirror.vision.segmenter import Segmentation, Segmenter

Image = npt.NDArray[np.uint8]
Box = tuple[int, int, int, int]
Polygon = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Found:
    """One garment instance in the analysed frame's pixels."""

    group: str
    score: float
    box: Box
    polygons: tuple[Polygon, ...]
    mask: npt.NDArray[np.bool_]
    area: int


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
        """The segmenter's per-pixel classes and confidence for ``image`` (source resolution)."""
        return self.segmenter.analyse(image)

    def instances(self, image: Image, segmentation: Segmentation) -> list[Found]:
        """Garment instances from a segmentation, at least ``min_area`` of the frame, by prominence.

        Only the outer outlines become ``polygons`` (the analyze contract has no holes); the
        mask keeps the holes, so cut-outs show them.
        """
        h, w = image.shape[:2]
        found = []
        for inst in extract_instances(
            segmentation.classes,
            segmentation.names,
            segmentation.garment_ids,
            segmentation.confidence,
            min_area_frac=max(self.min_area, 1e-6),
        ):
            x, y, bw, bh = (int(v) for v in inst.box)
            found.append(
                Found(
                    str(inst.group),
                    float(inst.score),
                    (x, y, x + bw, y + bh),
                    _polygons(inst.outlines),
                    inst.mask,
                    int(inst.area),
                )
            )
        found.sort(key=lambda f: prominence(f.area, f.score, f.box, w, h), reverse=True)
        return found

    def find(self, image: Image) -> list[Found]:
        """Segment and extract in one call (the live preview's presence check)."""
        return self.instances(image, self.segment(image))
