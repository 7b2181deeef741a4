"""``smart-mirror analyze``: images in, one JSON line per image out (docs/analyze.md).

The models are loaded once for the whole run, so analysing a folder costs one load plus
tens of milliseconds per image. Each line is flushed as soon as its image is done, so a
pipe consumer sees results while the run goes on. An image that cannot be read or analysed
gets an ``{"image", "error"}`` line and the run continues; the exit code is 1 at the end
if any image failed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from mirror.cli import exitcodes
from mirror.config import Settings
from mirror.config.settings import MAX_THREADS
from mirror.pipeline.analyzer import Analyzer
from mirror.pipeline.contract import error_object, result_object, to_line
from mirror.pipeline.finder import Image
from mirror.pipeline.models import ModelsError, load_models, models_dir
from mirror.pipeline.result import CUTOUT_BLACK, CUTOUT_PNG, CUTOUT_WHITE, AnalysisResult

NAME = "analyze"
HELP = "find and name the garments in image files; print one JSON line per image"

#: Larger images are refused before decoding: 100 megapixels is 300 MB as BGR before any
#: processing (a Pi 4 may have 2 GB), several times a phone or Pi HQ camera photo (12–50 MP).
MAX_PIXELS = 100_000_000

#: Saved cut-out file name suffixes per image kind.
CUTOUT_FILES = {CUTOUT_PNG: "cutout.png", CUTOUT_BLACK: "black.jpg", CUTOUT_WHITE: "white.jpg"}


class UnreadableImageError(ValueError):
    """A path that is not a readable image; the message is the ``error`` of its JSON line."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files to analyse")
    parser.add_argument("--threads", type=int, metavar="N", help="CPU threads per model (default: config)")
    parser.add_argument("--backend", choices=("tflite", "onnx"), help="inference runtime (default: config)")
    parser.add_argument("--save-cutouts", metavar="DIR", help="also write each garment's cut-outs here")


def read_image(path: str) -> Image:
    """The image at ``path`` as BGR (EXIF orientation applied), or :class:`UnreadableImageError`."""
    p = Path(path)
    if not p.exists():
        raise UnreadableImageError("no such file")
    if p.is_dir():
        raise UnreadableImageError("is a folder, not an image")
    try:
        data = np.fromfile(p, dtype=np.uint8)
    except OSError as exc:
        raise UnreadableImageError(f"cannot read the file ({exc.strerror or exc})") from None
    size = declared_size(data.tobytes()[:65536])
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        raise UnreadableImageError(
            f"image is {size[0]}×{size[1]} pixels, more than {MAX_PIXELS // 1_000_000} megapixels; scale it down first"
        )
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    except cv2.error:  # OpenCV's own limits (CV_IO_MAX_IMAGE_PIXELS) and decoder failures
        image = None
    if image is None:
        raise UnreadableImageError("not a readable image (unsupported format or damaged file)")
    return np.asarray(image, dtype=np.uint8)


def declared_size(head: bytes) -> tuple[int, int] | None:
    """Width and height a PNG or JPEG header declares (read before decoding), else None."""
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if head[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(head) and head[i] == 0xFF:
        marker, length = head[i + 1], int.from_bytes(head[i + 2 : i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):  # SOFn
            return int.from_bytes(head[i + 7 : i + 9], "big"), int.from_bytes(head[i + 5 : i + 7], "big")
        i += 2 + length
    return None


def save_cutouts(folder: Path, stem: str, result: AnalysisResult) -> None:
    """Write ``<stem>.<n>.cutout.png`` / ``.black.jpg`` / ``.white.jpg`` per garment (n = 0 most prominent).

    Each file is written under a temp name and renamed, so a full disk leaves no truncated
    cut-out behind; the OSError goes to the caller.
    """
    for n, garment in enumerate(result.garments):
        for kind, suffix in CUTOUT_FILES.items():
            if kind in garment.images:
                final = folder / f"{stem}.{n}.{suffix}"
                tmp = final.with_name(f".{final.name}.tmp")
                try:
                    tmp.write_bytes(garment.images[kind])
                    tmp.replace(final)
                finally:
                    tmp.unlink(missing_ok=True)


def _unique_stem(path: str, used: set[str]) -> str:
    stem = Path(path).stem or "image"
    candidate, k = stem, 2
    while candidate in used:
        candidate, k = f"{stem}-{k}", k + 1
    used.add(candidate)
    return candidate


def run(args: argparse.Namespace, settings: Settings) -> int:
    vision = settings.vision
    backend = args.backend or vision.backend
    threads = vision.threads if args.threads is None else args.threads
    if not 0 <= threads <= MAX_THREADS:
        print(f"smart-mirror analyze: --threads must be 0 (one per core) to {MAX_THREADS}", file=sys.stderr)
        return exitcodes.USAGE
    out_dir = Path(args.save_cutouts) if args.save_cutouts else None
    if out_dir is not None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(
                f"smart-mirror analyze: cannot create {out_dir} ({exc.strerror}); pick another --save-cutouts DIR",
                file=sys.stderr,
            )
            return exitcodes.USAGE
    try:
        models = load_models(models_dir(vision.models_dir), backend, threads, vision.min_garment_area)
    except ModelsError as exc:
        print(f"smart-mirror analyze: {exc}", file=sys.stderr)
        return exitcodes.FAILED
    analyzer = Analyzer(models, unsure_below=vision.unsure_below)
    failed = 0
    stems: set[str] = set()
    for path in args.paths:
        t0 = time.perf_counter()
        try:
            image = read_image(path)
            result = analyzer.analyze(image, encode=out_dir is not None)
        except UnreadableImageError as exc:
            failed += 1
            print(to_line(error_object(path, str(exc))), flush=True)
            continue
        except Exception as exc:  # one bad image must not end the run; say what happened
            failed += 1
            print(to_line(error_object(path, f"analysis failed: {exc}")), flush=True)
            continue
        print(to_line(result_object(path, result, (time.perf_counter() - t0) * 1000.0)), flush=True)
        if out_dir is not None:
            try:
                save_cutouts(out_dir, _unique_stem(path, stems), result)
            except OSError as exc:  # a full or read-only disk: every later image would fail the same way
                print(
                    f"smart-mirror analyze: cannot write cut-outs to {out_dir} ({exc.strerror or exc}); "
                    "free some space or pick another --save-cutouts DIR",
                    file=sys.stderr,
                )
                return exitcodes.FAILED
    return exitcodes.FAILED if failed else exitcodes.OK
