"""Frame sources: the demo scene, replay, rotation, and one-line errors where a camera is missing."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from mirror.camera import CameraError, CameraSetupError, Pacer, make_source, resolve_kind
from mirror.camera.demo import DemoSource
from mirror.camera.demo_scene import GARMENTS, Timeline, pose_at
from mirror.camera.oriented import Rotated
from mirror.camera.picamera import MISSING, PiCameraSource, picamera2_available
from mirror.camera.replay import ReplaySource
from mirror.camera.v4l2 import V4L2Source
from mirror.config import Settings

PREVIEW = (320, 240)
CAPTURE = (800, 600)
NO_PACING = Pacer(0)


def demo(**kwargs) -> DemoSource:
    return DemoSource(PREVIEW, CAPTURE, 10, pacer=NO_PACING, **kwargs)


def read_until(source: DemoSource, phase: str) -> np.ndarray[Any, np.dtype[np.uint8]]:
    for _ in range(500):
        frame = source.read()
        assert frame is not None
        if source.pose().phase == phase:
            return frame
    raise AssertionError(f"demo never reached {phase}")


def test_demo_cycles_empty_raise_hold_lower_with_a_new_garment_each_time() -> None:
    timeline = Timeline()
    phases = [pose_at(t / 10, timeline).phase for t in range(int(timeline.cycle_s * 10))]
    order = [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] != p]
    assert order == ["empty", "raise", "hold", "lower"]
    kinds = {pose_at(timeline.cycle_s * k + timeline.empty_s + 2, timeline).garment for k in range(len(GARMENTS))}
    assert len(kinds) == len(GARMENTS)


def test_demo_preview_and_still_sizes_and_determinism() -> None:
    a, b = demo(), demo()
    with a, b:
        frames_a = [a.read() for _ in range(30)]
        frames_b = [b.read() for _ in range(30)]
        still = a.still()
    for fa, fb in zip(frames_a, frames_b, strict=True):
        assert fa is not None and fb is not None
        assert fa.shape == (PREVIEW[1], PREVIEW[0], 3) and fa.dtype == np.uint8
        assert np.array_equal(fa, fb)
    assert still.shape == (CAPTURE[1], CAPTURE[0], 3)


def test_demo_garment_is_where_the_scene_says_and_the_room_is_still() -> None:
    source = demo()
    with source:
        empty = read_until(source, "empty").astype(np.int16)
        empty_again = source.read()
        assert empty_again is not None
        held = read_until(source, "hold").astype(np.int16)
        box = source.true_box()
    assert box is not None
    x0, y0, x1, y1 = box
    # the empty room changes only by sensor noise from frame to frame
    assert np.abs(empty_again.astype(np.int16) - empty).mean() < 4
    # the held garment changes its box a lot and leaves most of the rest alone
    diff = np.abs(held - empty).sum(axis=2)
    inside = diff[y0:y1, x0:x1].mean()
    outside = np.concatenate([diff[:, : max(1, x0 - 40)].ravel(), diff[:, x1 + 40 :].ravel()])
    assert inside > 60
    assert np.median(outside) < 12


def test_demo_still_shows_the_same_scene_as_the_preview() -> None:
    source = demo()
    with source:
        preview = read_until(source, "hold")
        still = source.still()
    shrunk = cv2.resize(still, PREVIEW, interpolation=cv2.INTER_AREA)
    assert np.abs(shrunk.astype(np.int16) - preview.astype(np.int16)).mean() < 6


def test_replay_folder_loops_downscales_and_skips_unreadable_files(tmp_path: Path) -> None:
    for i, t in enumerate((0.2, 4.0)):
        frame = demo(start_s=t)
        with frame:
            cv2.imwrite(str(tmp_path / f"{i}.png"), frame.still())
    (tmp_path / "2.jpg").write_bytes(b"not an image")
    source = ReplaySource(tmp_path, PREVIEW, 10, pacer=NO_PACING)
    with source:
        frames = [source.read() for _ in range(4)]
        still = source.still()
    assert all(f is not None and f.shape == (PREVIEW[1], PREVIEW[0], 3) for f in frames)
    assert frames[0] is not None and frames[2] is not None
    assert np.array_equal(frames[0], frames[2])  # looped past the broken file
    assert still.shape == (CAPTURE[1], CAPTURE[0], 3)


def test_replay_names_a_truncated_photo_once_and_leaves_it_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """A photo cut short is named in the log once, with no decoder noise on stderr, then skipped."""
    ok, encoded = cv2.imencode(".jpg", np.full((60, 80, 3), 128, np.uint8))
    assert ok
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((60, 80, 3), np.uint8))
    (tmp_path / "b.jpg").write_bytes(encoded.tobytes()[:-200])
    source = ReplaySource(tmp_path, PREVIEW, 10, pacer=NO_PACING)
    with caplog.at_level("WARNING", logger="mirror.camera.replay"), source:
        frames = [source.read() for _ in range(6)]
    assert all(f is not None for f in frames)
    named = [r.getMessage() for r in caplog.records if "b.jpg" in r.getMessage()]
    assert len(named) == 1 and "truncated JPEG" in named[0]
    assert "Premature end" not in capfd.readouterr().err


def test_replay_folder_with_only_broken_photos_says_so(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"\xff\xd8\xff\xdb cut short")
    source = ReplaySource(tmp_path, PREVIEW, 10, pacer=NO_PACING)
    with source, pytest.raises(CameraError, match=r"no image in .* is readable; check the files"):
        source.read()


def test_replay_without_loop_ends_with_none(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((60, 80, 3), np.uint8))
    source = ReplaySource(tmp_path, PREVIEW, 10, loop=False, pacer=NO_PACING)
    with source:
        assert source.read() is not None
        assert source.read() is None


def test_replay_video_file(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, CAPTURE)
    if not writer.isOpened():
        pytest.skip("this OpenCV build cannot write MJPG video")
    source = demo()
    with source:
        for _ in range(5):
            writer.write(source.still())
            source.read()
    writer.release()
    replay = ReplaySource(path, PREVIEW, 10, pacer=NO_PACING)
    with replay:
        frames = [replay.read() for _ in range(7)]  # loops after 5
    assert all(f is not None and f.shape == (PREVIEW[1], PREVIEW[0], 3) for f in frames)


@pytest.mark.parametrize("name", ["missing", "empty"])
def test_replay_errors_are_one_line(tmp_path: Path, name: str) -> None:
    path = tmp_path / "nothing-here" if name == "missing" else tmp_path
    with pytest.raises(CameraError) as info, ReplaySource(path, PREVIEW, 10):
        pass
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_replay_refuses_a_file_that_is_no_video_or_has_no_frame(tmp_path: Path) -> None:
    """ffmpeg "plays" a text file as rendered text, and a container may open with no frame in it."""
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video\n" * 50)
    with pytest.raises(CameraError, match=r"notes.txt is not a video \(.avi, .h264"), ReplaySource(notes, PREVIEW, 10):
        pass
    stub = tmp_path / "empty.avi"
    writer = cv2.VideoWriter(str(stub), cv2.VideoWriter.fourcc(*"MJPG"), 10, CAPTURE)
    writer.release()  # a header and no frame
    with pytest.raises(CameraError, match=r"empty\.avi is not a readable video"), ReplaySource(stub, PREVIEW, 10):
        pass


def test_missing_v4l2_device_is_a_one_line_error_naming_the_fix() -> None:
    with pytest.raises(CameraError) as info, V4L2Source("/dev/video97", PREVIEW, CAPTURE, 15):
        pass
    message = str(info.value)
    assert "\n" not in message and "/dev/video97" in message and "demo" in message


def test_missing_picamera2_says_how_to_install_it() -> None:
    if picamera2_available():
        pytest.skip("picamera2 is installed here")
    with pytest.raises(CameraSetupError) as info, PiCameraSource(PREVIEW, CAPTURE, 15):
        pass
    assert str(info.value) == MISSING
    assert MISSING.startswith("picamera2 is not installed: sudo apt install python3-picamera2")
    assert resolve_kind("auto") == "v4l2"


class _FailingPicamera2:
    """Stands in for picamera2 (Raspberry Pi OS only) with libcamera's real failure texts."""

    def __init__(self, fail_at: str) -> None:
        self.fail_at = fail_at
        self.closed = False
        self.camera_config: dict[str, Any] = {}

    def _maybe_fail(self, step: str) -> None:
        if step == self.fail_at:
            raise RuntimeError("Failed to acquire camera: Device or resource busy\n  (more libcamera detail)")

    def create_preview_configuration(self, **_: Any) -> dict[str, Any]:
        return {}

    def create_still_configuration(self, **_: Any) -> dict[str, Any]:
        return {}

    def configure(self, _: Any) -> None:
        self._maybe_fail("configure")

    def start(self) -> None:
        pass

    def capture_array(self, _: str) -> Any:
        self._maybe_fail("capture")
        return np.zeros((PREVIEW[1], PREVIEW[0], 3), np.uint8)

    def switch_mode(self, _: Any) -> None:
        self._maybe_fail("switch")

    def stop(self) -> None:
        raise RuntimeError("camera already stopped")

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(("fail_at", "says"), [("configure", "did not start"), ("capture", "stopped delivering")])
def test_picamera_driver_errors_become_one_line_camera_errors(
    monkeypatch: pytest.MonkeyPatch, fail_at: str, says: str
) -> None:
    """libcamera raises bare RuntimeErrors with multi-line texts; the mirror names the camera and the fix."""
    import types

    made: list[_FailingPicamera2] = []

    def make() -> _FailingPicamera2:
        made.append(_FailingPicamera2(fail_at))
        return made[-1]

    module = types.ModuleType("picamera2")
    module.Picamera2 = make  # type: ignore[attr-defined]
    monkeypatch.setitem(__import__("sys").modules, "picamera2", module)
    source = PiCameraSource(PREVIEW, CAPTURE, 15)
    with pytest.raises(CameraError) as info:
        source.open()
        source.read()
    message = str(info.value)
    assert says in message and "Device or resource busy" in message and "\n" not in message
    assert "rpicam-hello --list-cameras" in message
    source.close()
    assert made[0].closed  # released even though stop() complained, so a retry can acquire it


def test_factory_builds_each_kind_and_rotates() -> None:
    camera = dataclasses.replace(Settings().camera, preview_width=320, preview_height=240, rotation=90)
    source = make_source(camera, "demo")
    assert isinstance(source, Rotated)
    source.inner.pacer = NO_PACING  # type: ignore[attr-defined]
    with source:
        frame = source.read()
    assert frame is not None and frame.shape == (320, 240, 3)
    assert isinstance(make_source(dataclasses.replace(camera, rotation=0), "v4l2"), V4L2Source)
    with pytest.raises(CameraSetupError, match="replay_path"):  # the config, not the cable
        make_source(camera, "replay")


def test_pacer_spaces_frames_without_bursts() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    pacer = Pacer(10, clock=lambda: now[0], sleep=sleep)
    pacer.wait()
    pacer.wait()
    now[0] += 0.5  # fell behind: the next frame is due at once, no catch-up
    pacer.wait()
    pacer.wait()
    assert slept == pytest.approx([0.1, 0.1])


def test_demo_close_waits_for_its_pre_render_threads() -> None:
    """The full-resolution sprite is pre-rendered on a thread as a garment rises; close joins it,
    so no thread is left inside OpenCV when the process exits (that aborts it)."""

    def warmers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name.startswith("demo-warm-")]

    assert warmers() == []
    source = DemoSource(PREVIEW, (1920, 1440), 10, pacer=NO_PACING)  # big stills: the render takes a while
    source.open()
    read_until(source, "raise")
    assert warmers(), "the garment rose but no pre-render started"
    source.close()
    assert warmers() == []
    read_until(source, "empty")  # reading on after close: the next garment starts no pre-render
    read_until(source, "raise")
    assert warmers() == []


def test_demo_blends_only_the_sprites_extent_with_the_same_pixels_as_a_whole_frame_blend() -> None:
    """The renderer blends the garment sprite only inside its extent (cheaper per frame); the
    frames equal the whole-frame blend it replaced, held still and smeared while moving."""
    from mirror.camera.demo_scene import _TRAVEL, Renderer, Timeline, _Canvas, pose_at

    def whole_frame(renderer: Renderer, pose, width: int, height: int) -> np.ndarray[Any, np.dtype[np.uint8]]:
        img = renderer._room(width, height).copy()
        c = _Canvas(width, height)
        sprite = renderer._sprite(pose.garment, width, height)  # cropped: paste it into a whole frame
        premult = np.zeros((height, width, 3), np.float32)
        alpha = np.zeros((height, width), np.float32)
        h, w = sprite.alpha.shape
        premult[sprite.y : sprite.y + h, sprite.x : sprite.x + w] = sprite.premult
        alpha[sprite.y : sprite.y + h, sprite.x : sprite.x + w] = sprite.alpha
        shift = round((1.0 - pose.lift) * _TRAVEL * c.s)
        if shift < height:
            p, a = premult[: height - shift], alpha[: height - shift]
            blur = round(pose.speed * c.s / 30.0)
            if blur >= 2:
                kernel = np.full((blur, 1), 1.0 / blur, np.float32)
                p = np.asarray(cv2.filter2D(p, -1, kernel), dtype=np.float32)
                a = np.asarray(cv2.filter2D(a, -1, kernel), dtype=np.float32)
            region = img[shift:].astype(np.float32)
            img[shift:] = np.clip(region * (1.0 - a[..., None]) + p, 0, 255).astype(np.uint8)
        return img

    renderer, timeline = Renderer(), Timeline()
    moments = [timeline.empty_s + k * 0.1 for k in range(12)] + [timeline.cycle_s - timeline.lower_s + 0.4]
    for width, height in (PREVIEW, (640, 480), CAPTURE):
        for t in moments:
            pose = pose_at(t, timeline)
            assert pose.phase != "empty"
            expected = whole_frame(renderer, pose, width, height)
            got = renderer._room(width, height).copy()
            renderer._compose(got, pose, width, height)
            assert np.array_equal(got, expected), (width, t, pose.phase)


def test_demo_sprites_blurred_in_a_crop_equal_the_whole_frame_blur() -> None:
    """The renderer premultiplies and blurs each garment sprite in a crop around it and keeps only
    its non-zero extent (a third of the frame or less); pasted back, that is the whole-frame blur
    it replaced, pixel for pixel, and the whole-frame blur is zero everywhere else."""
    from mirror.camera.demo_scene import _SOFTNESS, _Canvas, _layers, _sprite

    for width, height in (PREVIEW, (321, 241), (640, 480), CAPTURE):
        c = _Canvas(width, height)
        sigma = _SOFTNESS * c.s
        for seed, garment in enumerate(GARMENTS):
            colour, alpha_u8 = _layers(c, garment, seed)
            sharp = alpha_u8.astype(np.float32) / 255.0
            premult = cv2.GaussianBlur(colour.astype(np.float32) * sharp[..., None], (0, 0), sigma)
            alpha = cv2.GaussianBlur(sharp, (0, 0), sigma)
            sprite = _sprite(c, garment, seed)
            h, w = sprite.alpha.shape
            assert h * w < 0.4 * width * height, (width, garment.category)
            pasted_premult, pasted_alpha = np.zeros_like(premult), np.zeros_like(alpha)
            pasted_premult[sprite.y : sprite.y + h, sprite.x : sprite.x + w] = sprite.premult
            pasted_alpha[sprite.y : sprite.y + h, sprite.x : sprite.x + w] = sprite.alpha
            assert np.array_equal(pasted_premult, premult), (width, garment.category)
            assert np.array_equal(pasted_alpha, alpha), (width, garment.category)


def test_demo_camera_noise_is_the_truncated_gaussian_draws_added_with_saturation() -> None:
    """The renderer keeps its noise bank as int8 and adds it with int8 saturation; the frames are
    those of the (add, subtract) uint8 pairs drawn a frame at a time that it replaced."""
    from mirror.camera.demo_scene import _NOISE_FRAMES, _NOISE_SIGMA, Renderer

    width, height = PREVIEW
    renderer = Renderer()
    empty = pose_at(0.0)
    assert empty.phase == "empty"
    room = renderer._room(width, height)
    rng = np.random.default_rng(7)
    for seed in range(_NOISE_FRAMES):
        n = rng.normal(0.0, _NOISE_SIGMA, size=(height, width, 3))
        add, sub = np.clip(n, 0, 255).astype(np.uint8), np.clip(-n, 0, 255).astype(np.uint8)
        expected = cv2.subtract(cv2.add(room, add), sub)
        for frame_no in (seed, seed + _NOISE_FRAMES):
            assert np.array_equal(renderer.render(empty, width, height, seed=frame_no), expected), frame_no


def _array_bytes(obj: object) -> int:
    """Bytes of the numpy arrays ``obj`` holds, through dicts, lists, tuples and attributes."""
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, dict):
        return sum(_array_bytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_array_bytes(v) for v in obj)
    if hasattr(obj, "__dict__"):
        return sum(_array_bytes(v) for v in vars(obj).values())
    return 0


def test_demo_renderer_cache_stays_small_at_the_default_frame_sizes() -> None:
    """The demo renderer caches, per frame size, the room, each garment's blurred sprite and a bank
    of camera noise. Whole-frame float32 sprites and uint8 (add, subtract) noise pairs held 264 MiB
    at the default preview and still sizes once the five garments had been shown: a quarter of a
    2 GB Pi, for a camera that does not exist. Sprites cropped to their extent and one int8 noise
    bank hold 100 MiB; the bound fails if either goes back."""
    from mirror.camera.demo_scene import Renderer

    camera = Settings().camera
    sizes = ((camera.preview_width, camera.preview_height), (camera.capture_width, camera.capture_height))
    renderer, timeline = Renderer(), Timeline()
    for k, garment in enumerate(GARMENTS):
        pose = pose_at(k * timeline.cycle_s + timeline.empty_s + timeline.raise_s + 1.0, timeline)
        assert pose.phase == "hold" and pose.garment == garment
        for width, height in sizes:
            renderer.render(pose, width, height)
    held = _array_bytes(renderer)
    assert held > 50 * 2**20, "the walk found no cache: the renderer's attributes changed"
    assert held < 128 * 2**20, f"the demo renderer holds {held / 2**20:.0f} MiB"


def test_a_missing_camera_is_said_by_the_mirror_alone_not_by_opencv_at_every_retry() -> None:
    """OpenCV writes its own warning to stderr at each failed open: with the camera unplugged and a retry
    every few seconds, that was thousands of journal lines a day beside the mirror's one."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "import dataclasses, mirror\n"
        "from mirror.camera import make_source\n"
        "from mirror.config.settings import CameraSettings\n"
        "source = make_source(dataclasses.replace(CameraSettings(), source='v4l2', device='/dev/video97'))\n"
        "for _ in range(3):\n"
        "    try:\n"
        "        source.open()\n"
        "    except Exception as exc:\n"
        "        print(exc)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_LOG_LEVEL"}
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert run.stdout.count("no camera at /dev/video97") == 3
    assert run.stderr == ""
    logging_setup = "import logging; from mirror.logsetup import configure_logging; configure_logging(); "
    quiet = logging_setup + "print(logging.getLogger('picamera2').isEnabledFor(logging.ERROR))"
    assert subprocess.run([sys.executable, "-c", quiet], cwd=ROOT, capture_output=True, text=True).stdout == "False\n"
