"""The fast PNG writer: standard files that decode back to exactly the cut-out written."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from mirror.pipeline.encode import transparent_png
from mirror.pipeline.png import SIGNATURE, bgra_png
from mirror.vision.cutout import make_cutout


def _decode(data: bytes) -> NDArray[np.uint8]:
    return np.asarray(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED))


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (9, 1), (37, 53), (240, 320)])
def test_random_bgra_round_trips_losslessly(shape: tuple[int, int]) -> None:
    image = np.random.default_rng(sum(shape)).integers(0, 256, (*shape, 4), dtype=np.uint8)
    data = bgra_png(image)
    assert data.startswith(SIGNATURE)
    assert np.array_equal(_decode(data), image)


def test_non_contiguous_input_is_written_as_its_values() -> None:
    image = np.random.default_rng(3).integers(0, 256, (60, 80, 4), dtype=np.uint8)[::2, 5:70]
    assert np.array_equal(_decode(bgra_png(image)), image)


def test_transparent_cutout_keeps_colour_where_visible_and_zeroes_the_rest() -> None:
    rng = np.random.default_rng(7)
    frame = rng.integers(0, 256, (200, 260, 3), dtype=np.uint8)
    yy, xx = np.mgrid[:200, :260]
    mask = ((xx - 130) / 70) ** 2 + ((yy - 100) / 50) ** 2 <= 1.0
    bgra = make_cutout(frame, mask).bgra()
    decoded = _decode(transparent_png(bgra))
    visible = bgra[..., 3] > 0
    assert np.array_equal(decoded[visible], bgra[visible])
    assert (decoded[~visible] == 0).all()
    smooth = np.zeros((450, 450, 4), np.uint8)
    smooth[100:350, 100:350] = (40, 90, 200, 255)  # a flat garment compresses far below raw size
    assert len(bgra_png(smooth)) < smooth.nbytes // 50


@pytest.mark.parametrize(
    "bad", [np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 4), np.uint16), np.zeros((0, 4, 4), np.uint8)]
)
def test_other_images_are_refused(bad: NDArray[Any]) -> None:
    with pytest.raises(ValueError, match="H×W×4 uint8"):
        bgra_png(bad)
