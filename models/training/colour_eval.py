"""Measure (and calibrate) garment colour naming against the by-eye labels.

``tests/data/colour_labels.csv`` holds basic terms given by eye to validation photos (see
``tests/data/README.md``). This tool runs the colour stage on each photo's garment region and
reports accuracy overall, on the **calibration half** (the first half of labeller 1's CSV) and on
the **held-out half** (every other photo), for the shipped model (the table plus the learned fabric
stage when ``model.json`` lists one) and for the table alone, plus a confusion list and a
failure gallery. Regions (``--regions``, see ``colour_data``): ``mirror`` (default) is exactly
what the analyzer gives the colour stage with the shipped segmenter; ``frame`` is the earlier
measure (whole photo, segmenter mask); ``teacher`` uses ``../data/teacher_masks``.

``--labels`` picks the label file scored (default: labeller 1's ``colour_labels.csv``; a file with
``skip`` rows and a ``doubt`` column, like labeller 2's ``colour_labels_second.csv``, works too:
``skip`` rows are left out). ``--consensus`` scores only the photos that both ``--labels`` and
``--second-labels`` name, with the same term; ``--agreement`` only reports how often the two
label files agree (raw agreement and Cohen's kappa, see ``label_agreement``) and runs no colour
code. The halves are the same photos whatever file is scored: the calibration half is the
first half of ``--calibration-labels`` (labeller 1's file, the rows the searches below tune
on); every other photo is held out.

``--search`` grid-searches the surface adaptation (``black_l``, ``white_l``,
``chroma_gain``; see ``SurfaceAdaptation``) on the calibration half only, and prints the
values to pass to ``colour_build``. ``--search-achromatic`` grid-searches the neutral rule
(``AchromaticRule``: chroma limit, dark chroma/lightness ratio, dark lightness) the same
way; its values are the defaults in ``mirror/vision/colour_model.py``. Both tune the table alone.
The held-out half is never used to choose anything, and the learned stage never sees these
labels (``colour_fit`` reads the training labels only).

    python -m models.training.colour_eval [--regions mirror|frame|teacher] [--backend onnx] \
        [--gallery docs/img/colour_failures.png] [--speed] [--search | --search-achromatic]
    python -m models.training.colour_eval --labels tests/data/colour_labels_second.csv
    python -m models.training.colour_eval --consensus     # photos both labellers name alike
    python -m models.training.colour_eval --agreement     # the labellers' agreement only
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from mirror.manifest import default_models_dir
from mirror.vision.colour import analyse_fabric, describe_analysis, describe_colour
from mirror.vision.colour_model import AchromaticRule, ColourTable, SurfaceAdaptation
from models.training.colour_data import MASK_SOURCES, SKIP, RegionSource, load_image, named, read_labels
from models.training.gallery import save_grid

FIRST_LABELS = Path("tests/data/colour_labels.csv")
SECOND_LABELS = Path("tests/data/colour_labels_second.csv")


def consensus(first: list[tuple[str, str]], second: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The rows of ``first`` whose photo ``second`` names with the same term (order of ``first``)."""
    other = dict(second)
    return [(i, b) for i, b in first if other.get(i) == b]


def calibration_images(path: Path) -> frozenset[str]:
    """Photos of the calibration half: the first half of labeller 1's file, the only rows the searches see."""
    rows = read_labels(path)
    return frozenset(i for i, _ in rows[: len(rows) // 2])


def cohen_kappa(pairs: list[tuple[str, str]]) -> float:
    """Cohen's kappa of two raters' categorical answers: agreement beyond what their term frequencies give by chance."""
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    chance = sum(first[t] * second[t] for t in first) / n**2
    return (observed - chance) / (1 - chance) if chance < 1 else 1.0


def label_agreement(first_path: Path, second_path: Path) -> dict[str, object]:
    """How often two labellers agree. On the photos both name (the measure for colour): raw agreement, Cohen's
    kappa, the pairs they differ on, and (when ``second`` has a ``doubt`` column) agreement where the second
    labeller did or did not hesitate. On every photo ``second`` lists (it keeps its ``skip`` rows; a photo
    missing from ``first`` was skipped there): the same with ``skip`` as a twelfth answer."""
    first = dict(named(first_path))
    with second_path.open(newline="", encoding="utf-8") as handle:
        second_rows = list(csv.DictReader(handle))
    second = {r["image"]: r["basic"] for r in second_rows}
    both = [i for i in first if second.get(i, SKIP) != SKIP]
    pairs = [(first[i], second[i]) for i in both]
    report: dict[str, object] = {
        "first": str(first_path), "second": str(second_path), "first_named": len(first),
        "second_named": sum(b != SKIP for b in second.values()), "both_named": len(both),
        "same_term": sum(a == b for a, b in pairs),
        "raw_agreement": round(sum(a == b for a, b in pairs) / len(pairs), 4),
        "cohen_kappa": round(cohen_kappa(pairs), 4),
        "differ": {f"{a}/{b}": n for (a, b), n in Counter((a, b) for a, b in pairs if a != b).most_common()},
    }
    if second_rows and "doubt" in second_rows[0]:
        doubt = {r["image"]: r["doubt"] == "1" for r in second_rows}
        for key, flag in (("second_sure", False), ("second_in_doubt", True)):
            sub = [(first[i], second[i]) for i in both if doubt[i] is flag]
            report[key] = {"photos": len(sub), "same_term": sum(a == b for a, b in sub)}
    seen = [(first.get(i, SKIP), second[i]) for i in second]
    report["with_skip"] = {
        "photos": len(seen), "raw_agreement": round(sum(a == b for a, b in seen) / len(seen), 4),
        "cohen_kappa": round(cohen_kappa(seen), 4),
        "skipped_by_first_only": sum(a == SKIP != b for a, b in seen),
        "skipped_by_second_only": sum(b == SKIP != a for a, b in seen),
        "skipped_by_both": sum(a == b == SKIP for a, b in seen),
    }
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clothing", type=Path, default=Path("../shared/data/clothing"))
    parser.add_argument("--labels", type=Path, default=FIRST_LABELS, help="label file scored (skip rows left out)")
    parser.add_argument("--second-labels", type=Path, default=SECOND_LABELS, help="the other labeller's file")
    parser.add_argument("--consensus", action="store_true", help="score only photos both label files name alike")
    parser.add_argument("--agreement", action="store_true", help="only report the two label files' agreement")
    parser.add_argument("--calibration-labels", type=Path, default=FIRST_LABELS,
                        help="its first half is the calibration half (the searches' photos)")
    parser.add_argument("--models", type=Path, default=default_models_dir(), help="shipped segmenter and colour")
    parser.add_argument("--table", type=Path, help="colour model folder (default: MODELS/colour)")
    parser.add_argument("--regions", choices=MASK_SOURCES, default="mirror")
    parser.add_argument("--backend", choices=("tflite", "onnx"), default="tflite", help="segmenter backend")
    parser.add_argument("--teacher-masks", type=Path, default=Path("../data/teacher_masks"))
    parser.add_argument("--search", action="store_true", help="grid-search the surface adaptation")
    parser.add_argument("--search-achromatic", action="store_true", help="grid-search the neutral rule")
    parser.add_argument("--gallery", type=Path)
    parser.add_argument("--speed", action="store_true", help="also time describe_colour per photo, one thread")
    args = parser.parse_args(argv)
    if args.agreement:
        print(json.dumps(label_agreement(args.labels, args.second_labels)))
        return
    rows = named(args.labels)
    if args.consensus:
        rows = consensus(rows, named(args.second_labels))
    calibration = calibration_images(args.calibration_labels)
    cal = [k for k, (i, _) in enumerate(rows) if i in calibration]
    held = [k for k, (i, _) in enumerate(rows) if i not in calibration]
    shipped = ColourTable.load(args.table or args.models / "colour")
    regions = RegionSource(args.regions, args.models, args.backend, args.teacher_masks)
    # Clusters do not depend on the naming: analyse each photo once.
    analyses, crops = [], []
    stage_ms = []
    if args.speed:
        cv2.setNumThreads(1)
    for name, _ in rows:
        image, mask = regions.region(load_image(args.clothing, name), name)
        if args.speed:  # the whole colour stage as the pipeline runs it (the region is given)
            start = time.perf_counter()
            describe_colour(image, mask, shipped)
            stage_ms.append(1000 * (time.perf_counter() - start))
        analyses.append(analyse_fabric(image, mask))
        crops.append((image, mask))

    def score(t: ColourTable, idx: Sequence[int]) -> tuple[float, list[tuple[int, str]]]:
        got = [(i, describe_analysis(analyses[i], t).basic) for i in idx]
        return float(np.mean([g == rows[i][1] for i, g in got])), [(i, g) for i, g in got if g != rows[i][1]]

    table = replace(shipped, fabric=None)  # the table alone: what the searches tune
    if args.search:
        grid = itertools.product(range(0, 31, 3), range(60, 101, 4), (0.8, 1.0, 1.25, 1.5, 2.0), (0.8, 1.0, 1.2, 1.4))
        best = max(
            grid, key=lambda p: score(replace(table, surface=SurfaceAdaptation(*map(float, p))), cal)[0]
        )
        table = replace(table, surface=SurfaceAdaptation(*map(float, best)))
        print("best surface adaptation on the calibration half:", best)
    if args.search_achromatic:
        axes = ((6.0, 8.0, 10.0, 12.0, 14.0), (0.2, 0.3, 0.4, 0.5, 0.6), (30.0, 40.0, 50.0))
        on_cal = {
            p: score(replace(table, achromatic=AchromaticRule(*p)), cal)[0] for p in itertools.product(*axes)
        }
        best = max(on_cal, key=lambda p: (on_cal[p], plateau(on_cal, axes, p)))
        table = replace(table, achromatic=AchromaticRule(*best))
        print("best neutral rule on the calibration half (chroma, dark_ratio, dark_l):", best)
    report: dict[str, object] = {
        "labels": str(args.labels), "consensus_with": str(args.second_labels) if args.consensus else None,
        "labelled": len(rows), "calibration_photos": len(cal), "held_out_photos": len(held),
        "regions": args.regions, "segmenter": regions.segmenter_version, "colour": shipped.version}
    for label, t in (("table_only", table), ("shipped", shipped)):  # table_only: as searched, if asked
        acc_all, wrong = score(t, range(len(rows)))
        report[label] = {"accuracy": round(acc_all, 4), "correct": len(rows) - len(wrong),
                         "calibration_half": round(score(t, cal)[0], 4) if cal else None,
                         "held_out_half": round(score(t, held)[0], 4) if held else None,
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
