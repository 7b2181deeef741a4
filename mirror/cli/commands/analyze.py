"""``smart-mirror analyze``: images in, one JSON line per image out (docs/analyze.md).

The models are loaded once for the whole run, so analysing a folder costs one load plus
tens of milliseconds per image. Each line is flushed as soon as its image is done, so a
pipe consumer sees results while the run goes on. An image that cannot be read or analysed
gets an ``{"image", "error"}`` line and the run continues; the exit code is 1 at the end
if any image failed.

A file name that is not valid UTF-8 (a Latin-1 name on a UTF-8 system) reaches Python with lone
surrogates for the bytes it could not decode; every name this command prints, in a JSON line or
on stderr, goes through :func:`readable` first, so such a byte reads ``\\xff`` the same in both
(never ``\\udcff``: a lone surrogate no UTF-8 writer or strict JSON reader takes).

The pipeline (numpy, OpenCV, the runtimes) is imported in ``run``, not here: every
``smart-mirror`` call builds this command's parser, and ``--help`` must not load it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from mirror.cli import exitcodes
from mirror.cli.argtypes import BACKENDS
from mirror.config import Settings
from mirror.config.settings import MAX_THREADS
from mirror.names import readable

if TYPE_CHECKING:
    from mirror.pipeline.result import AnalysisResult

NAME = "analyze"
HELP = "find and name the garments in image files; print one JSON line per image"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files to analyse")
    parser.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help=f"CPU threads per model, 0 (one per core) to {MAX_THREADS} (default: [vision] threads)",
    )
    parser.add_argument("--backend", choices=BACKENDS, help="inference runtime (default: [vision] backend)")
    parser.add_argument("--save-cutouts", metavar="DIR", help="also write each garment's cut-outs here")


def save_cutouts(folder: Path, stem: str, result: AnalysisResult) -> None:
    """Write ``<stem>.<n>.cutout.png`` / ``.black.jpg`` / ``.white.jpg`` per garment (n = 0 most prominent).

    Each file is written under a temp name and renamed, so a full disk leaves no truncated
    cut-out behind; the OSError goes to the caller.
    """
    from mirror.pipeline.result import CUTOUT_BLACK, CUTOUT_PNG, CUTOUT_WHITE

    suffixes = {CUTOUT_PNG: "cutout.png", CUTOUT_BLACK: "black.jpg", CUTOUT_WHITE: "white.jpg"}
    for n, garment in enumerate(result.garments):
        for kind, suffix in suffixes.items():
            if kind in garment.images:
                final = folder / f"{stem}.{n}.{suffix}"
                tmp = final.with_name(f".{final.name}.tmp")
                try:
                    tmp.write_bytes(garment.images[kind])
                    tmp.replace(final)
                finally:
                    tmp.unlink(missing_ok=True)


def _complain(message: str) -> None:
    """One line on stderr, names in it as :func:`readable` writes them."""
    print(f"smart-mirror analyze: {readable(message)}", file=sys.stderr)


def _unique_stem(path: str, used: set[str]) -> str:
    stem = Path(path).stem or "image"
    candidate, k = stem, 2
    while candidate in used:
        candidate, k = f"{stem}-{k}", k + 1
    used.add(candidate)
    return candidate


def _with_models_dir(message: str, configured: str) -> str:
    """A model error plus ``[vision] models_dir`` when one is set: a folder of one's own is the likely
    culprit, and the error's "reinstall" alone would send the user to the wrong place (doctor says the same)."""
    if not configured:
        return message
    from mirror.pipeline.models import models_fix

    return f"{message}; or {models_fix(configured)}"


def run(args: argparse.Namespace, settings: Settings) -> int:
    from mirror.imagefile import UnreadableImageError, read_image
    from mirror.pipeline.analyzer import Analyzer
    from mirror.pipeline.contract import error_object, result_object, to_line
    from mirror.pipeline.models import ModelsError, load_models, models_dir

    vision = settings.vision
    backend = args.backend or vision.backend
    threads = vision.threads if args.threads is None else args.threads
    if not 0 <= threads <= MAX_THREADS:
        _complain(f"--threads must be 0 (one per core) to {MAX_THREADS}")
        return exitcodes.USAGE
    out_dir = Path(args.save_cutouts) if args.save_cutouts else None
    if out_dir is not None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _complain(f"cannot create {out_dir} ({exc.strerror}); pick another --save-cutouts DIR")
            return exitcodes.USAGE
    try:
        models = load_models(models_dir(vision.models_dir), backend, threads, vision.min_garment_area)
    except ModelsError as exc:
        _complain(_with_models_dir(str(exc), vision.models_dir))
        return exitcodes.FAILED
    analyzer = Analyzer(models, unsure_below=vision.unsure_below)
    failed = 0
    stems: set[str] = set()
    for path in args.paths:
        t0 = time.perf_counter()
        name = readable(path)
        try:
            image = read_image(path)
            result = analyzer.analyze(image, encode=out_dir is not None)
        except UnreadableImageError as exc:
            failed += 1
            print(to_line(error_object(name, readable(str(exc)))), flush=True)
            continue
        except Exception as exc:  # one bad image must not end the run; say what happened
            failed += 1
            print(to_line(error_object(name, readable(f"analysis failed: {exc}"))), flush=True)
            continue
        print(to_line(result_object(name, result, (time.perf_counter() - t0) * 1000.0)), flush=True)
        if out_dir is not None:
            try:
                save_cutouts(out_dir, _unique_stem(path, stems), result)
            except OSError as exc:  # a full or read-only disk: every later image would fail the same way
                _complain(
                    f"cannot write cut-outs to {out_dir} ({exc.strerror or exc}); "
                    "free some space or pick another --save-cutouts DIR"
                )
                return exitcodes.FAILED
    return exitcodes.FAILED if failed else exitcodes.OK
