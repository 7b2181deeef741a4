"""The sender's command line, written once for ``python -m sync.remote`` and ``smart-mirror sync command``.

Both offer the same command, options and checks, and send the same way; they differ only in
where the broker and the device come from (flags for the one, the mirror's config for the
other). So the options (:func:`add_command_arguments`), the checks (:func:`option_problem`), the
sender's connection (:func:`sender_broker`) and the send (:func:`send`) live here, and each
command line adds its own ``--device`` and broker options.

Why this module imports nothing heavier than argparse, the contract's schema file,
``sync.lifetime`` and the config's settings (for the device-id rule; both command lines load
them anyway): ``smart-mirror`` builds its whole parser, this sub-parser included, on every
call, and ``sync.remote`` or ``sync.commands`` would load paho and jsonschema (about 0.1 s here,
several times that on a Pi) for a ``smart-mirror --help``. What sending needs is imported when
it sends.

Numeric options take ``mirror.cli.argtypes.bounded`` (NaN, infinities, negatives and values past
the limits are argparse's one-line usage error, exit 2), imported when the parser is built rather
than at the top: ``mirror.cli``'s package loads the whole ``smart-mirror`` CLI, whose ``sync``
command imports this module, so a top-level import would be a cycle for ``python -m sync.remote``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Sequence
from importlib import resources
from typing import TYPE_CHECKING

from mirror.config.settings import DEVICE_ID
from sync.lifetime import DEFAULT_TTL_S, MAX_TTL_S

if TYPE_CHECKING:
    from sync.broker import BrokerConfig
    from sync.contract import Topics

#: How long a sender keeps retrying a ``rate_limited`` answer, by default (never past the command's
#: own expiry, :data:`~sync.lifetime.DEFAULT_TTL_S` after it was sent unless its ``ttl_s`` says otherwise).
RETRY_S = 60.0
#: The longest wait for one answer: past the command's lifetime (at most :data:`~sync.lifetime.MAX_TTL_S`)
#: the mirror could only answer ``expired``.
MAX_WAIT_S = MAX_TTL_S


def vocabulary() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The command names and ``show`` screens of the remote-command contract, read from its schema
    (``sync/schemas/command.v1.json``, where ``sync.commands.COMMANDS`` and ``SCREENS`` come from
    too) without loading jsonschema."""
    schema = resources.files("sync") / "schemas" / "command.v1.json"
    properties = json.loads(schema.read_text(encoding="utf-8"))["properties"]
    return tuple(properties["command"]["enum"]), tuple(properties["screen"]["enum"])


def add_command_arguments(parser: argparse.ArgumentParser, commands: Sequence[str], screens: Sequence[str]) -> None:
    """The command (``args.name``), its target and how to send it; ``commands`` and ``screens``: the
    contract's (:func:`vocabulary`). The caller adds ``--device`` and where the broker is."""
    from mirror.cli.argtypes import bounded  # here, not at the top: see the module's docstring

    seconds = "a number of seconds"
    parser.add_argument("name", choices=commands, metavar="COMMAND", help=", ".join(commands))
    parser.add_argument("--screen", choices=screens, help="show needs it, and only show takes it: the screen to open")
    parser.add_argument(
        "--record-id", metavar="ID", help="delete needs it, and only delete takes it: the garment record's id"
    )
    parser.add_argument(
        "--username",
        default="",
        help="broker user allowed to write commands (the ACL gives it to the backend's user, not the "
        "mirror's); password from $SMART_MIRROR_MQTT_PASSWORD; default anonymous",
    )
    parser.add_argument(
        "--ttl",
        type=bounded(float, seconds, 0.0, MAX_TTL_S, unit=" s"),
        metavar="S",
        help=f"seconds until the command expires (default {DEFAULT_TTL_S:g}, at most {MAX_TTL_S:g}); "
        "the broker then drops it if still queued",
    )
    parser.add_argument(
        "--timeout",
        type=bounded(float, seconds, 0.0, MAX_WAIT_S, unit=" s"),
        default=10.0,
        metavar="S",
        help=f"wait S seconds for the answer (default: %(default)g, at most {MAX_WAIT_S:g})",
    )
    parser.add_argument(
        "--retry",
        type=bounded(float, seconds, 0.0, MAX_TTL_S, unit=" s", lowest_ok=True),
        default=RETRY_S,
        metavar="S",
        help="when the mirror answers rate_limited (too many commands), send it again with a backoff for up to "
        f"S seconds, never past its expiry (default %(default)g, at most {MAX_TTL_S:g}; 0: never)",
    )


def device_arg(text: str) -> str:
    """The argparse ``type`` of ``--device``: the config's rule for a device id (``[device] id``). It is
    a topic level: a ``+``, ``#`` or ``/`` would address other mirrors, or make paho raise mid-connect."""
    if not DEVICE_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"expected a device id (1-64 letters, digits, - or _), got {text!r}")
    return text


def topic_prefix_arg(text: str) -> str:
    """The argparse ``type`` of a ``--prefix`` (``python -m sync.remote``, the reference consumer): the
    config's rule for ``[sync] topic_prefix``. A ``+`` or ``#`` would make the client refuse the topic
    only once connected (a traceback from its thread, then a misleading "not connected")."""
    if not text or any(c in text for c in "+#\0") or text.startswith(("$", "/")) or text.endswith("/"):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not usable in MQTT topics; no +, # or NUL, and no $ or / at the start or / at the end"
        )
    return text


def port_arg(text: str) -> int:
    """The argparse ``type`` of a broker's ``--port``: 1 to 65535 (a larger one is retried for ever)."""
    from mirror.cli.argtypes import bounded  # here, not at the top: see the module's docstring

    return bounded(int, "a port number", 0, 65535)(text)


def option_problem(args: argparse.Namespace) -> str:
    """Why the options do not go with the command, in one line; ``""`` when they do. Each command
    line reports it its own way (``smart-mirror``'s one line, ``argparse``'s usage). A missing one is
    named with what to give (``delete needs --record-id ID``), not as a rule to puzzle out."""
    if args.name == "show" and args.screen is None:
        _commands, screens = vocabulary()
        return f"show needs --screen SCREEN (one of {', '.join(screens)})"
    if args.name == "delete" and args.record_id is None:
        return "delete needs --record-id ID (the garment record's id)"
    if args.name != "show" and args.screen is not None:
        return f"--screen goes with show only, not with {args.name}"
    if args.name != "delete" and args.record_id is not None:
        return f"--record-id goes with delete only, not with {args.name}"
    return ""


def sender_broker(host: str, port: int, *, username: str, tls: bool, ca_file: str) -> BrokerConfig:
    """A sender's connection: a client id of its own (never a mirror's session), the password from
    ``$SMART_MIRROR_MQTT_PASSWORD``."""
    from sync.broker import BrokerConfig  # paho: only to send

    return BrokerConfig(
        host=host,
        port=port,
        client_id=f"remote-{uuid.uuid4().hex[:12]}",
        username=username,
        password=os.environ.get("SMART_MIRROR_MQTT_PASSWORD"),
        tls=tls,
        ca_file=ca_file,
    )


def send(args: argparse.Namespace, broker: BrokerConfig, topics: Topics, *, prog: str) -> int:
    """Send the command in ``args`` to the mirror of ``topics`` and print its answer (JSON); on stderr,
    each line starting with ``prog:`` (the command line's own name, as its other errors do), the
    retries and what to do about a refusal that waiting cannot cure. The exit status: 0 when the
    mirror carried it out, 1 when it did not or no answer came, 2 when the client cannot be set up
    (a TLS file missing or unreadable: waiting does not cure it)."""
    from sync.broker import BrokerSetupError  # paho: only to send
    from sync.remote import (  # paho and jsonschema
        CONNECT_TIMEOUT_S,
        RemoteControl,
        RemoteError,
        carried_out,
        say_retry,
        say_why,
    )

    def on_retry(answer: dict[str, object], delay_s: float) -> None:
        say_retry(answer, delay_s, prog=prog)

    try:
        # --timeout bounds the wait for the login too: a broker that never answers is not waited out longer.
        with RemoteControl(broker, topics, connect_timeout_s=min(args.timeout, CONNECT_TIMEOUT_S)) as remote:
            answer = remote.send(
                args.name,
                screen=args.screen,
                record_id=args.record_id,
                ttl_s=args.ttl,
                timeout_s=args.timeout,
                retry_s=args.retry,
                on_retry=on_retry,
            )
    except BrokerSetupError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except RemoteError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(answer))
    say_why(answer, args.name, prog=prog)
    return 0 if carried_out(answer) else 1
