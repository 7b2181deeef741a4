"""Garment segmenter at runtime: camera frame -> per-pixel class map at source resolution.

Loads ``models/segmenter`` through its manifest and the backend-neutral inference
interface, so the same code runs the int8 TFLite or ONNX file. Everything the
pre/post-processing needs (input size, layout per backend, normalisation, class names)
comes from ``model.json``: a retrained model ships by replacing that folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from mirror.inference import load_model
from mirror.manifest import ModelManifest, default_models_dir
from mirror.vision.preprocess import LAYOUTS, Letterbox, prepare

DEFAULT_FOLDER = default_models_dir() / "segmenter"
#: Long side (pixels) at which the class argmax is taken before a nearest-neighbour resize
#: to the frame: finer than the model's own grid, far cheaper than a full-frame argmax.
WORK_LONG_SIDE = 640


@dataclass(frozen=True)
class Segmentation:
    """A frame's segmentation at source resolution."""

    classes: npt.NDArray[np.uint8]  # class index per pixel (see ``names``)
    confidence: npt.NDArray[np.float32]  # softmax probability of that class
    names: tuple[str, ...]
    garment_ids: tuple[int, ...]


class Segmenter:
    """One loaded segmenter model (not thread-safe: use one per worker thread)."""

    def __init__(self, folder: Path = DEFAULT_FOLDER, backend: str = "tflite", threads: int = 1) -> None:
        manifest = self.manifest = ModelManifest.load(folder)
        self.backend = backend
        self.model = load_model(manifest.path(backend), backend, threads)
        self.layout: str = manifest.read_meta("layout", lambda v: _layout(v[backend]))
        self.size = manifest.read_meta("input_size", _size)
        self.mean = manifest.read_meta("mean", _per_channel)
        self.std = manifest.read_meta("std", _per_channel)
        self.names: tuple[str, ...] = manifest.read_meta("classes", _names)
        garments = set(manifest.read_meta("garment_classes", _names))
        self.garment_ids = tuple(i for i, n in enumerate(self.names) if n in garments)
        manifest.check_input(self.model.path, self.model.input_shape, self.layout, *self.size)

    def raw(self, image_bgr: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.float32], Letterbox]:
        """The model's logits (H/stride × W/stride × C) and the letterbox that maps them back."""
        batch, box = prepare(image_bgr, self.size, self.mean, self.std, self.layout)
        out = self.model.run(batch)[0][0]
        if self.layout == "nchw":
            out = out.transpose(1, 2, 0)
        return np.ascontiguousarray(out, dtype=np.float32), box

    def logits(self, image_bgr: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.float32], Letterbox]:
        """Canvas-resolution logits (H×W×C, upsampled from the model's stride) and the letterbox."""
        raw, box = self.raw(image_bgr)
        return _to_canvas(raw, self.size), box

    def analyse(self, image_bgr: npt.NDArray[np.uint8]) -> Segmentation:
        """Classes and confidence per source pixel.

        Logits are resized bilinearly to the frame (capped at ``WORK_LONG_SIDE``), the
        argmax taken there and, for larger frames, resized nearest-neighbour to full size.
        The confidence (softmax maximum) is computed on the model's own grid, then resized:
        it only feeds instance scores, and the exponentials are the costly part.
        """
        raw, box = self.raw(image_bgr)
        shifted = np.exp(raw - raw.max(axis=2, keepdims=True))
        prob = (shifted.max(axis=2) / shifted.sum(axis=2)).astype(np.float32)
        src_h, src_w = image_bgr.shape[:2]
        f = min(1.0, WORK_LONG_SIDE / max(src_w, src_h))
        work = Letterbox(
            max(1, round(src_w * f)), max(1, round(src_h * f)), box.scale, box.pad_x, box.pad_y, box.new_w, box.new_h
        )
        logits = _to_canvas(raw, self.size)
        classes = _channels(work.to_source(logits, cv2.INTER_LINEAR)).argmax(axis=2).astype(np.uint8)
        confidence = work.to_source(_to_canvas(prob, self.size)[..., 0], cv2.INTER_LINEAR).astype(np.float32)
        if f < 1.0:
            classes = np.asarray(cv2.resize(classes, (src_w, src_h), interpolation=cv2.INTER_NEAREST), np.uint8)
            confidence = np.asarray(cv2.resize(confidence, (src_w, src_h), interpolation=cv2.INTER_LINEAR), np.float32)
        return Segmentation(classes, confidence, self.names, self.garment_ids)

    def segment(self, image_bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """Class index per source pixel (``self.names`` gives each index's name)."""
        return self.analyse(image_bgr).classes


def _layout(value: object) -> str:
    """A tensor layout the preprocessing knows (``meta.layout[backend]``); ValueError otherwise."""
    if value not in LAYOUTS:
        raise ValueError(f"expected one of {', '.join(LAYOUTS)}, got {value!r}")
    return str(value)


def _size(value: object) -> tuple[int, int]:
    """``[width, height]`` in pixels (``meta.input_size``); ValueError otherwise."""
    if not isinstance(value, list) or len(value) != 2 or not all(_is_count(v) for v in value):
        raise ValueError(f"expected [width, height] in pixels, got {value!r}")
    return int(value[0]), int(value[1])


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _per_channel(value: object) -> tuple[float, float, float]:
    """Three numbers, one per RGB channel (``meta.mean``/``meta.std``); ValueError otherwise."""
    if not isinstance(value, list) or len(value) != 3 or not all(isinstance(v, int | float) for v in value):
        raise ValueError(f"expected three numbers (R, G, B), got {value!r}")
    return float(value[0]), float(value[1]), float(value[2])


def _names(value: object) -> tuple[str, ...]:
    """A list of class names (``meta.classes``/``meta.garment_classes``); ValueError otherwise."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of names, got {value!r}")
    return tuple(value)


def _to_canvas(array: npt.NDArray[np.float32], size: tuple[int, int]) -> npt.NDArray[np.float32]:
    """Bilinear resize of a model-grid map (H×W or H×W×C) to the canvas, channel axis kept."""
    return _channels(np.asarray(cv2.resize(array, size, interpolation=cv2.INTER_LINEAR), dtype=np.float32))


def _channels(array: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Restore the channel axis that OpenCV drops for single-channel images."""
    return array[..., None] if array.ndim == 2 else array
