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


def cutout_images(cutout: Cutout) -> dict[str, bytes]:
    """The three cut-out files the closet keeps for one garment."""
    return {
        CUTOUT_PNG: png(cutout.bgra()),
        CUTOUT_BLACK: jpeg(cutout.on_black()),
        CUTOUT_WHITE: jpeg(cutout.on_white()),
    }


def photo_jpeg(frame: Image) -> bytes:
    """The captured frame, downscaled, as the closet keeps it (kind ``photo_jpg``)."""
    return jpeg(downscale(frame, PHOTO_MAX_SIDE), PHOTO_QUALITY)
