"""Garment regions and by-eye labels for the colour tools (eval and fit), the way the mirror sees them.

The colour stage on the mirror does not see the whole photo: ``Analyzer`` halves the frame
to its working size, the ``GarmentFinder`` picks the most prominent garment, and
``describe_colour`` gets that garment's box grown by 30 % for context, shrunk to 160 px
(``mirror.pipeline.analyzer.colour_region``). Fitting and measuring a learned colour stage
on anything else would measure something that never runs, so both tools take their
``(image, mask)`` pairs from here:

- ``mirror``: exactly the analyzer's path with the shipped segmenter (the default);
- ``frame``: the earlier measure — the whole photo with the segmenter's largest garment
  (``cls_data.pipeline_mask``), kept so figures stay comparable with older cards;
- ``teacher``: the whole photo with a teacher mask from ``../data/teacher_masks``.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from mirror.vocab import BASIC_TERMS

Image = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]
MASK_SOURCES = ("mirror", "frame", "teacher")
#: What a labeller types for a photo with no single dominant colour (kept in files that list every photo looked at).
SKIP = "skip"


def read_labels(path: Path) -> list[tuple[str, str]]:
    """``(image, basic)`` rows of a by-eye label CSV, in file order."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [(r["image"], r["basic"]) for r in csv.DictReader(handle)]


def named(path: Path) -> list[tuple[str, str]]:
    """``(image, basic)`` rows of a label file that name a basic term (``skip`` rows left out), in file order."""
    rows = read_labels(path)
    unknown = {b for _, b in rows} - set(BASIC_TERMS) - {SKIP}
    if unknown:
        raise SystemExit(f"{path}: unknown colour term(s) {', '.join(sorted(unknown))}; use a basic term or {SKIP}")
    return [(i, b) for i, b in rows if b != SKIP]


def doubtful(path: Path) -> frozenset[str]:
    """Photos a label file flags ``doubt = 1`` (the labeller hesitated between two terms); none without the column."""
    with path.open(newline="", encoding="utf-8") as handle:
        return frozenset(r["image"] for r in csv.DictReader(handle) if r.get("doubt") == "1")


def senders(clothing: Path) -> dict[str, str]:
    """Image id -> ``sender_id`` from ``images.csv`` (cross-validation groups by sender)."""
    with (clothing / "images.csv").open(newline="", encoding="utf-8") as handle:
        return {r["image"]: r["sender_id"] for r in csv.DictReader(handle)}


class RegionSource:
    """Makes the ``(image, mask)`` pair the colour stage gets for a photo, from one of ``MASK_SOURCES``."""

    def __init__(self, source: str, models_dir: Path, backend: str = "tflite", teacher: Path | None = None) -> None:
        if source not in MASK_SOURCES:
            raise ValueError(f"unknown mask source {source!r}; use one of {', '.join(MASK_SOURCES)}")
        self.source = source
        self.teacher = teacher or Path("../data/teacher_masks")
        self._finder: Any = None
        self._segmenter: Any = None
        if source == "mirror":
            from mirror.pipeline.finder import GarmentFinder

            self._finder = GarmentFinder.load(models_dir / "segmenter", backend, 1, 0.0)
        elif source == "frame":
            from mirror.vision.segmenter import Segmenter

            self._segmenter = Segmenter(models_dir / "segmenter", backend, 1)
        manifest = (models_dir / "segmenter" / "model.json").read_text(encoding="utf-8") if source != "teacher" else ""
        self.segmenter_version = _segmenter_id(manifest, backend)

    def region(self, image: Image, name: str) -> tuple[Image, Mask]:
        """The colour stage's input for one photo (a photo without a garment: the frame, all of it)."""
        if self.source == "mirror":
            from mirror.pipeline.analyzer import WORK_MIN_SIDE, colour_region
            from mirror.pipeline.encode import halve_to

            work = halve_to(image, WORK_MIN_SIDE)
            found = self._finder.find(work)
            if not found:
                return work, np.ones(work.shape[:2], np.bool_)
            crop, garment = colour_region(work, found[0].mask(), found[0].box)
            return np.asarray(crop, np.uint8), np.asarray(garment, np.bool_)
        if self.source == "frame":
            from models.training.cls_data import pipeline_mask

            return image, pipeline_mask(self._segmenter, image)
        teacher = cv2.imread(str(self.teacher / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
        if teacher is None:
            return image, np.ones(image.shape[:2], np.bool_)
        if teacher.shape != image.shape[:2]:
            teacher = cv2.resize(teacher, (image.shape[1], image.shape[0]))
        return image, np.asarray(teacher > 127)


def _segmenter_id(manifest_text: str, backend: str) -> str:
    """``version (backend sha256[:12])`` of the shipped segmenter, for the figures' provenance."""
    if not manifest_text:
        return "teacher masks"
    import json

    data = json.loads(manifest_text)
    file = data["files"][backend]
    return f"{data['version']} ({backend} {data['sha256'][file][:12]})"


def load_image(clothing: Path, name: str) -> Image:
    """One photo of the clothing set (BGR); a missing file is a one-line error."""
    image = cv2.imread(str(clothing / "images" / f"{name}.jpg"), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"{clothing / 'images' / (name + '.jpg')}: missing or unreadable; check --clothing")
    return np.asarray(image, np.uint8)
