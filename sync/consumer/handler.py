"""One incoming message in, acks out — validation, idempotent storage and dead letters, no MQTT here.

The consumer never crashes on input: anything it cannot use lands in the ``dead_letters`` table
with a reason (``malformed_json``, ``schema_version``, ``schema_invalid``, ``oversized``,
``unknown_device``, ``device_mismatch`` (also: an id another mirror's garment already has),
``hash_mismatch``, ``unknown_topic``,
``internal_error``) and the next message is handled as usual. A record whose images have not
come after :data:`PENDING_TTL_S` goes there too (``pending_expired``), and the table keeps only
the newest :data:`~sync.consumer.db.MAX_DEAD_LETTERS` rows: no mirror can grow either for ever.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Container, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any

from jsonschema.protocols import Validator

from sync.consumer.db import CONFLICT, DUPLICATE, FOREIGN, STORED, ConsumerDB, Tx
from sync.contract import (
    GARMENT_SCHEMA,
    SCHEMA_VERSION,
    ParsedTopic,
    conflict_reason,
    load_schema,
    parse_topic,
)
from sync.validation import schema_validator

log = logging.getLogger(__name__)
_SHA = re.compile(r"[0-9a-f]{64}")  # fullmatch: "$" would pass a final newline
MAX_VERSION = 2**63 - 1  # SQLite's INTEGER (and PostgreSQL's BIGINT)
PENDING_TTL_S = 7 * 86400  # a parked record whose images have not come by then is dead-lettered
EXPIRE_EVERY_S = 60.0  # how often a batch looks for such records


@dataclass(frozen=True)
class Ack:
    """An application-level ack to publish on ``<prefix>/<device>/acks``."""

    device_id: str
    record_id: str
    version: int
    status: str
    reason: str = ""


@dataclass(frozen=True)
class Limits:
    max_record_bytes: int = 256 * 1024
    max_image_bytes: int = 16 * 1024 * 1024


class DeadLetterError(Exception):
    """A message goes to the dead letters: ``reason`` is the machine-readable code."""

    def __init__(self, reason: str, detail: str, ack: Ack | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.ack = ack


@cache
def _validator(name: str) -> Validator:
    """The schema with its local ``$ref`` s inlined: same rules, about half the validation time
    (jsonschema resolves each ``$ref`` through its registry on every use, per polygon point)."""
    schema = load_schema(name)
    defs = schema.get("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/") and len(node) == 1:
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return schema_validator(inline(schema))


@dataclass(frozen=True)
class _Image:
    sha256: str
    data: bytes


@dataclass(frozen=True)
class _Record:
    device_id: str
    record_id: str
    version: int
    body: str
    hashes: tuple[str, ...]
    deleted: bool


_Op = _Image | _Record | DeadLetterError


class MessageHandler:
    """Routes by topic; ``devices`` holds the mirrors accepted (``None``: any; a
    :class:`~sync.consumer.devices.DeviceRegistry` follows its file).

    Work is split in two: checking a message (parse, schema, hash — CPU only, no lock held)
    and applying a whole batch of checked messages in one database transaction, so a burst
    costs one durable commit.
    """

    def __init__(
        self,
        db: ConsumerDB,
        prefix: str,
        devices: Container[str] | None,
        limits: Limits | None = None,
        pending_ttl_s: float = PENDING_TTL_S,
    ) -> None:
        self.db = db
        self.prefix = prefix
        self.devices = devices
        self.limits = limits or Limits()
        self.pending_ttl_s = pending_ttl_s
        self._next_expiry = 0.0  # monotonic time of the next look for expired pending records

    def handle(self, topic: str, payload: bytes) -> list[Ack]:
        """Process one message; return the acks to publish. Never raises."""
        return self.handle_batch([(topic, payload)])

    def handle_batch(self, messages: Sequence[tuple[str, bytes]]) -> list[Ack]:
        """Process messages in one transaction; return the acks to publish once it committed. Never raises."""
        checked = [(topic, payload, self._check_safely(topic, payload)) for topic, payload in messages]
        acks: list[Ack] = []
        try:
            with self.db.transaction() as tx:
                self._expire(tx)
                for topic, payload, op in checked:
                    acks.extend(self._apply(tx, topic, payload, op))
        except Exception:
            log.exception("could not store a batch of %d message(s); the mirrors will send them again", len(messages))
            return []
        return acks

    def _expire(self, tx: Tx) -> None:
        if time.monotonic() < self._next_expiry:
            return
        self._next_expiry = time.monotonic() + EXPIRE_EVERY_S
        try:
            with tx.savepoint():
                expired = tx.expire_pending(time.time() - self.pending_ttl_s)
        except Exception:  # the batch itself still goes in
            log.exception("could not expire the pending records")
            return
        if expired:
            log.warning("%d pending record version(s) never got their images; moved to the dead letters", expired)

    def _check_safely(self, topic: str, payload: bytes) -> _Op:
        try:
            return self._check(topic, payload)
        except DeadLetterError as rej:
            return rej
        except Exception as exc:  # a bug: keep running, keep the evidence
            log.exception("failed to check a message on %s", topic)
            return DeadLetterError("internal_error", f"{type(exc).__name__}: {exc}")

    def _apply(self, tx: Tx, topic: str, payload: bytes, op: _Op) -> list[Ack]:
        if isinstance(op, DeadLetterError):
            log.warning("dead letter from %s: %s (%s)", topic, op.reason, op.detail)
            tx.dead_letter(topic, op.reason, op.detail, payload)
            return [replace(op.ack, reason=f"{op.reason}: {op.detail}")] if op.ack else []
        try:
            with tx.savepoint():
                if isinstance(op, _Image):
                    return [Ack(c.device_id, c.record_id, c.version, STORED) for c in tx.add_blob(op.sha256, op.data)]
                status = tx.offer_record(op.device_id, op.record_id, op.version, op.body, op.hashes, op.deleted)
        except Exception as exc:  # e.g. a constraint the schema did not foresee: this message only
            log.exception("failed to store a message from %s", topic)
            tx.dead_letter(topic, "internal_error", f"{type(exc).__name__}: {exc}", payload)
            return []
        if status == FOREIGN:  # one mirror must not overwrite or delete another's garment
            detail = f"id {op.record_id} belongs to another mirror's garment"
            log.warning("dead letter from %s: device_mismatch (%s)", topic, detail)
            tx.dead_letter(topic, "device_mismatch", detail, payload)
            return [Ack(op.device_id, op.record_id, op.version, "rejected", f"device_mismatch: {detail}")]
        if status == CONFLICT:  # the mirror answers by sending its garment again, numbered above ours
            newest = tx.newest_version(op.record_id)
            log.warning("garment %s v%d from %s differs from the stored v%d; newest here v%d",
                        op.record_id, op.version, op.device_id, op.version, newest)  # fmt: skip
            return [Ack(op.device_id, op.record_id, op.version, "rejected", conflict_reason(op.version, newest))]
        if status in (STORED, DUPLICATE):
            return [Ack(op.device_id, op.record_id, op.version, status)]
        return []  # pending: acked when its last image arrives

    def parse(self, topic: str) -> ParsedTopic:
        """The topic's parts, rejected when it is not ours or names a device not accepted."""
        parsed = parse_topic(self.prefix, topic)
        if parsed is None:
            raise DeadLetterError("unknown_topic", f"not under {self.prefix}/<device>/...")
        if self.devices is not None and parsed.device not in self.devices:
            raise DeadLetterError("unknown_device", f"device {parsed.device!r} is not registered with this consumer")
        return parsed

    def _check(self, topic: str, payload: bytes) -> _Op:
        try:
            parsed = self.parse(topic)
        except DeadLetterError as rej:
            raise DeadLetterError(rej.reason, rej.detail, self._rejection_of(topic, payload)) from None
        if parsed.kind == "images" and parsed.key:
            return self.check_image(parsed.key, payload)
        if parsed.kind == "garments" and parsed.key:
            return self._check_garment(parsed, payload)
        raise DeadLetterError("unknown_topic", f"no handler for {parsed.kind!r}")

    def _rejection_of(self, topic: str, payload: bytes) -> Ack | None:
        """For a record from a mirror this consumer does not accept: a ``rejected`` ack, so that the mirror
        logs why and waits an hour instead of sending it again every minute (a dead letter each time)."""
        parsed = parse_topic(self.prefix, topic)
        if parsed is None or parsed.kind != "garments":
            return None
        try:
            message = load_json(payload, self.limits.max_record_bytes, "record")
        except DeadLetterError:
            return None
        return _rejection_ack(parsed.device, message) if isinstance(message, dict) else None

    def check_image(self, sha256: str, data: bytes) -> _Image:
        """An image whose name must be its content hash (MQTT topic key or HTTP upload path)."""
        if not _SHA.fullmatch(sha256):
            raise DeadLetterError("unknown_topic", f"image key {sha256[:80]!r} is not a sha256")
        if len(data) > self.limits.max_image_bytes:
            raise DeadLetterError("oversized", f"image of {len(data)} bytes, limit {self.limits.max_image_bytes}")
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise DeadLetterError("hash_mismatch", f"content hashes to {actual}, topic names {sha256}")
        return _Image(sha256, data)

    def _check_garment(self, parsed: ParsedTopic, payload: bytes) -> _Record:
        message = load_json(payload, self.limits.max_record_bytes, "record")
        if not isinstance(message, dict):
            raise DeadLetterError("malformed_json", f"top level is {type(message).__name__}, not an object")
        ack = _rejection_ack(parsed.device, message)
        if message.get("schema") != GARMENT_SCHEMA or message.get("schema_version") != SCHEMA_VERSION:
            raise DeadLetterError(
                "schema_version",
                f"got {message.get('schema')!r} v{message.get('schema_version')!r}, "
                f"this consumer reads {GARMENT_SCHEMA} v{SCHEMA_VERSION}",
                ack,
            )
        errors = sorted(_validator("garment").iter_errors(message), key=lambda e: list(e.absolute_path))
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path) or "(top)"
            raise DeadLetterError("schema_invalid", f"{where}: {errors[0].message[:300]}", ack)
        record: dict[str, Any] = message["record"]
        problem = _beyond_the_schema(message)
        if problem:
            raise DeadLetterError("schema_invalid", problem, ack)
        if record["device_id"] != parsed.device:
            raise DeadLetterError(
                "device_mismatch", f"record says {record['device_id']!r}, topic {parsed.device!r}", ack
            )
        if record["id"] != parsed.key:
            raise DeadLetterError("unknown_topic", f"record id {record['id']} under topic key {parsed.key}", ack)
        return _Record(
            device_id=parsed.device,
            record_id=record["id"],
            version=int(record["version"]),
            body=json.dumps(record, separators=(",", ":"), sort_keys=True),
            hashes=tuple(str(img["sha256"]) for img in record["images"]),
            deleted=bool(record["deleted"]),
        )


def load_json(payload: bytes, limit: int, what: str) -> Any:
    """A JSON message of at most ``limit`` bytes, or :class:`DeadLetterError` (``oversized``, ``malformed_json``)."""
    if len(payload) > limit:
        raise DeadLetterError("oversized", f"{what} of {len(payload)} bytes, limit {limit}")
    try:
        return json.loads(payload, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DeadLetterError("malformed_json", str(exc)) from None
    except RecursionError:
        raise DeadLetterError("malformed_json", "nested too deeply") from None


def _no_constant(name: str) -> float:
    """``json.loads`` hook: NaN and Infinity are not JSON, and would not survive being stored as JSON."""
    raise ValueError(f"{name} is not a JSON number")


def _beyond_the_schema(message: dict[str, Any]) -> str:
    """What the v1 schema's patterns cannot say: real calendar times, a version SQLite can hold."""
    record = message["record"]
    for where, value in (("sent_at", message["sent_at"]), ("record/created_at", record["created_at"]),
                         ("record/updated_at", record["updated_at"])):  # fmt: skip
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return f"{where}: {value!r} is not a real time"
    if record["version"] > MAX_VERSION:
        return f"record/version: {record['version']} is over {MAX_VERSION}"
    return ""


def _rejection_ack(device: str, message: dict[str, Any]) -> Ack | None:
    """A ``rejected`` ack when the message names an id and version (so the mirror can log why)."""
    record = message.get("record")
    if isinstance(record, dict) and isinstance(record.get("id"), str) and isinstance(record.get("version"), int):
        return Ack(device, record["id"][:64], max(1, record["version"]), "rejected")
    return None
