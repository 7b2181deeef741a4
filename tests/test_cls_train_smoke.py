"""Smoke run of the classifier's training chain on the CPU: prepare -> init -> train -> export -> load.

Torch is never in the test venv: the steps run in the training venv named by
``SMART_MIRROR_TRAIN_PYTHON`` (e.g. /work/venv-train-cls/bin/python) on a dozen photos,
one step, a 64-pixel input, and the exported files are loaded by the runtime classifier.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from mirror.vision.classifier import CATEGORIES, Classifier
from tests.conftest import ROOT, SHARED


def _run(python: str, *args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([python, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{args[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.timeout(1200)
def test_training_chain_smoke(tmp_path: Path) -> None:
    python = os.environ.get("SMART_MIRROR_TRAIN_PYTHON")
    if not python:
        pytest.skip("SMART_MIRROR_TRAIN_PYTHON is unset: point it at a venv with models/requirements-train.txt")
    if not (SHARED / "data" / "clothing").is_dir():
        pytest.skip(f"{SHARED} absent: the smoke run trains on ../shared photos")
    clothing = SHARED / "data" / "clothing"
    masks = tmp_path / "masks"
    masks.mkdir()
    with (clothing / "images.csv").open(encoding="utf-8") as handle:
        ids = [line.split(",")[0] for line in handle.read().splitlines()[1:60]]
    for image_id in ids:  # stand-in masks: a centred ellipse (the teacher is far too slow here)
        image = cv2.imread(str(clothing / "images" / f"{image_id}.jpg"), cv2.IMREAD_COLOR)
        mask = np.zeros(image.shape[:2], np.uint8)
        h, w = mask.shape
        cv2.ellipse(mask, (w // 2, h // 2), (w // 3, h // 3), 0, 0, 360, (255,), -1)
        cv2.imwrite(str(masks / f"{image_id}.png"), mask)
    data, out, model = tmp_path / "data", tmp_path / "out", tmp_path / "model"
    _run(python, "models.training.cls_prepare", "--clothing", str(clothing), "--masks", str(masks),
         "--out", str(data), "--limit", "40")
    _run(python, "models.training.cls_train", "init", "--out", str(data / "init.pt"))
    _run(python, "models.training.cls_train", "train", "--data", str(data), "--init", str(data / "init.pt"),
         "--out", str(out), "--device", "cpu", "--steps", "1", "--batch", "4", "--workers", "0", "--size", "64")
    summary = json.loads((out / "cls_train.json").read_text(encoding="utf-8"))
    assert summary["train_images"] > 0 and summary["epochs_log"][-1]["step"] == 1
    _run(python, "models.training.cls_export", "--checkpoint", str(out / "cls_model.pt"),
         "--train-json", str(out / "cls_train.json"), "--data", str(data), "--out", str(model), "--calibration", "8")
    probe: NDArray[np.uint8] = np.zeros((90, 70, 3), np.uint8)
    probe[10:80, 10:60] = (40, 40, 200)
    for backend in ("tflite", "onnx"):
        classifier = Classifier.load(model, backend)
        assert classifier.size == 64
        result = classifier.classify_image(probe)
        assert result.label in CATEGORIES and len(result.top3) == 3
