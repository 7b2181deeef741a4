"""Contact sheets for labelling garment colours by eye.

The colour target is measured against labels a person gave by looking at the photos, not
against our own output. This tool tiles validation photos of ``../shared/data/clothing``
into numbered 5x5 sheets (PNG) that a person views one at a time; the labels typed from
them go to ``tests/data/colour_labels.csv``. The image order is a fixed shuffle so the
labelled set is a random sample of the validation split, not the first rows of the CSV.

    python -m models.training.colour_sheets --clothing ../shared/data/clothing \
        --out .scratch/colour_sheets --count 200
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

import cv2
import numpy as np

TILE = 200
GRID = 5


def validation_images(clothing: Path, seed: int) -> list[str]:
    """Image ids with ``small_split == validation`` in a fixed shuffled order."""
    with (clothing / "images.csv").open(newline="", encoding="utf-8") as handle:
        ids = sorted(r["image"] for r in csv.DictReader(handle) if r["small_split"] == "validation")
    random.Random(seed).shuffle(ids)
    return ids


def tile(path: Path, number: int) -> np.ndarray:
    """One thumbnail, letterboxed on mid-grey, with its number drawn in the corner."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    canvas = np.full((TILE, TILE, 3), 128, np.uint8)
    if image is not None:
        scale = TILE / max(image.shape[:2])
        size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        y0, x0 = (TILE - small.shape[0]) // 2, (TILE - small.shape[1]) // 2
        canvas[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    cv2.rectangle(canvas, (0, 0), (44, 24), (0, 0, 0), -1)
    cv2.putText(canvas, str(number), (3, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    return canvas


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clothing", type=Path, default=Path("../shared/data/clothing"))
    parser.add_argument("--out", type=Path, default=Path(".scratch/colour_sheets"))
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args(argv)
    ids = validation_images(args.clothing, args.seed)[: args.count]
    args.out.mkdir(parents=True, exist_ok=True)
    per_sheet = GRID * GRID
    with (args.out / "index.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["number", "image"])
        for start in range(0, len(ids), per_sheet):
            chunk = ids[start : start + per_sheet]
            tiles = [tile(args.clothing / "images" / f"{i}.jpg", start + k) for k, i in enumerate(chunk)]
            tiles += [np.zeros((TILE, TILE, 3), np.uint8)] * (per_sheet - len(tiles))
            rows = [np.hstack(tiles[r * GRID : (r + 1) * GRID]) for r in range(GRID)]
            cv2.imwrite(str(args.out / f"sheet_{start // per_sheet:02d}.png"), np.vstack(rows))
            writer.writerows([start + k, i] for k, i in enumerate(chunk))


if __name__ == "__main__":
    main()
