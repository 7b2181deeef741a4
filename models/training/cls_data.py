"""Category labels of the single-garment photos, and how their cut-outs become model input.

Shared by every ``cls_*`` step so that the label mapping and the input pipeline exist once.

Label mapping (``../shared/data/clothing/images.csv``):

- A photo in the curated 10-class subset keeps its ``small_category`` and ``small_split``.
- A photo outside the subset whose ``label`` names one of the 10 categories (or ``Blazer``,
  which a person calls outerwear) joins **training** (``split = extra``); none of them is
  ever used for validation.
- Left out: ``Polo`` (half the people would say t-shirt, half shirt), ``Hoodie`` (worn both
  as a top and as outerwear), ``Undershirt``, ``Body``, ``Top``, ``Blouse`` (not among the
  10 and not reliably one of them), ``Other``, ``Not sure`` and ``Skip``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from mirror.vision.classifier import CATEGORIES, cutout_batch
from mirror.vision.cutout import composite, feather
from mirror.vision.instances import extract_instances
from mirror.vision.segmenter import Segmenter

#: ``images.csv`` ``label`` -> category, for photos outside the curated subset.
EXTRA_LABELS: dict[str, str] = {
    "T-Shirt": "t-shirt", "Longsleeve": "longsleeve", "Shirt": "shirt", "Outwear": "outwear",
    "Blazer": "outwear", "Dress": "dress", "Skirt": "skirt", "Pants": "pants", "Shorts": "shorts",
    "Shoes": "shoes", "Hat": "hat",
}
#: Long side of the stored cut-outs (the model reads INPUT_SIZE; the margin allows crops).
STORE_SIDE = 208


@dataclass(frozen=True)
class Item:
    """One labelled photo: its id, category, split (train / extra / validation) and sender."""

    image: str
    category: str
    split: str
    sender: str


def read_items(clothing: Path) -> list[Item]:
    """All photos that carry one of the 10 categories, with their split, in CSV order."""
    items = []
    with (clothing / "images.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["small_split"]:
                category, split = row["small_category"], row["small_split"]
            elif row["label"] in EXTRA_LABELS:
                category, split = EXTRA_LABELS[row["label"]], "extra"
            else:
                continue
            if category not in CATEGORIES:
                raise SystemExit(f"images.csv: unknown category {category!r} for {row['image']}")
            items.append(Item(row["image"], category, split, row["sender_id"]))
    return items


Array = npt.NDArray[Any]


def model_input(bgr: Array, alpha: Array, size: int) -> Array:
    """Cut-out crop + alpha -> normalised 3xHxW float, exactly as the mirror feeds the model."""
    batch: Array = cutout_batch(composite(bgr, alpha, (0, 0, 0)), size, "nchw")
    return np.asarray(batch[0])


def jitter_alpha(alpha: Array, rng: np.random.Generator) -> Array:
    """Grow or shrink the garment outline by a few pixels: the segmenter's masks are not the teacher's."""
    radius = int(rng.integers(-3, 4)) * max(1, alpha.shape[0] // 160)
    if radius == 0:
        return alpha
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(radius) + 1,) * 2)
    return np.asarray(cv2.dilate(alpha, kernel) if radius > 0 else cv2.erode(alpha, kernel))


def augment(bgr: Array, alpha: Array, rng: np.random.Generator) -> tuple[Array, Array]:
    """Photometric and geometric jitter of a stored cut-out (before compositing)."""
    h, w = alpha.shape
    scale = float(rng.uniform(0.8, 1.15))
    angle = float(rng.uniform(-12, 12))
    shift = rng.uniform(-0.06, 0.06, 2) * (w, h)
    m: Array = np.asarray(cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale), np.float64)
    m[:, 2] += shift
    bgr = np.asarray(cv2.warpAffine(bgr, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    alpha = np.asarray(cv2.warpAffine(alpha, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(0,)))
    if rng.random() < 0.5:
        bgr, alpha = bgr[:, ::-1], alpha[:, ::-1]
    hsv = cv2.cvtColor(np.ascontiguousarray(bgr), cv2.COLOR_BGR2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-8, 8)) % 180
    hsv[..., 1] *= rng.uniform(0.7, 1.3)
    hsv[..., 2] = hsv[..., 2] * rng.uniform(0.7, 1.3) + rng.uniform(-15, 15)
    bgr = np.asarray(cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2BGR))
    return bgr, jitter_alpha(np.ascontiguousarray(alpha), rng)


def load_cutout(jpeg: bytes, mask_png: bytes) -> tuple[Array, Array]:
    """A stored cut-out: its crop and its alpha, feathered again from the stored binary mask."""
    bgr = np.asarray(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR))
    mask = np.asarray(cv2.imdecode(np.frombuffer(mask_png, np.uint8), cv2.IMREAD_GRAYSCALE))
    return bgr, feather(mask > 127)


def pipeline_mask(segmenter: Segmenter, image_bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """The mirror's garment mask for a single-garment photo: the segmenter's largest garment.

    With no garment found the whole frame is used (the cut-out is then the photo itself), so
    an end-to-end figure counts segmenter misses instead of dropping them.
    """
    seg = segmenter.analyse(image_bgr)
    found = extract_instances(seg.classes, seg.names, seg.garment_ids, seg.confidence)
    return found[0].mask if found else np.ones(image_bgr.shape[:2], np.bool_)
