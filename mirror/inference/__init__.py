"""One inference interface over two runtimes (TFLite via LiteRT, and ONNX Runtime).

The vision code asks for a model by its manifest and a backend name from the config; it
never imports a runtime itself, so the Pi can run either one and tests can compare them.
"""

from mirror.inference.base import InferenceError, Model
from mirror.inference.loader import BACKENDS, load_model

__all__ = ["BACKENDS", "InferenceError", "Model", "load_model"]
