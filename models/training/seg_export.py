"""Export a trained segmenter checkpoint to the shipped int8 files + ``model.json``.

  python -m models.training.seg_export --ckpt OUT/seg_last.pt --out models/segmenter --version 1.0.0

Calibration uses real training photos (CCP people and single-garment photos, letterboxed
exactly as the runtime does with ``mirror.vision.preprocess``); backend parity is measured
on validation photos and written into the manifest.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import cv2
import numpy as np
import torch

from mirror.manifest import sha256_of
from mirror.vision.preprocess import MOBILENET_MEAN, MOBILENET_STD, prepare
from models.training import seg_data
from models.training.export import export_int8
from models.training.seg_model import CLASSES, GARMENT_CLASSES, GarmentSegNet
from models.training.seg_train import INPUT_SIZE

NAME = "segmenter"


def photo_paths(part: str, masks: Path = seg_data.TEACHER_MASKS) -> list[Path]:
    """CCP and single-garment photo paths of one split part, interleaved (CCP first).

    The single-garment split is the training one (senders of photos with an accepted
    teacher mask); without the masks (the CPU smoke run) all labelled photos are split.
    """
    ccp_train, ccp_val = seg_data.ccp_split()
    ccp = [seg_data.CCP / "images" / f"{i}.jpg" for i in (ccp_train if part == "train" else ccp_val)]
    if (masks / "DONE").is_file():
        usable = seg_data.usable_clothing(masks)
    else:
        usable = [p for p in seg_data.read_clothing() if p.label in seg_data.CLOTHING_GROUPS]
    train, val = seg_data.clothing_split(usable)
    clothing = [seg_data.CLOTHING / "images" / f"{p.image}.jpg" for p in (train if part == "train" else val)]
    random.Random(seg_data.SPLIT_SEED).shuffle(ccp)
    random.Random(seg_data.SPLIT_SEED).shuffle(clothing)
    out: list[Path] = []
    for a, b in zip(ccp, clothing, strict=False):
        out += [a, b]
    return out


def batch_of(paths: list[Path]) -> np.ndarray:
    """Letterboxed, normalised NCHW float32 batch of photos, as the runtime prepares them."""
    return np.concatenate([prepare(cv2.imread(str(p)), INPUT_SIZE, layout="nchw")[0] for p in paths])


def load_checkpoint(ckpt: Path) -> GarmentSegNet:
    model = GarmentSegNet()
    model.load_state_dict(torch.load(ckpt, map_location="cpu")["model"])
    return model.eval()


def export(ckpt: Path, out: Path, n_calibration: int = 200, n_parity: int = 32, version: str = "0.0.0-dev") -> dict:
    """Write ``segmenter.onnx``, ``segmenter.tflite`` and ``model.json`` into ``out``."""
    model = load_checkpoint(ckpt)
    calibration = batch_of(photo_paths("train")[:n_calibration])
    result = export_int8(model, calibration, out, NAME, kind="segmentation", n_parity=0)
    from models.training.export import compare

    parity = compare(result.onnx, result.tflite, batch_of(photo_paths("val")[:n_parity])) if n_parity else float("nan")
    manifest = {
        "name": NAME,
        "version": version,
        "files": {"onnx": result.onnx.name, "tflite": result.tflite.name},
        "sha256": {result.onnx.name: sha256_of(result.onnx), result.tflite.name: sha256_of(result.tflite)},
        "meta": {
            "task": "garment segmentation: per-class logits at stride 4 (input size / 4)",
            "input_size": list(INPUT_SIZE),  # width, height
            "layout": {"onnx": "nchw", "tflite": "nhwc"},
            "colour": "rgb",
            "resize": "letterbox, centred, pad 0 (black), mirror.vision.preprocess.prepare",
            "output_stride": 4,
            "mean": list(MOBILENET_MEAN),
            "std": list(MOBILENET_STD),
            "classes": list(CLASSES),
            "garment_classes": [CLASSES[i] for i in GARMENT_CLASSES],
            "quantization": "int8: ONNX static QDQ (u8 activations, s8 per-channel weights); "
            "TFLite PT2E symmetric per-channel int8, float32 in/out",
            "calibration_images": len(calibration),
            "backend_parity_miou": round(parity, 4),
            "checkpoint_steps": int(torch.load(ckpt, map_location="cpu").get("steps", 0)),
        },
    }
    (out / "model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps({"onnx_bytes": result.onnx_bytes, "tflite_bytes": result.tflite_bytes, "parity": parity}))
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ckpt", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("models/segmenter"))
    parser.add_argument("--version", default="0.0.0-dev")
    parser.add_argument("--calibration", type=int, default=200)
    parser.add_argument("--parity", type=int, default=32)
    a = parser.parse_args()
    export(a.ckpt, a.out, a.calibration, a.parity, a.version)


if __name__ == "__main__":
    main()
