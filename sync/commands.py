"""Remote commands, the mirror's side: check each one, answer each one, hand the good ones to the core.

Why a gate here and not in the core: anything on ``<prefix>/<device>/commands`` comes from the
network, so it may be broken JSON, another schema, a repeat (QoS 1 delivers at least once, and
a persistent session replays what queued while the mirror was off) or days old. The core
should only ever see a well-formed, fresh, first-time command, and answer one question: can I
do this now? This module asks it through a plain callback (``sync`` knows records, not
vision or Qt), and turns every outcome into one reply on ``.../commands/result``:

``accepted`` (the core carries it out), ``rejected`` (with a reason: a code, a colon, one
line), ``expired`` (after ``expires_at``, or :data:`~sync.lifetime.DEFAULT_TTL_S` after
``sent_at``) or ``duplicate`` (an id already answered). Nothing here raises on input, and nothing
waits: a command the mirror cannot carry out now is rejected, never queued.

Freshness is judged by the mirror's wall clock, and a Pi without a real-time clock can boot days
behind. While the clock is certainly wrong (``mirror.wallclock``) a command's age cannot be
told: one queued for exactly as long as the clock is behind would look fresh. Then only the
harmless commands (:data:`CLOCK_FREE`) are carried out; the rest are ``rejected`` with
``clock_unset``. Senders also give each command an MQTT 5 message expiry
(:func:`message_expiry_s`), so the broker, whose clock is not the mirror's, drops a command that
waited out its lifetime in the mirror's queue.

Whoever holds the topic could otherwise empty the closet in a second, or push an id out of the
duplicate memory with a burst of others and have it carried out twice. So commands are rate
limited (:data:`RATE`, :data:`DELETE_RATE`; over it: ``rejected`` with ``rate_limited``), every
verdict is logged with the command, its target and id (an accepted ``delete`` at WARNING), and
the duplicate memory never forgets an id inside a command's lifetime (:data:`LIFETIME_S`): when
it is full of such ids a new one is ``rate_limited`` instead. With the rates below at most
20 + 2 × 660 = 1340 ids are answered in one lifetime, under :data:`REMEMBER`, so that refusal
is a backstop; the closet's table (``command_answers``) keeps the newest :data:`REMEMBER`, enough
for three lifetimes, which covers a restart inside one (the rate limit starts afresh then).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Protocol

from jsonschema.protocols import Validator

from mirror.store import ClosetStore, StoreError
from mirror.store.codec import iso, parse_iso
from mirror.store.command_log import CommandLog
from mirror.wallclock import clock_problem
from sync.contract import (
    COMMAND_RESULT_SCHEMA,
    COMMAND_SCHEMA,
    SCHEMA_VERSION,
    load_schema,
    printable,
)
from sync.lifetime import DEFAULT_TTL_S, MAX_TTL_S
from sync.loglimit import LogLimit
from sync.validation import loads_bounded, schema_problem, schema_validator

log = logging.getLogger(__name__)

ACCEPTED, REJECTED, EXPIRED, DUPLICATE = "accepted", "rejected", "expired", "duplicate"
#: The command names and ``show`` screens a sender may use: the contract's own lists
#: (``command.v1.json``), written there only (``smart-mirror sync command`` reads them there too).
COMMANDS: tuple[str, ...] = tuple(load_schema("command")["properties"]["command"]["enum"])
SCREENS: tuple[str, ...] = tuple(load_schema("command")["properties"]["screen"]["enum"])
#: A ``sent_at`` further in the future than this is the sender's clock, not a command to trust.
MAX_CLOCK_SKEW_S = 60.0
#: Larger payloads are rejected unread (a command is a few hundred bytes).
MAX_BYTES = 4096
#: How long a command may be carried out after it was sent, at most: its id must be remembered that long.
LIFETIME_S = MAX_TTL_S + MAX_CLOCK_SKEW_S
#: Token buckets, (burst, per seconds): at most 20 commands in 10 s, and 5 of them ``delete`` a minute.
RATE = (20, 10.0)
DELETE_RATE = (5, 60.0)
#: Commands carried out while the mirror's clock is certainly wrong, when their age cannot be told.
#: ``show`` only changes the screen (the core refuses it while a shot or a result is in progress),
#: and ``cancel`` only ever stops: it ends a countdown without a shot, drops an analysis or an
#: unsaved result, and goes home. Neither turns the camera on, nor adds, changes or deletes a
#: garment, nor sends anything anywhere; a stale one costs a touch on the glass at worst, and
#: ``cancel`` stays the way to stop a capture. ``capture`` and ``retake`` photograph whoever
#: stands at the mirror now; ``keep`` adds whatever result shows now (maybe not the one its
#: sender saw) to the closet and the cloud; ``delete`` removes a garment for good: a stale one
#: of those is the harm expiry exists to prevent, so they wait for a clock that can judge them.
CLOCK_FREE = frozenset({"show", "cancel"})
#: Refusals of a command that was never judged (not remembered, so its id may be sent again).
NOT_YET = ("rate_limited:", "clock_unset:")
#: Command ids remembered for the duplicate check, oldest forgotten first, but never one answered
#: within LIFETIME_S (a new command is rate_limited instead). Over 3 × the 1340 RATE lets through
#: in a lifetime, so a restart inside one forgets nothing either.
REMEMBER = 4096


class TokenBucket:
    """At most ``burst`` at once, refilled at ``burst / per_s`` a second (``clock``: monotonic seconds)."""

    def __init__(self, burst: int, per_s: float, clock: Callable[[], float]) -> None:
        self.burst, self.per_s, self.clock = burst, per_s, clock
        self.rate = burst / per_s
        self._tokens = float(burst)
        self._at = clock()

    def ready(self) -> bool:
        now = self.clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
        self._at = now
        return self._tokens >= 1.0

    def take(self) -> None:
        self._tokens -= 1.0


class AnsweredCommands(Protocol):
    """Where the duplicate check keeps the ids it has answered (and the first answer of each)."""

    def first_answer(self, command_id: str) -> str | None: ...

    def remember(self, command_id: str, status: str) -> None: ...

    def full(self) -> bool:
        """True while remembering one more id would forget one answered within :data:`LIFETIME_S`."""
        ...


class MemoryAnswers:
    """The newest ``keep`` answered ids, in memory (forgotten on restart)."""

    def __init__(self, keep: int = REMEMBER, clock: Callable[[], float] = time.monotonic) -> None:
        self.keep = keep
        self.clock = clock
        self._answered: OrderedDict[str, tuple[str, float]] = OrderedDict()  # id -> its status, when

    def first_answer(self, command_id: str) -> str | None:
        known = self._answered.get(command_id)
        return None if known is None else known[0]

    def remember(self, command_id: str, status: str) -> None:
        if command_id in self._answered:
            return  # a duplicate keeps the first answer (and its place)
        self._answered[command_id] = (status, self.clock())
        while len(self._answered) > self.keep:
            self._answered.popitem(last=False)

    def full(self) -> bool:
        if len(self._answered) < self.keep:
            return False
        _status, oldest = next(iter(self._answered.values()))
        return self.clock() - oldest < LIFETIME_S


class StoreAnswers(MemoryAnswers):
    """Answered ids in the closet database too, so they survive a restart.

    Why: with QoS 1 and a persistent session the broker redelivers a command whose PUBACK never
    left (the mirror crashed, or lost power, right after carrying it out); without this the
    restarted mirror would capture or delete twice. The store failing (a full disk) must not turn
    a command already carried out into an error reply: the id is then remembered in memory only.

    It holds the closet's command log (``store.commands``), not the whole store: remembering answers
    is all it does there.
    """

    def __init__(
        self, command_log: CommandLog, keep: int = REMEMBER, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(keep, clock)
        self.command_log = command_log

    def first_answer(self, command_id: str) -> str | None:
        known = super().first_answer(command_id)
        if known is not None:
            return known
        try:
            return self.command_log.answer(command_id)
        except StoreError as exc:
            log.warning("cannot look up command %s in the closet (%s); checked in memory only", command_id, exc)
            return None

    def remember(self, command_id: str, status: str) -> None:
        super().remember(command_id, status)
        try:
            self.command_log.remember(command_id, status, self.keep)
        except StoreError as exc:
            log.warning("command %s is remembered until restart only (%s)", command_id, exc)


def closet_newest(store: ClosetStore) -> Callable[[], datetime | None]:
    """A ``newest`` for :class:`CommandInbox`: the closet's newest garment, which the clock must not
    precede (``ClosetStore.newest_time``: ``None`` once NTP has set the clock); ``None`` when the
    closet cannot say (then only an impossible year shows the clock wrong).

    Its own function, not a method of :class:`StoreAnswers`: remembering answered ids and judging
    the clock are separate jobs that happen to read the same closet."""

    def newest() -> datetime | None:
        try:
            return store.newest_time()
        except StoreError as exc:
            log.warning("cannot read the closet's newest garment (%s); the clock is judged by its year only", exc)
            return None

    return newest


@dataclass(frozen=True)
class Command:
    """A checked, fresh command; ``screen`` is set for ``show``, ``record_id`` for ``delete``."""

    id: str
    name: str
    sent_at: datetime
    expires_at: datetime
    screen: str = ""
    record_id: str = ""


@dataclass(frozen=True)
class Verdict:
    """The answer to one message on the commands topic."""

    status: str
    reason: str = ""


#: The core's answer to a checked command: ``""`` when it carries it out now, else why not,
#: as ``code: one line`` (e.g. ``busy: a result is showing; send keep or retake first``).
CommandHandler = Callable[[Command], str]


class _RejectedError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")


@cache
def _validator() -> Validator:
    return schema_validator(load_schema("command"))


def expiry(sent_at: datetime, expires_at: datetime | None) -> datetime:
    """When a command sent at ``sent_at`` expires: its ``expires_at``, at most
    :data:`~sync.lifetime.MAX_TTL_S` after ``sent_at``, or :data:`~sync.lifetime.DEFAULT_TTL_S`
    after it without one."""
    return min(expires_at or sent_at + timedelta(seconds=DEFAULT_TTL_S), sent_at + timedelta(seconds=MAX_TTL_S))


def message_expiry_s(sent_at: datetime, ttl_s: float | None, now: datetime | None = None) -> int:
    """The MQTT 5 ``MessageExpiryInterval`` for a command: the seconds from ``now`` (the sender's
    clock) until the mirror would call it expired, rounded up, and at least 1.

    Why: the broker drops a message that waited longer than this in a session's queue, by its
    own count of seconds, so a command queued while the mirror was off never reaches a mirror
    whose clock cannot tell it is stale (it boots behind, and only a clock proved wrong makes
    it refuse). Rounded up, and 1 s for one already expired: the broker must never drop a
    command the mirror would still have answered; an expired one sent to a listening mirror
    still gets its ``expired`` answer.
    """
    moment = sent_at + timedelta(seconds=min(ttl_s, MAX_TTL_S)) if ttl_s is not None else None
    left = (expiry(sent_at, moment) - (now or datetime.now(UTC))).total_seconds()
    return max(1, math.ceil(left))


def parse_command(body: Any) -> Command:
    """A command from decoded JSON; raises ``_RejectedError`` (schema_version, schema_invalid)."""
    if not isinstance(body, dict):
        raise _RejectedError("schema_invalid", f"expected a JSON object, got {type(body).__name__}")
    if body.get("schema") == COMMAND_SCHEMA and body.get("schema_version") != SCHEMA_VERSION:
        raise _RejectedError(
            "schema_version", f"schema_version {body.get('schema_version')!r}; this mirror speaks {SCHEMA_VERSION}"
        )
    problem = schema_problem(_validator(), body)
    if problem:
        raise _RejectedError("schema_invalid", problem)
    try:
        sent_at = parse_iso(body["sent_at"])
        expires_at = parse_iso(body["expires_at"]) if "expires_at" in body else None
    except ValueError as exc:
        raise _RejectedError("schema_invalid", f"a time that is not a date ({exc})") from None
    return Command(
        id=body["id"],
        name=body["command"],
        sent_at=sent_at,
        expires_at=expiry(sent_at, expires_at),
        screen=body.get("screen", ""),
        record_id=body.get("record_id", ""),
    )


class CommandInbox:
    """Checks each payload from the commands topic, asks the core, and says what to answer."""

    def __init__(
        self,
        handler: CommandHandler,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        answers: AnsweredCommands | None = None,
        clock: Callable[[], float] = time.monotonic,
        rate: tuple[int, float] = RATE,
        delete_rate: tuple[int, float] = DELETE_RATE,
        newest: Callable[[], datetime | None] | None = None,
    ) -> None:
        """``now``: the wall clock (expiry); ``clock``: monotonic seconds (the rate limit).

        ``newest``: the latest time the mirror knows has passed, a reading of ``now`` before it
        proves the clock wrong (``mirror.wallclock.clock_problem``): the sync worker passes
        :func:`closet_newest`. By default none (an impossible year still shows the clock wrong).
        """
        self.handler = handler
        self.now = now
        self.answers = answers if answers is not None else MemoryAnswers(clock=clock)
        self.newest = newest if newest is not None else lambda: None
        self._all = TokenBucket(*rate, clock)
        self._deletes = TokenBucket(*delete_rate, clock)
        self._refusals = LogLimit(log, burst=20, clock=clock)

    def handle(self, payload: bytes, *, retained: bool = False) -> tuple[str | None, Verdict]:
        """The command's id (``None`` when unreadable) and the verdict to publish; never raises."""
        command_id: str | None = None
        what = "?"  # the command and its target, for the log
        try:
            if len(payload) > MAX_BYTES:
                raise _RejectedError("oversized", f"{len(payload)} bytes; a command is at most {MAX_BYTES}")
            try:
                # Decoded first: bytes would also be guessed as UTF-16/32. Bounded: a payload nested
                # deeper than the parser goes (``[`` × 3000 fits in MAX_BYTES) is malformed, not a crash.
                body = loads_bounded(payload.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise _RejectedError("malformed_json", str(exc)[:200]) from None
            raw_id = body.get("id") if isinstance(body, dict) else None
            if isinstance(raw_id, str) and 0 < len(raw_id) <= 64:
                command_id = raw_id
            if retained:
                raise _RejectedError("retained", "commands must be published without the retain flag")
            command = parse_command(body)
            # Through printable() though the schema admits no control character there: a log line
            # must not depend on every pattern being right (one let "abc\n" through).
            what = printable(" ".join(filter(None, (command.name, command.screen, command.record_id))))
            verdict = self._decide(command)
            if not verdict.reason.startswith(NOT_YET):  # never judged: a resend may go later
                self.answers.remember(command.id, verdict.status)
        except _RejectedError as exc:
            verdict = Verdict(REJECTED, str(exc))
        except Exception as exc:  # the core failed: say so, keep the mirror and the worker running
            log.exception("remote command %s (id %r) failed", what, command_id)
            verdict = Verdict(REJECTED, f"internal_error: {exc}"[:300])
        if verdict.status == ACCEPTED:
            level = logging.WARNING if what.startswith("delete ") else logging.INFO  # an audit trail of deletes
        else:
            level = logging.WARNING
        line = ("remote command %s (id %r): %s %s", what, command_id, verdict.status, printable(verdict.reason))
        if verdict.status == ACCEPTED:  # carried out (and rate limited): every one is logged, an audit trail
            log.log(level, *line)
        else:  # refusals cost nothing to send: a flood of them must not flood the log
            self._refusals.log(level, *line)
        return command_id, verdict

    def _decide(self, command: Command) -> Verdict:
        first = self.answers.first_answer(command.id)
        if first is not None:
            return Verdict(DUPLICATE, f"duplicate: id {command.id} was answered {first} already")
        # Before anything that is remembered: every id remembered took a token (the memory's bound).
        limited = self._rate_limited(command)
        if limited:
            return Verdict(REJECTED, f"rate_limited: {limited}; send it again later")
        now = self.now()
        wrong = clock_problem(now, self.newest())
        if wrong and command.name in CLOCK_FREE:  # harmless: a wrong clock's verdict would only be noise
            reason = self.handler(command)
            return Verdict(REJECTED, reason) if reason else Verdict(ACCEPTED)
        if wrong:
            return Verdict(
                REJECTED,
                f"clock_unset: the mirror's clock is not set ({wrong}), so it cannot tell whether this "
                f"{command.name} is fresh; connect the mirror to the network (NTP), then send it again",
            )
        ahead = (command.sent_at - now).total_seconds()
        if ahead > MAX_CLOCK_SKEW_S:
            return Verdict(
                REJECTED, f"clock_skew: sent_at is {ahead:.0f} s ahead of the mirror's clock; set both clocks by NTP"
            )
        if now > command.expires_at:
            return Verdict(
                EXPIRED,
                f"expired: {command.name} expired at {iso(command.expires_at)}; the mirror's clock reads {iso(now)}",
            )
        reason = self.handler(command)
        return Verdict(REJECTED, reason) if reason else Verdict(ACCEPTED)

    def _rate_limited(self, command: Command) -> str:
        """Why ``command`` is over the rate limit (``""``: it is not, and it took its tokens)."""
        if self.answers.full():
            return f"the duplicate memory is full of ids answered within the last {LIFETIME_S:.0f} s"
        if not self._all.ready():
            return f"over {self._all.burst} commands in {self._all.per_s:.0f} s"
        is_delete = command.name == "delete"
        if is_delete and not self._deletes.ready():
            return f"over {self._deletes.burst} deletes in {self._deletes.per_s:.0f} s"
        self._all.take()
        if is_delete:
            self._deletes.take()
        return ""


def result_message(command_id: str | None, verdict: Verdict) -> bytes:
    """The reply on ``<prefix>/<device>/commands/result`` (``sync/schemas/command-result.v1.json``)."""
    body: dict[str, Any] = {
        "schema": COMMAND_RESULT_SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "id": command_id,
        "status": verdict.status,
    }
    if verdict.reason:
        body["reason"] = verdict.reason[:500]
    return json.dumps(body, separators=(",", ":")).encode()


def command_message(
    name: str,
    *,
    command_id: str,
    screen: str | None = None,
    record_id: str | None = None,
    sent_at: datetime | None = None,
    ttl_s: float | None = None,
) -> bytes:
    """A command as a sender publishes it (the tests and ``python -m sync.remote`` use this)."""
    moment = sent_at or datetime.now(UTC)
    body: dict[str, Any] = {
        "schema": COMMAND_SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "id": command_id,
        "command": name,
        "sent_at": iso(moment),
    }
    if screen is not None:
        body["screen"] = screen
    if record_id is not None:
        body["record_id"] = record_id
    if ttl_s is not None:
        body["expires_at"] = iso(moment + timedelta(seconds=ttl_s))
    return json.dumps(body, separators=(",", ":")).encode()
