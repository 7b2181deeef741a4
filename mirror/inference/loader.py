"""Pick a backend by name and load a model file with it."""

from __future__ import annotations

from pathlib import Path

from mirror.inference.base import InferenceError, Model

BACKENDS = ("tflite", "onnx")


def load_model(path: Path, backend: str, threads: int = 1) -> Model:
    """Load ``path`` with ``backend`` (``"tflite"`` or ``"onnx"``) using ``threads`` CPU threads."""
    if not path.is_file():
        raise InferenceError(f"{path}: model file missing; reinstall the model files")
    if backend == "tflite":
        from mirror.inference.tflite_backend import TFLiteModel

        return TFLiteModel(path, threads)
    if backend == "onnx":
        from mirror.inference.onnx_backend import OnnxModel

        return OnnxModel(path, threads)
    raise InferenceError(f"unknown inference backend {backend!r}; use one of {', '.join(BACKENDS)}")
