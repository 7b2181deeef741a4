"""Image preprocessing shared by every vision model (segmenter and classifier).

Why one module: a model is only as good as the match between how its training images were
prepared and how the mirror prepares camera frames. Training code (``models/training``)
and runtime code (``mirror/vision``) both call these functions, so the two cannot drift.

Stable API (other modules import it; keep signatures):

- ``letterbox(image, size, pad_value=0) -> (canvas, Letterbox)``: aspect-preserving resize
  into a ``size×size`` (or ``(w, h)``) canvas, centred, padded with ``pad_value``.
- ``Letterbox.to_source(array, interpolation)``: crop the padding off a model-resolution
  map (H×W or H×W×C) and resize it back to the source image's size.
- ``normalise(rgb_uint8, mean, std) -> float32``: ``(pixel - mean) / std`` per channel,
  with mean/std in 0–255 units (``MOBILENET_MEAN``/``MOBILENET_STD`` map to [-1, 1]).
- ``to_batch(image_float, layout) -> float32 batch``: add the batch axis, ``"nhwc"`` or
  ``"nchw"``.
- ``prepare(image_bgr, size, mean, std, layout) -> (batch, Letterbox)``: all of the above
  from an OpenCV BGR frame; what a model's ``run`` takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

UInt8Array = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float32]

#: MobileNet (TF/TFLite ImageNet) normalisation: pixel / 127.5 - 1, in 0-255 units.
MOBILENET_MEAN: tuple[float, float, float] = (127.5, 127.5, 127.5)
MOBILENET_STD: tuple[float, float, float] = (127.5, 127.5, 127.5)

LAYOUTS = ("nhwc", "nchw")


@dataclass(frozen=True)
class Letterbox:
    """Where a source image sits inside a model's canvas, to map outputs back to it."""

    src_w: int
    src_h: int
    scale: float
    pad_x: int
    pad_y: int
    new_w: int
    new_h: int

    def to_source(self, array: npt.NDArray[Any], interpolation: int = cv2.INTER_LINEAR) -> npt.NDArray[Any]:
        """Crop the padding off a canvas-sized map and resize it to the source size.

        ``array`` is H×W or H×W×C at canvas resolution (or any multiple of it: the crop
        is scaled to the array's own size).
        """
        canvas_h = self.new_h + 2 * self.pad_y
        canvas_w = self.new_w + 2 * self.pad_x
        fy = array.shape[0] / canvas_h
        fx = array.shape[1] / canvas_w
        y0, x0 = round(self.pad_y * fy), round(self.pad_x * fx)
        y1 = max(y0 + 1, round((self.pad_y + self.new_h) * fy))
        x1 = max(x0 + 1, round((self.pad_x + self.new_w) * fx))
        crop = np.ascontiguousarray(array[y0:y1, x0:x1])
        return cv2.resize(crop, (self.src_w, self.src_h), interpolation=interpolation)


def _canvas_size(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def letterbox(
    image: npt.NDArray[Any], size: int | tuple[int, int], pad_value: int = 0
) -> tuple[npt.NDArray[Any], Letterbox]:
    """Resize ``image`` keeping its aspect ratio into a canvas of ``size`` (w, h), centred."""
    canvas_w, canvas_h = _canvas_size(size)
    src_h, src_w = image.shape[:2]
    scale = min(canvas_w / src_w, canvas_h / src_h)
    new_w = max(1, min(canvas_w, round(src_w * scale)))
    new_h = max(1, min(canvas_h, round(src_h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interp)
    pad_x = (canvas_w - new_w) // 2
    pad_y = (canvas_h - new_h) // 2
    shape = (canvas_h, canvas_w, *image.shape[2:])
    canvas = np.full(shape, pad_value, dtype=image.dtype)
    canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized
    return canvas, Letterbox(src_w, src_h, scale, pad_x, pad_y, new_w, new_h)


def normalise(rgb: UInt8Array, mean: Sequence[float], std: Sequence[float]) -> FloatArray:
    """``(pixel - mean) / std`` per channel; mean and std in 0-255 units."""
    m = np.asarray(mean, dtype=np.float32)
    s = np.asarray(std, dtype=np.float32)
    return ((rgb.astype(np.float32) - m) / s).astype(np.float32)


def to_batch(image: FloatArray, layout: str) -> FloatArray:
    """Add the batch axis in ``layout`` (``"nhwc"`` for TFLite, ``"nchw"`` for ONNX)."""
    if layout == "nhwc":
        return np.ascontiguousarray(image[None])
    if layout == "nchw":
        return np.ascontiguousarray(image.transpose(2, 0, 1)[None])
    raise ValueError(f"unknown tensor layout {layout!r}; use one of {', '.join(LAYOUTS)}")


def prepare(
    image_bgr: UInt8Array,
    size: int | tuple[int, int],
    mean: Sequence[float] = MOBILENET_MEAN,
    std: Sequence[float] = MOBILENET_STD,
    layout: str = "nhwc",
) -> tuple[FloatArray, Letterbox]:
    """OpenCV BGR frame -> letterboxed, normalised RGB float batch, plus its letterbox."""
    canvas, box = letterbox(image_bgr, size)
    rgb = np.asarray(cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB), dtype=np.uint8)
    return to_batch(normalise(rgb, mean, std), layout), box
