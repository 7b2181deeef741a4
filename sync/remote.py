"""The sender's side of remote commands: publish one to a mirror and wait for its answer.

For a backend, a home automation or a person at a shell, and for the tests::

    SMART_MIRROR_MQTT_PASSWORD=... python -m sync.remote --host broker.example --port 8883 --tls \\
        --username cloud --device mirror-1a2b3c4d5e show --screen closet

It prints the mirror's answer (``sync/schemas/command-result.v1.json``) and exits 0 when the
command was carried out (accepted, or a retry's ``duplicate`` of an id answered accepted: see
:func:`carried_out`), 1 when it was not (or no answer came: the mirror is off or offline),
2 on bad arguments or TLS files it cannot use (its options, checks and output are ``sync.remote_cli``'s, which
``smart-mirror sync command`` shares). Whoever may publish on ``<prefix>/<device>/commands``
controls the mirror; the example ACL (``sync/mosquitto/acl.example``) gives that to the
``cloud`` user only.

The mirror rate-limits commands (``sync.commands.RATE``, ``DELETE_RATE``) and answers
``rate_limited`` beyond; it does not remember such an id, so the sender publishes the same command
(same id, same ``sent_at``) again after a backoff, until it gets another answer, ``--retry``
seconds have passed, or the command's own lifetime is over (:func:`retrying`). ``clock_unset`` is
not remembered either, but waiting does not cure it (the mirror's clock needs NTP): it is
answered at once, with the fix.

Over MQTT 5 each command carries a message expiry equal to its lifetime
(``sync.commands.message_expiry_s``): the broker drops one that waits longer than that in the
mirror's queue (the mirror was off), so it never reaches a mirror that booted with its clock
behind and could take it for fresh.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from sync.backoff import Backoff
from sync.broker import MIRROR_MAX_PACKET_BYTES, BrokerConfig, connect_kwargs, make_client, reason_text
from sync.commands import (
    ACCEPTED,
    COMMANDS,
    DELETE_RATE,
    DUPLICATE,
    RATE,
    REJECTED,
    SCREENS,
    command_message,
    expiry,
    message_expiry_s,
)
from sync.contract import Topics
from sync.lifetime import MAX_TTL_S
from sync.remote_cli import (
    RETRY_S,
    add_command_arguments,
    device_arg,
    option_problem,
    port_arg,
    send,
    sender_broker,
    topic_prefix_arg,
)

#: The longest wait for the broker to answer the login (CONNACK) and the subscription; a sender's
#: ``--timeout`` shortens it (:class:`RemoteControl`'s ``connect_timeout_s``), never lengthens it.
CONNECT_TIMEOUT_S = 10.0
#: How this command line starts its lines on stderr (``smart-mirror sync command`` says ``smart-mirror:``).
PROG = "sync.remote"
#: The refusals a sender may answer by sending the same command again: the mirror did not judge it
#: and does not remember its id (``sync.commands.NOT_YET``). Of those, only ``rate_limited`` passes
#: with time; ``clock_unset`` lasts until NTP sets the mirror's clock, so it is not retried.
RATE_LIMITED = "rate_limited"
CLOCK_UNSET = "clock_unset"
#: Retry delays: exponential from 1 s up to the slowest refill of the mirror's buckets (one
#: ``delete`` every 12 s), half of each random (``sync.backoff``): several senders spread out.
#: The answer carries no retry hint (``command-result.v1.json`` has no such field).
RETRY_MIN_S = 1.0
RETRY_MAX_S = max(per_s / burst for burst, per_s in (RATE, DELETE_RATE))

#: Told of each ``rate_limited`` answer before the wait: the answer, then the seconds until the next try.
RetryHook = Callable[[dict[str, Any], float], None]


def carried_out(answer: dict[str, Any]) -> bool:
    """Whether the mirror carried the command out: ``accepted``, or a ``duplicate`` saying this id was
    answered ``accepted`` before. Every retry sends the same id, and the answers to one id are told
    apart by order alone, so a late copy of an earlier try's answer can be taken for a later try's;
    the try after it then meets the id already carried out (``sync.commands``: "duplicate: id … was
    answered accepted already")."""
    status = answer.get("status")
    return status == ACCEPTED or (status == DUPLICATE and f"was answered {ACCEPTED}" in str(answer.get("reason", "")))


def refusal_code(answer: dict[str, Any]) -> str:
    """The code of a ``rejected`` answer's reason (``rate_limited``, ``busy``…); ``""`` for any other answer."""
    if answer.get("status") != REJECTED:
        return ""
    return str(answer.get("reason", "")).partition(":")[0]


def retrying(
    attempt: Callable[[], dict[str, Any]],
    *,
    until: float,
    on_retry: RetryHook | None = None,
    backoff: Backoff | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """``attempt()``'s answer; while that is ``rate_limited``, ``attempt()`` again after a backoff, as
    long as the next try starts before ``until`` (a ``clock`` reading). The last answer either way.

    ``attempt`` must send the same command each time (same id): a QoS 1 copy of an earlier try that
    reaches the mirror late is then a ``duplicate``, never a second capture or delete.
    """
    backoff = backoff or Backoff(RETRY_MIN_S, RETRY_MAX_S)
    while True:
        answer = attempt()
        if refusal_code(answer) != RATE_LIMITED:
            return answer
        delay = backoff.next()
        if clock() + delay >= until:
            return answer
        if on_retry is not None:
            on_retry(answer, delay)
        sleep(delay)


class RemoteError(Exception):
    """The broker could not be reached, or the mirror did not answer in time (one line)."""


class RemoteControl:
    """A connection that sends commands to one mirror and collects its answers, in order."""

    def __init__(self, broker: BrokerConfig, topics: Topics, *, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        """``connect_timeout_s``: how long :meth:`__enter__` waits for the broker to take the login and
        the subscription (a sender passes its ``--timeout``, up to :data:`CONNECT_TIMEOUT_S`)."""
        self.broker = broker
        self.topics = topics
        self.connect_timeout_s = connect_timeout_s
        self._client = make_client(broker, persistent=False)  # a sender leaves no session behind
        self._ready = threading.Event()
        self._changed = threading.Condition()
        self._answers: list[dict[str, Any]] = []
        self._refused = ""
        self._answered = False  # the broker answered the login (CONNACK), whatever it said
        self._hung_up = ""  # why the broker closed the connection before answering the login
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = lambda *_args: self._ready.set()
        self._client.on_message = self._on_message

    def __enter__(self) -> RemoteControl:
        try:
            # Its answers are small: a flood on the result topic is refused by the broker, not read.
            kwargs = connect_kwargs(self.broker, max_packet_bytes=MIRROR_MAX_PACKET_BYTES, resume=False)
            self._client.connect(**kwargs)
        except (OSError, ValueError) as exc:
            raise RemoteError(f"broker {self.broker.describe()} unreachable ({exc})") from None
        self._client.loop_start()
        if not self._ready.wait(self.connect_timeout_s):
            why = self._not_connected()  # before close(): its own disconnect is no hang-up of the broker's
            self.close()
            raise RemoteError(why)
        return self

    def _not_connected(self) -> str:
        """Why the connection was not ready in time, in one line with its fix. Only a refusal of the
        login points at the credentials: a broker that took the TCP connection and then said nothing
        (or hung up) has another trouble, the same doctor names (``sync.probe``)."""
        where = self.broker.describe()
        if self._refused:
            return f"broker {where} refused the login ({self._refused}); check the credentials"
        if self._hung_up:
            return (
                f"broker {where} closed the connection before answering the login ({self._hung_up}); "
                "check the port and TLS (a TLS listener, often 8883, needs TLS; a plain one, often 1883, not)"
            )
        if self._answered:
            return f"broker {where} did not confirm the subscription to the answers within {self.connect_timeout_s:g} s"
        return (
            f"broker {where} accepted the connection but did not answer the login within "
            f"{self.connect_timeout_s:g} s; check the broker's log, and that this port is an MQTT broker's"
        )

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, _u: Any, _flags: mqtt.ConnectFlags, reason: ReasonCode, _props: Properties | None
    ) -> None:
        self._answered = True
        if reason.is_failure:
            self._refused = reason_text(reason)
            return
        client.subscribe(self.topics.command_results, qos=1)

    def _on_disconnect(
        self, _c: mqtt.Client, _u: Any, _flags: mqtt.DisconnectFlags, reason: ReasonCode, _props: Properties | None
    ) -> None:
        if not self._answered and not self._hung_up:  # the first hang-up before any CONNACK says why
            self._hung_up = reason_text(reason)

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        try:
            answer = json.loads(message.payload)
        except ValueError:
            return
        if isinstance(answer, dict):
            with self._changed:
                self._answers.append(answer)
                self._changed.notify_all()

    def send(
        self,
        name: str,
        *,
        screen: str | None = None,
        record_id: str | None = None,
        ttl_s: float | None = None,
        command_id: str | None = None,
        sent_at: datetime | None = None,
        timeout_s: float = 10.0,
        retry_s: float = RETRY_S,
        on_retry: RetryHook | None = None,
    ) -> dict[str, Any]:
        """Publish a command (a fresh UUID as its id unless given) and return the mirror's answer.

        Over MQTT 5 the broker keeps it no longer than the mirror would carry it out
        (:func:`sync.commands.message_expiry_s`). A ``rate_limited`` answer is retried (:func:`retrying`:
        the same payload, so the same id and ``sent_at``) for up to ``retry_s`` seconds (0: never), and
        never past the command's expiry, when the mirror would only answer ``expired``; ``timeout_s``
        bounds the wait for each answer."""
        command_id = command_id or str(uuid.uuid4())
        moment = sent_at or datetime.now(UTC)
        payload = command_message(
            name, command_id=command_id, screen=screen, record_id=record_id, sent_at=moment, ttl_s=ttl_s
        )
        asked = moment + timedelta(seconds=min(ttl_s, MAX_TTL_S)) if ttl_s is not None else None
        lifetime_s = (expiry(moment, asked) - datetime.now(UTC)).total_seconds()
        until = time.monotonic() + min(retry_s, lifetime_s)

        def attempt() -> dict[str, Any]:
            expiry_s = message_expiry_s(moment, ttl_s)  # what is left of its lifetime at this try
            return self.send_raw(payload, command_id=command_id, timeout_s=timeout_s, expiry_s=expiry_s)

        return retrying(attempt, until=until, on_retry=on_retry)

    def send_raw(
        self,
        payload: bytes,
        *,
        command_id: str | None,
        timeout_s: float = 10.0,
        retain: bool = False,
        expiry_s: int | None = None,
    ) -> dict[str, Any]:
        """Publish any payload on the commands topic; return the first new answer naming ``command_id``.

        ``expiry_s``: the MQTT 5 message expiry interval (ignored over MQTT 3.1.1, which has none)."""
        with self._changed:
            seen = len(self._answers)
        properties = None
        if expiry_s is not None and self.broker.v5:
            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            properties.MessageExpiryInterval = expiry_s
        self._client.publish(self.topics.commands, payload, qos=1, retain=retain, properties=properties)
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for answer in self._answers[seen:]:
                    if answer.get("id") == command_id:
                        return answer
                seen = len(self._answers)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RemoteError(
                        f"no answer from mirror {self.topics.device} within {timeout_s:g} s; "
                        f"is it on and online? (see {self.topics.status})"
                    )
                self._changed.wait(left)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sync.remote", description="Send a command to a smart mirror.")
    add_command_arguments(parser, COMMANDS, SCREENS)
    parser.add_argument(
        "--device", type=device_arg, required=True, metavar="ID", help="required: the mirror's device id ([device] id)"
    )
    parser.add_argument("--host", default="localhost", help="broker host (default %(default)s)")
    parser.add_argument("--port", type=port_arg, default=1883, help="broker port (default %(default)s)")
    parser.add_argument(
        "--prefix",
        type=topic_prefix_arg,
        default="smart-mirror",
        help="the mirror's topic_prefix (default %(default)s)",
    )
    parser.add_argument("--tls", action="store_true", help="connect with TLS (the server certificate is verified)")
    parser.add_argument("--ca-file", default="", metavar="FILE", help="CA certificate for TLS (default: system store)")
    return parser


def say_retry(answer: dict[str, Any], delay_s: float, *, prog: str = PROG) -> None:
    """One line on stderr, starting ``prog:``, before a ``rate_limited`` command goes again (a :data:`RetryHook`)."""
    why = str(answer.get("reason", "")).removeprefix(f"{RATE_LIMITED}: ").split(";")[0]
    print(f"{prog}: rate limited by the mirror ({why}), retrying in {delay_s:.1f} s …", file=sys.stderr)


def say_why(answer: dict[str, Any], command: str, *, prog: str = PROG) -> None:
    """One line, starting ``prog:``, on what to do about a refusal that sending again cannot cure by itself."""
    code = refusal_code(answer)
    if code == RATE_LIMITED:
        print(f"{prog}: still rate limited by the mirror; send it again later", file=sys.stderr)
    elif code == CLOCK_UNSET:
        print(
            f"{prog}: not retried: the mirror's clock is not set, so it refuses {command} until NTP sets it; "
            "connect the mirror to the network (smart-mirror doctor on it checks the clock), then send it again",
            file=sys.stderr,
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    problem = option_problem(args)
    if problem:
        parser.error(problem)
    broker = sender_broker(args.host, args.port, username=args.username, tls=args.tls, ca_file=args.ca_file)
    return send(args, broker, Topics(args.prefix, args.device), prog=PROG)


if __name__ == "__main__":
    sys.exit(main())
