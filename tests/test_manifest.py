"""Model manifests: a damaged or missing model file is named, never loaded silently."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mirror.inference import InferenceError, load_model
from mirror.inference.tflite_backend import _dequantize, _quantize
from mirror.manifest import ManifestError, ModelManifest, sha256_of


def make_model_dir(tmp_path: Path, payload: bytes = b"model bytes") -> Path:
    folder = tmp_path / "segmenter"
    folder.mkdir()
    (folder / "seg.tflite").write_bytes(payload)
    manifest = {
        "name": "segmenter",
        "version": "1.2.0",
        "files": {"tflite": "seg.tflite"},
        "sha256": {"seg.tflite": sha256_of(folder / "seg.tflite")},
        "meta": {"input_size": [256, 256]},
    }
    (folder / "model.json").write_text(json.dumps(manifest))
    return folder


def test_manifest_reads_and_verifies(tmp_path: Path) -> None:
    manifest = ModelManifest.load(make_model_dir(tmp_path))
    assert (manifest.name, manifest.version, manifest.meta["input_size"]) == ("segmenter", "1.2.0", [256, 256])
    assert manifest.path("tflite").name == "seg.tflite"
    assert manifest.verify() == []


def test_damaged_file_is_reported(tmp_path: Path) -> None:
    folder = make_model_dir(tmp_path)
    (folder / "seg.tflite").write_bytes(b"truncated")
    assert ModelManifest.load(folder).verify() == [
        f"{folder / 'seg.tflite'}: checksum mismatch (damaged or replaced file)"
    ]
    (folder / "seg.tflite").unlink()
    assert ModelManifest.load(folder).verify() == [f"{folder / 'seg.tflite'}: missing"]


def test_missing_or_malformed_manifest(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="missing; the model 'nothing' is not installed"):
        ModelManifest.load(tmp_path / "nothing")
    folder = make_model_dir(tmp_path)
    (folder / "model.json").write_text("{not json")
    with pytest.raises(ManifestError, match="unreadable"):
        ModelManifest.load(folder)
    (folder / "model.json").write_text('{"name": "x"}')
    with pytest.raises(ManifestError, match=r"malformed \(no key .version.\); reinstall the model files"):
        ModelManifest.load(folder)
    (folder / "model.json").write_text('{"name": "x", "version": "1", "files": {}}')
    with pytest.raises(ManifestError, match="no 'onnx' file"):
        ModelManifest.load(folder).path("onnx")


def test_loader_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(InferenceError, match="model file missing"):
        load_model(tmp_path / "none.tflite", "tflite")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x00not a model")
    with pytest.raises(InferenceError, match="not a loadable ONNX model"):
        load_model(garbage, "onnx")
    with pytest.raises(InferenceError, match="not a loadable TFLite model"):
        load_model(garbage, "tflite")
    with pytest.raises(InferenceError, match="unknown inference backend 'tensorrt'"):
        load_model(garbage, "tensorrt")


def test_int8_edges_round_trip() -> None:
    detail = {"dtype": np.int8, "quantization": (0.02, -3)}
    x = np.linspace(-2.5, 2.5, 101, dtype=np.float32)
    q = _quantize(x, detail)
    assert q.dtype == np.int8 and q.min() >= -128 and q.max() <= 127
    back = _dequantize(q, detail)
    inside = np.abs(x) < 2.4  # values outside the int8 range saturate
    assert np.max(np.abs(back[inside] - x[inside])) <= 0.01 + 1e-6
    assert _quantize(x, {"dtype": np.float32, "quantization": (0.0, 0)}).dtype == np.float32
