"""What one analysis produces: per-garment results and the timings, before anything is stored.

Why separate from the store's ``GarmentDraft``: the UI shows a result *before* the person
decides to keep it (keep, retake, correct), and ``analyze`` prints results that are never
stored at all. A result becomes a draft only on ``keep`` (see ``mirror.pipeline.drafts``).
Pure data (numpy only), so the UI, the CLI and the tests can all hold it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

# The image kinds are the store's names (``mirror.store.records.IMAGE_KINDS`` gives each one's
# extension and media type), re-exported here for the pipeline stages that make the images.
from mirror.store.records import CUTOUT_BLACK, CUTOUT_PNG, CUTOUT_WHITE, PHOTO, PaletteEntry

__all__ = [
    "CUTOUT_BLACK",
    "CUTOUT_PNG",
    "CUTOUT_WHITE",
    "PHOTO",
    "AnalysisResult",
    "GarmentColour",
    "GarmentResult",
]


@dataclass(frozen=True)
class GarmentColour:
    """A garment's colour named the way a person would.

    ``alternative`` (the runner-up term when the mirror is in doubt) is a question for the
    result screen, not part of the record: what is stored is the answer, the mirror's or the
    person's, so ``as_dict`` leaves it out.
    """

    basic: str  # one of the 11 basic terms
    name: str  # a finer name (navy, beige, ...)
    hex: str  # "#rrggbb" of the dominant colour
    palette: tuple[PaletteEntry, ...] = ()  # the store's type: a kept result's palette is stored as it is
    alternative: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The ``color`` object of the analyze contract and of the store."""
        return {
            "basic": self.basic,
            "name": self.name,
            "hex": self.hex,
            "palette": [p.to_dict() for p in self.palette],
        }


@dataclass(frozen=True)
class GarmentResult:
    """One garment found in a frame, named, with its cut-outs.

    Coordinates are in the analysed image's pixels. ``cutout_bgra`` is the tightly
    cropped cut-out as a BGRA array (byte order of Qt's ARGB32 on little-endian machines), so
    the UI can show it without decoding a PNG;
    ``images`` holds the encoded files the store keeps (keys: the kinds above).
    """

    category: str
    category_score: float
    top3: tuple[tuple[str, float], ...]
    unsure: bool
    group: str
    score: float
    box: tuple[int, int, int, int]  # x0, y0, x1, y1
    polygons: tuple[tuple[tuple[int, int], ...], ...]
    color: GarmentColour
    cutout_bgra: npt.NDArray[np.uint8] | None = None
    images: dict[str, bytes] = field(default_factory=dict)

    def as_contract(self) -> dict[str, Any]:
        """This garment as one element of the analyze contract's ``garments`` list."""
        return {
            "category": self.category,
            "category_score": round(float(self.category_score), 4),
            "group": self.group,
            "score": round(float(self.score), 4),
            "box": [int(v) for v in self.box],
            "polygons": [[[int(x), int(y)] for x, y in poly] for poly in self.polygons],
            "color": self.color.as_dict(),
        }


@dataclass(frozen=True)
class AnalysisResult:
    """Everything one capture produced; ``garments`` is ordered most prominent first.

    ``timings_ms`` names each pipeline stage (``resize``, ``segment``, ``instances``,
    ``cutout``, ``classify``, ``colour``, ``encode``) with its wall time, summed over
    garments, and ``ms`` is the whole analysis. ``photo`` is the analysed (full-resolution)
    frame in BGR when asked for; the UI may show it behind the cut-out. ``work`` is the
    working-size frame when the encoding was left for later (``analyze(encode_later=True)``):
    ``mirror.pipeline.drafts.to_draft`` encodes the kept garment's files and the photo from
    it and the garment's ``cutout_bgra``, so a result shown and retaken encodes nothing.
    """

    capture_id: int
    garments: tuple[GarmentResult, ...]
    ms: float
    timings_ms: dict[str, float]
    image_size: tuple[int, int]  # width, height
    model_versions: dict[str, str]
    photo: npt.NDArray[np.uint8] | None = None
    photo_jpg: bytes = b""  # the frame, downscaled and encoded, stored with the kept garment
    timings_cpu_ms: dict[str, float] = field(default_factory=dict)  # the same stages in CPU time
    work: npt.NDArray[np.uint8] | None = None  # the working-size frame, while the files are still to encode

    @property
    def primary(self) -> GarmentResult | None:
        """The garment the mirror registers (the most prominent), or ``None`` when none was found."""
        return self.garments[0] if self.garments else None
