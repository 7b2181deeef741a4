"""``smart-mirror analyze``: the JSON-lines contract, checked strictly, on demo frames and real photos."""

from __future__ import annotations

import csv
import errno
import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from mirror.camera.demo_scene import GARMENTS, Timeline, garment_box, pose_at, render
from mirror.cli import exitcodes, main
from mirror.imagefile import UnreadableImageError, declared_size, read_image
from mirror.manifest import default_models_dir
from mirror.pipeline.contract import error_object, to_line
from mirror.vision.colour import BASIC_TERMS
from tests.conftest import ROOT, require_shared

CATEGORIES = ("t-shirt", "longsleeve", "shirt", "outwear", "dress", "skirt", "pants", "shorts", "shoes", "hat")
HEX = re.compile(r"^#[0-9a-f]{6}$")
DEMO_SIZE = (1024, 768)


def require_models() -> None:
    """The shipped models are part of the checkout: one missing is a failure, never a skip."""
    for name in ("segmenter", "classifier", "colour"):
        manifest = default_models_dir() / name / "model.json"
        assert manifest.is_file(), f"{manifest} is missing: the models are shipped with the mirror; analyze needs it"


def check_garment(g: dict[str, Any], width: int, height: int) -> None:
    """One element of ``garments``, strictly as docs/analyze.md says."""
    assert list(g) == ["category", "category_score", "group", "score", "box", "polygons", "color"]
    assert g["category"] in CATEGORIES
    for key in ("category_score", "score"):
        assert isinstance(g[key], float) and 0.0 <= g[key] <= 1.0
    assert isinstance(g["group"], str) and g["group"]
    box = g["box"]
    assert len(box) == 4 and all(isinstance(v, int) for v in box)
    x0, y0, x1, y1 = box
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
    assert g["polygons"] and all(len(poly) >= 3 for poly in g["polygons"])
    for poly in g["polygons"]:
        for point in poly:
            assert len(point) == 2 and all(isinstance(v, int) for v in point)
            assert x0 - 2 <= point[0] <= x1 + 2 and y0 - 2 <= point[1] <= y1 + 2
    color = g["color"]
    assert list(color) == ["basic", "name", "hex", "palette"]
    assert color["basic"] in BASIC_TERMS and isinstance(color["name"], str) and color["name"]
    assert HEX.match(color["hex"])
    assert 1 <= len(color["palette"]) <= 3
    for entry in color["palette"]:
        assert list(entry) == ["hex", "basic", "share"]
        assert HEX.match(entry["hex"]) and entry["basic"] in BASIC_TERMS and 0.0 < entry["share"] <= 1.0
    assert sum(e["share"] for e in color["palette"]) <= 1.0001


def check_line(obj: dict[str, Any], path: str) -> None:
    """A successful line for the image at ``path`` (coordinates inside the source image)."""
    assert list(obj) == ["image", "ms", "garments"]
    assert obj["image"] == path and isinstance(obj["ms"], float) and obj["ms"] > 0
    image = cv2.imread(path)
    height, width = image.shape[:2]
    assert isinstance(obj["garments"], list)
    for g in obj["garments"]:
        check_garment(g, width, height)


def analyze(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, Any]], str]:
    code = main(["analyze", *args])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    return code, [json.loads(line) for line in lines], err


def demo_stills(folder: Path) -> list[tuple[str, Any]]:
    """One held-up garment per demo garment, written as JPEG; with the scene's truth."""
    timeline = Timeline()
    stills = []
    for k, item in enumerate(GARMENTS):
        pose = pose_at(k * timeline.cycle_s + timeline.empty_s + timeline.raise_s + 1.0, timeline)
        assert pose.garment == item
        path = folder / f"demo-{item.category}.jpg"
        cv2.imwrite(str(path), render(pose, *DEMO_SIZE, seed=k), [cv2.IMWRITE_JPEG_QUALITY, 92])
        stills.append((str(path), pose))
    return stills


def iou(a: list[int], b: tuple[int, int, int, int]) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_models_missing_is_one_line_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[vision]\nmodels_dir = "{tmp_path / "none"}"\n')
    code = main(["--config", str(config), "analyze", str(tmp_path / "x.jpg")])
    out, err = capsys.readouterr()
    assert code == exitcodes.FAILED and out == ""
    assert len(err.strip().splitlines()) == 1 and "segmenter" in err


@pytest.mark.slow
def test_demo_frames_find_the_held_garment_where_it_is(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_models()
    stills = demo_stills(tmp_path)
    code, objs, _ = analyze([p for p, _ in stills], capsys)
    assert code == exitcodes.OK
    assert [o["image"] for o in objs] == [p for p, _ in stills]
    colours_right = 0
    for obj, (path, pose) in zip(objs, stills, strict=True):
        check_line(obj, path)
        assert obj["garments"], f"no garment found in {path}"
        first = obj["garments"][0]
        truth = garment_box(pose, *DEMO_SIZE)
        assert truth is not None
        assert iou(first["box"], truth) > 0.6, (path, first["box"], truth)
        colours_right += first["color"]["basic"] == pose.garment.basic
        # The demo is what a first-time user sees: each garment must be named as what it is.
        assert first["category"] == pose.garment.category, (path, first["category"])
    assert colours_right >= len(stills) - 1


@pytest.mark.slow
def test_unreadable_paths_get_error_lines_and_the_run_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_models()
    good = str(tmp_path / "good.jpg")
    cv2.imwrite(good, render(pose_at(4.0), *DEMO_SIZE))
    text = tmp_path / "notes.txt"
    text.write_text("not a photo")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    paths = [str(tmp_path / "missing.jpg"), good, str(text), str(tmp_path), str(empty), good]
    code, objs, _ = analyze(paths, capsys)
    assert code == exitcodes.FAILED
    assert [o["image"] for o in objs] == paths
    assert objs[0] == {"image": paths[0], "error": "no such file"}
    for k in (2, 3, 4):
        assert list(objs[k]) == ["image", "error"] and isinstance(objs[k]["error"], str) and objs[k]["error"]
    check_line(objs[1], good)
    check_line(objs[5], good)


@pytest.mark.slow
def test_save_cutouts_writes_transparent_black_and_white(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_models()
    path = str(tmp_path / "held.jpg")
    cv2.imwrite(path, render(pose_at(4.0), *DEMO_SIZE))
    out_dir = tmp_path / "cutouts"
    code, objs, _ = analyze([path, path, "--save-cutouts", str(out_dir), "--threads", "1"], capsys)
    assert code == exitcodes.OK and objs[0]["garments"]
    names = sorted(p.name for p in out_dir.iterdir())
    assert {"held.0.cutout.png", "held.0.black.jpg", "held.0.white.jpg", "held-2.0.cutout.png"} <= set(names)
    png = cv2.imread(str(out_dir / "held.0.cutout.png"), cv2.IMREAD_UNCHANGED)
    assert png.shape[2] == 4 and png[0, 0, 3] == 0 and (png[..., 3] == 255).mean() > 0.3
    x0, y0, x1, y1 = objs[0]["garments"][0]["box"]
    assert png.shape[1] >= (x1 - x0) and png.shape[0] >= (y1 - y0)  # box plus margin (analysed at full size)


@pytest.mark.slow
def test_backends_agree_on_demo_frames(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_models()
    paths = [p for p, _ in demo_stills(tmp_path)]
    _, tfl, _ = analyze([*paths, "--backend", "tflite"], capsys)
    _, onnx, _ = analyze([*paths, "--backend", "onnx"], capsys)
    for a, b in zip(tfl, onnx, strict=True):
        assert bool(a["garments"]) == bool(b["garments"])
        if a["garments"]:
            assert iou(a["garments"][0]["box"], tuple(b["garments"][0]["box"])) > 0.9
            assert a["garments"][0]["color"]["basic"] == b["garments"][0]["color"]["basic"]


def shared_photos(count: int) -> list[str]:
    """A few validation photos of single garments from ../shared (skips when absent)."""
    folder = require_shared("data", "clothing")
    with (folder / "images.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["small_split"] == "validation"]
    rows.sort(key=lambda r: r["image"])
    paths = [folder / "images" / f"{r['image']}.jpg" for r in rows[: count * 2]]
    return [str(p) for p in paths if p.is_file()][:count]


@pytest.mark.slow
@pytest.mark.shared
def test_real_photos_follow_the_contract_and_mostly_find_a_garment(capsys: pytest.CaptureFixture[str]) -> None:
    require_models()
    paths = shared_photos(12)
    code, objs, _ = analyze(paths, capsys)
    assert code == exitcodes.OK
    assert [o["image"] for o in objs] == paths
    for obj, path in zip(objs, paths, strict=True):
        check_line(obj, path)
    found = sum(bool(o["garments"]) for o in objs)
    assert found >= 0.8 * len(paths)


def test_check_line_itself_rejects_broken_output() -> None:
    """The contract checker must be able to fail: a wrong key, type or range is caught."""
    good: dict[str, Any] = {
        "category": "t-shirt",
        "category_score": 0.9,
        "group": "top",
        "score": 0.8,
        "box": [1, 1, 50, 50],
        "polygons": [[[1, 1], [50, 1], [50, 50]]],
        "color": {
            "basic": "red",
            "name": "red",
            "hex": "#aa0000",
            "palette": [{"hex": "#aa0000", "basic": "red", "share": 1.0}],
        },
    }
    check_garment(good, 100, 100)
    broken = [
        {**good, "category": "jumper"},
        {**good, "box": [1, 1, 500, 50]},
        {**good, "score": 1},
        {**good, "color": {**good["color"], "hex": "red"}},
        {k: v for k, v in good.items() if k != "group"},
    ]
    for g in broken:
        with pytest.raises(AssertionError):
            check_garment(g, 100, 100)


def test_read_image_applies_exif_orientation(tmp_path: Path) -> None:
    """Coordinates are in the photo as a viewer shows it: a JPEG tagged "rotate 90°" is read upright."""
    ok, encoded = cv2.imencode(".jpg", np.zeros((100, 200, 3), np.uint8))
    assert ok
    jpeg = encoded.tobytes()
    ifd = struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack(">I", 0)
    payload = b"Exif\x00\x00" + b"MM\x00\x2a\x00\x00\x00\x08" + ifd
    path = tmp_path / "rotated.jpg"
    path.write_bytes(jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:])
    assert read_image(str(path)).shape == (200, 100, 3)
    with pytest.raises(UnreadableImageError, match="no such file"):
        read_image(str(tmp_path / "missing.jpg"))


def test_a_webp_that_declares_too_many_pixels_is_refused_not_decoded(tmp_path: Path) -> None:
    """PNG and JPEG headers are read by the project; any other format (WebP, TIFF, a JPEG whose size
    comes after 64 KB of headers) rests on OpenCV's own limit, which the mirror package sets before
    OpenCV loads. Without it this 8×8 lossless WebP, patched to declare 11000×11000, decodes to 360 MB."""
    ok, encoded = cv2.imencode(".webp", np.zeros((8, 8, 3), np.uint8), [cv2.IMWRITE_WEBP_QUALITY, 101])
    webp = bytearray(encoded.tobytes())
    assert ok and webp[12:16] == b"VP8L" and webp[20] == 0x2F  # a lossless bitstream: size at bytes 21-24
    rest = struct.unpack("<I", bytes(webp[21:25]))[0] >> 28  # alpha bit and version
    webp[21:25] = struct.pack("<I", (11000 - 1) | (11000 - 1) << 14 | rest << 28)
    path = tmp_path / "bomb.webp"
    path.write_bytes(bytes(webp))
    with pytest.raises(UnreadableImageError, match=r"^image is more than 100 megapixels; scale it down first$"):
        read_image(str(path))


def test_images_over_the_pixel_limit_are_refused_before_decoding(tmp_path: Path) -> None:
    """A 60000×60000 PNG is a few MB on disk and 10 GB decoded: refused from its header, one line."""
    ok, encoded = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))
    assert ok
    png = bytearray(encoded.tobytes())
    png[16:24] = struct.pack(">II", 60000, 60000)  # the IHDR width and height (the CRC no longer matches)
    path = tmp_path / "bomb.png"
    path.write_bytes(bytes(png))
    with pytest.raises(UnreadableImageError, match=r"60000×60000 pixels, more than 100 megapixels; scale it down"):
        read_image(str(path))
    ok, encoded = cv2.imencode(".jpg", np.zeros((30, 40, 3), np.uint8))
    assert ok and declared_size(encoded.tobytes()) == (40, 30)


def test_save_cutouts_on_a_full_disk_is_one_line_and_leaves_no_partial_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    require_models()
    path = str(tmp_path / "held.jpg")
    cv2.imwrite(path, render(pose_at(4.0), *DEMO_SIZE))
    out_dir = tmp_path / "cutouts"
    real_write = Path.write_bytes

    def full(self: Path, data: bytes) -> int:
        real_write(self, data[: len(data) // 2])  # a half-written file, as a full disk leaves it
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    code, objs, err = analyze([path, path, "--save-cutouts", str(out_dir), "--threads", "1"], capsys)
    assert code == exitcodes.FAILED and len(objs) == 1  # the first result still printed; then it stops
    assert err.strip().splitlines()[-1] == (
        f"smart-mirror analyze: cannot write cut-outs to {out_dir} (No space left on device); "
        "free some space or pick another --save-cutouts DIR"
    )
    assert list(out_dir.iterdir()) == []


def test_thread_counts_beyond_the_config_bound_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = analyze(["x.jpg", "--threads", "100000"], capsys)
    assert code == exitcodes.USAGE and "--threads must be 0 (one per core) to 64" in err


def test_a_closed_output_pipe_ends_the_run_quietly(tmp_path: Path) -> None:
    """`smart-mirror analyze … | head -1`: no BrokenPipeError traceback, exit 141 like other shell tools."""
    paths = [str(tmp_path / f"missing{i}.jpg") for i in range(20000)]  # error lines, no models needed
    script = "import sys; from mirror.cli.main import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", script, "analyze", *paths],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does after its line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == exitcodes.PIPE_CLOSED
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_a_file_name_that_is_not_utf8_still_gives_a_valid_utf8_json_line() -> None:
    name = os.fsdecode(b"caf\xe9.jpg")  # as Python sees a Latin-1 file name on a UTF-8 system
    line = to_line(error_object(name, "no such file"))
    line.encode("utf-8")  # would raise on a lone surrogate
    assert os.fsencode(json.loads(line)["image"]) == b"caf\xe9.jpg"
    assert to_line(error_object("café.jpg", "no such file")) == '{"image": "café.jpg", "error": "no such file"}'


def test_truncated_photos_are_named_not_half_decoded(tmp_path: Path) -> None:
    """libjpeg would fill a cut-short JPEG with grey and print noise with no file name."""
    image = np.full((40, 60, 3), 90, np.uint8)
    for suffix, kind in ((".jpg", "JPEG"), (".png", "PNG")):
        ok, encoded = cv2.imencode(suffix, image)
        assert ok
        whole = encoded.tobytes()
        intact, cut = tmp_path / f"whole{suffix}", tmp_path / f"cut{suffix}"
        intact.write_bytes(whole + b"\x00" * 16)  # padding after the end marker is harmless
        cut.write_bytes(whole[: len(whole) * 2 // 3])
        assert read_image(str(intact)).shape == (40, 60, 3)
        with pytest.raises(UnreadableImageError, match=f"truncated {kind} .*; copy it again"):
            read_image(str(cut))
