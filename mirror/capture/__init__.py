"""Auto-capture: when is a garment held still long enough, and which frame is sharpest."""

from mirror.capture.machine import AutoCapture, Sighting, Tick
from mirror.capture.motion import MotionMeter
from mirror.capture.sharpness import laplacian_variance, scale_box, sharpest

__all__ = ["AutoCapture", "MotionMeter", "Sighting", "Tick", "laplacian_variance", "scale_box", "sharpest"]
