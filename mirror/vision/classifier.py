"""Garment category from its cut-out: top-3 with scores and an ``unsure`` flag.

The classifier reads the cut-out on black (``mirror.vision.cutout``), letterboxed to the
model's square input: exactly what it was trained on (``models/training/cls_train.py``
builds its input with the same functions). ``unsure`` is set when the best score is below
the model's ``unsure_below`` (``model.json`` meta), so the UI asks the person instead of
filing a guess.

Stable API: ``CATEGORIES`` (the 10 names of the ``analyze`` contract, in model output
order; defined in ``mirror.vocab``), ``Classifier.load(folder, backend, threads)``, ``Classifier.classify(cutout)`` ->
``CategoryResult(label, score, top3, unsure)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from mirror.inference import Model, load_model
from mirror.manifest import ManifestError, ModelManifest
from mirror.vision.cutout import Cutout
from mirror.vision.preprocess import MOBILENET_MEAN, MOBILENET_STD, letterbox, normalise, to_batch
from mirror.vocab import CATEGORIES as CATEGORIES  # re-exported: the names are the model's output order

#: Default threshold on the best softmax score below which a result is flagged ``unsure``.
DEFAULT_UNSURE_BELOW = 0.5
_LAYOUTS = {"tflite": "nhwc", "onnx": "nchw"}


@dataclass(frozen=True)
class CategoryResult:
    """Best category, its score, the top three ``(category, score)`` and whether to ask the person."""

    label: str
    score: float
    top3: tuple[tuple[str, float], ...]
    unsure: bool


def softmax(logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Numerically stable softmax of one logit vector."""
    z = logits.astype(np.float64) - float(np.max(logits))
    e = np.exp(z)
    out: npt.NDArray[np.float64] = e / e.sum()
    return out


def result_from_scores(scores: npt.NDArray[np.float64], unsure_below: float) -> CategoryResult:
    """Top-3 and the unsure flag from a probability vector in ``CATEGORIES`` order."""
    order = np.argsort(-scores)[:3]
    top3 = tuple((CATEGORIES[int(i)], round(float(scores[i]), 4)) for i in order)
    return CategoryResult(top3[0][0], top3[0][1], top3, top3[0][1] < unsure_below)


def cutout_batch(on_black_bgr: npt.NDArray[np.uint8], size: int, layout: str) -> npt.NDArray[np.float32]:
    """A cut-out on black -> the model's normalised float batch (letterboxed on black)."""
    canvas, _ = letterbox(on_black_bgr, size)
    rgb: npt.NDArray[np.uint8] = np.asarray(cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB), dtype=np.uint8)
    return to_batch(normalise(rgb, MOBILENET_MEAN, MOBILENET_STD), layout)


def _pixels(value: object) -> int:
    """A positive whole number of pixels (``meta.input_size``); ValueError otherwise, ``true`` included."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"expected a positive whole number of pixels, got {value!r}")
    return value


def _share(value: object) -> float:
    """A number from 0 to 1 (``meta.unsure_below``); ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ValueError(f"expected a number from 0 to 1, got {value!r}")
    return float(value)


class Classifier:
    """The shipped category model run by one of the inference backends."""

    def __init__(self, manifest: ModelManifest, model: Model) -> None:
        self.manifest = manifest
        self.model = model
        labels = manifest.read_meta("labels", tuple, CATEGORIES)
        if labels != CATEGORIES:
            raise ManifestError(
                f"{manifest.json_path}: labels {labels} differ from {CATEGORIES}; reinstall the model files"
            )
        self.size = manifest.read_meta("input_size", _pixels, 224)
        self.unsure_below = manifest.read_meta("unsure_below", _share, DEFAULT_UNSURE_BELOW)
        self.layout = _LAYOUTS[model.backend]
        manifest.check_input(model.path, model.input_shape, self.layout, self.size, self.size)

    @classmethod
    def load(cls, folder: Path, backend: str, threads: int = 1) -> Classifier:
        """Load ``folder/model.json`` and its file for ``backend`` (``tflite`` or ``onnx``)."""
        manifest = ModelManifest.load(folder)
        return cls(manifest, load_model(manifest.path(backend), backend, threads))

    def scores(self, on_black_bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
        """Softmax scores in ``CATEGORIES`` order for a cut-out on black."""
        logits = self.model.run(cutout_batch(on_black_bgr, self.size, self.layout))[0].reshape(-1)
        return softmax(logits)

    def classify_image(self, on_black_bgr: npt.NDArray[np.uint8]) -> CategoryResult:
        """Category of a garment already composited on black."""
        return result_from_scores(self.scores(on_black_bgr), self.unsure_below)

    def classify(self, cutout: Cutout) -> CategoryResult:
        """Category of a garment cut-out."""
        return self.classify_image(cutout.on_black())
