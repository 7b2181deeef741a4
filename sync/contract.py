"""The sync message contract, version 1 (``docs/sync.md`` explains it; ``schemas/`` pins it down).

Topics, under a configurable prefix and the device id (both single topic levels)::

    <prefix>/<device>/garments/<record id>   record JSON, QoS 1            mirror -> cloud
    <prefix>/<device>/images/<sha256>        image bytes, QoS 1 (images=mqtt)  mirror -> cloud
    <prefix>/<device>/uploads/request        presigned-URL request (images=http) mirror -> cloud
    <prefix>/<device>/uploads/urls           presigned URLs, QoS 1 (images=http) cloud -> mirror
    <prefix>/<device>/acks                   application-level ack JSON, QoS 1   cloud -> mirror
    <prefix>/<device>/commands               remote command JSON, QoS 1, not retained  cloud -> mirror
    <prefix>/<device>/commands/result        the mirror's answer to each command, QoS 1  mirror -> cloud
    <prefix>/<device>/status                 "online" / "offline", retained, offline is the will
    <prefix>/<device>/state                  {"garments", "waiting"} JSON, retained (Home Assistant)

Everything here is pure (no MQTT; the only files read are the schemas, :func:`load_schema`) so
the worker, the consumer and the tests share it. Checking a message against its schema, and
reading JSON within bounds, is ``sync.validation``'s.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema.protocols import Validator

from mirror.store.codec import iso, record_to_dict
from mirror.store.records import Record
from sync.validation import bounded_object, schema_problem, schema_validator

SCHEMA_VERSION = 1
GARMENT_SCHEMA = "smart-mirror.garment"
ACK_SCHEMA = "smart-mirror.ack"
UPLOAD_REQUEST_SCHEMA = "smart-mirror.upload-request"
UPLOAD_URLS_SCHEMA = "smart-mirror.upload-urls"
COMMAND_SCHEMA = "smart-mirror.command"  # added to contract 1 (backward compatible: new topics only)
COMMAND_RESULT_SCHEMA = "smart-mirror.command-result"
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
ONLINE = "online"
OFFLINE = "offline"
#: The largest ack the mirror reads (larger ones are refused unread). A valid ack is at most about
#: 6.5 KB: the envelope, an id of 64 characters and a reason of 500, each character of which JSON
#: may escape as ``\uXXXX`` (12 bytes for one outside the BMP, as ``json.dumps`` writes it).
MAX_ACK_BYTES = 8 * 1024
#: At most this many URLs in one upload-URLs message (a record has at most 8 images), each at most
#: ``MAX_URL_CHARS`` long (``upload-urls.v1.json``): about 34 KB of JSON at most.
MAX_URLS = 8
MAX_URL_CHARS = 4096
#: The largest upload-URLs message the mirror reads (larger ones are refused unread).
MAX_URLS_BYTES = 48 * 1024


@dataclass(frozen=True)
class Topics:
    """The topic names of one device."""

    prefix: str
    device: str

    def _t(self, *rest: str) -> str:
        return "/".join((self.prefix, self.device, *rest))

    def garment(self, record_id: str) -> str:
        return self._t("garments", record_id)

    def image(self, sha256: str) -> str:
        return self._t("images", sha256)

    @property
    def acks(self) -> str:
        return self._t("acks")

    @property
    def status(self) -> str:
        return self._t("status")

    @property
    def state(self) -> str:
        return self._t("state")

    @property
    def upload_request(self) -> str:
        return self._t("uploads", "request")

    @property
    def upload_urls(self) -> str:
        return self._t("uploads", "urls")

    @property
    def commands(self) -> str:
        return self._t("commands")

    @property
    def command_results(self) -> str:
        return self._t("commands", "result")


@dataclass(frozen=True)
class ParsedTopic:
    """What a topic under the prefix names: device, kind (garments/images/...) and the last level."""

    device: str
    kind: str
    key: str


def parse_topic(prefix: str, topic: str) -> ParsedTopic | None:
    """Split ``<prefix>/<device>/<kind>[/<key>]``; ``None`` when it does not fit."""
    head = prefix + "/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head) :].split("/")
    if len(parts) == 2:
        return ParsedTopic(parts[0], parts[1], "")
    if len(parts) == 3:
        return ParsedTopic(parts[0], parts[1], parts[2])
    return None


def _now() -> str:
    return iso(datetime.now(UTC))


def garment_message(record: Record, images_via: str) -> bytes:
    """The record message: an envelope (schema, version, when sent, how images travel) around the record."""
    body = {
        "schema": GARMENT_SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "sent_at": _now(),
        "images_via": images_via,
        "record": record_to_dict(record),
    }
    return json.dumps(body, separators=(",", ":")).encode()


def ack_message(record_id: str, version: int, status: str, reason: str = "") -> bytes:
    body: dict[str, Any] = {
        "schema": ACK_SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "id": record_id,
        "version": version,
        "status": status,
    }
    if reason:
        body["reason"] = reason[:500]
    return json.dumps(body, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Ack:
    """The cloud's answer for one record version, checked against ``ack.v1.json``."""

    id: str
    version: int
    status: str  # stored, duplicate or rejected
    reason: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return self.id, self.version

    @property
    def conflict_newest(self) -> int | None:
        """For a ``version_conflict`` rejection, the newest version the cloud holds of this garment."""
        if self.status != "rejected":
            return None
        match = _CONFLICT.match(self.reason)
        return int(match.group(1)) if match else None


#: The one rejection a mirror acts on rather than waits out: the cloud already holds this
#: ``(id, version)`` with other content (the mirror's closet was restored from a backup and has
#: numbered versions again). Written ``version_conflict: newest <N>; ...`` so that a contract-1 ack
#: carries it (``reason`` is free text there); the mirror sends its garment again as version N + 1.
VERSION_CONFLICT = "version_conflict"
_CONFLICT = re.compile(rf"{VERSION_CONFLICT}: newest ([0-9]{{1,15}})\b")


def conflict_reason(version: int, newest: int) -> str:
    """The ack ``reason`` for a version whose number the cloud already holds with other content."""
    return (
        f"{VERSION_CONFLICT}: newest {newest}; the cloud already holds a different v{version} of this garment "
        "(a closet restored from a backup?)"
    )


def parse_ack(payload: bytes) -> Ack:
    """An ack from the acks topic, or ValueError saying what is wrong with it.

    Checked in full, not only its ``schema``: an ack removes a version from the outbox for
    good, so one from a newer contract (``schema_version`` 2), with a version that is not an
    integer or with a status this mirror does not know must not be taken as "stored".
    """
    body = bounded_object(payload, MAX_ACK_BYTES, "an ack")
    if body.get("schema") != ACK_SCHEMA:
        raise ValueError(f"schema {body.get('schema')!r}")
    if body.get("schema_version") != SCHEMA_VERSION or isinstance(body.get("schema_version"), bool):
        raise ValueError(f"schema_version {body.get('schema_version')!r}; this mirror speaks {SCHEMA_VERSION}")
    problem = schema_problem(_ack_validator(), body)
    if problem:
        raise ValueError(problem)
    if type(body["version"]) is not int:  # JSON Schema counts 2.0 as an integer; the outbox key is not
        raise ValueError(f"version: {body['version']!r} is not an integer")
    return Ack(body["id"], body["version"], body["status"], body.get("reason", ""))


def printable(text: object) -> str:
    """``text`` fit for one log line: control characters (a newline that would forge a second line,
    terminal escapes) and other unprintable ones written as escapes (``\\n``, ``\\x1b``)."""
    value = str(text)
    if value.isprintable():
        return value
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in value)


@cache
def _ack_validator() -> Validator:
    return schema_validator(load_schema("ack"))


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema from ``sync/schemas`` (``garment``, ``ack``, ``upload-request``, ``upload-urls``,
    ``command``, ``command-result``)."""
    data: dict[str, Any] = json.loads((SCHEMA_DIR / f"{name}.v{SCHEMA_VERSION}.json").read_text(encoding="utf-8"))
    return data
