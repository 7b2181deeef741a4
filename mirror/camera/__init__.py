"""Frame sources behind one interface: Pi camera, V4L2 device, replay, synthetic demo.

from mirror.camera import make_source, CameraError
with make_source(settings.camera) as source:
    preview = source.read()   # small BGR frame, at the preview rate
    still = source.still()    # full-resolution BGR frame, on demand
"""

from mirror.camera.base import CameraError, CameraSetupError, FrameSource, Pacer
from mirror.camera.factory import SOURCES, make_source, resolve_kind
from mirror.imagetypes import Image

__all__ = ["SOURCES", "CameraError", "CameraSetupError", "FrameSource", "Image", "Pacer", "make_source", "resolve_kind"]
