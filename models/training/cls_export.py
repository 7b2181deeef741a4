"""Step 3: trained checkpoint -> int8 ONNX + int8 TFLite in ``models/classifier`` (CPU).

    python -m models.training.cls_export --checkpoint cls_model.pt --data .carry/cls \
        --out models/classifier [--train-json cls_train.json]

Both files come from ``models.training.export.export_int8`` (static int8, calibrated on
``--calibration`` training cut-outs prepared exactly as at run time). ``model.json`` gets the
labels, input size, the ``unsure`` threshold, SHA-256 of each file and the training summary.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mirror.manifest import sha256_of
from mirror.vision.classifier import CATEGORIES, DEFAULT_UNSURE_BELOW
from models.training.cls_data import load_cutout, model_input
from models.training.cls_train import GarmentNet, load_index
from models.training.export import export_int8

VERSION = "1.1.0"
NAME = "classifier"


def calibration_set(data: Path, count: int, size: int, seed: int = 0) -> np.ndarray:
    """``count`` training cut-outs (NCHW float32), spread over the categories."""
    rows = load_index(data, {"train", "extra"})
    pick = np.random.default_rng(seed).choice(len(rows), min(count, len(rows)), replace=False)
    batch = []
    for k in pick:
        image = rows[int(k)][0]
        folder = data / "img"
        bgr, alpha = load_cutout((folder / f"{image}.jpg").read_bytes(), (folder / f"{image}.png").read_bytes())
        batch.append(model_input(bgr, alpha, size))
    return np.stack(batch).astype(np.float32)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=Path(".carry/cls"))
    parser.add_argument("--out", type=Path, default=Path("models/classifier"))
    parser.add_argument("--train-json", type=Path)
    parser.add_argument("--size", type=int, default=0, help="input size (default: from --train-json, else 192)")
    parser.add_argument("--calibration", type=int, default=200)
    parser.add_argument("--version", default=VERSION)
    parser.add_argument("--unsure-below", type=float, default=DEFAULT_UNSURE_BELOW)
    args = parser.parse_args(argv)
    summary = json.loads(args.train_json.read_text(encoding="utf-8")) if args.train_json else {}
    size = args.size or int(summary.get("args", {}).get("size", 192))
    model = GarmentNet()
    model.load_state_dict(torch.load(args.checkpoint, map_location="cpu"))
    model.eval()
    calibration = calibration_set(args.data, args.calibration, size)
    result = export_int8(
        model, calibration, args.out, NAME, kind="classification", n_parity=len(calibration), float_outputs=(nn.Linear,)
    )
    files = {"onnx": result.onnx.name, "tflite": result.tflite.name}
    manifest = {
        "name": NAME,
        "version": args.version,
        "files": files,
        "sha256": {f: sha256_of(args.out / f) for f in files.values()},
        "meta": {
            "labels": list(CATEGORIES),
            "input_size": size,
            "input": "garment cut-out on black (mirror.vision.cutout), letterboxed, RGB pixel/127.5-1",
            "layout": {"tflite": "nhwc", "onnx": "nchw"},
            "unsure_below": args.unsure_below,
            "calibration_parity_top1": round(result.parity, 4),
            "training": {
                k: summary[k] for k in ("train_images", "val_images", "val_top1_teacher_cutouts") if k in summary
            },
        },
    }
    (args.out / "model.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"onnx_bytes": result.onnx_bytes, "tflite_bytes": result.tflite_bytes, "parity": result.parity}))


if __name__ == "__main__":
    main()
