"""``smart-mirror sync``: outbox status, a one-shot drain, and a remote command sent to a mirror."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from importlib import resources

from mirror.cli import exitcodes
from mirror.config import ConfigError, Settings
from mirror.device import device_id
from mirror.store import StoreError, open_closet

NAME = "sync"
HELP = "show the sync outbox, drain it to the broker now, or send a mirror a remote command"


def _remote_vocabulary() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The command names and ``show`` screens of the remote-command contract, from its schema in the
    sync package (``sync/schemas/command.v1.json``), where ``sync.commands.COMMANDS`` and ``SCREENS``
    come from too. Read rather than imported: this parser is built on every ``smart-mirror`` call,
    and importing ``sync.commands`` loads jsonschema (about 0.1 s here, several times that on a Pi)."""
    try:
        schema = resources.files("sync") / "schemas" / "command.v1.json"
    except ModuleNotFoundError:  # a mirror without the sync package: every other command still works
        return (), ()
    properties = json.loads(schema.read_text(encoding="utf-8"))["properties"]
    return tuple(properties["command"]["enum"]), tuple(properties["screen"]["enum"])


REMOTE_COMMANDS, SCREENS = _remote_vocabulary()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser(
        "status",
        help="records waiting, in flight and acknowledged",
        description="records waiting, in flight and acknowledged",
    )
    sub.add_parser(
        "resend",
        help="after restoring the closet from a backup: queue every garment again for the cloud",
        description="queue every garment again as a new version, so that the cloud ends up with what this "
        "mirror shows (run it once after restoring the closet from a backup; see docs/deploy.md)",
    )
    drain = sub.add_parser(
        "drain",
        help="publish everything waiting and wait for the cloud's acks",
        description="publish everything waiting and wait for the cloud's acks",
    )
    drain.add_argument(
        "--timeout", type=float, default=60.0, metavar="S", help="give up after S seconds (default: %(default)g)"
    )
    about = (
        "send a remote command (as the backend would) to this mirror, or to --device, through the broker "
        "in [sync]; prints the mirror's answer, exit 0 when accepted"
    )
    command = sub.add_parser("command", help="send a mirror a remote command, as the backend would", description=about)
    command.add_argument("name", choices=REMOTE_COMMANDS or None, metavar="COMMAND", help=", ".join(REMOTE_COMMANDS))
    command.add_argument("--screen", choices=SCREENS or None, help="for show: the screen to open")
    command.add_argument("--record-id", metavar="ID", help="for delete: the garment record's id")
    command.add_argument("--device", metavar="ID", help="the mirror to steer (default: this one's [device] id)")
    command.add_argument(
        "--username",
        default="",
        help="broker user allowed to write commands (the ACL gives it to the backend's user, not the "
        "mirror's); password from $SMART_MIRROR_MQTT_PASSWORD; default anonymous",
    )
    command.add_argument(
        "--ttl",
        type=float,
        metavar="S",
        help="seconds until the command expires (default 60, at most 600); the broker then drops it if still queued",
    )
    command.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help="wait S seconds for the answer (default: %(default)g)"
    )
    command.add_argument(
        "--retry",
        type=float,
        metavar="S",
        help="when the mirror answers rate_limited (too many commands), send it again with a backoff for up to "
        "S seconds, never past its expiry (default 60; 0: never)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "command":
        return send_command(args, settings)
    # Imported here: the sync package (paho) is only needed by the sync actions.
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
                held = f" ({stats.held} held back after a rejection)" if stats.held else ""
                print(
                    f"{broker.describe()}: {stats.waiting} waiting{held}, {stats.in_flight} in flight, "
                    f"{stats.acked} acknowledged{state}"
                )
                return exitcodes.OK
            if args.action == "resend":
                print(f"{store.resend_all()} garment(s) queued again; they go when the mirror is online")
                return exitcodes.OK
            if not settings.sync.enabled:
                print("smart-mirror: sync is disabled ([sync] enabled = false); nothing was sent", file=sys.stderr)
                return exitcodes.FAILED
            # Beside a running mirror: deliver, but leave its online status alone.
            name = settings.device.name
            worker = SyncWorker(
                store, settings.sync, device_id(settings), broker=broker, device_name=name, presence=False
            )
            with quieted("sync", not args.verbose):  # the summary line below says it once; the log would repeat it
                done = worker.drain(args.timeout)
            left = store.outbox_stats()
            if done and left.held:
                print(
                    f"smart-mirror: {worker.stats.acked} acknowledged this run, but {left.held} record version(s) "
                    f"were rejected by the cloud (last: {worker.last_rejection or 'in an earlier run'}); "
                    "they stay queued and are offered again within the hour — see the consumer's dead letters",
                    file=sys.stderr,
                )
                return exitcodes.FAILED
            if done:
                print(f"all record versions acknowledged by the cloud ({worker.stats.acked} this run)")
                return exitcodes.OK
            reason = worker.last_error or f"no ack from the cloud within {args.timeout:g} s"
            print(
                f"smart-mirror: {reason.split('; ')[0]}; {left.unacked} record version(s) waiting "
                "— they stay queued and go when it is back",
                file=sys.stderr,
            )
            return exitcodes.FAILED
    except StoreError as exc:
        print(f"smart-mirror: {exc}", file=sys.stderr)
        return exitcodes.FAILED


@contextlib.contextmanager
def quieted(logger: str, on: bool) -> Iterator[None]:
    """``logger`` at ERROR while the block runs, its level restored after (the CLI also runs in-process)."""
    target = logging.getLogger(logger)
    before = target.level
    if on:
        target.setLevel(logging.ERROR)
    try:
        yield
    finally:
        target.setLevel(before)


def send_command(args: argparse.Namespace, settings: Settings) -> int:
    """``sync.remote.main`` with the broker and topics of this mirror's config (the sender's side)."""
    if (args.name == "show") != (args.screen is not None):
        print("smart-mirror: --screen goes with show, and only with show", file=sys.stderr)
        return exitcodes.USAGE
    if (args.name == "delete") != (args.record_id is not None):
        print("smart-mirror: --record-id goes with delete, and only with delete", file=sys.stderr)
        return exitcodes.USAGE
    from sync.remote import main as remote_main  # imported here: paho and jsonschema only for this action

    sync = settings.sync
    argv = [args.name, "--device", args.device or device_id(settings), "--host", sync.host, "--port", str(sync.port)]
    argv += ["--prefix", sync.topic_prefix, "--username", args.username, "--timeout", str(args.timeout)]
    if sync.tls:
        argv += ["--tls", "--ca-file", sync.ca_file]
    options = (("--screen", args.screen), ("--record-id", args.record_id), ("--ttl", args.ttl), ("--retry", args.retry))
    for option, value in options:
        if value is not None:
            argv += [option, str(value)]
    return remote_main(argv)
