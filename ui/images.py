"""Frames and cut-outs from the core (numpy arrays, encoded bytes) as Qt images, and fitting them.

The core hands over OpenCV-style arrays (BGR, or RGBA for cut-outs). Wrapping them as
``QImage`` without converting pixel by pixel keeps a 640×480 preview at a fraction of a
millisecond per frame on the GUI thread; the wrapped image keeps a reference to the array
so the memory cannot go away underneath Qt.

Cut-outs are drawn on black behind two-way glass, where pixels darker than about 40/255 do not
show: a black or navy garment, the commonest colours, would be an invisible hole exactly where
the person looks to check the result. So the *display copy* of a dark cut-out is lifted (its
darks raised to a floor, shading kept) and gets a thin light rim along its edge
(:func:`for_glass`). The stored cut-out, its colour and what is synced never change.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QImage

#: A cut-out whose opaque pixels have a median luma under this is dark on the glass: it is lifted.
DARK_GARMENT = 72
#: The luma a dark cut-out's blackest pixel is lifted to; pixels up to twice this are lifted less
#: and less, so the garment's shading (folds, seams) stays visible.
LIFT_FLOOR = 72
#: The light rim drawn behind a dark cut-out, just outside its edge, so its outline shows.
RIM_GREY = 170
#: BGR weights of luma (Rec. 601), for arrays in OpenCV's channel order.
_LUMA_BGR = np.array([0.114, 0.587, 0.299], np.float32)


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


def dimmed_frame(frame: npt.NDArray[np.uint8], width: int, height: int, opacity: float) -> QImage:
    """A BGR (or grey) preview frame resized to ``width``×``height`` and darkened to ``opacity``,
    in Qt's native RGB32, ready to draw unscaled on the black page.

    Why: drawing the 640×480 frame scaled, smoothly and at an opacity, on every paint of the
    capture screen cost ~7 ms a paint at panel size here (~30 ms on a Pi), 15 to 30 times a
    second. Over black, drawing at opacity ``a`` is drawing the colours times ``a``, so the frame
    is darkened and resized once with OpenCV (about 1 ms; darkened at whichever size is smaller)
    and each paint is then a plain copy of pixels.
    """
    bgr = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2 else frame[..., :3]
    width, height = max(1, width), max(1, height)
    shrink = width * height < bgr.shape[0] * bgr.shape[1]
    if not shrink:
        bgr = cv2.convertScaleAbs(bgr, alpha=opacity)
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    resized = np.asarray(cv2.resize(np.ascontiguousarray(bgr), (width, height), interpolation=interpolation), np.uint8)
    if shrink:
        resized = np.asarray(cv2.convertScaleAbs(resized, alpha=opacity), np.uint8)
    if sys.byteorder != "little":  # RGB32's bytes are B, G, R, 255 only on little-endian machines
        return ArrayImage(resized, QImage.Format.Format_BGR888).convertToFormat(QImage.Format.Format_RGB32)
    return ArrayImage(np.asarray(cv2.cvtColor(resized, cv2.COLOR_BGR2BGRA), np.uint8), QImage.Format.Format_RGB32)


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
    shown = for_glass(np.asarray(resized, dtype=np.uint8))
    return ArrayImage(shown, QImage.Format.Format_ARGB32_Premultiplied)


def for_glass(premultiplied: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """A premultiplied BGRA cut-out as it should be shown behind the glass (a new array, or the same one).

    A dark cut-out (median luma of its opaque pixels under :data:`DARK_GARMENT`) has every
    pixel's luma ``y`` raised by ``LIFT_FLOOR * (1 - y / (2 * LIFT_FLOOR))`` (black becomes the
    floor, brighter pixels move less, the order of shades is kept), the same amount on each
    channel so navy stays bluish; and a rim of :data:`RIM_GREY` a few pixels wide is laid behind
    it, showing just outside its edge (3 px or more). Light cut-outs and images without transparency (a photo,
    not a cut-out) are returned as they are. Done once per size, at the size drawn.
    """
    if premultiplied.ndim != 3 or premultiplied.shape[2] != 4:
        return premultiplied
    alpha = premultiplied[..., 3].astype(np.float32) / 255
    opaque = alpha >= 0.5
    if not opaque.any() or opaque.all():
        return premultiplied
    colour = premultiplied[..., :3].astype(np.float32) / np.maximum(alpha, 1 / 255)[..., None]
    luma = colour @ _LUMA_BGR
    if float(np.median(luma[opaque])) >= DARK_GARMENT:
        return premultiplied
    lift = LIFT_FLOOR * np.clip(1 - luma / (2 * LIFT_FLOOR), 0, 1)
    lifted = np.minimum(colour + lift[..., None], 255) * alpha[..., None]
    radius = max(3, round(max(premultiplied.shape[:2]) / 250))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    # Doubled: a solid ring past a feathered edge, still soft at its own outer edge.
    halo = np.minimum(1, cv2.dilate(premultiplied[..., 3], kernel).astype(np.float32) * (2 / 255))
    behind = halo * (1 - alpha)  # the rim shows only where the garment does not cover it
    out = np.empty(premultiplied.shape, np.float32)
    out[..., :3] = lifted + RIM_GREY * behind[..., None]
    out[..., 3] = 255 * (alpha + behind)
    return np.asarray(np.clip(np.rint(out), 0, 255), dtype=np.uint8)


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
    scaled = image.scaled(
        QSize(longest, longest), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    if sys.byteorder != "little" or not scaled.hasAlphaChannel():
        return scaled
    premultiplied = scaled.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    view = np.frombuffer(premultiplied.constBits(), np.uint8).reshape(premultiplied.height(), -1)
    pixels = view[:, : premultiplied.width() * 4].reshape(premultiplied.height(), premultiplied.width(), 4)
    shown = for_glass(pixels)
    return premultiplied if shown is pixels else ArrayImage(shown, QImage.Format.Format_ARGB32_Premultiplied)


def fit(size: QSize, into: QRect, cover: bool = False) -> QRectF:
    """The rect, centred in ``into``, of ``size`` scaled to fit (or to cover) it with its aspect kept."""
    if size.isEmpty() or into.isEmpty():
        return QRectF(into)
    sx = into.width() / size.width()
    sy = into.height() / size.height()
    scale = max(sx, sy) if cover else min(sx, sy)
    w, h = size.width() * scale, size.height() * scale
    return QRectF(into.center().x() - w / 2 + 0.5, into.center().y() - h / 2 + 0.5, w, h)
