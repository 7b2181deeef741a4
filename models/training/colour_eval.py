"""Measure (and calibrate) garment colour naming against the by-eye labels.

``tests/data/colour_labels.csv`` holds basic terms given by eye to validation photos (see
``tests/data/README.md``). This tool runs the colour stage on each photo's garment region and
reports accuracy overall, on the **calibration half** (the first half of the CSV) and on the
**held-out half** (the second half), for the shipped model (the table plus the learned fabric
stage when ``model.json`` lists one) and for the table alone, plus a confusion list and a
failure gallery. Regions (``--regions``, see ``colour_data``): ``mirror`` (default) is exactly
what the analyzer gives the colour stage with the shipped segmenter; ``frame`` is the earlier
measure (whole photo, segmenter mask); ``teacher`` uses ``/work/data/teacher_masks``.

``--search`` grid-searches the surface adaptation (``black_l``, ``white_l``,
``chroma_gain``; see ``SurfaceAdaptation``) on the calibration half only, and prints the
values to pass to ``colour_build``. ``--search-achromatic`` grid-searches the neutral rule
(``AchromaticRule``: chroma limit, dark chroma/lightness ratio, dark lightness) the same
way; its values are the defaults in ``mirror/vision/colour.py``. Both tune the table alone.
The held-out half is never used to choose anything, and the learned stage never sees these
labels (``colour_fit`` reads the training labels only).

    python -m models.training.colour_eval [--regions mirror|frame|teacher] [--backend onnx] \
        [--gallery docs/img/colour_failures.png] [--speed] [--search | --search-achromatic]
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from mirror.manifest import default_models_dir
from mirror.vision import colour as C
from models.training.colour_data import MASK_SOURCES, RegionSource, load_image, read_labels
from models.training.gallery import save_grid


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clothing", type=Path, default=Path("../shared/data/clothing"))
    parser.add_argument("--labels", type=Path, default=Path("tests/data/colour_labels.csv"))
    parser.add_argument("--models", type=Path, default=default_models_dir(), help="shipped segmenter and colour")
    parser.add_argument("--table", type=Path, help="colour model folder (default: MODELS/colour)")
    parser.add_argument("--regions", choices=MASK_SOURCES, default="mirror")
    parser.add_argument("--backend", choices=("tflite", "onnx"), default="tflite", help="segmenter backend")
    parser.add_argument("--teacher-masks", type=Path, default=Path("/work/data/teacher_masks"))
    parser.add_argument("--search", action="store_true", help="grid-search the surface adaptation")
    parser.add_argument("--search-achromatic", action="store_true", help="grid-search the neutral rule")
    parser.add_argument("--gallery", type=Path)
    parser.add_argument("--speed", action="store_true", help="also time describe_colour per photo, one thread")
    args = parser.parse_args(argv)
    shipped = C.ColourTable.load(args.table or args.models / "colour")
    regions = RegionSource(args.regions, args.models, args.backend, args.teacher_masks)
    rows = read_labels(args.labels)
    half = len(rows) // 2
    # Clusters do not depend on the naming: analyse each photo once.
    analyses, crops = [], []
    stage_ms = []
    if args.speed:
        cv2.setNumThreads(1)
    for name, _ in rows:
        image, mask = regions.region(load_image(args.clothing, name), name)
        if args.speed:  # the whole colour stage as the pipeline runs it (the region is given)
            start = time.perf_counter()
            C.describe_colour(image, mask, shipped)
            stage_ms.append(1000 * (time.perf_counter() - start))
        analyses.append(C.analyse_fabric(image, mask))
        crops.append((image, mask))

    def score(t: C.ColourTable, idx: range) -> tuple[float, list[tuple[int, str]]]:
        got = [(i, C.describe_analysis(analyses[i], t).basic) for i in idx]
        return float(np.mean([g == rows[i][1] for i, g in got])), [(i, g) for i, g in got if g != rows[i][1]]

    table = replace(shipped, fabric=None)  # the table alone: what the searches tune
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
    report = {"labelled": len(rows), "regions": args.regions, "segmenter": regions.segmenter_version,
              "colour": shipped.version}
    for label, t in (("table_only", table), ("shipped", shipped)):  # table_only: as searched, if asked
        acc_all, wrong = score(t, range(len(rows)))
        report[label] = {"accuracy": round(acc_all, 4), "calibration_half": round(score(t, range(half))[0], 4),
                         "held_out_half": round(score(t, range(half, len(rows)))[0], 4),
                         "confusions": {f"{a}->{b}": n for (a, b), n in
                                        Counter((rows[i][1], g) for i, g in wrong).most_common()}}
    if stage_ms:
        print(f"colour stage: median {np.median(stage_ms):.1f} ms, p90 {np.percentile(stage_ms, 90):.1f} ms per photo")
    print(json.dumps(report))
    if args.gallery:
        _, wrong = score(shipped, range(len(rows)))
        write_gallery(args.gallery, [(*crops[i], rows[i][1], g) for i, g in wrong])


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
