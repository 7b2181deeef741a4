"""Measure (and calibrate) garment colour naming against the by-eye labels.

``tests/data/colour_labels.csv`` holds basic terms given by eye to validation photos (see
``tests/data/README.md``). This tool runs ``mirror.vision.colour.describe_colour`` on each
photo with a garment mask and reports accuracy overall, on the **calibration half** (the
first half of the CSV) and on the **held-out half** (the second half), plus a confusion list
and a failure gallery.

``--search`` grid-searches the surface adaptation (``black_l``, ``white_l``,
``chroma_gain``; see ``SurfaceAdaptation``) on the calibration half only, and prints the
values to pass to ``colour_build``. ``--search-achromatic`` grid-searches the neutral rule
(``AchromaticRule``: chroma limit, dark chroma/lightness ratio, dark lightness) the same
way; its values are the defaults in ``mirror/vision/colour.py``. The held-out half is
never used to choose either.

    python -m models.training.colour_eval --masks /work/data/teacher_masks [--search] \
        [--gallery docs/img/colour_failures.png] [--speed]
    python -m models.training.colour_eval --segmenter   # masks from the shipped segmenter
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from mirror.vision import colour as C
from models.training.gallery import save_grid


def read_labels(path: Path) -> list[tuple[str, str]]:
    """``(image, basic)`` rows of the by-eye label CSV, in file order."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [(r["image"], r["basic"]) for r in csv.DictReader(handle)]


def load_mask(args: argparse.Namespace, image: np.ndarray, name: str, segmenter: Any) -> np.ndarray:
    """Garment mask of one photo: the teacher's PNG, or the shipped segmenter's output."""
    if segmenter is not None:
        from models.training.cls_data import pipeline_mask

        return pipeline_mask(segmenter, image)
    mask = cv2.imread(str(args.masks / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
    if mask is None and args.fallback_masks:
        mask = cv2.imread(str(args.fallback_masks / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        return np.ones(image.shape[:2], bool)
    if mask.shape != image.shape[:2]:
        mask = cv2.resize(mask, (image.shape[1], image.shape[0]))
    return np.asarray(mask > 127)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clothing", type=Path, default=Path("../shared/data/clothing"))
    parser.add_argument("--labels", type=Path, default=Path("tests/data/colour_labels.csv"))
    parser.add_argument("--table", type=Path, default=Path("models/colour"))
    parser.add_argument("--masks", type=Path, default=Path("/work/data/teacher_masks"))
    parser.add_argument("--fallback-masks", type=Path, help="where --masks has none (a rejected teacher mask)")
    parser.add_argument("--segmenter", action="store_true", help="masks from models/segmenter instead")
    parser.add_argument("--search", action="store_true", help="grid-search the surface adaptation")
    parser.add_argument("--search-achromatic", action="store_true", help="grid-search the neutral rule")
    parser.add_argument("--gallery", type=Path)
    parser.add_argument("--speed", action="store_true", help="also time describe_colour per photo, one thread")
    args = parser.parse_args(argv)
    table = C.ColourTable.load(args.table)
    segmenter = None
    if args.segmenter:
        from mirror.vision.segmenter import Segmenter

        segmenter = Segmenter(backend="tflite")
    rows = read_labels(args.labels)
    half = len(rows) // 2
    # Clusters do not depend on the adaptation: compute them once per photo.
    clusters = []
    stage_ms = []
    if args.speed:
        cv2.setNumThreads(1)
    for name, _ in rows:
        image = cv2.imread(str(args.clothing / "images" / f"{name}.jpg"), cv2.IMREAD_COLOR)
        mask = load_mask(args, image, name, segmenter)
        if args.speed:  # the whole colour stage as the pipeline runs it (the mask is given)
            start = time.perf_counter()
            C.describe_colour(image, mask, table)
            stage_ms.append(1000 * (time.perf_counter() - start))
        gains = C.white_balance_gains(image, mask)
        gains = gains * C.exposure_gain(image, gains)
        clusters.append((image, mask, C.cluster_pixels(C.fabric_pixels(image, mask, gains))))

    def score(t: C.ColourTable, idx: range) -> tuple[float, list[tuple[int, str]]]:
        got = [(i, C.describe_clusters(*clusters[i][2], t).basic) for i in idx]
        return float(np.mean([g == rows[i][1] for i, g in got])), [(i, g) for i, g in got if g != rows[i][1]]

    if args.search:
        grid = itertools.product(range(0, 31, 3), range(60, 101, 4), (0.8, 1.0, 1.25, 1.5, 2.0), (0.8, 1.0, 1.2, 1.4))
        best = max(
            grid, key=lambda p: score(replace(table, surface=C.SurfaceAdaptation(*map(float, p))), range(half))[0]
        )
        table = replace(table, surface=C.SurfaceAdaptation(*map(float, best)))
        print("best surface adaptation on the calibration half:", best)
    if args.search_achromatic:
        axes = ((6.0, 8.0, 10.0, 12.0, 14.0), (0.2, 0.3, 0.4, 0.5, 0.6), (30.0, 40.0, 50.0))
        cal = {
            p: score(replace(table, achromatic=C.AchromaticRule(*p)), range(half))[0] for p in itertools.product(*axes)
        }
        best = max(cal, key=lambda p: (cal[p], plateau(cal, axes, p)))
        table = replace(table, achromatic=C.AchromaticRule(*best))
        print("best neutral rule on the calibration half (chroma, dark_ratio, dark_l):", best)
    acc_all, wrong = score(table, range(len(rows)))
    acc_cal, _ = score(table, range(half))
    acc_held, _ = score(table, range(half, len(rows)))
    confusion = Counter((rows[i][1], g) for i, g in wrong)
    if stage_ms:
        print(f"colour stage: median {np.median(stage_ms):.1f} ms, p90 {np.percentile(stage_ms, 90):.1f} ms per photo")
    print(json.dumps({"labelled": len(rows), "accuracy": round(acc_all, 4), "calibration_half": round(acc_cal, 4),
                      "held_out_half": round(acc_held, 4), "surface": vars(table.surface),
                      "achromatic": vars(table.achromatic),
                      "confusions": {f"{a}->{b}": n for (a, b), n in confusion.most_common()}}))
    if args.gallery:
        write_gallery(args.gallery, [(clusters[i][0], clusters[i][1], rows[i][1], g) for i, g in wrong])


def plateau(scores: dict[tuple[float, ...], float], axes: tuple[tuple[float, ...], ...], p: tuple[float, ...]) -> float:
    """Mean score of ``p``'s grid neighbours (one step on any axes): breaks ties towards a broad optimum,
    which is less likely to be a lucky point of 94 photos than an isolated peak."""
    steps = [axis.index(v) for axis, v in zip(axes, p, strict=True)]
    near = [
        scores[tuple(axis[i + d] for axis, i, d in zip(axes, steps, delta, strict=True))]
        for delta in itertools.product((-1, 0, 1), repeat=len(axes))
        if all(0 <= i + d < len(axis) for axis, i, d in zip(axes, steps, delta, strict=True))
    ]
    return float(np.mean(near))


def write_gallery(path: Path, failures: list[tuple[np.ndarray, np.ndarray, str, str]]) -> None:
    """Up to 24 failures as 160 px tiles: the cut-out on grey, 'label -> got' underneath."""
    tiles = []
    for image, mask, want, got in failures[:24]:
        from mirror.vision.cutout import make_cutout

        cut = make_cutout(image, mask).on((128, 128, 128))
        scale = 140 / max(cut.shape[:2])
        cut = cv2.resize(cut, (max(1, round(cut.shape[1] * scale)), max(1, round(cut.shape[0] * scale))))
        tile = np.full((160, 160, 3), 128, np.uint8)
        tile[: cut.shape[0], (160 - cut.shape[1]) // 2 : (160 - cut.shape[1]) // 2 + cut.shape[1]] = cut
        cv2.putText(tile, f"{want}->{got}", (2, 156), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(tile)
    save_grid(tiles, path)


if __name__ == "__main__":
    main()
