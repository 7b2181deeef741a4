"""Frames and cut-outs from the core (numpy arrays, encoded bytes) as Qt images, and fitting them.

The core hands over OpenCV-style arrays (BGR, or RGBA for cut-outs). Wrapping them as
``QImage`` without converting pixel by pixel keeps a 640×480 preview at a fraction of a
millisecond per frame on the GUI thread; the wrapped image keeps a reference to the array
so the memory cannot go away underneath Qt.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QImage


class ArrayImage(QImage):
    """A ``QImage`` over a numpy array that keeps the array alive as long as the image."""

    def __init__(self, array: npt.NDArray[np.uint8], fmt: QImage.Format) -> None:
        self._array = np.ascontiguousarray(array)
        height, width = self._array.shape[:2]
        super().__init__(self._array.data, width, height, int(self._array.strides[0]), fmt)


def bgr_image(array: npt.NDArray[np.uint8]) -> QImage:
    """A BGR (OpenCV) frame, or a grey one, as a QImage."""
    if array.ndim == 2:
        return ArrayImage(array, QImage.Format.Format_Grayscale8)
    return ArrayImage(array[..., :3], QImage.Format.Format_BGR888)


def bgra_image(array: npt.NDArray[np.uint8]) -> QImage:
    """A BGRA cut-out (OpenCV order, alpha from the mask) as a QImage; BGR arrays are shown opaque.

    BGRA bytes are exactly Qt's ARGB32 on little-endian machines (x86, ARM as the Pi runs it),
    so the array is wrapped, not converted.
    """
    if array.ndim == 3 and array.shape[2] == 4:
        if sys.byteorder == "little":
            return ArrayImage(array, QImage.Format.Format_ARGB32)
        return ArrayImage(array[..., [2, 1, 0, 3]], QImage.Format.Format_RGBA8888)
    return bgr_image(array)


def scaled_cutout(bgra: npt.NDArray[np.uint8], width: int, height: int) -> QImage | None:
    """A BGRA cut-out premultiplied and resized to ``width``×``height``, ready to draw unscaled.

    Why: drawing the cut-out scaled with smooth filtering and its alpha took ~5 ms of the GUI
    thread at panel size, on every paint of the result screen; premultiplying and resizing it
    once with OpenCV takes about 1 ms, and drawing it after that is a plain blend. It is
    premultiplied before the resize (as Qt does), so transparent pixels' colour cannot bleed
    into the edge. ``None`` where the bytes are not Qt's ARGB32 (big-endian): draw it scaled.
    """
    if sys.byteorder != "little" or bgra.ndim != 3 or bgra.shape[2] != 4 or width < 1 or height < 1:
        return None
    premultiplied = cv2.cvtColor(bgra, cv2.COLOR_RGBA2mRGBA)  # colour·alpha/255, rounded; order-agnostic
    shrink = width < bgra.shape[1]
    resized = cv2.resize(premultiplied, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return ArrayImage(np.asarray(resized, dtype=np.uint8), QImage.Format.Format_ARGB32_Premultiplied)


def decoded(data: bytes) -> QImage:
    """Encoded PNG/JPEG bytes as a QImage (a null image when the bytes are not an image)."""
    image = QImage()
    image.loadFromData(data)
    return image


def load_thumbnail(path: Path, longest: int) -> QImage:
    """An image file scaled so its longest side is ``longest`` px (null when unreadable).

    Runs on a worker thread: QImage (unlike QPixmap) may be made off the GUI thread.
    """
    image = QImage(str(path))
    if image.isNull():
        return image
    return image.scaled(
        QSize(longest, longest), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


def fit(size: QSize, into: QRect, cover: bool = False) -> QRectF:
    """The rect, centred in ``into``, of ``size`` scaled to fit (or to cover) it with its aspect kept."""
    if size.isEmpty() or into.isEmpty():
        return QRectF(into)
    sx = into.width() / size.width()
    sy = into.height() / size.height()
    scale = max(sx, sy) if cover else min(sx, sy)
    w, h = size.width() * scale, size.height() * scale
    return QRectF(into.center().x() - w / 2 + 0.5, into.center().y() - h / 2 + 0.5, w, h)
