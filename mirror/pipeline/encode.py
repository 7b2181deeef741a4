"""Encoding the images a record keeps: cut-outs (PNG, on black, on white) and the photo.

Why these settings: the transparent PNG is written by ``mirror.pipeline.png`` (one fixed
row filter, zlib level 1 run-length: ~10 ms against libpng's ~17 ms at any level, about
the same size; the store keeps it once, content-addressed); JPEG quality 90 keeps
fabric texture on the black mirror background. The photo is downscaled: it is for the
person's memory and for re-analysis, not for printing.
"""

from __future__ import annotations

import cv2
import numpy as np

from mirror.imagetypes import Image
from mirror.pipeline.png import bgra_png
from mirror.pipeline.result import CUTOUT_BLACK, CUTOUT_PNG, CUTOUT_WHITE
from mirror.vision.cutout import Cutout

JPEG_QUALITY = 90
PHOTO_QUALITY = 85
PHOTO_MAX_SIDE = 960


class EncodeError(RuntimeError):
    """OpenCV could not encode an image (out of memory, or an empty image)."""


def _encode(ext: str, image: Image, params: list[int]) -> bytes:
    ok, data = cv2.imencode(ext, image, params)
    if not ok:
        raise EncodeError(f"could not encode a {image.shape} image as {ext}; the capture is damaged, retake it")
    return bytes(data.tobytes())


def jpeg(image: Image, quality: int = JPEG_QUALITY) -> bytes:
    """``image`` (BGR) as JPEG bytes."""
    return _encode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])


def transparent_png(bgra: Image) -> bytes:
    """A BGRA cut-out as PNG, with the colour of fully transparent pixels zeroed first.

    Why: those pixels still hold the camera's noisy background, invisible but expensive —
    zeroing them halves both the file and the time to write it.
    """
    visible = np.asarray(bgra[..., 3] > 0, dtype=np.uint8)
    return bgra_png(np.asarray(cv2.bitwise_and(bgra, bgra, mask=visible), dtype=np.uint8))


def downscale(image: Image, max_side: int) -> Image:
    """``image`` shrunk so its longer side is at most ``max_side`` (never enlarged).

    Halves with ``pyrDown`` while the image is at least twice too big, then ``INTER_AREA``
    for the rest: the same anti-aliased result as one ``INTER_AREA`` resize at a quarter of
    its cost for camera-sized stills.
    """
    h, w = image.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1.0:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    while max(image.shape[:2]) >= 2 * max_side:
        image = np.asarray(cv2.pyrDown(image), dtype=np.uint8)
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def on_white(on_black: Image, alpha: Image) -> Image:
    """The cut-out on white, from the cut-out on black: ``bgr·a + 255·(1 − a)`` = black + (255 − alpha).

    Why not composite again: the blend on black is already paid for (the classifier reads
    it); adding the inverted alpha is one saturating add instead of a float blend.
    """
    inverse = cv2.cvtColor(np.asarray(255 - alpha, dtype=np.uint8), cv2.COLOR_GRAY2BGR)
    return np.asarray(cv2.add(on_black, inverse), dtype=np.uint8)


def halve_to(image: Image, min_side: int) -> Image:
    """``image`` halved (``pyrDown``, anti-aliased) while the half is still ``min_side`` or longer.

    The result's longer side lies in ``[min_side, 2 × min_side)`` (or is the original when
    smaller). Why halving only: an exact target size needs a final fractional resize that
    costs as much as all the halvings together, and the working size only needs to be
    about right.
    """
    while max(image.shape[:2]) // 2 >= min_side:
        image = np.asarray(cv2.pyrDown(image), dtype=np.uint8)
    return image


def cutout_images(cutout: Cutout, on_black: Image | None = None, bgra: Image | None = None) -> dict[str, bytes]:
    """The three cut-out files the closet keeps for one garment (``on_black``/``bgra`` if already made)."""
    black = cutout.on_black() if on_black is None else on_black
    return {
        CUTOUT_PNG: transparent_png(cutout.bgra() if bgra is None else bgra),
        CUTOUT_BLACK: jpeg(black),
        CUTOUT_WHITE: jpeg(on_white(black, cutout.alpha)),
    }


def garment_files(bgra: Image) -> dict[str, bytes]:
    """``cutout_images`` from a cut-out's BGRA array alone (a result whose encoding was left
    for later keeps only that): the same bytes, as the on-black image is recomputed exactly."""
    cutout = Cutout((0, 0, bgra.shape[1], bgra.shape[0]), np.ascontiguousarray(bgra[..., :3]), bgra[..., 3].copy())
    return cutout_images(cutout, bgra=bgra)


def photo_jpeg(frame: Image) -> bytes:
    """The captured frame, downscaled, as the closet keeps it (kind ``photo_jpg``)."""
    return jpeg(downscale(frame, PHOTO_MAX_SIDE), PHOTO_QUALITY)
