"""Cut-out geometry and alpha: the box hugs the mask with its margin, the edge is soft but narrow."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from mirror.pipeline.encode import on_white, transparent_png
from mirror.vision.cutout import (
    FEATHER_PX,
    MARGIN,
    MIN_MARGIN_PX,
    EmptyMaskError,
    composite,
    garment_box,
    make_cutout,
)


def _scene() -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    image = np.full((240, 320, 3), 200, np.uint8)
    mask = np.zeros((240, 320), bool)
    mask[60:180, 100:180] = True  # 80 wide, 120 tall
    image[mask] = (30, 60, 200)
    return image, mask


def test_box_is_mask_bounds_plus_margin() -> None:
    _, mask = _scene()
    pad = max(MIN_MARGIN_PX, round(120 * MARGIN))
    assert garment_box(mask) == (100 - pad, 60 - pad, 180 + pad, 180 + pad)


def test_box_is_clipped_to_the_frame() -> None:
    mask = np.zeros((100, 100), bool)
    mask[0:50, 90:100] = True
    x0, y0, x1, y1 = garment_box(mask)
    assert (x0, y0, x1, y1)[1:] == (0, 100, 50 + max(MIN_MARGIN_PX, round(50 * MARGIN)))
    assert x0 < 90


def test_cutout_pixels_and_alpha() -> None:
    image, mask = _scene()
    cut = make_cutout(image, mask)
    x0, y0, x1, y1 = cut.box
    assert cut.bgr.shape == (y1 - y0, x1 - x0, 3)
    assert np.array_equal(cut.bgr, image[y0:y1, x0:x1])
    inner = mask[y0:y1, x0:x1]
    eroded = cv2.erode(inner.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    far = ~cv2.dilate(inner.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert (cut.alpha[eroded] == 255).all()
    assert (cut.alpha[far] == 0).all()
    soft = (cut.alpha > 0) & (cut.alpha < 255)
    assert soft.any(), "the edge is feathered"
    # The soft band is narrow: within about 2 sigma (+1 px) of the outline on each side.
    band = cv2.dilate(inner.astype(np.uint8), np.ones((5, 5), np.uint8)) - cv2.erode(
        inner.astype(np.uint8), np.ones((5, 5), np.uint8)
    )
    assert FEATHER_PX <= 2
    assert band[soft].all()


def test_backgrounds_and_rgba() -> None:
    """The cut-out on black and, through the pipeline's encoders (the only ones), on white and as PNG."""
    image, mask = _scene()
    cut = make_cutout(image, mask)
    black = cut.on_black()
    white = on_white(black, cut.alpha)
    assert (black[cut.alpha == 0] == 0).all()
    assert (white[cut.alpha == 0] == 255).all()
    assert np.array_equal(black[cut.alpha == 255], cut.bgr[cut.alpha == 255])
    decoded = cv2.imdecode(np.frombuffer(transparent_png(cut.bgra()), np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded.shape == (*cut.alpha.shape, 4)
    assert np.array_equal(decoded[..., 3], cut.alpha)
    visible = cut.alpha > 0  # fully transparent pixels are written as zero (see transparent_png)
    assert np.array_equal(decoded[..., :3][visible], cut.bgr[visible])
    assert (decoded[..., :3][~visible] == 0).all()


def _float_composite(
    bgr: NDArray[np.uint8], alpha: NDArray[np.uint8], colour: tuple[int, int, int]
) -> NDArray[np.uint8]:
    """The float32 blend the classifier's training cut-outs were first made with (the reference)."""
    a = alpha.astype(np.float32)[..., None] / 255.0
    background = np.asarray(colour, dtype=np.float32)
    return np.clip(bgr.astype(np.float32) * a + background * (1.0 - a) + 0.5, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("colour", [(0, 0, 0), (255, 255, 255), (12, 200, 77)])
def test_composite_matches_the_float_blend_for_every_value_and_alpha(colour: tuple[int, int, int]) -> None:
    values = np.repeat(np.arange(256, dtype=np.uint8), 256).reshape(256, 256)
    alpha = np.tile(np.arange(256, dtype=np.uint8), 256).reshape(256, 256)
    bgr = np.dstack([values, 255 - values, values // 3]).astype(np.uint8)
    assert np.array_equal(composite(bgr, alpha, colour), _float_composite(bgr, alpha, colour))


def test_on_black_is_the_training_blend_on_a_real_cutout() -> None:
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    _, mask = _scene()
    cut = make_cutout(image, mask)
    assert np.array_equal(cut.on_black(), _float_composite(cut.bgr, cut.alpha, (0, 0, 0)))
    assert np.array_equal(cut.on((255, 255, 255)), _float_composite(cut.bgr, cut.alpha, (255, 255, 255)))


def test_empty_and_mismatched_masks_are_refused() -> None:
    image, mask = _scene()
    with pytest.raises(EmptyMaskError, match="empty"):
        make_cutout(image, np.zeros_like(mask))
    with pytest.raises(ValueError, match="does not match"):
        make_cutout(image, mask[:100])


def test_box_bounds_are_those_of_the_nonzero_pixels_for_sparse_masks() -> None:
    rng = np.random.default_rng(11)
    for _ in range(200):
        mask = np.zeros((int(rng.integers(1, 60)), int(rng.integers(1, 60))), bool)
        count = int(rng.integers(1, 5))
        mask[rng.integers(0, mask.shape[0], count), rng.integers(0, mask.shape[1], count)] = True
        ys, xs = np.nonzero(mask)
        x0, y0, x1, y1 = garment_box(mask, margin=0.0)
        pad = MIN_MARGIN_PX
        assert (x0, y0) == (max(0, int(xs.min()) - pad), max(0, int(ys.min()) - pad))
        assert (x1, y1) == (min(mask.shape[1], int(xs.max()) + 1 + pad), min(mask.shape[0], int(ys.max()) + 1 + pad))
