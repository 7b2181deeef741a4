"""``smart-mirror bench``: speed and memory figures as one JSON report."""

from __future__ import annotations

import argparse

from mirror.cli.commands._pending import not_available
from mirror.config import Settings

NAME = "bench"
HELP = "measure per-stage latency, model load time and peak memory; print a JSON report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="*", metavar="IMAGE", help="images to time (default: built-in demo frames)")
    parser.add_argument("--sync", action="store_true", help="benchmark MQTT sync throughput instead")
    parser.add_argument("--output", metavar="FILE", help="also write the JSON report here")


def run(_args: argparse.Namespace, _settings: Settings) -> int:
    return not_available("bench")
