"""Remote commands, the mirror's gate (``sync.commands``): every message is answered, only good ones act.

The inbox runs here without a broker (its input is the payload bytes, its output the reply);
``tests/test_ui_commands.py`` runs the same path end to end on a real mosquitto and the real
window, and ``tests/test_sync_acl.py`` shows who may publish commands at all.
"""

from __future__ import annotations

import functools
import json
import logging
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from mirror.cli import exitcodes
from mirror.cli.main import main as cli_main
from mirror.store import ClosetStore, StoreError, StoreFullError
from mirror.store.codec import iso
from mirror.store.samples import synthetic_draft
from sync.broker import BrokerConfig
from sync.commands import (
    ACCEPTED,
    DUPLICATE,
    EXPIRED,
    LIFETIME_S,
    MAX_BYTES,
    MAX_CLOCK_SKEW_S,
    REJECTED,
    Command,
    CommandInbox,
    MemoryAnswers,
    StoreAnswers,
    Verdict,
    closet_newest,
    command_message,
    message_expiry_s,
    result_message,
)
from sync.contract import Topics, load_schema
from sync.lifetime import DEFAULT_TTL_S, MAX_TTL_S
from sync.remote import RETRY_MAX_S, RETRY_MIN_S, RemoteControl, RemoteError, carried_out, refusal_code, retrying
from sync.remote import main as remote_main
from sync.remote_cli import RETRY_S
from sync.validation import schema_validator
from sync.worker import SyncWorker
from tests.broker import Mosquitto
from tests.conftest import ROOT
from tests.conftest_broker import DEVICE, PREFIX, Listener, fill_store, sync_settings

NOW = datetime(2026, 11, 24, 1, 32, 33, tzinfo=UTC)
RECORD = "019ab3f2-5c1e-7a4b-9c3d-2e1f0a9b8c7d"
COMMAND = schema_validator(load_schema("command"))
RESULT = schema_validator(load_schema("command-result"))


class Core:
    """Stands in for ``MirrorService.command``: records what it was handed, refuses on request."""

    def __init__(self) -> None:
        self.seen: list[Command] = []
        self.refuse = ""

    def __call__(self, command: Command) -> str:
        self.seen.append(command)
        return self.refuse


def inbox(core: Core, now: datetime = NOW, remember: int = 1024) -> CommandInbox:
    return CommandInbox(core, now=lambda: now, answers=MemoryAnswers(remember))


def message(name: str, command_id: str = "c-1", **fields: object) -> bytes:
    return command_message(name, command_id=command_id, sent_at=NOW, **fields)  # type: ignore[arg-type]


def test_messages_the_helpers_make_validate_and_a_good_command_reaches_the_core() -> None:
    core = Core()
    for payload in (
        message("show", screen="closet"),
        message("delete", record_id=RECORD),
        message("capture", ttl_s=5),
    ):
        assert list(COMMAND.iter_errors(json.loads(payload))) == []
    command_id, verdict = inbox(core).handle(message("show", screen="closet"))
    assert (command_id, verdict) == ("c-1", Verdict(ACCEPTED))
    [command] = core.seen
    assert (command.name, command.screen, command.record_id) == ("show", "closet", "")
    assert command.expires_at == NOW + timedelta(seconds=DEFAULT_TTL_S)
    reply = json.loads(result_message(command_id, verdict))
    assert list(RESULT.iter_errors(reply)) == [] and reply["status"] == "accepted" and "reason" not in reply


@pytest.mark.parametrize(
    ("payload", "reply_id", "code"),
    [
        (b"{not json", None, "malformed_json"),
        (b"\xff\xfe", None, "malformed_json"),
        (b"[1, 2]", None, "schema_invalid"),
        (b"x" * (MAX_BYTES + 1), None, "oversized"),
        # Deeper than the parser goes, yet under MAX_BYTES (review sync s4):
        pytest.param(b"[" * 3000, None, "malformed_json", id="nested-3000-deep"),
        # Not JSON, though Python reads them (the consumer refuses them as malformed_json too):
        (message("capture").replace(b'"schema_version":1', b'"schema_version":NaN'), None, "malformed_json"),
        (message("capture").replace(b'"command"', b'"x":Infinity,"command"'), None, "malformed_json"),
        (message("capture").replace(b'"command"', b'"x":-Infinity,"command"'), None, "malformed_json"),
        (json.dumps({"schema": "smart-mirror.ack", "id": "c-2"}).encode(), "c-2", "schema_invalid"),
        (message("show"), "c-1", "schema_invalid"),  # show without a screen
        (message("capture", screen="closet"), "c-1", "schema_invalid"),  # a screen for capture
        (message("show", screen="kitchen"), "c-1", "schema_invalid"),
        (message("delete", record_id="../../etc"), "c-1", "schema_invalid"),
        (message("reboot"), "c-1", "schema_invalid"),
        (
            json.dumps({**json.loads(message("capture")), "schema_version": 2}).encode(),
            "c-1",
            "schema_version",
        ),
        (json.dumps({**json.loads(message("capture")), "sent_at": "yesterday"}).encode(), "c-1", "schema_invalid"),
        (
            json.dumps({**json.loads(message("capture")), "sent_at": "2026-13-45T99:00:00Z"}).encode(),
            "c-1",
            "schema_invalid",
        ),
    ],
)
def test_broken_messages_are_rejected_with_a_reason_and_never_reach_the_core(
    payload: bytes, reply_id: str | None, code: str
) -> None:
    core = Core()
    command_id, verdict = inbox(core).handle(payload)
    assert command_id == reply_id
    assert verdict.status == REJECTED and verdict.reason.startswith(f"{code}: "), verdict
    assert "\n" not in verdict.reason
    assert core.seen == []
    assert list(RESULT.iter_errors(json.loads(result_message(command_id, verdict)))) == []


def test_expired_retained_and_repeated_commands_are_answered_and_not_carried_out() -> None:
    core = Core()
    gate = inbox(core)
    late = NOW + timedelta(seconds=DEFAULT_TTL_S + 1)
    expired = inbox(core, now=late).handle(message("capture"))[1]
    assert expired.status == EXPIRED and expired.reason.endswith(f"the mirror's clock reads {iso(late)}")
    assert inbox(core, now=late).handle(message("capture", ttl_s=3600))[1].status == ACCEPTED  # its own expiry
    much_later = NOW + timedelta(seconds=MAX_TTL_S + 1)  # ... honoured up to MAX_TTL_S, not for a day
    assert inbox(core, now=much_later).handle(message("capture", ttl_s=86400))[1].status == EXPIRED
    early = NOW - timedelta(seconds=MAX_CLOCK_SKEW_S + 30)  # the sender's clock is ahead
    skewed = inbox(core, now=early).handle(message("capture", "c-skew"))[1]
    assert skewed.status == REJECTED and skewed.reason.startswith("clock_skew: sent_at is 90 s ahead")
    utf16 = json.dumps(json.loads(message("capture", "c-16"))).encode("utf-16")
    assert inbox(core).handle(utf16)[1].reason.startswith("malformed_json: ")  # not guessed as UTF-16
    assert inbox(core, now=NOW + timedelta(seconds=10)).handle(message("capture", ttl_s=5))[1].status == EXPIRED
    core.seen.clear()
    _, retained = gate.handle(message("capture"), retained=True)
    assert retained.status == REJECTED and retained.reason.startswith("retained: ")
    assert gate.handle(message("capture", "c-7"))[1].status == ACCEPTED
    again = gate.handle(message("capture", "c-7"))[1]
    assert again.status == DUPLICATE and "accepted" in again.reason
    assert len(core.seen) == 1


def test_a_flood_of_deeply_nested_payloads_is_malformed_and_logged_a_few_times_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Review s4: ``[`` × 3000 made the parser raise RecursionError, answered ``internal_error`` with a
    traceback in the log for every one of them; it is broken JSON like any other, refused in one line."""
    core = Core()
    gate = inbox(core)
    with caplog.at_level(logging.INFO, logger="sync.commands"):
        verdicts = [gate.handle(b"[" * 3000)[1] for _ in range(40)]
    assert {v.reason for v in verdicts} == {"malformed_json: JSON nested too deeply"}
    assert core.seen == []
    assert all(r.exc_info is None and r.levelno == logging.WARNING for r in caplog.records)
    assert 1 <= len(caplog.records) <= 20, len(caplog.records)  # rate-limited, not one line per message


def test_the_cores_refusal_is_the_reply_and_a_core_failure_does_not_escape() -> None:
    core = Core()
    core.refuse = "busy: a result is showing; send keep, retake or cancel first"
    assert inbox(core).handle(message("capture")) == ("c-1", Verdict(REJECTED, core.refuse))

    def broken(_command: Command) -> str:
        raise RuntimeError("the closet is on fire")

    command_id, verdict = CommandInbox(broken, now=lambda: NOW).handle(message("keep"))
    assert command_id == "c-1" and verdict.status == REJECTED
    assert verdict.reason == "internal_error: the closet is on fire"


class Clock:
    """Monotonic seconds that move only when the test says."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_the_duplicate_check_remembers_a_bounded_number_of_ids_but_none_inside_a_commands_lifetime() -> None:
    core = Core()
    clock = Clock()
    answers = MemoryAnswers(keep=3, clock=clock)
    gate = CommandInbox(core, now=lambda: NOW, answers=answers, clock=clock, rate=(1000, 1.0))
    for i in range(3):
        assert gate.handle(message("capture", f"id-{i}"))[1].status == ACCEPTED
    full = gate.handle(message("capture", "id-3"))[1]  # the memory is full of live ids: refused, not forgotten
    assert full.status == REJECTED and full.reason.startswith("rate_limited: the duplicate memory is full")
    assert gate.handle(message("capture", "id-0"))[1].status == DUPLICATE
    clock.t += LIFETIME_S  # id-0 can no longer be carried out (it expired): it may be forgotten now
    assert gate.handle(message("capture", "id-3"))[1].status == ACCEPTED
    assert len(answers._answered) == 3 and answers.first_answer("id-0") is None


def test_an_id_replayed_after_thousands_of_others_within_its_lifetime_is_still_a_duplicate() -> None:
    """A burst of new ids used to push the oldest out of the 1024 remembered: its QoS 1 redelivery was
    carried out a second time (security review S9, finding 5)."""
    core = Core()
    clock = Clock()
    gate = CommandInbox(core, now=lambda: NOW, clock=clock)
    assert gate.handle(message("capture", "victim", ttl_s=MAX_TTL_S))[1].status == ACCEPTED
    for i in range(2000):
        clock.t += 0.01
        gate.handle(message("show", f"burst-{i}", screen="home", ttl_s=MAX_TTL_S))
    clock.t += 30
    again = gate.handle(message("capture", "victim", ttl_s=MAX_TTL_S))[1]
    assert again.status == DUPLICATE, again
    assert [c.id for c in core.seen].count("victim") == 1


def test_commands_are_rate_limited_and_deletes_more_so(caplog: pytest.LogCaptureFixture) -> None:
    core = Core()
    clock = Clock()
    gate = CommandInbox(core, now=lambda: NOW, clock=clock)
    records = [f"019ab3f2-5c1e-7a4b-9c3d-2e1f0a9b8c{i:02x}" for i in range(7)]
    with caplog.at_level(logging.INFO, logger="sync.commands"):
        verdicts = [gate.handle(message("delete", f"d-{i}", record_id=r))[1] for i, r in enumerate(records[:6])]
    assert [v.status for v in verdicts] == [ACCEPTED] * 5 + [REJECTED]
    assert verdicts[5].reason == "rate_limited: over 5 deletes in 60 s; send it again later"
    assert list(RESULT.iter_errors(json.loads(result_message("d-5", verdicts[5])))) == []
    assert gate.handle(message("delete", "d-5", record_id=records[5]))[1].status == REJECTED  # not remembered
    assert gate.handle(message("show", "s-1", screen="home"))[1].status == ACCEPTED  # other commands still go
    clock.t += 12.0  # one delete's worth of tokens (5 a minute)
    assert gate.handle(message("delete", "d-5", record_id=records[5]))[1].status == ACCEPTED
    assert len(core.seen) == 7
    limited = next(r for r in caplog.records if "rate_limited" in r.getMessage())
    assert f"delete {records[5]}" in limited.getMessage() and "'d-5'" in limited.getMessage()
    # Any command: 20 in 10 s (the bucket refilled in those 12 s, and the delete took one).
    answers = [gate.handle(message("show", f"s-{i}", screen="home"))[1] for i in range(2, 22)]
    assert [a.status for a in answers] == [ACCEPTED] * 19 + [REJECTED]
    assert answers[-1].reason == "rate_limited: over 20 commands in 10 s; send it again later"


def test_every_verdict_is_logged_with_the_command_its_target_and_id(caplog: pytest.LogCaptureFixture) -> None:
    core = Core()
    gate = inbox(core)
    with caplog.at_level(logging.INFO, logger="sync.commands"):
        gate.handle(message("delete", "del-1", record_id=RECORD))
        gate.handle(message("show", "show-1", screen="closet"))
        core.refuse = "busy: a result is showing"
        gate.handle(message("capture", "cap-1"))
        gate.handle(json.dumps({"id": "x\nWARNING forged", "command": "capture"}).encode())
    deleted, shown, refused, broken = caplog.records
    assert deleted.levelno == logging.WARNING  # an audit trail of deletes
    assert deleted.getMessage() == f"remote command delete {RECORD} (id 'del-1'): accepted "
    assert shown.levelno == logging.INFO and shown.getMessage().startswith("remote command show closet (id 'show-1')")
    assert refused.getMessage() == "remote command capture (id 'cap-1'): rejected busy: a result is showing"
    assert "\n" not in broken.getMessage() and "x\\nWARNING forged" in broken.getMessage()


def test_an_id_or_record_id_with_a_final_newline_is_not_a_command() -> None:
    """The schema's ``^…$`` are ECMA-262: ``"abc\n"`` is not ``abc`` (Python's ``$`` let it through)."""
    core = Core()
    for field, value in (("id", "abc\n"), ("record_id", RECORD + "\n")):
        body = {**json.loads(message("delete", "abc", record_id=RECORD)), field: value}
        _, verdict = inbox(core).handle(json.dumps(body).encode())
        assert verdict.status == REJECTED and verdict.reason.startswith(f"schema_invalid: {field}: "), verdict
    assert core.seen == []


def test_the_log_names_the_command_and_its_target_printably(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Even a target the schema should have refused cannot forge a log line."""
    forged = Command("f-1", "delete", NOW, NOW + timedelta(seconds=60), record_id="r1\nWARNING forged\x1b[2J")
    monkeypatch.setattr("sync.commands.parse_command", lambda _body: forged)
    with caplog.at_level(logging.INFO, logger="sync.commands"):
        inbox(Core()).handle(message("delete", "f-1", record_id=RECORD))

        def broken(_command: Command) -> str:
            raise RuntimeError("boom")

        CommandInbox(broken, now=lambda: NOW).handle(message("delete", "f-2", record_id=RECORD))
    accepted, failed, answered = (r.getMessage() for r in caplog.records)
    for line in (accepted, failed, answered):
        assert "\n" not in line and "\x1b" not in line, line
        assert "delete r1\\nWARNING forged\\x1b[2J" in line, line


def test_answered_ids_survive_a_restart_in_the_closet_and_stay_bounded(tmp_path: Path) -> None:
    """QoS 1 redelivers a command whose PUBACK a crash swallowed: the restarted mirror must not do it twice."""
    core = Core()
    with ClosetStore.open(tmp_path, DEVICE, min_free_mb=0) as store:
        gate = CommandInbox(core, now=lambda: NOW, answers=StoreAnswers(store.commands, keep=3))
        assert gate.handle(message("capture", "before-restart"))[1].status == ACCEPTED
    clock = Clock()
    with ClosetStore.open(tmp_path, DEVICE, min_free_mb=0) as store:  # the mirror restarted
        answers = StoreAnswers(store.commands, keep=3, clock=clock)
        gate = CommandInbox(core, now=lambda: NOW, answers=answers, clock=clock)
        again = gate.handle(message("capture", "before-restart"))[1]
        assert again.status == DUPLICATE and "answered accepted already" in again.reason
        assert len(core.seen) == 1
        for i in range(4):
            clock.t += LIFETIME_S  # the memory forgets only ids that can no longer be carried out
            gate.handle(message("capture", f"later-{i}"))
        assert store.commands.answer("later-3") == "accepted"
        assert store.commands.answer("before-restart") is None  # only the newest `keep` are kept
        assert store._db.read(lambda c: c.execute("SELECT COUNT(*) FROM command_answers").fetchone()[0]) == 3


def test_a_closet_that_cannot_remember_does_not_turn_a_done_command_into_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    core = Core()
    with ClosetStore.open(tmp_path, DEVICE, min_free_mb=0) as store:

        def full(*_args: object) -> None:
            raise StoreFullError(tmp_path, "no space left on device")

        monkeypatch.setattr(store.commands, "remember", full)
        gate = CommandInbox(core, now=lambda: NOW, answers=StoreAnswers(store.commands))
        with caplog.at_level(logging.WARNING, logger="sync.commands"):  # (`smart-mirror sync` quiets "sync")
            assert gate.handle(message("capture", "c-full"))[1].status == ACCEPTED
            assert gate.handle(message("capture", "c-full"))[1].status == DUPLICATE  # remembered in memory
        assert len(core.seen) == 1
    assert any("remembered until restart only" in r.getMessage() for r in caplog.records)


@pytest.mark.broker
def test_the_command_line_sender_gets_the_mirrors_answer(
    tmp_path: Path, mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python -m sync.remote`` against a real broker and a mirror's sync worker: exit 0 only when accepted."""
    store = fill_store(tmp_path / "closet", 0)

    def core(command: Command) -> str:
        return "" if command.name == "show" else "nothing_to_do: no result is showing"

    worker = SyncWorker(store, sync_settings(mosquitto.port), DEVICE, on_command=core)
    worker.start()
    try:
        assert worker.listening.wait(10), worker.last_error
        base = ["--port", str(mosquitto.port), "--prefix", PREFIX, "--device", DEVICE]
        assert remote_main([*base, "show", "--screen", "closet"]) == 0
        answer = json.loads(capsys.readouterr().out)
        assert answer["status"] == "accepted" and list(RESULT.iter_errors(answer)) == []
        assert remote_main([*base, "keep"]) == 1
        assert json.loads(capsys.readouterr().out)["reason"] == "nothing_to_do: no result is showing"
        assert remote_main([*base[:-1], "another-mirror", "capture", "--timeout", "0.5"]) == 1
        assert "no answer from mirror another-mirror" in capsys.readouterr().err
    finally:
        worker.stop()
        store.close()


@pytest.mark.broker
def test_a_command_redelivered_to_a_restarted_mirror_is_a_duplicate(tmp_path: Path, mosquitto: Mosquitto) -> None:
    """Real broker, two sync workers on one closet one after the other (the mirror restarted)."""
    core = Core()
    topics = Topics(PREFIX, DEVICE)
    body = command_message("capture", command_id="once-1", sent_at=datetime.now(UTC))
    with Listener(mosquitto.port, topics.command_results) as cloud:  # the SUBACK came: no answer is missed
        for answers, expected in enumerate(("accepted", "duplicate"), start=1):
            with ClosetStore.open(tmp_path / "closet", DEVICE, min_free_mb=0) as store:
                worker = SyncWorker(store, sync_settings(mosquitto.port), DEVICE, on_command=core)
                worker.start()
                try:
                    assert worker.listening.wait(10), worker.last_error
                    cloud.publish(topics.commands, body)
                    assert json.loads(cloud.wait_for(topics.command_results, answers)[-1])["status"] == expected
                finally:
                    worker.stop()
    assert len(core.seen) == 1


@pytest.mark.broker
def test_a_retained_command_published_while_the_mirror_listens_is_refused(tmp_path: Path, mosquitto: Mosquitto) -> None:
    """The broker clears the retain flag on live delivery unless the mirror subscribed "retain as published"."""
    store = fill_store(tmp_path / "closet", 0)
    core = Core()
    worker = SyncWorker(store, sync_settings(mosquitto.port), DEVICE, on_command=core)
    topics = Topics(PREFIX, DEVICE)
    cloud = Listener(mosquitto.port, topics.command_results)
    worker.start()
    try:
        assert worker.listening.wait(10), worker.last_error
        body = command_message("capture", command_id="kept-1", sent_at=datetime.now(UTC))
        cloud.publish(topics.commands, body, retain=True)
        [answer] = [json.loads(a) for a in cloud.wait_for(topics.command_results)]
        assert answer["status"] == "rejected" and str(answer["reason"]).startswith("retained")
        assert core.seen == []
    finally:
        cloud.publish(topics.commands, b"", retain=True)  # clear it
        worker.stop()
        cloud.close()
        store.close()


CLOCK_UNSET_1970 = datetime(1970, 1, 1, 0, 5, tzinfo=UTC)  # a Pi without a real-time clock, before NTP


def test_while_the_clock_is_not_set_only_harmless_commands_are_carried_out() -> None:
    """s9 security #19: a command queued exactly as long as the clock is behind looked fresh.

    Each command here was sent a minute before the wrong clock's reading, so by that clock it is
    fresh; its real age cannot be told."""
    core = Core()
    reading = [CLOCK_UNSET_1970]
    gate = CommandInbox(core, now=lambda: reading[0], answers=MemoryAnswers())
    sent = CLOCK_UNSET_1970 - timedelta(seconds=60)
    verdicts = {
        name: gate.handle(
            command_message(
                name,
                command_id=f"u-{name}",
                sent_at=sent,
                screen="closet" if name == "show" else None,
                record_id=RECORD if name == "delete" else None,
            )
        )[1]
        for name in ("capture", "cancel", "show", "keep", "retake", "delete")
    }
    assert {n for n, v in verdicts.items() if v.status == ACCEPTED} == {"show", "cancel"}
    for name in ("capture", "keep", "retake", "delete"):
        verdict = verdicts[name]
        assert verdict.status == REJECTED and verdict.reason.startswith("clock_unset: "), verdict
        assert "it reads 1970-01-01" in verdict.reason and "\n" not in verdict.reason
        assert list(RESULT.iter_errors(json.loads(result_message(f"u-{name}", verdict)))) == []
    assert [c.name for c in core.seen] == ["cancel", "show"]
    # A harmless command from a sender whose clock is right is not "clock_skew" either: the
    # mirror's clock, not the sender's, is the one known to be wrong.
    assert gate.handle(message("show", "u-now", screen="home"))[1] == Verdict(ACCEPTED)
    # Refused, not answered: once NTP has set the clock the same id is judged (a resend, or a
    # QoS 1 redelivery), by a clock that can tell.
    reading[0] = NOW
    assert gate.handle(message("capture", "u-capture"))[1] == Verdict(ACCEPTED)
    assert gate.handle(command_message("retake", command_id="u-retake", sent_at=sent))[1].status == EXPIRED


def test_a_clock_behind_the_closets_newest_garment_refuses_a_capture_that_waited_as_long(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sync worker judges the clock by the closet (``closet_newest``): its newest garment proves a
    clock that booted two days behind wrong, unless NTP has set the clock since."""
    synced: list[bool | None] = [False]
    monkeypatch.setattr("mirror.store.closet.kernel_synchronised", lambda: synced[0])
    core = Core()
    with ClosetStore.open(tmp_path, DEVICE, min_free_mb=0) as store:
        store.add(synthetic_draft(0))
        newest = store.newest_time()
        assert newest is not None
        behind = newest - timedelta(days=2)  # the Pi's clock after a power cut
        gate = CommandInbox(core, now=lambda: behind, answers=StoreAnswers(store.commands), newest=closet_newest(store))
        queued = command_message("capture", command_id="q-1", sent_at=behind)  # two days in the broker
        verdict = gate.handle(queued)[1]
        assert verdict.status == REJECTED and verdict.reason.startswith("clock_unset: "), verdict
        assert "before the newest garment" in verdict.reason
        assert gate.handle(command_message("cancel", command_id="q-2", sent_at=behind))[1] == Verdict(ACCEPTED)
        assert [c.name for c in core.seen] == ["cancel"]
        synced[0] = True  # NTP set the clock: it is believed over a garment dated by a clock that was ahead
        assert gate.handle(queued)[1] == Verdict(ACCEPTED)


def test_a_closet_that_cannot_say_its_newest_garment_leaves_the_clock_to_its_year(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with ClosetStore.open(tmp_path, DEVICE, min_free_mb=0) as store:

        def unreadable() -> None:
            raise StoreError("the closet database is damaged")

        monkeypatch.setattr(store, "newest_time", unreadable)
        with caplog.at_level(logging.WARNING, logger="sync.commands"):
            assert closet_newest(store)() is None
    assert any("judged by its year only" in r.getMessage() for r in caplog.records)


def test_the_message_expiry_is_the_commands_lifetime_rounded_up() -> None:
    assert message_expiry_s(NOW, None, NOW) == DEFAULT_TTL_S
    assert message_expiry_s(NOW, 5.5, NOW) == 6
    assert message_expiry_s(NOW, None, NOW + timedelta(seconds=0.5)) == DEFAULT_TTL_S  # never shorter
    assert message_expiry_s(NOW, 86400, NOW) == MAX_TTL_S  # the mirror honours no more
    assert message_expiry_s(NOW, 5, NOW + timedelta(seconds=30)) == 1  # expired: still answered "expired"
    assert message_expiry_s(NOW - timedelta(seconds=MAX_CLOCK_SKEW_S), None, NOW) == 1


class CommandTap:
    """An MQTT 5 client on the commands topic that keeps each command's message expiry interval."""

    def __init__(self, port: int, topic: str) -> None:
        self.expiry: dict[str, int | None] = {}
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()
        assert subscribed.wait(5)

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        command_id = json.loads(message.payload)["id"]
        self.expiry[command_id] = getattr(message.properties, "MessageExpiryInterval", None)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.mark.broker
def test_the_sender_gives_each_command_a_message_expiry_of_its_lifetime(mosquitto: Mosquitto) -> None:
    """``python -m sync.remote`` / ``smart-mirror sync command`` and ``RemoteControl`` (MQTT 5)."""
    topics = Topics(PREFIX, DEVICE)
    tap = CommandTap(mosquitto.port, topics.commands)
    try:
        base = ["--port", str(mosquitto.port), "--prefix", PREFIX, "--device", DEVICE, "--timeout", "0.2"]
        assert remote_main([*base, "capture", "--ttl", "30"]) == 1  # no mirror answers
        broker = BrokerConfig(host="127.0.0.1", port=mosquitto.port, client_id="cloud-expiry")
        with RemoteControl(broker, topics) as cloud:
            for command_id, ttl in (("e-default", None), ("e-long", 86400.0)):
                with pytest.raises(RemoteError):
                    cloud.send("show", screen="home", command_id=command_id, ttl_s=ttl, timeout_s=0.2)
        wait = time.monotonic() + 5
        while len(tap.expiry) < 3 and time.monotonic() < wait:
            time.sleep(0.05)
        by_cli = next(v for k, v in tap.expiry.items() if k not in ("e-default", "e-long"))
        assert by_cli is not None and 28 <= by_cli <= 30, tap.expiry
        assert 58 <= (tap.expiry["e-default"] or 0) <= 60 and 598 <= (tap.expiry["e-long"] or 0) <= 600, tap.expiry
    finally:
        tap.close()


@pytest.mark.broker
def test_a_command_that_waits_out_its_lifetime_in_the_mirrors_queue_never_reaches_it(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """The mirror is off; its session queues commands. The broker times them out by its own clock, so
    a mirror that comes back with its clock behind never sees the stale one to misjudge it."""
    core = Core()
    topics = Topics(PREFIX, DEVICE)
    broker = BrokerConfig(host="127.0.0.1", port=mosquitto.port, client_id="cloud-queue")
    with ClosetStore.open(tmp_path / "closet", DEVICE, min_free_mb=0) as store:
        mirror = SyncWorker(store, sync_settings(mosquitto.port), DEVICE, on_command=core)
        mirror.start()
        assert mirror.listening.wait(10), mirror.last_error
        mirror.stop()  # off, its session (and subscription) kept by the broker
        with RemoteControl(broker, topics) as cloud:
            with pytest.raises(RemoteError):
                cloud.send("capture", command_id="stale-1", ttl_s=1, timeout_s=0.1)
            # Not polled: the message expiry (1 s, counted by the broker in whole seconds) must really elapse,
            # and nothing shows a queued message expired short of delivering it.
            time.sleep(2.2)
            with pytest.raises(RemoteError):
                cloud.send("show", screen="home", command_id="fresh-1", timeout_s=0.1)
        with Listener(mosquitto.port, topics.command_results) as results:
            mirror = SyncWorker(store, sync_settings(mosquitto.port), DEVICE, on_command=core)
            mirror.start()
            try:
                answers = [json.loads(a) for a in results.wait_for(topics.command_results)]
                time.sleep(0.5)  # anything else queued would have come by now
                answers = [json.loads(a) for a in results.payloads(topics.command_results)]
            finally:
                mirror.stop()
    assert [(a["id"], a["status"]) for a in answers] == [("fresh-1", "accepted")]
    assert [c.id for c in core.seen] == ["fresh-1"]


# --- the sender retries what the mirror did not judge, and only what waiting cures ---------------


def rate_limited(command_id: str = "r-1") -> dict[str, Any]:
    return {"schema": "smart-mirror.command-result", "schema_version": 1, "id": command_id, "status": "rejected",
            "reason": "rate_limited: over 5 deletes in 60 s; send it again later"}  # fmt: skip


def test_a_rate_limited_answer_is_retried_with_a_growing_bounded_backoff_until_the_deadline() -> None:
    clock = Clock()
    slept: list[float] = []
    told: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.t += seconds

    answers = [rate_limited()] * 3 + [{"id": "r-1", "status": "accepted"}]
    tries: list[dict[str, Any]] = []

    def attempt() -> dict[str, Any]:
        tries.append(answers[len(tries)])
        return tries[-1]

    answer = retrying(attempt, until=clock.t + 60, on_retry=lambda _a, d: told.append(d), clock=clock, sleep=sleep)
    assert answer["status"] == "accepted" and len(tries) == 4
    assert told == slept and [RETRY_MIN_S / 2 <= d <= RETRY_MIN_S * 2**i for i, d in enumerate(slept)] == [True] * 3
    # Never retrying: the deadline stops it, and the last answer is the mirror's own.
    slept.clear()
    start = clock.t
    forever = retrying(lambda: rate_limited(), until=start + 60, clock=clock, sleep=sleep)
    assert forever == rate_limited() and clock.t - start < 60
    assert max(slept) <= RETRY_MAX_S == 12.0  # the mirror's slowest refill: one delete every 12 s
    assert retrying(lambda: rate_limited(), until=clock.t, clock=clock, sleep=sleep) == rate_limited()  # retry 0
    # What waiting does not cure is answered at once: the clock, a busy mirror, an expiry.
    for reason in ("clock_unset: the mirror's clock is not set", "busy: a result is showing"):
        slept.clear()
        refused = {"id": "r-2", "status": "rejected", "reason": reason}
        assert retrying(functools.partial(dict, refused), until=clock.t + 60, clock=clock, sleep=sleep) == refused
        assert slept == []
    assert refusal_code({"status": "expired", "reason": "expired: rate_limited"}) == ""


def test_a_retry_that_meets_its_own_earlier_try_carried_out_counts_as_done() -> None:
    """A late copy of try 1's rate_limited answer taken for try 2's: try 3 then finds the id carried
    out (the mirror remembers accepted ids). The command was done, once: the sender says so."""
    clock = Clock()
    done = {"id": "r-1", "status": "duplicate", "reason": "duplicate: id r-1 was answered accepted already"}
    answers = [rate_limited(), rate_limited(), done]
    tries: list[dict[str, Any]] = []

    def attempt() -> dict[str, Any]:
        tries.append(answers[len(tries)])
        return tries[-1]

    def sleep(seconds: float) -> None:
        clock.t += seconds

    answer = retrying(attempt, until=clock.t + 60, clock=clock, sleep=sleep)
    assert answer == done and carried_out(answer)
    assert carried_out({"id": "r-1", "status": "accepted"})
    refused_before = {"status": "duplicate", "reason": "duplicate: id r-1 was answered expired already"}
    assert not carried_out(refused_before) and not carried_out(rate_limited())


def test_a_retry_sends_the_same_command_again_and_never_past_its_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same id and ``sent_at`` (the mirror did not remember it; a late copy is a duplicate, not a second
    delete); each try's broker expiry is what is left of its lifetime; none after it ends."""
    remote = RemoteControl(BrokerConfig(host="127.0.0.1", port=1, client_id="unit"), Topics(PREFIX, DEVICE))
    sent: list[tuple[bytes, str | None, int | None]] = []

    def send_raw(payload: bytes, *, command_id: str | None, timeout_s: float, expiry_s: int | None) -> dict[str, Any]:
        sent.append((payload, command_id, expiry_s))
        return rate_limited(str(command_id))

    monkeypatch.setattr(remote, "send_raw", send_raw)
    started = time.monotonic()
    answer = remote.send("delete", record_id=RECORD, ttl_s=1.6, retry_s=60)
    # The last sleep may overshoot the lifetime by a scheduler tick on a loaded box; a try after it may not.
    assert time.monotonic() - started < 1.6 + 0.2 and answer["reason"].startswith("rate_limited: ")
    assert len(sent) >= 2 and len({payload for payload, _id, _e in sent}) == 1
    assert len({command_id for _p, command_id, _e in sent}) == 1
    expiries = [e or 0 for _p, _id, e in sent]
    assert expiries == sorted(expiries, reverse=True) and expiries[-1] >= 1
    sent.clear()
    remote.send("delete", record_id=RECORD, retry_s=0)
    assert len(sent) == 1


@pytest.mark.broker
def test_a_bulk_of_deletes_over_the_rate_limit_all_end_accepted_through_the_senders(
    tmp_path: Path, mosquitto: Mosquitto, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """RemoteControl and ``smart-mirror sync command`` against the mirror's real sync worker, its delete
    limit scaled down (2 at once, then one every 2 s; the mirror's is 5, then one every 12 s) so that
    the test takes seconds, not a minute."""
    monkeypatch.setattr("sync.worker.CommandInbox", functools.partial(CommandInbox, delete_rate=(2, 4.0)))
    store = fill_store(tmp_path / "closet", 7)
    ids = [record.id for record in store.list()]

    def core(command: Command) -> str:
        store.delete(command.record_id)
        return ""

    worker = SyncWorker(store, sync_settings(mosquitto.port), DEVICE, on_command=core)
    worker.start()
    retries: list[float] = []
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\ndata_dir = "{tmp_path / "cli"}"\n[device]\nid = "{DEVICE}"\n'
        f'[sync]\nhost = "127.0.0.1"\nport = {mosquitto.port}\ntopic_prefix = "{PREFIX}"\n'
    )
    broker = BrokerConfig(host="127.0.0.1", port=mosquitto.port, client_id="cloud-bulk")
    try:
        assert worker.listening.wait(10), worker.last_error
        with RemoteControl(broker, Topics(PREFIX, DEVICE)) as cloud:
            answers = [
                cloud.send("delete", record_id=record_id, on_retry=lambda _a, d: retries.append(d))
                for record_id in ids[:5]
            ]
        assert [a["status"] for a in answers] == ["accepted"] * 5, answers
        assert len(retries) >= 3  # each of the 3 over the limit waited at least once
        cli = ["--config", str(config), "sync", "command", "delete", "--record-id"]
        assert cli_main([*cli, ids[5], "--retry", "0"]) == exitcodes.FAILED  # told not to wait
        out, err = capsys.readouterr()
        assert json.loads(out)["reason"].startswith("rate_limited: over 2 deletes in 4 s")
        said = [line for line in err.splitlines() if line.startswith("smart-mirror:")]  # the mirror logs here too
        assert said == ["smart-mirror: still rate limited by the mirror; send it again later"]
        for record_id in ids[5:]:
            assert cli_main([*cli, record_id]) == exitcodes.OK
        out, err = capsys.readouterr()
        assert [json.loads(line)["status"] for line in out.splitlines()] == ["accepted"] * 2
        assert "smart-mirror: rate limited by the mirror (over 2 deletes in 4 s), retrying in " in err
        assert store.list() == []
    finally:
        worker.stop()
        store.close()


@pytest.mark.broker
def test_a_mirror_whose_clock_is_not_set_is_not_retried_and_the_sender_names_the_fix(
    tmp_path: Path, mosquitto: Mosquitto, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sync.commands.clock_problem", lambda _now, _newest: "it reads 1970-01-01T00:05:00.000Z")
    store = fill_store(tmp_path / "closet", 1)
    core = Core()
    worker = SyncWorker(store, sync_settings(mosquitto.port), DEVICE, on_command=core)
    worker.start()
    topics = Topics(PREFIX, DEVICE)
    tap = Listener(mosquitto.port, topics.commands)
    try:
        assert worker.listening.wait(10), worker.last_error
        base = ["--port", str(mosquitto.port), "--prefix", PREFIX, "--device", DEVICE]
        assert remote_main([*base, "capture"]) == 1
        out, err = capsys.readouterr()
        assert json.loads(out)["reason"].startswith("clock_unset: ")
        assert err.count("\n") == 1 and "retrying" not in err, err
        assert "clock is not set" in err and "connect the mirror to the network" in err and "doctor" in err
        assert remote_main([*base, "show", "--screen", "home"]) == 0  # harmless: carried out all the same
        capsys.readouterr()
        sent = [json.loads(payload)["command"] for payload in tap.settled(topics.commands)]
        assert sent == ["capture", "show"]  # the capture went once
        assert [c.name for c in core.seen] == ["show"]
    finally:
        tap.close()
        worker.stop()
        store.close()


def test_the_command_line_offers_the_contracts_names_without_loading_the_sync_gate() -> None:
    """One list of command names and screens: the contract's (``command.v1.json``). ``sync.commands``
    and ``smart-mirror sync command`` read it there; the CLI through ``sync.remote_cli``, without
    importing ``sync.commands`` (jsonschema) or the sender (paho), since its parser is built on every
    ``smart-mirror`` call."""
    from mirror.cli.commands import sync as sync_command
    from sync.commands import COMMANDS, SCREENS

    properties = load_schema("command")["properties"]
    assert COMMANDS == sync_command.REMOTE_COMMANDS == tuple(properties["command"]["enum"])
    assert SCREENS == sync_command.SCREENS == tuple(properties["screen"]["enum"])
    code = (
        "import sys; from mirror.cli.main import build_parser; build_parser()"
        ".parse_args(['sync', 'command', 'show', '--screen', 'closet']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jsonschema', 'paho') "
        "or m in ('sync.commands', 'sync.remote', 'sync.contract')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]", result.stdout


def test_both_command_lines_offer_the_same_options_and_refuse_the_same_mistakes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python -m sync.remote`` and ``smart-mirror sync command`` share ``sync.remote_cli``: the same
    options, with the defaults the mirror applies, and the same checks, each reported its own way."""
    from sync.remote import _parser

    with pytest.raises(SystemExit):
        _parser().parse_args(["--help"])
    remote_help = capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli_main(["sync", "command", "--help"])
    cli_help = capsys.readouterr().out
    for option in ("--screen", "--record-id", "--device", "--username", "--ttl", "--timeout", "--retry"):
        assert option in remote_help and option in cli_help, option
    for help_text in (remote_help, cli_help):
        flat = " ".join(help_text.split())
        assert f"(default {DEFAULT_TTL_S:g}, at most {MAX_TTL_S:g})" in flat
        assert f"(default {RETRY_S:g}, at most {MAX_TTL_S:g}; 0: never)" in flat
        assert "show needs it" in flat and "delete needs it" in flat  # the help says they are required
    base = ["--device", DEVICE]
    # A missing option is named with what to give (review s12: "goes with delete, and only with delete").
    with pytest.raises(SystemExit) as info:
        remote_main([*base, "show"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.endswith("error: show needs --screen SCREEN (one of home, closet, about)\n")
    with pytest.raises(SystemExit) as info:
        remote_main([*base, "keep", "--record-id", "x"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.endswith("error: --record-id goes with delete only, not with keep\n")
    with pytest.raises(SystemExit) as info:
        remote_main([*base, "capture", "--screen", "home"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.endswith("error: --screen goes with show only, not with capture\n")
    config = tmp_path / "config.toml"
    config.write_text("")
    assert cli_main(["--config", str(config), "sync", "command", "delete"]) == exitcodes.USAGE
    assert capsys.readouterr().err == "smart-mirror: delete needs --record-id ID (the garment record's id)\n"
    assert cli_main(["--config", str(config), "sync", "command", "show"]) == exitcodes.USAGE
    assert capsys.readouterr().err == "smart-mirror: show needs --screen SCREEN (one of home, closet, about)\n"
