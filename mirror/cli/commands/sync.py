"""``smart-mirror sync``: outbox status and a one-shot drain."""

from __future__ import annotations

import argparse
import logging
import sys

from mirror.cli import exitcodes
from mirror.config import ConfigError, Settings
from mirror.device import device_id
from mirror.store import StoreError, open_closet

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


def run(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here: the sync package (paho) is only needed by these two actions.
    from sync.broker import BrokerConfig
    from sync.worker import SyncWorker

    # Its own client id: the running service keeps its session; sharing one id would make
    # the broker throw each out whenever the other connects.
    client_id = (settings.sync.client_id or f"smart-mirror-{device_id(settings)}") + "-drain"
    try:
        broker = BrokerConfig.from_sync(settings.sync, client_id)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return exitcodes.USAGE
    try:
        with open_closet(settings) as store:
            if args.action == "status":
                stats = store.outbox_stats()
                state = "" if settings.sync.enabled else " (sync is disabled: [sync] enabled = false)"
                print(
                    f"{broker.describe()}: {stats.waiting} waiting, {stats.in_flight} in flight, "
                    f"{stats.acked} acknowledged{state}"
                )
                return exitcodes.OK
            if not settings.sync.enabled:
                print("smart-mirror: sync is disabled ([sync] enabled = false); nothing was sent", file=sys.stderr)
                return exitcodes.FAILED
            if not args.verbose:  # the summary line below says it once; the worker's log would repeat it
                logging.getLogger("sync").setLevel(logging.ERROR)
            worker = SyncWorker(
                store, settings.sync, device_id(settings), broker=broker, device_name=settings.device.name
            )
            done = worker.drain(args.timeout)
            if done:
                print(f"all record versions acknowledged by the cloud ({worker.stats.acked} this run)")
                return exitcodes.OK
            left = store.outbox_stats()
            reason = worker.last_error or f"no ack from the cloud within {args.timeout:g} s"
            print(
                f"smart-mirror: {reason.split('; ')[0]}; {left.waiting + left.in_flight} record version(s) waiting "
                "— they stay queued and go when it is back",
                file=sys.stderr,
            )
            return exitcodes.FAILED
    except StoreError as exc:
        print(f"smart-mirror: {exc}", file=sys.stderr)
        return exitcodes.FAILED
