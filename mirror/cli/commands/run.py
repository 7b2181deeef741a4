"""``smart-mirror run``: the mirror app (fullscreen Qt UI over the capture pipeline).

The UI package is imported only here, when the app starts, so the rest of the core never
loads Qt.
"""

from __future__ import annotations

import argparse
import importlib

from mirror.config import Settings

NAME = "run"
HELP = "start the mirror (fullscreen UI, camera, capture, sync)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        choices=("auto", "picamera2", "v4l2", "replay", "demo"),
        help="override [camera] source (demo needs no camera)",
    )
    parser.add_argument("--windowed", action="store_true", help="open a window instead of fullscreen")
    parser.add_argument("--screenshots", metavar="DIR", help="write a PNG of each screen shown to DIR")
    parser.add_argument(
        "--duration", type=float, metavar="S", help="quit after S seconds (for demos on machines with no display)"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    app = importlib.import_module("ui.app")
    return int(app.run_app(settings, args))
