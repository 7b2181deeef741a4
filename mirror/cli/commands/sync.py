"""``smart-mirror sync``: outbox status, a one-shot drain, and a remote command sent to a mirror.

The CLI is the composition root, so it may name the ``sync`` package, which the rest of the core
reaches only through ``mirror.synclink``. It does so lazily, through documented hooks: the
``command`` sub-parser and its send are ``sync.remote_cli``'s (shared with ``python -m
sync.remote``, and light enough to import on every call); paho, jsonschema and the worker load
only inside the action that needs them.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mirror.cli import exitcodes
from mirror.cli.argtypes import bounded
from mirror.config import ConfigError, Settings
from mirror.device import device_id
from mirror.store import ClosetStore, StoreError, open_closet

if TYPE_CHECKING:  # the sync package (paho) loads only inside the actions that use it
    from sync.broker import BrokerConfig
    from sync.worker import SyncWorker

NAME = "sync"
HELP = "show the sync outbox, drain it to the broker now, or send a mirror a remote command"


def _remote_vocabulary() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The command names and ``show`` screens ``sync command`` offers: ``sync.remote_cli.vocabulary``,
    the contract's schema read without loading jsonschema (this parser is built on every call).
    None on a mirror without the sync package: every other command still works."""
    try:
        from sync.remote_cli import vocabulary

        return vocabulary()
    except ModuleNotFoundError:
        return (), ()


REMOTE_COMMANDS, SCREENS = _remote_vocabulary()
#: The longest ``sync drain --timeout``: a day (the service drains all the time; longer is a typo).
MAX_DRAIN_S = 86_400.0


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
        "--timeout",
        type=bounded(float, "a number of seconds", 0.0, MAX_DRAIN_S, unit=" s"),
        default=60.0,
        metavar="S",
        help=f"give up after S seconds (default: %(default)g, at most {MAX_DRAIN_S:g})",
    )
    about = (
        "send a remote command (as the backend would) to this mirror, or to --device, through the broker "
        "in [sync]; prints the mirror's answer, exit 0 when accepted"
    )
    command = sub.add_parser("command", help="send a mirror a remote command, as the backend would", description=about)
    if REMOTE_COMMANDS:  # the sync package is here: its sender's options (python -m sync.remote has them too)
        from sync.remote_cli import add_command_arguments, device_arg

        add_command_arguments(command, REMOTE_COMMANDS, SCREENS)
        command.add_argument(
            "--device", type=device_arg, metavar="ID", help="the mirror to steer (default: this one's [device] id)"
        )


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "command":
        return send_command(args, settings)
    try:
        with open_closet(settings) as store:
            if args.action == "status":
                return _status(store, settings)
            if args.action == "resend":
                print(f"{store.resend_all()} garment(s) queued again; they go when the mirror is online")
                return exitcodes.OK
            return _drain(store, settings, args)
    except StoreError as exc:
        print(f"smart-mirror: {exc}", file=sys.stderr)
        return exitcodes.FAILED


def _status(store: ClosetStore, settings: Settings) -> int:
    """``sync status``: the outbox in one line, the broker first. Only the outbox is read: the broker's
    address is named, but no password is (an unreadable ``password_file`` is drain's problem)."""
    # Imported here: the sync package (paho) is only needed by the sync actions.
    from sync.broker import BrokerConfig

    sync = settings.sync
    where = BrokerConfig(host=sync.host, port=sync.port, username=sync.username, tls=sync.tls).describe()
    stats = store.outbox.stats()
    state = "" if sync.enabled else " (sync is disabled: [sync] enabled = false)"
    held = f" ({stats.held} held back after a rejection)" if stats.held else ""
    counts = f"{stats.waiting} waiting{held}, {stats.in_flight} in flight, {stats.acked} acknowledged"
    print(f"{where}: {counts}{state}")
    return exitcodes.OK


def _drain_broker(settings: Settings) -> BrokerConfig | None:
    """The broker drain connects to, its password read; ``None`` once an unreadable ``password_file`` is said."""
    from sync.broker import BrokerConfig

    # Its own client id: the running service keeps its session; sharing one id would make
    # the broker throw each out whenever the other connects.
    client_id = settings.sync.mirror_client_id(device_id(settings)) + "-drain"
    try:
        return BrokerConfig.from_sync(settings.sync, client_id)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None


def _drain(store: ClosetStore, settings: Settings, args: argparse.Namespace) -> int:
    """``sync drain``: deliver everything waiting and wait for the acks, beside a running mirror."""
    from sync.broker import setup_problem
    from sync.worker import QUEUED_TAIL, SyncWorker, without_queued_tail

    if not settings.sync.enabled:
        print("smart-mirror: sync is disabled ([sync] enabled = false); nothing was sent", file=sys.stderr)
        return exitcodes.FAILED
    broker = _drain_broker(settings)
    if broker is None:
        return exitcodes.USAGE
    setup = setup_problem(broker)
    if setup:  # a config error: retrying until the timeout would not heal it
        print(f"smart-mirror: {setup}", file=sys.stderr)
        return exitcodes.USAGE
    # Beside a running mirror: deliver, but leave its online status alone.
    worker = SyncWorker(
        store, settings.sync, device_id(settings), broker=broker, device_name=settings.device.name, presence=False
    )
    with quieted("sync", not args.verbose), progress(worker, args.timeout):  # the log would repeat the lines
        done = worker.drain(args.timeout)
    left = store.outbox.stats()
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
    reason = without_queued_tail(worker.last_error) or _no_ack(worker, args.timeout)
    print(f"smart-mirror: {reason}; {left.unacked}{QUEUED_TAIL}", file=sys.stderr)
    return exitcodes.FAILED


def _no_ack(worker: SyncWorker, timeout_s: float) -> str:
    """Why a drain that met no error ran out of time: the cloud's acks did not come, or, when it never
    got connected (no error either: the TCP connect succeeded), the broker never answered the login."""
    if worker.stats.connects:
        return f"no ack from the cloud within {timeout_s:g} s"
    return (
        f"never got connected: broker {worker.broker.describe()} accepted the connection but did not answer "
        f"the login within {timeout_s:g} s; check the broker's log, and that this port is an MQTT broker's"
    )


#: How often :func:`progress` looks at the worker for its first connection problem.
PROGRESS_POLL_S = 0.1


@contextlib.contextmanager
def progress(worker: SyncWorker, timeout_s: float) -> Iterator[None]:
    """While the block drains: one line on stderr the first time the connection fails (most often the
    first connect, to a broker that is down), so it is said at once rather than after the whole timeout
    (60 s by default). Said once, not per retry: the worker retries with its backoff, and the final
    line says the rest.

    A thread watches ``worker.last_error`` (the worker's own line, which it also logs): the worker runs
    in this thread, and its log is quieted while it drains."""
    from sync.worker import without_queued_tail

    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(PROGRESS_POLL_S):
            error = worker.last_error
            if error and not worker.connected:
                print(
                    f"smart-mirror: {without_queued_tail(error)}; retrying until the timeout ({timeout_s:g} s) …",
                    file=sys.stderr,
                )
                return

    watcher = threading.Thread(target=watch, name="sync-drain-progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        finished.set()
        watcher.join()


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
    """``sync.remote_cli.send`` through the broker and topics of this mirror's config (the sender's side)."""
    from sync import remote_cli

    problem = remote_cli.option_problem(args)
    if problem:
        print(f"smart-mirror: {problem}", file=sys.stderr)
        return exitcodes.USAGE
    from sync.contract import Topics  # imported here: jsonschema only for this action

    sync = settings.sync
    broker = remote_cli.sender_broker(sync.host, sync.port, username=args.username, tls=sync.tls, ca_file=sync.ca_file)
    topics = Topics(sync.topic_prefix, args.device or device_id(settings))
    return remote_cli.send(args, broker, topics, prog="smart-mirror")
