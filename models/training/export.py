"""Generic export: a float PyTorch module -> int8 ONNX (QDQ) + int8 TFLite, with parity.

Why one module: the segmenter and the classifier ship the same way, each backend
calibrated on real images, and the two files must agree (the mirror may run either).

Stable API (used by ``seg_export`` and the classifier's export):

- ``export_int8(model, calibration, out_dir, name, output_layout="nchw") -> ExportResult``
  ``model``: a float ``nn.Module`` in eval mode taking an NCHW float batch (already
  normalised); ``calibration``: float32 array ``(N, C, H, W)`` of real, preprocessed images
  (about a hundred is plenty). ONE static int8 quantisation (PyTorch PT2E: int8 activations
  calibrated with histogram observers, symmetric per-channel weights limited to 7 bits)
  is exported twice, so both files carry the same scales: ``<name>.tflite`` through
  litert-torch (input NHWC) and ``<name>.onnx`` through the ONNX exporter as a QDQ graph
  with int8 weight initialisers (input NCHW). 4-D outputs are NCHW in ONNX and NHWC in
  TFLite; 2-D outputs are the same in both.
- ``compare(onnx_path, tflite_path, images_nchw, kind) -> float``: backend agreement on
  ``images_nchw`` through ``mirror.inference`` (the runtime code): ``kind="segmentation"``
  gives the mean IoU of the two argmax maps (mean over present classes, then images);
  ``kind="classification"`` gives the top-1 agreement rate.
- ``ExportResult``: paths, sizes in bytes and the parity figure.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


class _ChannelsFirst(nn.Module):
    """NCHW in -> an NHWC module -> 4-D outputs back to NCHW (the ONNX file's layout)."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.inner(x.permute(0, 2, 3, 1))
        return y.permute(0, 3, 1, 2) if y.dim() == 4 else y


def _quantizer(float_outputs: Sequence[type[nn.Module]] = ()) -> Any:
    """PT2E quantiser for LiteRT: int8 activations, symmetric per-channel 7-bit weights.

    ``float_outputs`` lists module types whose output stays float: ``nn.Linear`` for a
    classifier, whose only linear layer is the last one. Its int8 output would be calibrated by a histogram
    observer that clips the largest logits (two classes over the clip point tie, and the
    ranking below the top collapses); a float output keeps the scores as computed and
    costs nothing measurable (ten outputs).

    7-bit weights: x86 CPUs without VNNI run ONNX Runtime's int8 convs with VPMADDUBSW,
    whose int16 pair sums saturate with full-range weights (ORT's documented caveat), so
    the ONNX file would drift from the TFLite one; ±63 keeps every pair sum in range.
    """
    from litert_torch.quantize.pt2e_quantizer import PT2EQuantizer, get_symmetric_quantization_config

    config = get_symmetric_quantization_config(is_per_channel=True, is_dynamic=False)
    config = dataclasses.replace(config, weight=dataclasses.replace(config.weight, quant_min=-63, quant_max=63))
    quantizer = PT2EQuantizer().set_global(config)
    for module_type in float_outputs:
        # torch.export records a module's type as a class or (torch 2.11) as its dotted
        # name, and the quantiser's filter compares with ``in``: register both spellings.
        for key in (module_type, f"{module_type.__module__}.{module_type.__qualname__}"):
            quantizer.set_module_type(key, dataclasses.replace(config, output_activation=None))
    return quantizer


def quantize_pt2e(
    model: nn.Module, calibration: np.ndarray, float_outputs: Sequence[type[nn.Module]] = ()
) -> tuple[Any, tuple[torch.Tensor], Any]:
    """Static int8 quantisation of ``ChannelsLast(model)``; returns (graph, NHWC sample, quantiser)."""
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    wrapped = ChannelsLast(model).eval()
    nhwc = np.ascontiguousarray(calibration.transpose(0, 2, 3, 1))
    sample = (torch.from_numpy(nhwc[:1]),)
    quantizer = _quantizer(float_outputs)
    prepared = prepare_pt2e(torch.export.export(wrapped, sample).module(), quantizer)
    with torch.no_grad():
        for x in nhwc:
            prepared(torch.from_numpy(x[None]))
    return convert_pt2e(prepared, fold_quantize=False), sample, quantizer


def tflite_from_pt2e(converted: Any, sample: tuple[torch.Tensor], quantizer: Any, out_path: Path) -> Path:
    """The quantised graph as an int8 TFLite file (NHWC input) via litert-torch."""
    import litert_torch
    from litert_torch.quantize.quant_config import QuantConfig

    edge = litert_torch.convert(converted, sample, quant_config=QuantConfig(pt2e_quantizer=quantizer))
    edge.export(str(out_path))
    return out_path


def onnx_from_pt2e(converted: Any, sample: tuple[torch.Tensor], out_path: Path) -> Path:
    """The same quantised graph as a QDQ ONNX file (NCHW input), weights stored as int8."""
    import onnx

    nchw = (sample[0].permute(0, 3, 1, 2).contiguous(),)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "qdq.onnx"
        torch.onnx.export(
            _ChannelsFirst(converted), nchw, str(raw), input_names=["input"], output_names=["output"], dynamo=True
        )
        proto = onnx.load(str(raw))
    _fold_weight_quantize(proto)
    onnx.save(proto, str(out_path))
    return out_path


def _fold_weight_quantize(proto: Any) -> None:
    """Replace QuantizeLinear(float constant) by its int8 result: int8 weights in the file."""
    from onnx import numpy_helper

    graph = proto.graph
    inits = {i.name: i for i in graph.initializer}
    consts = {n.output[0]: n for n in graph.node if n.op_type == "Constant"}

    def value(name: str) -> np.ndarray | None:
        if name in inits:
            return numpy_helper.to_array(inits[name])
        if name in consts:
            return numpy_helper.to_array(consts[name].attribute[0].t)
        return None

    keep = []
    for node in graph.node:
        w = value(node.input[0]) if node.op_type == "QuantizeLinear" else None
        if w is None or w.dtype != np.float32:
            keep.append(node)
            continue
        scale = value(node.input[1])
        zero = value(node.input[2]) if len(node.input) > 2 else np.zeros((), np.int8)
        assert scale is not None and zero is not None
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        shape = [1] * w.ndim
        if scale.ndim == 1 and scale.size > 1:
            shape[axis] = scale.size
        q = np.rint(w / scale.reshape(shape)) + zero.astype(np.float32).reshape(shape if zero.size > 1 else ())
        info = np.iinfo(zero.dtype)
        graph.initializer.append(
            numpy_helper.from_array(np.clip(q, info.min, info.max).astype(zero.dtype), node.output[0])
        )
    del graph.node[:]
    graph.node.extend(keep)
    used = {name for n in graph.node for name in n.input}
    outputs = {o.name for o in graph.output}
    for init in [i for i in graph.initializer if i.name not in used and i.name not in outputs]:
        graph.initializer.remove(init)
    live = [n for n in graph.node if not (n.op_type == "Constant" and n.output[0] not in used)]
    del graph.node[:]
    graph.node.extend(live)


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
        a = onnx_model.run(x[None].astype(np.float32))[0]  # ONNX input is NCHW
        b = tfl_model.run(np.ascontiguousarray(x.transpose(1, 2, 0)[None]).astype(np.float32))[0]
        if kind == "segmentation":
            scores.append(_iou_maps(a[0].argmax(0), b[0].argmax(-1)))
        else:
            scores.append(float(a[0].argmax() == b[0].argmax()))
    return float(np.mean(scores))


def export_int8(
    model: nn.Module,
    calibration: np.ndarray,
    out_dir: Path,
    name: str,
    kind: str = "segmentation",
    n_parity: int = 32,
    float_outputs: Sequence[type[nn.Module]] = (),
) -> ExportResult:
    """Both int8 files for ``model``, calibrated on ``calibration`` (NCHW float32); parity measured."""
    model = model.eval().cpu()
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{name}.onnx"
    tflite_path = out_dir / f"{name}.tflite"
    converted, sample, quantizer = quantize_pt2e(model, calibration, float_outputs)
    onnx_from_pt2e(converted, sample, onnx_path)
    tflite_from_pt2e(converted, sample, quantizer, tflite_path)
    parity = compare(onnx_path, tflite_path, calibration[:n_parity], kind) if n_parity else float("nan")
    return ExportResult(onnx_path, tflite_path, onnx_path.stat().st_size, tflite_path.stat().st_size, parity)
