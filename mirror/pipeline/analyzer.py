"""The analyzer: one frame in, named garments with cut-outs out, models loaded once.

Stages (each timed, see ``AnalysisResult.timings_ms``): ``resize`` the frame to the working
size → ``segment`` → ``instances`` → per garment: ``cutout`` → ``classify`` → ``colour``
→ ``encode`` (the files the closet keeps). Coordinates are mapped back to the source
image's pixels at the end.

Why a working size: a 1640×1232 still holds more pixels than the segmenter (a few hundred
pixels square) or the closet can use; halving it towards ``WORK_MIN_SIDE`` makes the
mask upsampling, the cut-outs and their encoding several times cheaper, and the cut-out is
still about as large as the mirror shows it.
"""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np
import numpy.typing as npt

from mirror.imagetypes import Image, Polygon
from mirror.pipeline.encode import cutout_images, halve_to, photo_jpeg
from mirror.pipeline.finder import Found
from mirror.pipeline.models import Models
from mirror.pipeline.result import AnalysisResult, GarmentColour, GarmentResult
from mirror.pipeline.timing import StageTimer
from mirror.vision.colour import ColourResult, describe_colour
from mirror.vision.cutout import make_cutout

#: The image the garments are cut from is halved while its longer side stays at least this
#: (a 1640×1232 still is analysed at 820×616, a 1024×768 photo as it is; source
#: coordinates are kept).
WORK_MIN_SIDE = 640
#: At most this many garments per frame are named (the most prominent ones).
MAX_GARMENTS = 5
#: Context around a garment given to the colour step (fraction of the box), for white balance.
COLOUR_CONTEXT = 0.3
#: Longest side of the region the colour is named from.
COLOUR_MAX_SIDE = 160


def garment_colour(result: ColourResult) -> GarmentColour:
    """The colour step's answer as the result type, with shares that never sum above 1 after rounding."""
    total = max(1.0, sum(p.share for p in result.palette))
    palette = tuple(replace(p, share=math.floor(p.share / total * 10000) / 10000) for p in result.palette)
    return GarmentColour(result.basic, result.name, result.hex, palette, result.alternative)


def _grow(box: tuple[int, int, int, int], frac: float, width: int, height: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    dx, dy = round((x1 - x0) * frac), round((y1 - y0) * frac)
    return max(0, x0 - dx), max(0, y0 - dy), min(width, x1 + dx), min(height, y1 + dy)


class Analyzer:
    """Holds the loaded models; ``analyze`` may be called for any number of frames.

    Not thread-safe (the inference runtimes are not): the service gives each thread that
    analyses its own ``Analyzer`` or serialises the calls.
    """

    def __init__(self, models: Models, *, unsure_below: float = 0.0) -> None:
        self.models = models
        self.unsure_below = unsure_below

    def detect(self, preview: Image) -> list[Found]:
        """Garments in a preview frame (segmenter only): presence and the overlay outline."""
        return self.models.detector.find(preview)

    def analyze(
        self,
        image: Image,
        *,
        capture_id: int = 0,
        encode: bool = True,
        keep_photo: bool = False,
        encode_later: bool = False,
    ) -> AnalysisResult:
        """Find, cut out and name every garment in ``image`` (BGR, any size).

        ``encode`` adds the files the closet keeps (cut-outs and the downscaled photo);
        ``analyze`` without ``--save-cutouts`` skips them. ``encode_later`` (with ``encode``
        off) encodes nothing but keeps what the files are made from (each ``cutout_bgra``
        and the working frame): the mirror shows the result first and encodes only the
        garment kept, on the store's thread (``to_draft``), ~50 ms sooner on a Pi. ``keep_photo``
        puts the source frame on the result for the UI.
        """
        timer = StageTimer()
        src_h, src_w = image.shape[:2]
        with timer.stage("resize"):
            work = halve_to(image, WORK_MIN_SIDE)
        work_h, work_w = work.shape[:2]
        with timer.stage("segment"):
            segmentation = self.models.finder.segment(work)
        with timer.stage("instances"):
            found = self.models.finder.instances(work, segmentation)[:MAX_GARMENTS]
        sx, sy = src_w / work_w, src_h / work_h
        garments = tuple(self._garment(work, f, timer, encode, encode_later, sx, sy) for f in found)
        photo_jpg = b""
        if encode and garments:
            with timer.stage("encode"):
                photo_jpg = photo_jpeg(work)  # the working copy is already small enough
        return AnalysisResult(
            capture_id=capture_id,
            garments=garments,
            ms=timer.total_ms(),
            timings_ms=timer.ms,
            image_size=(src_w, src_h),
            model_versions=self.models.versions,
            photo=image if keep_photo else None,
            photo_jpg=photo_jpg,
            timings_cpu_ms=timer.cpu_ms,
            work=work if encode_later and not encode and garments else None,
        )

    def _garment(
        self, work: Image, found: Found, timer: StageTimer, encode: bool, encode_later: bool, sx: float, sy: float
    ) -> GarmentResult:
        with timer.stage("cutout"):
            mask = found.mask()
            cutout = make_cutout(work, mask)
            black = cutout.on_black()
        with timer.stage("classify"):
            category = self.models.classifier.classify_image(black)
        with timer.stage("colour"):
            colour = describe_colour(*colour_region(work, mask, found.box), self.models.colours)
        images: dict[str, bytes] = {}
        bgra = None
        if encode:
            with timer.stage("encode"):
                bgra = np.ascontiguousarray(cutout.bgra())
                images = cutout_images(cutout, black, bgra)
        elif encode_later:
            with timer.stage("cutout"):
                bgra = np.ascontiguousarray(cutout.bgra())
        return GarmentResult(
            category=category.label,
            category_score=float(category.score),
            top3=tuple((str(n), float(s)) for n, s in category.top3),
            unsure=bool(category.unsure or category.score < self.unsure_below),
            group=found.group,
            score=float(found.score),
            box=_scale_box(found.box, sx, sy),
            polygons=tuple(_scale_polygon(p, sx, sy) for p in found.polygons),
            color=garment_colour(colour),
            cutout_bgra=bgra,
            images=images,
        )


def colour_region(
    work: Image, garment: npt.NDArray[np.bool_], box: tuple[int, int, int, int]
) -> tuple[Image, npt.NDArray[np.bool_]]:
    """The garment with some surroundings (for white balance), shrunk to ``COLOUR_MAX_SIDE``.

    Why shrink: colour naming samples a few thousand pixels anyway; computing white balance
    and the fabric mask on a full-size crop cost ~40 ms for nothing.
    """
    h, w = work.shape[:2]
    x0, y0, x1, y1 = _grow(box, COLOUR_CONTEXT, w, h)
    crop, mask = work[y0:y1, x0:x1], garment[y0:y1, x0:x1]
    scale = COLOUR_MAX_SIDE / max(crop.shape[:2])
    if scale >= 1.0:
        return crop, mask
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    small = np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    small_mask = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    return small, small_mask


def _scale_box(box: tuple[int, int, int, int], sx: float, sy: float) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return round(x0 * sx), round(y0 * sy), round(x1 * sx), round(y1 * sy)


def _scale_polygon(poly: Polygon, sx: float, sy: float) -> Polygon:
    if sx == 1.0 and sy == 1.0:
        return poly
    return tuple((round(x * sx), round(y * sy)) for x, y in poly)


__all__ = ["MAX_GARMENTS", "WORK_MIN_SIDE", "Analyzer"]
