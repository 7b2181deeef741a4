"""Step 1: cut-outs of the labelled single-garment photos, packed for the GPU machine.

Each photo's teacher mask (``../data/teacher_masks/<image>.png``, made by the segmenter
helper's ``seg_teacher``) goes through ``mirror.vision.cutout.make_cutout`` -- the very
function the mirror uses -- and the crop (JPEG) and its mask (binary PNG; ``cls_data.load_cutout``
feathers it again with ``mirror.vision.cutout.feather``, which keeps the carried set small) are
stored at most ``STORE_SIDE`` pixels on the long side, with an ``index.csv`` (image, category, split).
Photos whose teacher mask was rejected (``REJECTED.txt``) are left out of training; in
validation they keep the whole photo as the cut-out so the validation set stays complete.

    python -m models.training.cls_prepare --clothing ../shared/data/clothing \
        --masks ../data/teacher_masks --out .carry/cls
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np

from mirror.vision.cutout import make_cutout
from models.training.cls_data import STORE_SIDE, read_items

#: Background pixels kept around the outline in the stored crop (more than jitter_alpha can grow it).
KEEP_PX = 10


def rejected(masks: Path) -> set[str]:
    """Image ids listed in ``REJECTED.txt`` (first token of each line)."""
    path = masks / "REJECTED.txt"
    if not path.is_file():
        return set()
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.split()[0].removesuffix(".png") for line in lines if line.strip() and not line.startswith("#")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clothing", type=Path, default=Path("../shared/data/clothing"))
    parser.add_argument("--masks", type=Path, default=Path("../data/teacher_masks"))
    parser.add_argument("--out", type=Path, default=Path(".carry/cls"))
    parser.add_argument("--limit", type=int, default=0, help="only the first N photos (smoke runs)")
    args = parser.parse_args(argv)
    bad = rejected(args.masks)
    items = read_items(args.clothing)
    if args.limit:
        items = items[: args.limit]
    (args.out / "img").mkdir(parents=True, exist_ok=True)
    kept = 0
    with (args.out / "index.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "category", "split", "mask"])
        for item in items:
            image = cv2.imread(str(args.clothing / "images" / f"{item.image}.jpg"), cv2.IMREAD_COLOR)
            mask_path = args.masks / f"{item.image}.png"
            mask = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE) if mask_path.is_file() else None
            source = "teacher"
            if image is None:
                continue
            if mask is None or item.image in bad or not (mask > 127).any():
                if item.split != "validation":
                    continue
                mask, source = np.full(image.shape[:2], 255, np.uint8), "whole"
            if mask.shape != image.shape[:2]:
                mask = cv2.resize(mask, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
            cut = make_cutout(image, mask > 127)
            scale = min(1.0, STORE_SIDE / max(cut.bgr.shape[:2]))
            size = (max(1, round(cut.bgr.shape[1] * scale)), max(1, round(cut.bgr.shape[0] * scale)))
            crop = cv2.resize(cut.bgr, size, interpolation=cv2.INTER_AREA)
            alpha = cv2.resize(cut.alpha, size, interpolation=cv2.INTER_AREA)
            # Pixels well outside the outline are never shown to the model (training only grows the
            # outline a few pixels): blacken them so the JPEG stays small.
            near = cv2.dilate(alpha, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * KEEP_PX + 1,) * 2)) > 0
            crop[~near] = 0
            cv2.imwrite(str(args.out / "img" / f"{item.image}.jpg"), crop, [cv2.IMWRITE_JPEG_QUALITY, 82])
            cv2.imwrite(str(args.out / "img" / f"{item.image}.png"), np.where(alpha > 127, 255, 0).astype(np.uint8),
                        [cv2.IMWRITE_PNG_BILEVEL, 1, cv2.IMWRITE_PNG_COMPRESSION, 9])
            writer.writerow([item.image, item.category, item.split, source])
            kept += 1
    print(f"{kept} cut-outs of {len(items)} labelled photos -> {args.out}")


if __name__ == "__main__":
    main()
