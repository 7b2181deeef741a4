"""Build the frame source that ``[camera]`` asks for."""

from __future__ import annotations

from pathlib import Path

from mirror.camera.base import CameraSetupError, FrameSource
from mirror.camera.demo import DemoSource
from mirror.camera.oriented import Rotated
from mirror.camera.picamera import PiCameraSource, picamera2_available
from mirror.camera.replay import ReplaySource
from mirror.camera.v4l2 import V4L2Source
from mirror.config.settings import CameraSettings

SOURCES = ("auto", "picamera2", "v4l2", "replay", "demo")


def resolve_kind(kind: str) -> str:
    """``auto`` becomes picamera2 where it is installed (a Pi), else v4l2."""
    if kind == "auto":
        return "picamera2" if picamera2_available() else "v4l2"
    return kind


def make_source(camera: CameraSettings, kind: str | None = None) -> FrameSource:
    """The source for ``kind`` (default ``camera.source``), rotated per ``camera.rotation``; not yet opened.

    Raises :class:`CameraError` (one line with the fix) for a kind it does not know or a
    replay source with no path; a missing device is reported by ``open``.
    """
    kind = resolve_kind(kind or camera.source)
    preview = (camera.preview_width, camera.preview_height)
    capture = (camera.capture_width, camera.capture_height)
    source: FrameSource
    if kind == "demo":
        source = DemoSource(preview, capture, camera.fps)
    elif kind == "replay":
        if not camera.replay_path:
            raise CameraSetupError('replay source needs a path: set [camera] replay_path = "/path/to/images-or-video"')
        source = ReplaySource(Path(camera.replay_path).expanduser(), preview, camera.fps)
    elif kind == "v4l2":
        source = V4L2Source(camera.device, preview, capture, camera.fps)
    elif kind == "picamera2":
        source = PiCameraSource(preview, capture, camera.fps)
    else:
        raise CameraSetupError(f"unknown camera source {kind!r}: use one of {', '.join(SOURCES)}")
    return Rotated(source, camera.rotation) if camera.rotation else source
