"""ONNX Runtime backend (CPU execution provider)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mirror.inference.base import FloatArray, InferenceError, Model


class OnnxModel(Model):
    """An ``.onnx`` file run by ONNX Runtime on the CPU."""

    backend = "onnx"

    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime as ort

        self.path = path
        self.threads = threads
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle worker threads spin for work by default: at 2 threads a segmenter call burned 110 ms of CPU
        # for 66 ms of wall time (38 and 34 ms without), stealing cores from the camera and the UI.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped exceptions
            raise InferenceError(f"{path}: not a loadable ONNX model ({exc}); reinstall the model files") from exc
        self._input = self._session.get_inputs()[0]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(d if isinstance(d, int) else 1 for d in self._input.shape)

    def run(self, batch: FloatArray) -> list[FloatArray]:
        outputs = self._session.run(None, {self._input.name: batch.astype(np.float32, copy=False)})
        return [np.asarray(o, dtype=np.float32) for o in outputs]
