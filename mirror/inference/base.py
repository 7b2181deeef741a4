"""The backend-neutral model interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]


class InferenceError(RuntimeError):
    """A model could not be loaded or run; the message names the file and the fix."""


class Model(ABC):
    """A loaded model with one float32 input and one or more float32 outputs.

    Quantized models keep integer tensors inside; a backend converts at the edges
    (quantize the input, dequantize the outputs) so callers always see float32 and the
    same pre- and post-processing serves both runtimes.
    """

    backend: str
    path: Path
    threads: int  # CPU threads the runtime was given (1: it runs on the calling thread alone)

    @property
    @abstractmethod
    def input_shape(self) -> tuple[int, ...]:
        """Shape of the single input tensor, batch included (e.g. ``(1, 256, 256, 3)``)."""

    @abstractmethod
    def run(self, batch: FloatArray) -> list[FloatArray]:
        """Run one batch and return every output as float32, in the model's order."""
