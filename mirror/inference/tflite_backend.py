"""TFLite backend: ``ai_edge_litert`` (LiteRT), falling back to ``tflite_runtime``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mirror.inference.base import FloatArray, InferenceError, Model
from mirror.inference.native_stderr import relay_native_stderr


def _interpreter_class() -> Any:
    """Return the Interpreter class of whichever TFLite runtime is installed."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter

        return Interpreter
    except ImportError as exc:
        raise InferenceError(
            "no TFLite runtime: install ai-edge-litert (pip install ai-edge-litert==2.3.0) "
            'or set [vision] backend = "onnx"'
        ) from exc


class TFLiteModel(Model):
    """A ``.tflite`` file run by the LiteRT interpreter."""

    backend = "tflite"

    def __init__(self, path: Path, threads: int) -> None:
        self.path = path
        self.threads = threads
        try:
            with relay_native_stderr():
                self._interp = _interpreter_class()(model_path=str(path), num_threads=threads)
                self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise InferenceError(f"{path}: not a loadable TFLite model ({exc}); reinstall the model files") from exc
        self._input = self._interp.get_input_details()[0]
        self._outputs = self._interp.get_output_details()

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self._input["shape"])

    def run(self, batch: FloatArray) -> list[FloatArray]:
        self._interp.set_tensor(self._input["index"], _quantize(batch, self._input))
        self._interp.invoke()
        return [_dequantize(np.asarray(self._interp.get_tensor(o["index"])), o) for o in self._outputs]


def _quantize(x: FloatArray, detail: dict[str, Any]) -> npt.NDArray[Any]:
    """Convert a float input to the tensor's dtype using its quantization parameters."""
    dtype = detail["dtype"]
    if dtype == np.float32:
        return x.astype(np.float32, copy=False)
    scale, zero = detail["quantization"]
    info = np.iinfo(dtype)
    q = np.round(x / scale + zero)
    quantized: npt.NDArray[Any] = np.clip(q, info.min, info.max).astype(dtype)
    return quantized


def _dequantize(y: npt.NDArray[Any], detail: dict[str, Any]) -> FloatArray:
    """Convert an output tensor back to float32 using its quantization parameters."""
    if y.dtype == np.float32:
        return y.astype(np.float32, copy=False)
    scale, zero = detail["quantization"]
    out: FloatArray = ((y.astype(np.float32) - zero) * scale).astype(np.float32)
    return out
