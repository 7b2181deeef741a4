"""Garment cut-outs: the one function that turns a frame and a garment mask into images.

Why one function: the closet shows the cut-out, the classifier names it, and the classifier
was trained on cut-outs made from teacher masks by this same code
(``models/training/cls_prepare.py``). A second, slightly different crop or background at
run time would be a silent train/test mismatch, so everything goes through here.

A cut-out is the garment's bounding box plus a margin (``MARGIN`` of the box's longer
side, clipped to the frame), the original pixels inside it, and an alpha channel from the
mask feathered over about 2 pixels (``FEATHER_PX`` sigma) so the edge is not jagged on the black UI.

Stable API: ``make_cutout(image_bgr, mask) -> Cutout`` with ``.box``, ``.bgr``, ``.alpha``,
``.on_black()``, ``.on(colour)``, ``.bgra()``; and ``composite(bgr, alpha, colour)`` for
code that changes the alpha first (training jitter). The files a record keeps (PNG, on
white) are encoded by ``mirror.pipeline.encode``, the one encoder.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

UInt8Array = npt.NDArray[np.uint8]

#: Margin around the garment's box, as a fraction of the box's longer side.
MARGIN = 0.06
#: Minimum margin in pixels (small garments far from the camera still get a border).
MIN_MARGIN_PX = 4
#: Gaussian sigma of the alpha feather, in source pixels: the soft edge spans 2 px each side.
FEATHER_PX = 0.7


class EmptyMaskError(ValueError):
    """The mask has no garment pixels, so there is nothing to cut out."""


def composite(bgr: UInt8Array, alpha: UInt8Array, colour: tuple[int, int, int]) -> UInt8Array:
    """``bgr`` over a flat ``colour`` (B, G, R) background with ``alpha`` (0–255).

    Each pixel is ``round((bgr·alpha + colour·(255 − alpha)) / 255)``, computed in integers.
    Why integers: the float32 blend this replaces cost ~6 ms per cut-out; the integer forms
    give the same bytes for every (value, alpha) pair (``tests/test_cutout.py`` checks all
    65536 against the float formula), which matters because the classifier was trained on
    these images. On black it is one saturating ``cv2.multiply`` (~0.5 ms); a numerator
    never passes 255·255 + 127, so ``uint16`` holds the general case.
    """
    alpha3 = cv2.merge([alpha, alpha, alpha])
    if tuple(colour) == (0, 0, 0):
        return np.asarray(cv2.multiply(bgr, alpha3, scale=1.0 / 255.0), dtype=np.uint8)
    a = alpha3.astype(np.uint16)
    background = np.asarray(colour, dtype=np.uint16)
    blended = (bgr.astype(np.uint16) * a + background * (255 - a) + 127) // 255
    return blended.astype(np.uint8)


def feather(mask: npt.NDArray[np.bool_], sigma: float = FEATHER_PX) -> UInt8Array:
    """0–255 alpha of a binary mask with a soft edge (Gaussian, ``sigma`` pixels)."""
    hard = mask.astype(np.float32)
    if sigma <= 0:
        return (hard * 255).astype(np.uint8)
    soft = cv2.GaussianBlur(hard, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REPLICATE)
    return np.clip(soft * 255.0 + 0.5, 0, 255).astype(np.uint8)


def garment_box(mask: npt.NDArray[np.bool_], margin: float = MARGIN) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` (x1, y1 exclusive) of the mask's pixels plus the margin, inside the frame."""
    # cv2.boundingRect of the non-zero pixels: the same bounds as np.nonzero's min/max, ~10× faster
    x, y, bw, bh = cv2.boundingRect(np.asarray(mask, dtype=np.uint8))
    if bw == 0 or bh == 0:
        raise EmptyMaskError("the garment mask is empty; nothing to cut out (hold the garment closer)")
    x0, x1, y0, y1 = x, x + bw, y, y + bh
    pad = max(MIN_MARGIN_PX, round(max(x1 - x0, y1 - y0) * margin))
    h, w = mask.shape
    return max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)


@dataclass(frozen=True)
class Cutout:
    """A garment cut out of a frame: its box in the frame, the pixels and the soft alpha."""

    box: tuple[int, int, int, int]
    bgr: UInt8Array
    alpha: UInt8Array

    def on(self, colour: tuple[int, int, int]) -> UInt8Array:
        """The garment on a flat background ``colour`` (B, G, R)."""
        return composite(self.bgr, self.alpha, colour)

    def on_black(self) -> UInt8Array:
        """The garment on black: what the UI shows and what the classifier reads."""
        return self.on((0, 0, 0))

    def bgra(self) -> UInt8Array:
        """Transparent BGRA image (OpenCV channel order) with the feathered alpha."""
        return np.asarray(cv2.merge([*cv2.split(self.bgr), self.alpha]), dtype=np.uint8)


def make_cutout(
    image_bgr: UInt8Array, mask: npt.NDArray[np.bool_] | UInt8Array, margin: float = MARGIN, sigma: float = FEATHER_PX
) -> Cutout:
    """Cut the garment under ``mask`` (H×W, nonzero = garment) out of an OpenCV BGR frame."""
    garment: npt.NDArray[np.bool_] = np.asarray(mask, dtype=np.uint8) > 0
    if garment.shape != image_bgr.shape[:2]:
        raise ValueError(f"mask shape {garment.shape} does not match image shape {image_bgr.shape[:2]}")
    x0, y0, x1, y1 = garment_box(garment, margin)
    crop = np.ascontiguousarray(image_bgr[y0:y1, x0:x1])
    return Cutout((x0, y0, x1, y1), crop, feather(garment[y0:y1, x0:x1], sigma))
