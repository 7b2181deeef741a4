"""Generic export: a float PyTorch module -> int8 ONNX (QDQ) + int8 TFLite, with parity.

Why one module: the segmenter and the classifier ship the same way, each backend
calibrated on real images, and the two files must agree (the mirror may run either).

Stable API (used by ``seg_export`` and the classifier's export):

- ``export_int8(model, calibration, out_dir, name, output_layout="nchw") -> ExportResult``
  ``model``: a float ``nn.Module`` in eval mode taking an NCHW float batch (already
  normalised); ``calibration``: float32 array ``(N, C, H, W)`` of real, preprocessed images
  (a few hundred is plenty). Writes ``<name>.onnx`` (input NCHW, static QDQ int8:
  uint8 activations, int8 per-channel weights, MinMax calibration) and ``<name>.tflite``
  (input NHWC; int8 inside via PT2E + litert-torch, float32 in/out). 4-D outputs are
  NCHW in ONNX and NHWC in TFLite; 2-D outputs are the same in both.
- ``compare(onnx_path, tflite_path, images_nchw, kind) -> float``: backend agreement on
  ``images_nchw`` through ``mirror.inference`` (the runtime code): ``kind="segmentation"``
  gives the mean IoU of the two argmax maps (mean over present classes, then images);
  ``kind="classification"`` gives the top-1 agreement rate.
- ``ExportResult``: paths, sizes in bytes and the parity figure.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class ExportResult:
    onnx: Path
    tflite: Path
    onnx_bytes: int
    tflite_bytes: int
    parity: float


class ChannelsLast(nn.Module):
    """NHWC in -> the wrapped NCHW module -> 4-D outputs back to NHWC (TFLite's layout)."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.inner(x.permute(0, 3, 1, 2))
        return y.permute(0, 2, 3, 1) if y.dim() == 4 else y


def export_onnx_float(model: nn.Module, sample: torch.Tensor, path: Path) -> Path:
    """Float ONNX (opset 17, static shape) of ``model`` for ``sample``'s shape."""
    torch.onnx.export(
        model, (sample,), str(path), input_names=["input"], output_names=["output"], opset_version=17, dynamo=False
    )
    return path


class _Reader:
    """onnxruntime CalibrationDataReader over an NCHW array, one image per call."""

    def __init__(self, images: np.ndarray):
        self._it: Iterator[np.ndarray] = iter(images)

    def get_next(self) -> dict[str, np.ndarray] | None:
        x = next(self._it, None)
        return None if x is None else {"input": x[None].astype(np.float32)}


def quantize_onnx(float_path: Path, out_path: Path, calibration: np.ndarray) -> Path:
    """Static QDQ int8 quantisation of a float ONNX, calibrated on ``calibration`` (NCHW)."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepped = float_path.with_name(float_path.stem + "_prep.onnx")
    quant_pre_process(str(float_path), str(prepped), skip_symbolic_shape=True)
    quantize_static(
        str(prepped),
        str(out_path),
        _Reader(calibration),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
        calibrate_method=CalibrationMethod.MinMax,
    )
    return out_path


def export_tflite_int8(model: nn.Module, calibration: np.ndarray, out_path: Path) -> Path:
    """int8 TFLite (NHWC input) via PT2E static quantisation and litert-torch."""
    import litert_torch
    from litert_torch.quantize.pt2e_quantizer import PT2EQuantizer, get_symmetric_quantization_config
    from litert_torch.quantize.quant_config import QuantConfig
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    wrapped = ChannelsLast(model).eval()
    nhwc = np.ascontiguousarray(calibration.transpose(0, 2, 3, 1))
    sample = (torch.from_numpy(nhwc[:1]),)
    quantizer = PT2EQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True, is_dynamic=False))
    graph = torch.export.export(wrapped, sample).module()
    prepared = prepare_pt2e(graph, quantizer)
    with torch.no_grad():
        for x in nhwc:
            prepared(torch.from_numpy(x[None]))
    converted = convert_pt2e(prepared, fold_quantize=False)
    edge = litert_torch.convert(converted, sample, quant_config=QuantConfig(pt2e_quantizer=quantizer))
    edge.export(str(out_path))
    return out_path


def _iou_maps(a: np.ndarray, b: np.ndarray) -> float:
    ious = []
    for c in np.union1d(np.unique(a), np.unique(b)):
        inter = np.logical_and(a == c, b == c).sum()
        union = np.logical_or(a == c, b == c).sum()
        ious.append(inter / union)
    return float(np.mean(ious))


def compare(onnx_path: Path, tflite_path: Path, images_nchw: np.ndarray, kind: str = "segmentation") -> float:
    """Agreement of the two exported files on ``images_nchw`` (see module docstring)."""
    from mirror.inference import load_model

    onnx_model = load_model(onnx_path, "onnx", threads=1)
    tfl_model = load_model(tflite_path, "tflite", threads=1)
    scores = []
    for x in images_nchw:
        a = onnx_model.run(x[None].astype(np.float32))[0]
        b = tfl_model.run(np.ascontiguousarray(x.transpose(1, 2, 0)[None]).astype(np.float32))[0]
        if kind == "segmentation":
            scores.append(_iou_maps(a[0].argmax(0), b[0].argmax(-1)))
        else:
            scores.append(float(a[0].argmax() == b[0].argmax()))
    return float(np.mean(scores))


def export_int8(
    model: nn.Module, calibration: np.ndarray, out_dir: Path, name: str, kind: str = "segmentation", n_parity: int = 32
) -> ExportResult:
    """Both int8 files for ``model``, calibrated on ``calibration`` (NCHW float32); parity measured."""
    model = model.eval().cpu()
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{name}.onnx"
    tflite_path = out_dir / f"{name}.tflite"
    with tempfile.TemporaryDirectory() as tmp:
        float_path = export_onnx_float(model, torch.from_numpy(calibration[:1]), Path(tmp) / "float.onnx")
        quantize_onnx(float_path, onnx_path, calibration)
    export_tflite_int8(model, calibration, tflite_path)
    parity = compare(onnx_path, tflite_path, calibration[:n_parity], kind) if n_parity else float("nan")
    return ExportResult(onnx_path, tflite_path, onnx_path.stat().st_size, tflite_path.stat().st_size, parity)
