"""Step 4: measure the shipped classifier on the validation photos (CPU, runtime code only).

For every photo with ``small_split == validation`` the garment mask comes from either the
teacher (``--masks``, rejected ones use the whole photo) or, with ``--segmenter``, the
shipped segmenter (the end-to-end figure: photo -> segmenter -> cut-out -> classifier).
Both shipped files (int8 TFLite and int8 ONNX) classify the same cut-out through
``mirror.vision.classifier``; the tool reports top-1 per backend, their top-1 agreement,
the unsure rate and accuracy when sure, per-class recall, the single-thread latency, and
writes a failure gallery.

    python -m models.training.cls_eval --masks ../data/teacher_masks
    python -m models.training.cls_eval --segmenter --gallery docs/img/cls_failures.png
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from mirror.vision.classifier import CATEGORIES, CategoryResult, Classifier
from mirror.vision.cutout import make_cutout
from models.training.cls_data import pipeline_mask, read_items
from models.training.gallery import save_grid


def teacher_mask(masks: Path, image: np.ndarray, name: str) -> np.ndarray:
    """The teacher's mask (threshold 0.5), or the whole photo where there is none."""
    mask = cv2.imread(str(masks / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
    if mask is None or not (mask > 127).any():
        return np.ones(image.shape[:2], bool)
    if mask.shape != image.shape[:2]:
        mask = cv2.resize(mask, (image.shape[1], image.shape[0]))
    return np.asarray(mask > 127)


def latency_ms(classifier: Classifier, sample: np.ndarray, runs: int = 30) -> dict[str, float]:
    """Median milliseconds of one ``classify_image`` (preprocessing included), wall and thread CPU.

    On a shared, busy machine wall time measures the neighbours; the thread's CPU time is
    what one core spends on the garment, which is the figure to compare with the target.
    """
    classifier.classify_image(sample)
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.thread_time()
        classifier.classify_image(sample)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
    return {"wall": round(float(np.median(wall)), 2), "thread_cpu": round(float(np.median(cpu)), 2)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clothing", type=Path, default=Path("../shared/data/clothing"))
    parser.add_argument("--model", type=Path, default=Path("models/classifier"))
    parser.add_argument("--masks", type=Path, default=Path("../data/teacher_masks"))
    parser.add_argument("--segmenter", action="store_true", help="masks from the shipped segmenter (end to end)")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--gallery", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    items = [i for i in read_items(args.clothing) if i.split == "validation"]
    items = items[: args.limit] if args.limit else items
    models = {b: Classifier.load(args.model, b, threads=1) for b in ("tflite", "onnx")}
    segmenter = None
    if args.segmenter:
        from mirror.vision.segmenter import Segmenter

        segmenter = Segmenter(backend="tflite")
    results: dict[str, list[CategoryResult]] = {b: [] for b in models}
    failures = []
    for item in items:
        image = cv2.imread(str(args.clothing / "images" / f"{item.image}.jpg"), cv2.IMREAD_COLOR)
        mask = pipeline_mask(segmenter, image) if segmenter else teacher_mask(args.masks, image, item.image)
        on_black = make_cutout(image, mask).on_black()
        for backend, model in models.items():
            results[backend].append(model.classify_image(on_black))
        got = results["tflite"][-1]
        if got.label != item.category:
            failures.append((on_black, item.category, got))
    truth = [i.category for i in items]
    report: dict[str, object] = {"images": len(items), "masks": "segmenter" if segmenter else "teacher"}
    for backend, res in results.items():
        hits = [r.label == t for r, t in zip(res, truth, strict=False)]
        sure = [h for h, r in zip(hits, res, strict=False) if not r.unsure]
        report[backend] = {
            "top1": round(float(np.mean(hits)), 4),
            "top3": round(float(np.mean([t in [c for c, _ in r.top3] for r, t in zip(res, truth, strict=False)])), 4),
            "unsure_rate": round(float(np.mean([r.unsure for r in res])), 4),
            "top1_when_sure": round(float(np.mean(sure)), 4) if sure else None,
        }
    pairs = list(zip(results["tflite"], results["onnx"], strict=True))
    report["backend_top1_agreement"] = round(float(np.mean([a.label == b.label for a, b in pairs])), 4)
    sure_pairs = [(a, b) for a, b in pairs if not (a.unsure or b.unsure)]
    report["backend_top1_agreement_when_sure"] = {
        "images": len(sure_pairs),
        "agreement": round(float(np.mean([a.label == b.label for a, b in sure_pairs])), 4) if sure_pairs else None,
    }
    report["recall_tflite"] = {
        c: round(float(np.mean([r.label == c for r, t in zip(results["tflite"], truth, strict=False) if t == c])), 3)
        for c in CATEGORIES
        if c in truth
    }
    wrong = Counter(f"{t}->{r.label}" for r, t in zip(results["tflite"], truth, strict=False) if r.label != t)
    report["confusions_tflite"] = dict(wrong.most_common(12))
    sample = make_cutout(image, mask).on_black()
    report["latency_ms_1thread"] = {b: latency_ms(m, sample) for b, m in models.items()}
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if args.gallery:
        write_gallery(args.gallery, failures)


def write_gallery(path: Path, failures: list[tuple[np.ndarray, str, CategoryResult]]) -> None:
    """Up to 24 misclassified cut-outs, 'truth -> got (score)' under each."""
    tiles = []
    for on_black, truth, got in failures[:24]:
        scale = 140 / max(on_black.shape[:2])
        size = (max(1, round(on_black.shape[1] * scale)), max(1, round(on_black.shape[0] * scale)))
        small = cv2.resize(on_black, size)
        tile = np.zeros((170, 160, 3), np.uint8)
        x0 = (160 - small.shape[1]) // 2
        tile[: small.shape[0], x0 : x0 + small.shape[1]] = small
        cv2.putText(tile, f"{truth}->", (2, 152), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
        cv2.putText(tile, f"{got.label} {got.score:.2f}", (2, 166), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (80, 200, 255), 1,
                    cv2.LINE_AA)
        tiles.append(tile)
    save_grid(tiles, path)


if __name__ == "__main__":
    main()
