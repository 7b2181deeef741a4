"""``smart-mirror closet``: list, show and delete stored garments.

``list`` and ``show`` only look: where there is no closet database yet (``closet.db`` missing, or 0 bytes
as a power cut during the mirror's very first open leaves it) they answer for an empty closet without
opening the store, since opening makes the tables. ``delete`` opens it as the mirror does.
"""

from __future__ import annotations

import argparse
import json
import sys

from mirror.cli import exitcodes
from mirror.config import Settings
from mirror.store import ClosetStore, Record, StoreError, open_closet
from mirror.store.codec import record_to_dict
from mirror.store.peek import lost_closet, no_closet_yet
from mirror.vocab import BASIC_TERMS, CATEGORIES

NAME = "closet"
HELP = "list, show or delete the garments stored on this mirror"


def record_id(text: str) -> str:
    """An argparse ``type``: the id as typed, unless it holds bytes the terminal could not decode (a bad
    paste), which SQLite cannot take: a one-line usage error instead of a traceback."""
    try:
        text.encode()
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError(f"{text!a} is not a record id (see `smart-mirror closet list`)") from None
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="one line per garment", description="one line per garment")
    listing.add_argument(
        "--category", choices=CATEGORIES, metavar="CATEGORY", help=f"only this category: {', '.join(CATEGORIES)}"
    )
    listing.add_argument(
        "--color", choices=BASIC_TERMS, metavar="COLOR", help=f"only this basic colour: {', '.join(BASIC_TERMS)}"
    )
    show = sub.add_parser("show", help="one garment as JSON", description="one garment as JSON")
    show.add_argument("id", metavar="ID", type=record_id, help="record id (the first column of `closet list`)")
    delete = sub.add_parser(
        "delete",
        help="delete a garment (synced as a new version)",
        description="delete a garment (synced as a new version)",
    )
    delete.add_argument("id", metavar="ID", type=record_id, help="record id (the first column of `closet list`)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action != "delete" and no_closet_yet(settings.store.path()):
        if args.action == "show":
            return _not_found(args.id)
        return _print_list([], f"no closet at {settings.store.path()} yet")
    if args.action != "delete" and (lost := lost_closet(settings.store.path())):  # a look must not write
        if args.action == "show":
            print(f"smart-mirror: {lost}", file=sys.stderr)
            return exitcodes.FAILED
        return _print_list([], lost)
    try:
        with open_closet(settings) as store:
            if args.action == "list":
                return _list(store, args.category, args.color)
            if args.action == "show":
                return _show(store, args.id)
            return _delete(store, args.id)
    except StoreError as exc:
        print(f"smart-mirror: {exc}", file=sys.stderr)
        return exitcodes.FAILED


def line(record: Record) -> str:
    """``<id>  v<n>  <category>  <colour>  <added>  [unsure] [edited]``."""
    flags = " ".join(flag for flag, on in (("unsure", record.unsure), ("edited", record.edited)) if on)
    added = record.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
    return f"{record.id}  v{record.version:<3} {record.category:<10} {record.color.basic:<7} {added}  {flags}".rstrip()


def _list(store: ClosetStore, category: str | None, color: str | None) -> int:
    return _print_list(store.list(category=category, basic_color=color))


def _print_list(records: list[Record], why: str = "") -> int:
    for record in records:
        print(line(record))
    print(f"{len(records)} garment(s)" + (f": {why}" if why else ""), file=sys.stderr)
    return exitcodes.OK


def _show(store: ClosetStore, record_id: str) -> int:
    record = store.get(record_id)
    if record is None:
        return _not_found(record_id)
    data = record_to_dict(record)
    data["image_paths"] = {kind: str(store.image_path(record, kind)) for kind in record.images}
    print(json.dumps(data, indent=2))
    return exitcodes.OK


def _not_found(record_id: str) -> int:
    print(f"smart-mirror: no garment with id {record_id}; see `smart-mirror closet list`", file=sys.stderr)
    return exitcodes.FAILED


def _delete(store: ClosetStore, record_id: str) -> int:
    tomb = store.delete(record_id)
    print(f"deleted {record_id} (version {tomb.version} queued for sync)")
    return exitcodes.OK
