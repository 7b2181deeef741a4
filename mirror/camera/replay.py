"""Replay a folder of images or a video file as if it were a camera, looping at a given fps.

Why: to rehearse the capture flow on real photos (the test sets, a recorded session) on a
machine with no camera, and to reproduce a field problem from a recording. The "full
resolution" still is the current frame at its original size; the preview is that frame
downscaled to the preview size.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from mirror.camera.base import CameraError, CameraSetupError, FrameSource, Pacer, as_bgr, to_preview
from mirror.imagefile import UnreadableImageError, read_image
from mirror.imagetypes import Image

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


def image_files(folder: Path) -> list[Path]:
    """The images directly in ``folder``, sorted by name (the replay order)."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


#: Video files a replay source accepts (what OpenCV's ffmpeg backend reads on Pi OS and Debian).
VIDEO_SUFFIXES = frozenset({".avi", ".mp4", ".m4v", ".mkv", ".mov", ".webm", ".mjpeg", ".mjpg", ".h264"})


class ReplaySource(FrameSource):
    """Frames from ``path`` (folder of images or video file), looping when ``loop``."""

    def __init__(
        self,
        path: Path,
        preview: tuple[int, int],
        fps: float,
        *,
        loop: bool = True,
        pacer: Pacer | None = None,
        read_image: Callable[[str], Any] = read_image,
    ) -> None:
        self.path = path
        self.preview = preview
        self.loop = loop
        self.pacer = pacer or Pacer(fps)
        self.name = f"replay {path.name}"
        self._read_image = read_image
        self._files: list[Path] = []
        self._opened_folder = False
        self._index = 0
        self._video: cv2.VideoCapture | None = None
        self._current: Image | None = None

    def open(self) -> None:
        if not self.path.exists():
            raise CameraSetupError(
                f"replay source {self.path} does not exist; set [camera] replay_path to a folder or video"
            )
        if self.path.is_dir():
            self._files = image_files(self.path)
            if not self._files:
                raise CameraSetupError(f"replay folder {self.path} holds no images (.jpg, .png, ...); add some")
            self._opened_folder = True
            return
        if self.path.suffix.lower() not in VIDEO_SUFFIXES:  # ffmpeg would "play" a text file as rendered text
            raise CameraSetupError(
                f"replay file {self.path} is not a video ({', '.join(sorted(VIDEO_SUFFIXES))}); "
                "set [camera] replay_path to one, or to a folder of images"
            )
        video = cv2.VideoCapture(str(self.path))
        ok = video.isOpened() and video.read()[0]  # a container can open with no decodable frame in it
        if not ok:
            video.release()
            raise CameraSetupError(
                f"replay file {self.path} is not a readable video; use a folder of images or an .mp4"
            )
        video.set(cv2.CAP_PROP_POS_FRAMES, 0)
        self._video = video

    def _next_full(self) -> Image | None:
        """The next full-resolution frame, or None at the end.

        An unreadable file is named once in the log and left out of the loop from then on, so
        a truncated photo neither stalls the replay nor repeats its decoder noise every loop.
        """
        if self._video is not None:
            ok, frame = self._video.read()
            if not ok and self.loop:
                self._video.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._video.read()
            return as_bgr(np.asarray(frame, dtype=np.uint8)) if ok and frame is not None else None  # 8-bit video
        while self._files:
            if self._index >= len(self._files):
                if not self.loop:
                    return None
                self._index = 0
            path = self._files[self._index]
            try:
                image = self._read_image(str(path))
            except UnreadableImageError as exc:
                log.warning("replay: leaving out %s: %s", path, exc)
                del self._files[self._index]
                continue
            self._index += 1
            return as_bgr(image)
        raise CameraError(f"no image in {self.path} is readable; check the files (the log names each one)")

    def read(self) -> Image | None:
        if self._video is None and not self._opened_folder:
            raise CameraError(f"replay source {self.path} is not open; start the source first")
        self.pacer.wait()
        frame = self._next_full()
        self._current = frame
        return None if frame is None else to_preview(frame, *self.preview)

    def still(self) -> Image:
        if self._current is None:
            frame = self._next_full()
            if frame is None:
                raise CameraError(f"replay source {self.path} has ended; nothing to capture")
            self._current = frame
        return self._current

    def close(self) -> None:
        self._opened_folder = False
        if self._video is not None:
            self._video.release()
            self._video = None
