"""Encoding the images a record keeps: cut-outs (PNG, on black, on white) and the photo.

Why these settings: PNG at compression level 1 is ~5× faster to write than the default
and only ~15 % larger (the store keeps it once, content-addressed); JPEG quality 90 keeps
fabric texture on the black mirror background. The photo is downscaled: it is for the
person's memory and for re-analysis, not for printing.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from mirror.pipeline.result import CUTOUT_BLACK, CUTOUT_PNG, CUTOUT_WHITE
from mirror.vision.cutout import Cutout

Image = npt.NDArray[np.uint8]

PNG_COMPRESSION = 1
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


def png(image: Image) -> bytes:
    """``image`` (BGR or BGRA) as PNG bytes, written fast."""
    return _encode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION])


def downscale(image: Image, max_side: int) -> Image:
    """``image`` shrunk so its longer side is at most ``max_side`` (never enlarged)."""
    h, w = image.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1.0:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def on_white(on_black: Image, alpha: Image) -> Image:
    """The cut-out on white, from the cut-out on black: ``bgr·a + 255·(1 − a)`` = black + (255 − alpha).

    Why not composite again: the blend on black is already paid for (the classifier reads
    it); adding the inverted alpha is one saturating add instead of a float blend.
    """
    inverse = cv2.cvtColor(np.asarray(255 - alpha, dtype=np.uint8), cv2.COLOR_GRAY2BGR)
    return np.asarray(cv2.add(on_black, inverse), dtype=np.uint8)


def cutout_images(cutout: Cutout, on_black: Image | None = None) -> dict[str, bytes]:
    """The three cut-out files the closet keeps for one garment (``on_black`` if already made)."""
    black = cutout.on_black() if on_black is None else on_black
    return {
        CUTOUT_PNG: png(cutout.bgra()),
        CUTOUT_BLACK: jpeg(black),
        CUTOUT_WHITE: jpeg(on_white(black, cutout.alpha)),
    }


def photo_jpeg(frame: Image) -> bytes:
    """The captured frame, downscaled, as the closet keeps it (kind ``photo_jpg``)."""
    return jpeg(downscale(frame, PHOTO_MAX_SIDE), PHOTO_QUALITY)
