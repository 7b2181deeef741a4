"""Colour-space maths: sRGB ↔ linear light ↔ CIELAB (D65), and ``#rrggbb`` of an sRGB triple.

One job: convert colours between the spaces the colour code works in, exactly and nothing
else. Why separate: the shipped table's build (``models.training.colour_build``) and the
runtime (``mirror.vision.colour``, ``mirror.vision.colour_model``) must share one colour
space, or the table would be built in a different CIELAB than the one it is looked up in;
this module is that one space, with no model, no garment and no OpenCV in it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

_D65 = np.array([0.95047, 1.0, 1.08883])
#: Linear sRGB -> XYZ (D65); its middle row (Y) weighs the channels into luminance.
RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_XYZ_TO_RGB = np.linalg.inv(RGB_TO_XYZ)


def _srgb_lut() -> npt.NDArray[np.float32]:
    """Linear light of each 8-bit sRGB value: a lookup replaces the power function on uint8 pixels."""
    v = np.arange(256) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


#: Linear light (float32) of each 8-bit sRGB value: index it with uint8 pixels.
LINEAR_OF_BYTE = _srgb_lut()


def srgb_to_linear(rgb01: FloatArray) -> FloatArray:
    """sRGB in [0, 1] -> linear light."""
    return np.where(rgb01 <= 0.04045, rgb01 / 12.92, ((rgb01 + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(lin: FloatArray) -> FloatArray:
    """Linear light -> sRGB in [0, 1] (clipped)."""
    lin = np.clip(lin, 0.0, 1.0)
    return np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)


def srgb_to_lab(rgb: npt.ArrayLike) -> FloatArray:
    """sRGB (0–255, shape ``(..., 3)``) -> CIELAB (D65)."""
    return linear_to_lab(srgb_to_linear(np.asarray(rgb, dtype=np.float64) / 255.0))


def linear_to_lab(lin: npt.NDArray[np.floating[Any]]) -> FloatArray:
    """Linear-light RGB (shape ``(..., 3)``) -> CIELAB (D65); keeps the input's float precision."""
    xyz = lin @ RGB_TO_XYZ.T.astype(lin.dtype) / _D65.astype(lin.dtype)
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def lab_to_srgb(lab: npt.ArrayLike) -> FloatArray:
    """CIELAB (D65, shape ``(..., 3)``) -> sRGB 0–255 (float, clipped to the gamut)."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    xyz = np.where(f > 6 / 29, f**3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * _D65
    return linear_to_srgb(xyz @ _XYZ_TO_RGB.T) * 255.0


def to_hex(rgb: npt.ArrayLike) -> str:
    """``#rrggbb`` of an sRGB triple."""
    r, g, b = (round(float(v)) for v in np.clip(np.asarray(rgb, dtype=np.float64), 0, 255))
    return f"#{r:02x}{g:02x}{b:02x}"
