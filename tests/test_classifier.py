"""The shipped category classifier: contract, both backends, agreement and accuracy."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from mirror.manifest import ModelManifest, default_models_dir
from mirror.vision.classifier import CATEGORIES, Classifier, result_from_scores, softmax
from mirror.vision.cutout import make_cutout
from tests.conftest import SHARED
from tests.test_analyze import CATEGORIES as CONTRACT_CATEGORIES

FOLDER = default_models_dir() / "classifier"
CLOTHING = SHARED / "data" / "clothing"
SEGMENTER = default_models_dir() / "segmenter" / "model.json"


def test_the_ten_categories() -> None:
    """The classifier's names, in its output order, are the analyze contract's (spelled out in test_analyze)."""
    assert CATEGORIES == CONTRACT_CATEGORIES


def test_top3_and_unsure() -> None:
    scores = softmax(np.array([0.1, 4.0, 0.2, 2.5, 0, 0, 0, 0, 0, 0], np.float32))
    result = result_from_scores(scores, unsure_below=0.5)
    assert result.label == "longsleeve"
    assert [c for c, _ in result.top3] == ["longsleeve", "outwear", "shirt"]
    assert result.top3[0][1] >= result.top3[1][1] >= result.top3[2][1]
    assert not result.unsure
    flat = result_from_scores(softmax(np.zeros(10, np.float32)), unsure_below=0.5)
    assert flat.unsure and abs(flat.score - 0.1) < 1e-6


def test_manifest_files_sizes_and_checksums() -> None:
    manifest = ModelManifest.load(FOLDER)
    assert manifest.verify() == []
    assert tuple(manifest.meta["labels"]) == CATEGORIES
    for backend in ("tflite", "onnx"):
        assert manifest.path(backend).stat().st_size <= 4 * 1024 * 1024


def _synthetic_cutouts() -> list[NDArray[np.uint8]]:
    """Garment-like silhouettes on black: enough to exercise both runtimes without ../shared."""
    rng = np.random.default_rng(3)
    images = []
    for k in range(12):
        image = np.zeros((240, 200, 3), np.uint8)
        colour = tuple(int(v) for v in rng.integers(30, 230, 3))
        if k % 3 == 0:  # a T-shirt: body and two sleeves
            cv2.rectangle(image, (60, 50), (140, 220), colour, -1)
            cv2.rectangle(image, (20, 50), (180, 100), colour, -1)
        elif k % 3 == 1:  # trousers: two legs
            cv2.rectangle(image, (50, 20), (95, 230), colour, -1)
            cv2.rectangle(image, (105, 20), (150, 230), colour, -1)
            cv2.rectangle(image, (50, 20), (150, 60), colour, -1)
        else:  # a shoe
            cv2.ellipse(image, (100, 150), (80, 35), 0, 0, 360, colour, -1)
        noise = rng.integers(-12, 12, image.shape)
        images.append(np.clip(image.astype(np.int64) + noise * (image > 0), 0, 255).astype(np.uint8))
    return images


def test_both_backends_load_and_agree() -> None:
    models = [Classifier.load(FOLDER, backend) for backend in ("tflite", "onnx")]
    for model in models:
        assert model.size == int(ModelManifest.load(FOLDER).meta["input_size"])
    for image in _synthetic_cutouts():
        a, b = (m.scores(image) for m in models)
        assert abs(a.sum() - 1) < 1e-5 and abs(b.sum() - 1) < 1e-5
        assert np.abs(a - b).max() < 0.25, "the two int8 files come from one quantisation"


def test_logits_leave_the_model_unquantised() -> None:
    """The TFLite file's logits are float, not int8.

    An int8 output is calibrated by a histogram observer that clips the largest logits
    (this model exported with an int8 output: TFLite range -1.4 … 4.6): two classes above
    the clip point tie, the ranking below the top collapses, and the backends break the tie
    differently (top-1 agreement 0.982, TFLite top-3 0.965 on validation; float: 0.997, 0.988).
    See ``models.training.export._quantizer``.
    """
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(FOLDER / "classifier.tflite"))
    (output,) = interpreter.get_output_details()
    assert output["dtype"] == np.float32, f"int8 logits with scale/zero {output['quantization']}"


def _validation_sample(count: int) -> list[tuple[str, str]]:
    with (CLOTHING / "images.csv").open(newline="", encoding="utf-8") as handle:
        rows = [(r["image"], r["small_category"]) for r in csv.DictReader(handle) if r["small_split"] == "validation"]
    return rows[:: max(1, len(rows) // count)][:count]


@pytest.mark.shared
@pytest.mark.slow
def test_accuracy_and_agreement_end_to_end() -> None:
    """Photo -> shipped segmenter -> cut-out -> classifier, on a spread sample of validation photos."""
    if not CLOTHING.is_dir():
        pytest.skip(f"{CLOTHING} absent: the validation photos live in ../shared")
    assert SEGMENTER.is_file(), f"{SEGMENTER} is missing: the segmenter is shipped; the end-to-end measure needs it"
    from mirror.vision.segmenter import Segmenter
    from models.training.cls_data import pipeline_mask

    segmenter = Segmenter(backend="tflite")
    models = {b: Classifier.load(FOLDER, b) for b in ("tflite", "onnx")}
    sample = _validation_sample(80)
    hits, agree = [], []
    for image_id, category in sample:
        image = np.asarray(cv2.imread(str(CLOTHING / "images" / f"{image_id}.jpg"), cv2.IMREAD_COLOR), np.uint8)
        on_black = make_cutout(image, pipeline_mask(segmenter, image)).on_black()
        got = {b: m.classify_image(on_black) for b, m in models.items()}
        hits.append(got["tflite"].label == category)
        agree.append(got["tflite"].label == got["onnx"].label)
    # Full validation set (341 photos): see models/README.md; this sample guards against regressions.
    assert np.mean(hits) >= 0.85
    assert np.mean(agree) >= 0.98  # 0.997 on all 341 (models/README.md): at most 1 of 80 may differ
