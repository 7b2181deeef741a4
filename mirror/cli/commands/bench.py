"""``smart-mirror bench``: speed and memory figures as one JSON report (docs/analyze.md#bench).

The measuring lives in ``mirror.pipeline.bench``; this module reads the images, prints the
report and writes ``--output``. ``--sync`` hands over to the sync package's own bench
(``sync.bench.run_sync_bench``); ``--ui`` to the UI's (``ui.bench.run_ui_bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from mirror.cli import exitcodes
from mirror.cli.argtypes import BACKENDS, bounded
from mirror.config import Settings
from mirror.names import readable

NAME = "bench"
HELP = "measure per-stage latency, model load time and peak memory; print a JSON report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="*", metavar="IMAGE", help="images to time (default: built-in demo frames)")
    modes = parser.add_mutually_exclusive_group()  # each is a bench of its own, with its own report
    modes.add_argument("--sync", action="store_true", help="benchmark MQTT sync throughput instead")
    modes.add_argument(
        "--ui", action="store_true", help="benchmark the mirror UI instead (preview fps, shutter to result, GUI stalls)"
    )
    modes.add_argument(
        "--soak",
        type=bounded(float, "a number of minutes", 0.5, 1440.0, lowest_ok=True),
        metavar="MINUTES",
        help="use the whole mirror for MINUTES (shots, keeps, closet visits, a broker outage) and report what "
        "grows: memory, open files, threads; and that every garment reached the cloud",
    )
    parser.add_argument("--output", metavar="FILE", help="also write the JSON report here")
    parser.add_argument(
        "--repeat",
        type=bounded(int, "a whole number", 1),
        default=3,
        metavar="N",
        help="passes over the images (default: %(default)s)",
    )
    parser.add_argument(
        "--backend", choices=BACKENDS, action="append", help="only this backend (repeatable; default: both)"
    )


def _emit(report: dict[str, Any], output: str | None) -> int:
    text = json.dumps(report, indent=2)
    print(text, flush=True)
    if output:
        try:
            Path(output).write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            print(f"smart-mirror bench: cannot write {output} ({exc.strerror}); pick another --output", file=sys.stderr)
            return exitcodes.FAILED
    return exitcodes.OK


def _sync_bench(args: argparse.Namespace, settings: Settings) -> int:
    """The sync package's figures (imported here: paho and the broker code only for ``--sync``)."""
    from sync.bench import BenchUnavailableError, run_sync_bench

    try:
        report = dict(run_sync_bench(settings))
    except BenchUnavailableError as exc:
        print(f"smart-mirror bench: {exc}", file=sys.stderr)
        return exitcodes.NOT_AVAILABLE
    return _emit(report, args.output)


def _ui_bench(args: argparse.Namespace, settings: Settings) -> int:
    """The UI's figures from ``ui.bench.run_ui_bench`` (Qt is imported only here, as ``run`` does)."""
    from ui.bench import run_ui_bench

    return _emit(run_ui_bench(settings), args.output)


def _soak_bench(args: argparse.Namespace, settings: Settings) -> int:
    """The long run of ``ui.soak.run_soak`` (the whole app: Qt is imported only here, as ``run`` does)."""
    from sync.bench import BenchUnavailableError
    from ui.soak import run_soak

    try:
        report = run_soak(settings, args.soak, progress=lambda line: print(line, file=sys.stderr, flush=True))
    except BenchUnavailableError as exc:
        print(f"smart-mirror bench: {exc}", file=sys.stderr)
        return exitcodes.NOT_AVAILABLE
    except RuntimeError as exc:  # the mirror stopped answering (a shot with no result, a keep not stored)
        print(f"smart-mirror bench: the soak stopped: {exc}", file=sys.stderr)
        return exitcodes.FAILED
    return _emit(report, args.output)


def _output_problem(output: str) -> str:
    """Why ``--output`` could not be written, checked before a bench of minutes rather than after it."""
    path = Path(output)
    if path.is_dir():
        return f"{output} is a folder"
    if not path.parent.is_dir():
        return f"{path.parent} is not an existing folder"
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return "permission denied"
    return ""


def run(args: argparse.Namespace, settings: Settings) -> int:
    problem = _output_problem(args.output) if args.output else ""
    if problem:
        print(f"smart-mirror bench: cannot write {args.output} ({problem}); pick another --output", file=sys.stderr)
        return exitcodes.USAGE
    if args.sync:
        return _sync_bench(args, settings)
    if getattr(args, "ui", False):
        return _ui_bench(args, settings)
    if getattr(args, "soak", None) is not None:
        return _soak_bench(args, settings)
    # Imported here: the pipeline (numpy, OpenCV, the runtimes) only for the bench itself, not for --help.
    from mirror.imagefile import UnreadableImageError, read_image
    from mirror.pipeline.bench import Bench, demo_frames
    from mirror.pipeline.models import ModelsError

    if args.images:
        images = []
        for path in args.images:
            try:
                images.append(read_image(path))
            except UnreadableImageError as exc:
                print(f"smart-mirror bench: {readable(path)}: {readable(str(exc))}", file=sys.stderr)
                return exitcodes.USAGE
    else:
        camera = settings.camera
        images = demo_frames(camera.capture_width, camera.capture_height)
    bench = Bench(images, settings, repeat=args.repeat, config=getattr(args, "config", None))
    try:
        report = bench.run(args.backend or BACKENDS, progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    except ModelsError as exc:
        print(f"smart-mirror bench: {exc}", file=sys.stderr)
        return exitcodes.FAILED
    code = _emit(report, args.output)
    if not any("threads" in figures for figures in report["backends"].values()):
        print("smart-mirror bench: no backend could run the models; see the errors in the report", file=sys.stderr)
        return exitcodes.FAILED
    return code
