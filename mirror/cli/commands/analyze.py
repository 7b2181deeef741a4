"""``smart-mirror analyze``: images in, one JSON line per image out (docs/analyze.md)."""

from __future__ import annotations

import argparse

from mirror.cli.commands._pending import not_available
from mirror.config import Settings

NAME = "analyze"
HELP = "find and name the garments in image files; print one JSON line per image"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files to analyse")
    parser.add_argument("--threads", type=int, metavar="N", help="CPU threads per model (default: config)")
    parser.add_argument("--backend", choices=("tflite", "onnx"), help="inference runtime (default: config)")
    parser.add_argument("--save-cutouts", metavar="DIR", help="also write each garment's cut-outs here")


def run(_args: argparse.Namespace, _settings: Settings) -> int:
    return not_available("analyze")
