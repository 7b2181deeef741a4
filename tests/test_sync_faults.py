"""Sync under faults, against a real mosquitto (persistence on): every record arrives exactly once.

Each scenario: 200 records with images in the mirror's closet, a fault in the middle of the
drain, recovery, then :func:`assert_exactly_once` — each record version at the consumer once,
each image there with the content hash the mirror computed, and the mirror's outbox empty
(which it only becomes through the cloud's application-level acks).
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mirror.store import ClosetStore
from sync.broker import MIRROR_MAX_PACKET_BYTES, BrokerConfig, connect_kwargs
from sync.commands import MAX_BYTES, Command, command_message
from sync.consumer.cli import CONSUMER_SESSION_EXPIRY_S, build_parser
from sync.consumer.db import ConsumerDB
from sync.consumer.handler import MessageHandler
from sync.consumer.service import ConsumerService
from sync.contract import MAX_ACK_BYTES, MAX_URLS_BYTES, Topics
from sync.worker import SyncWorker
from tests.broker import Mosquitto, TcpProxy
from tests.conftest import ROOT
from tests.conftest_broker import (
    DEVICE,
    PREFIX,
    ConsumerFactory,
    Listener,
    assert_exactly_once,
    fill_store,
    sync_settings,
    wait_until,
)

pytestmark = [pytest.mark.broker, pytest.mark.slow]
RECORDS = 200
IMAGE_KB = 8.0
RECOVER_S = 90.0


def outbox_empty(store: ClosetStore) -> bool:
    stats = store.outbox.stats()
    return stats.unacked == 0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ClosetStore]:
    s = fill_store(tmp_path / "mirror", RECORDS, IMAGE_KB)
    yield s
    s.close()


def start_worker(store: ClosetStore, port: int) -> SyncWorker:
    worker = SyncWorker(store, sync_settings(port), DEVICE)
    worker.start()
    return worker


def test_broker_sigkill_and_restart_during_a_drain(
    store: ClosetStore, mosquitto: Mosquitto, start_consumer: ConsumerFactory
) -> None:
    consumer = start_consumer(mosquitto.port)
    worker = start_worker(store, mosquitto.port)
    try:
        wait_until(lambda: store.outbox.stats().acked >= 40, 30, "the first acks")
        mosquitto.kill()
        assert not outbox_empty(store), "the drain finished before the fault: make the scenario harder"
        # Down until the worker has tried it again and been refused (not a fixed 1.5 s that may pass unseen).
        wait_until(lambda: "unreachable" in worker.last_error, 30, "a reconnect to the killed broker to fail")
        mosquitto.start()
        wait_until(lambda: outbox_empty(store), RECOVER_S, "the outbox to drain after the broker restart")
    finally:
        worker.stop()
    assert worker.stats.connects >= 2
    assert assert_exactly_once(store, consumer.db) == RECORDS


def test_link_cut_for_several_seconds_through_a_proxy(
    store: ClosetStore, mosquitto: Mosquitto, start_consumer: ConsumerFactory
) -> None:
    consumer = start_consumer(mosquitto.port)
    proxy = TcpProxy(mosquitto.port)
    worker = start_worker(store, proxy.port)
    try:
        wait_until(lambda: store.outbox.stats().acked >= 40, 30, "the first acks")
        proxy.cut()
        assert not outbox_empty(store)
        # Cut until the worker has tried the link again and failed ("broker … closed the connection" or
        # "… unreachable", after "lost the broker"), not a fixed 4 s; it says its records wait.
        wait_until(lambda: worker.last_error.startswith("broker "), 30, "a reconnect through the cut link to fail")
        assert not worker.connected and "waiting" in worker.last_error, worker.last_error
        proxy.restore()
        wait_until(lambda: outbox_empty(store), RECOVER_S, "the outbox to drain after the link came back")
    finally:
        worker.stop()
        proxy.close()
    assert worker.stats.connects >= 2
    assert assert_exactly_once(store, consumer.db) == RECORDS


def mirror_config(tmp_path: Path, port: int) -> Path:
    config = tmp_path / "mirror.toml"
    settings = sync_settings(port)
    config.write_text(
        f'[device]\nid = "{DEVICE}"\n[store]\ndata_dir = "{tmp_path / "mirror"}"\nmin_free_mb = 0\n'
        f'[sync]\nhost = "127.0.0.1"\nport = {port}\ntopic_prefix = "{PREFIX}"\nclient_id = "{settings.client_id}"\n'
        f"ack_timeout_s = {settings.ack_timeout_s}\nbackoff_min_s = 0.2\nbackoff_max_s = 1.0\n"
        f"max_inflight = {settings.max_inflight}\n"
    )
    return config


def test_mirror_sync_process_sigkilled_mid_publish_and_restarted(
    tmp_path: Path, store: ClosetStore, mosquitto: Mosquitto, start_consumer: ConsumerFactory
) -> None:
    consumer = start_consumer(mosquitto.port)
    drain = [sys.executable, "-m", "mirror", "--config", str(mirror_config(tmp_path, mosquitto.port)), "sync", "drain"]
    log = tmp_path / "first-drain.log"
    with log.open("wb") as errors:  # a file, not an unread pipe: a chatty child never blocks on it
        first = subprocess.Popen([*drain, "--timeout", "60"], cwd=ROOT, stderr=errors)
    try:
        wait_until(
            lambda: first.poll() is not None or consumer.db.counts()["garments"] >= 40,
            30,
            "the first records at the consumer",
        )
        assert first.poll() is None, f"the first drain ended before the kill:\n{log.read_text()[-2000:]}"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert not outbox_empty(store), "the drain finished before the kill: make the scenario harder"
    assert store.outbox.stats().in_flight > 0  # it died with records published but not acknowledged
    second = subprocess.run([*drain, "--timeout", str(RECOVER_S)], cwd=ROOT, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert assert_exactly_once(store, consumer.db) == RECORDS


def consumer_process(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    args = [
        sys.executable, "-m", "sync.consumer", "--port", str(port), "--prefix", PREFIX, "--group", "cloud",
        "--client-id", "consumer-sub", "--db", str(tmp_path / "cloud" / "consumer.db"),
        "--device", DEVICE,
    ]  # fmt: skip
    return subprocess.Popen(args, cwd=ROOT, stderr=subprocess.DEVNULL)


def test_consumer_sigkilled_and_restarted(tmp_path: Path, store: ClosetStore, mosquitto: Mosquitto) -> None:
    proc = consumer_process(tmp_path, mosquitto.port)
    db_path = tmp_path / "cloud" / "consumer.db"
    wait_until(db_path.exists, 15, "the consumer to start")
    db = ConsumerDB.open(str(db_path))
    worker = start_worker(store, mosquitto.port)
    try:
        wait_until(lambda: db.counts()["garments"] >= 40, 30, "the first records at the consumer")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert not outbox_empty(store)
        # Down until the mirror has published into its session (an ack already on its way freeing a slot, or the
        # ack timeout's resend): versions the broker must keep for it, not a fixed 1 s in which nothing need happen.
        published = worker.stats.published
        wait_until(lambda: worker.stats.published > published, 30, "versions published while the consumer is down")
        proc = consumer_process(tmp_path, mosquitto.port)
        wait_until(lambda: outbox_empty(store), RECOVER_S, "the outbox to drain after the consumer restart")
    finally:
        worker.stop()
        proc.terminate()
        proc.wait(10)
    assert assert_exactly_once(store, db) == RECORDS
    db.close()


def test_two_consumers_share_the_load(
    tmp_path: Path, store: ClosetStore, mosquitto: Mosquitto, start_consumer: ConsumerFactory
) -> None:
    first = start_consumer(mosquitto.port, name="c1")
    second = start_consumer(mosquitto.port, name="c2")
    worker = start_worker(store, mosquitto.port)
    try:
        wait_until(lambda: outbox_empty(store), RECOVER_S, "the outbox to drain")
    finally:
        worker.stop()
    shares = (first.service.handled, second.service.handled)
    assert min(shares) > 0.2 * sum(shares), f"the load was not shared: {shares}"
    assert assert_exactly_once(store, first.db) == RECORDS


def test_a_consumer_gone_for_good_stops_taking_its_share_when_its_session_ends(
    tmp_path: Path, mosquitto: Mosquitto, start_consumer: ConsumerFactory
) -> None:
    """A rescheduled pod never comes back under its old client id; while its session lives, the broker
    still hands it a share of the group's messages, which then wait for the mirror's ack timeout."""
    assert build_parser().parse_args(["--any-device"]).session_expiry == CONSUMER_SESSION_EXPIRY_S <= 3600
    db_path = tmp_path / "cloud" / "consumer.db"
    gone = ConsumerService(
        MessageHandler(ConsumerDB.open(str(db_path)), PREFIX, frozenset({DEVICE})),
        BrokerConfig(host="127.0.0.1", port=mosquitto.port, client_id="consumer-old-pod", session_expiry_s=1),
        group="cloud",
    )
    gone.start()
    assert gone.connected.wait(10)
    gone.stop()
    # Not polled: the expiry is the thing tested, and nothing shows that the broker dropped the session
    # short of taking it over (which would end it). 1 s expiry + the broker's once-a-second sweep.
    time.sleep(2.5)
    start_consumer(mosquitto.port, name="c-new", db_path=db_path)
    store = fill_store(tmp_path / "mirror", 20, image_kb=1)
    worker = SyncWorker(store, sync_settings(mosquitto.port, ack_timeout_s=60), DEVICE)
    assert worker.drain(timeout=10), "versions went to the gone consumer's session"
    store.close()


# --------------------------------------------------------------------------- poison messages
# One message the worker cannot handle used to end its thread without a PUBACK, so the broker
# handed the same message to every restart of the persistent session: sync and remote commands
# stayed dead until the session expired (7 days). Security review S9, findings 1 and 3.

#: Nested deeply enough that json.loads raises RecursionError (not a ValueError), yet under the size caps.
DEEP_ACK = b"[" * 8000
DEEP_URLS = b"[" * 40_000


class AnswersEverything:
    """The core, as far as the worker is concerned: every checked command is carried out."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, command: Command) -> str:
        self.seen.append(command.id)
        return ""


def command_answered(cloud: Listener, topics: Topics, command_id: str) -> None:
    """Send a command and wait for the mirror's answer to it (the worker still listens and acts)."""
    cloud.publish(topics.commands, command_message("show", command_id=command_id, screen="closet"))
    wait_until(
        lambda: any(json.loads(p).get("id") == command_id for p in cloud.payloads(topics.command_results)),
        10,
        f"the answer to command {command_id}",
    )


def poison_worker(store: ClosetStore, port: int, core: AnswersEverything) -> SyncWorker:
    worker = SyncWorker(store, sync_settings(port, images="http"), DEVICE, on_command=core)
    worker.start()
    assert worker.listening.wait(10), worker.last_error
    return worker


@pytest.mark.parametrize(
    ("where", "payload", "why"),
    [
        ("acks", DEEP_ACK, "nested too deeply"),
        ("urls", DEEP_URLS, "nested too deeply"),
        ("acks", b"[" * (MAX_ACK_BYTES + 1), "bytes, over the"),  # refused unread (and under the packet limit)
        ("urls", b'{"a": "' + b"x" * MAX_URLS_BYTES + b'"}', "bytes, over the"),
    ],
    ids=["deep-ack", "deep-urls", "oversized-ack", "oversized-urls"],
)
def test_a_poison_message_leaves_the_worker_alive_and_answering(
    tmp_path: Path, mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture, where: str, payload: bytes, why: str
) -> None:
    store = fill_store(tmp_path / "mirror", 0)
    core = AnswersEverything()
    worker = poison_worker(store, mosquitto.port, core)
    topics = worker.topics
    topic = topics.acks if where == "acks" else topics.upload_urls
    try:
        with caplog.at_level(logging.WARNING), Listener(mosquitto.port, topics.command_results) as cloud:
            cloud.publish(topic, payload)
            command_answered(cloud, topics, "after-the-poison")
            assert worker._thread is not None and worker._thread.is_alive()
    finally:
        worker.stop()
        store.close()
    assert core.seen == ["after-the-poison"]
    said = [r.getMessage() for r in caplog.records if r.name in ("sync.worker", "sync.uploads")]
    assert len(said) == 1 and "malformed" in said[0] and why in said[0], said


def test_a_poison_message_redelivered_after_a_restart_is_handled_once_and_acked(
    tmp_path: Path, mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    """The poison waits in the mirror's persistent session while it is off; the restarted worker lives,
    and PUBACKs it, so the run after that does not see it again."""
    store = fill_store(tmp_path / "mirror", 0)
    core = AnswersEverything()
    poison_worker(store, mosquitto.port, core).stop()  # the session (and its subscriptions) now exists
    topics = Topics(PREFIX, DEVICE)
    with Listener(mosquitto.port, topics.command_results) as cloud:
        cloud.publish(topics.acks, DEEP_ACK)  # queued for the mirror at the broker
        for run in (1, 2):
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="sync.worker"):
                worker = poison_worker(store, mosquitto.port, core)
                try:
                    command_answered(cloud, topics, f"run-{run}")
                    assert worker._thread is not None and worker._thread.is_alive()
                finally:
                    worker.stop()
            malformed = [r for r in caplog.records if "malformed ack" in r.getMessage()]
            assert len(malformed) == (1 if run == 1 else 0), [r.getMessage() for r in caplog.records]
    assert core.seen == ["run-1", "run-2"]
    store.close()


def test_an_unexpected_exception_in_the_loop_does_not_end_the_worker(
    tmp_path: Path, mosquitto: Mosquitto, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = fill_store(tmp_path / "mirror", 0)
    real = store.counts
    calls = iter([True])

    def buggy(*args: object, **kwargs: object) -> object:
        if next(calls, False):
            raise KeyError("a bug nobody foresaw")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "counts", buggy)
    core = AnswersEverything()
    with caplog.at_level(logging.ERROR, logger="sync.worker"):
        worker = poison_worker(store, mosquitto.port, core)
        try:
            with Listener(mosquitto.port, worker.topics.command_results) as cloud:
                command_answered(cloud, worker.topics, "after-the-bug")
            assert worker._thread is not None and worker._thread.is_alive()
        finally:
            worker.stop()
            store.close()
    [error] = [r for r in caplog.records if r.name == "sync.worker"]
    assert "KeyError" in error.getMessage() and error.exc_info is not None


def test_the_mirror_asks_the_broker_for_small_packets_only() -> None:
    props = connect_kwargs(BrokerConfig(), max_packet_bytes=MIRROR_MAX_PACKET_BYTES)["properties"]
    assert props.MaximumPacketSize == MIRROR_MAX_PACKET_BYTES  # type: ignore[attr-defined]
    assert "properties" not in connect_kwargs(BrokerConfig(protocol="3.1.1"), max_packet_bytes=MIRROR_MAX_PACKET_BYTES)
    assert max(MAX_ACK_BYTES, MAX_BYTES, MAX_URLS_BYTES) + 1024 < MIRROR_MAX_PACKET_BYTES
    # sync.remote (a short-lived client for an operator): small packets too, and no session left behind.
    brief = connect_kwargs(BrokerConfig(), max_packet_bytes=MIRROR_MAX_PACKET_BYTES, resume=False)
    assert "clean_start" not in brief and brief["properties"].MaximumPacketSize == MIRROR_MAX_PACKET_BYTES  # type: ignore[attr-defined]
    assert not hasattr(brief["properties"], "SessionExpiryInterval")


def test_a_huge_command_never_reaches_the_mirror_and_later_ones_are_answered(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """The broker drops a message over the mirror's MaximumPacketSize instead of sending it (a 200 MiB one
    took 600 MB of a Pi's memory before the 4 KB check could refuse it)."""
    store = fill_store(tmp_path / "mirror", 0)
    core = AnswersEverything()
    worker = poison_worker(store, mosquitto.port, core)
    topics = worker.topics
    try:
        with Listener(mosquitto.port, topics.command_results) as cloud:
            huge = command_message("show", command_id="huge", screen="closet") + b" " * (1024 * 1024)
            cloud.publish(topics.commands, huge)
            command_answered(cloud, topics, "small")  # in order after the huge one: it would be answered first
            answers = [json.loads(p) for p in cloud.payloads(topics.command_results)]
            assert [a["id"] for a in answers] == ["small"], answers
            assert worker._thread is not None and worker._thread.is_alive()
    finally:
        worker.stop()
        store.close()
