"""``smart-mirror closet``: list, show and delete stored garments."""

from __future__ import annotations

import argparse

from mirror.cli.commands._pending import not_available
from mirror.config import Settings

NAME = "closet"
HELP = "list, show or delete the garments stored on this mirror"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="one line per garment", description="one line per garment")
    show = sub.add_parser("show", help="one garment as JSON", description="one garment as JSON")
    show.add_argument("id", help="record id")
    delete = sub.add_parser(
        "delete",
        help="delete a garment (synced as a new version)",
        description="delete a garment (synced as a new version)",
    )
    delete.add_argument("id", help="record id")


def run(args: argparse.Namespace, _settings: Settings) -> int:
    return not_available(f"closet {args.action}")
