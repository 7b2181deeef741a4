"""The built-in demo camera: the synthetic scene of ``demo_scene`` as a frame source.

Scene time advances by one frame interval per ``read`` (not by the wall clock), so the
same run gives the same frames everywhere: a test that reads N frames knows exactly which
phase the scene is in, however slow the machine. A ``Pacer`` keeps the frames at ``fps``
for people watching; tests pass ``fps=0`` style pacing to run flat out.
"""

from __future__ import annotations

import logging
import threading

from mirror.camera.base import FrameSource, Pacer
from mirror.camera.demo_scene import Pose, Renderer, Timeline, garment_box, pose_at
from mirror.imagetypes import Image
from mirror.threads import lower_this_thread_priority

log = logging.getLogger(__name__)
#: Longest wait in ``close`` for a pre-render in progress (one takes 1-2 s on a slow machine).
JOIN_TIMEOUT_S = 30.0


class DemoSource(FrameSource):
    """A room where garments are raised, held still and lowered, one after another, forever."""

    name = "demo"

    def __init__(
        self,
        preview: tuple[int, int],
        capture: tuple[int, int],
        fps: float,
        *,
        timeline: Timeline | None = None,
        pacer: Pacer | None = None,
        start_s: float = 0.0,
    ) -> None:
        self.preview = preview
        self.capture = capture
        self.fps = fps
        self.timeline = timeline or Timeline()
        self.pacer = pacer or Pacer(fps)
        self._start_s = start_s
        self._frame = -1
        self._renderer = Renderer()
        self._warming: set[str] = set()
        self._warmers: list[threading.Thread] = []
        self._closed = False
        self._lock = threading.Lock()

    @property
    def scene_time(self) -> float:
        """Seconds into the scene of the last frame read."""
        return self._start_s + max(0, self._frame) / self.fps

    def pose(self) -> Pose:
        """What the scene shows now (the truth tests compare against)."""
        return pose_at(self.scene_time, self.timeline)

    def true_box(self, size: tuple[int, int] | None = None) -> tuple[int, int, int, int] | None:
        """The garment's real box in a frame of ``size`` (default: the preview), or None."""
        w, h = size or self.preview
        return garment_box(self.pose(), w, h)

    def open(self) -> None:
        self._frame = -1
        self._closed = False
        self._renderer.render(pose_at(self.timeline.empty_s + self.timeline.raise_s, self.timeline), *self.preview)

    def read(self) -> Image | None:
        self.pacer.wait()
        with self._lock:
            self._frame += 1
            pose = self.pose()
            frame_no = self._frame
        if pose.phase != "empty":
            self._warm_still(pose)
        return self._renderer.render(pose, *self.preview, seed=frame_no)

    def _warm_still(self, pose: Pose) -> None:
        """Render the full-resolution sprite of a garment in the background as soon as it appears.

        Why: building it takes ~1-2 s the first time; doing it while the person is still
        raising the garment keeps the shutter instant.
        """
        category = pose.garment.category
        with self._lock:
            if category in self._warming or self._closed:
                return
            self._warming.add(category)
            thread = threading.Thread(target=self._prerender, args=(pose,), name=f"demo-warm-{category}", daemon=True)
            self._warmers = [t for t in self._warmers if t.is_alive()]
            self._warmers.append(thread)
            thread.start()

    def _prerender(self, pose: Pose) -> None:
        """The sprite at capture size, behind the preview, the GUI and a shot being analysed:
        the demo's own chores must not slow down what the mirror is measured on."""
        lower_this_thread_priority()
        self._renderer.render(pose, *self.capture)

    def close(self) -> None:
        """Wait for the pre-renders in progress: a thread left inside OpenCV while the
        interpreter exits aborts the process ("terminate called without an active exception")."""
        with self._lock:
            self._closed = True
            warmers, self._warmers = self._warmers, []
        for thread in warmers:
            thread.join(JOIN_TIMEOUT_S)
            if thread.is_alive():
                log.warning("demo camera: pre-render %s still running after %.0f s", thread.name, JOIN_TIMEOUT_S)

    def still(self) -> Image:
        return self.stills(1)[0]

    def stills(self, count: int) -> list[Image]:
        with self._lock:
            pose, frame_no = self.pose(), self._frame
        seeds = tuple(frame_no + 1 + k for k in range(max(1, count)))
        return self._renderer.render_many(pose, *self.capture, seeds)
