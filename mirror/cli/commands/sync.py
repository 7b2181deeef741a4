"""``smart-mirror sync``: outbox status and a one-shot drain."""

from __future__ import annotations

import argparse

from mirror.cli.commands._pending import not_available
from mirror.config import Settings

NAME = "sync"
HELP = "show the sync outbox or drain it to the broker now"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser(
        "status",
        help="records waiting, in flight and acknowledged",
        description="records waiting, in flight and acknowledged",
    )
    drain = sub.add_parser(
        "drain",
        help="publish everything waiting and wait for the cloud's acks",
        description="publish everything waiting and wait for the cloud's acks",
    )
    drain.add_argument("--timeout", type=float, default=60.0, metavar="S", help="give up after S seconds")


def run(args: argparse.Namespace, _settings: Settings) -> int:
    return not_available(f"sync {args.action}")
