"""Sync end to end against a real mosquitto: delivery, acks, versions, status/LWT, HA discovery."""

from __future__ import annotations

import contextlib
import json
import logging
import random
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from jsonschema import Draft202012Validator
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from mirror.store import ClosetStore, Color, OutboxItem, Record
from mirror.store.samples import synthetic_draft
from sync.backoff import Backoff
from sync.contract import ack_message, load_schema
from sync.localbroker import ADDRESS_IN_USE
from sync.worker import RESUME_GRACE_S, SyncWorker
from tests.broker import Mosquitto, closed_port, mosquitto_binary
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

pytestmark = pytest.mark.broker


def test_drain_delivers_versions_and_tombstones_exactly_once(
    tmp_path: Path, mosquitto: Mosquitto, start_consumer: ConsumerFactory
) -> None:
    consumer = start_consumer(mosquitto.port)
    store = fill_store(tmp_path / "mirror", 30)
    records = store.list()
    worker = SyncWorker(store, sync_settings(mosquitto.port), DEVICE)
    assert worker.drain(timeout=30)
    assert worker.stats.acked == 30
    edited = store.edit(records[0].id, category="dress", color=Color("red", "red", "#ff0000"))
    store.delete(records[1].id)
    assert SyncWorker(store, sync_settings(mosquitto.port), DEVICE).drain(timeout=30)
    assert assert_exactly_once(store, consumer.db) == 29
    counts = consumer.db.counts()
    assert counts["garment_versions"] == 32 and counts["garments"] == 30 and counts["pending"] == 0
    bodies = {(i, v): json.loads(b) for _d, i, v, b in consumer.db.versions()}
    assert bodies[(edited.id, 2)]["category"] == "dress" and bodies[(edited.id, 2)]["edited"] is True
    assert bodies[(records[1].id, 2)]["deleted"] is True
    assert consumer.db.dead_letters() == []
    store.close()


def test_mqtt_311_mirror_works_with_the_v5_consumer(
    tmp_path: Path, mosquitto: Mosquitto, start_consumer: ConsumerFactory
) -> None:
    consumer = start_consumer(mosquitto.port)
    store = fill_store(tmp_path / "mirror", 10)
    assert SyncWorker(store, sync_settings(mosquitto.port, protocol="3.1.1"), DEVICE).drain(timeout=30)
    assert assert_exactly_once(store, consumer.db) == 10
    store.close()


def test_broker_down_means_records_wait_with_a_one_line_reason(tmp_path: Path) -> None:
    store = fill_store(tmp_path / "mirror", 3)
    with closed_port() as port:
        worker = SyncWorker(store, sync_settings(port), DEVICE)
        assert not worker.drain(timeout=1.0)
    assert "unreachable" in worker.last_error and "3 record version(s) waiting" in worker.last_error
    assert "\n" not in worker.last_error
    assert store.outbox.stats().waiting == 3
    store.close()


def test_status_is_retained_online_then_offline_and_ha_discovery(tmp_path: Path, mosquitto: Mosquitto) -> None:
    store = fill_store(tmp_path / "mirror", 1)
    worker = SyncWorker(store, sync_settings(mosquitto.port, ha_discovery=True, ack_timeout_s=60), DEVICE)
    worker.start()
    listener = Listener(mosquitto.port, "#")
    try:
        wait_until(lambda: listener.last(f"{PREFIX}/{DEVICE}/status") == b"online", 10, "online status")
        config = json.loads(listener.wait_for(f"homeassistant/binary_sensor/{DEVICE}/online/config")[-1])
        assert config["state_topic"] == f"{PREFIX}/{DEVICE}/status" and config["payload_off"] == "offline"
        state = json.loads(listener.wait_for(f"{PREFIX}/{DEVICE}/state")[-1])
        assert state == {"garments": 1, "waiting": 1}
        assert list(Draft202012Validator(load_schema("state")).iter_errors(state)) == []  # what backends check
        assert worker.stop() and worker.stop()  # stopped within the wait; a second stop has nothing to wait for
        wait_until(lambda: listener.last(f"{PREFIX}/{DEVICE}/status") == b"offline", 10, "offline status")
    finally:
        listener.close()
        store.close()


def test_a_drain_beside_the_running_mirror_leaves_its_status_online(
    tmp_path: Path, mosquitto: Mosquitto, start_consumer: ConsumerFactory
) -> None:
    """`smart-mirror sync drain` while the service runs: the mirror must not read as offline afterwards."""
    store = fill_store(tmp_path / "mirror", 1)  # no consumer yet: the record is still unacked when drain starts
    service = SyncWorker(store, sync_settings(mosquitto.port, ack_timeout_s=60), DEVICE)
    service.start()
    status = f"{PREFIX}/{DEVICE}/status"
    with Listener(mosquitto.port, status) as listener:
        listener.wait_for(status)
        assert listener.payloads(status) == [b"online"]
    try:
        start_consumer(mosquitto.port)
        other = ClosetStore.open(tmp_path / "mirror", DEVICE, min_free_mb=0)
        drain_settings = sync_settings(mosquitto.port, client_id=f"mirror-{DEVICE}-drain")
        assert SyncWorker(other, drain_settings, DEVICE, presence=False).drain(timeout=20)
        other.close()
        # A status the drain published went out at QoS 1 before it returned, and the broker keeps
        # the last one: a subscriber from now on is handed exactly what a dashboard would read.
        with Listener(mosquitto.port, status) as listener:
            assert listener.wait_for(status) == [b"online"]
    finally:
        service.stop()
        store.close()


def test_last_will_says_offline_when_the_mirror_dies(tmp_path: Path, mosquitto: Mosquitto) -> None:
    store = fill_store(tmp_path / "mirror", 1)
    worker = SyncWorker(store, sync_settings(mosquitto.port, keepalive_s=5, ack_timeout_s=60), DEVICE)
    worker.start()
    listener = Listener(mosquitto.port, f"{PREFIX}/+/status")
    try:
        wait_until(lambda: listener.last(f"{PREFIX}/{DEVICE}/status") == b"online", 10, "online status")
        # Die without a clean disconnect: drop the socket under paho, then stop the loop.
        sock = worker._client.socket() if worker._client else None
        worker._stop.set()
        worker._connected = False
        assert sock is not None
        sock.close()
        wait_until(lambda: listener.last(f"{PREFIX}/{DEVICE}/status") == b"offline", 15, "the last will")
    finally:
        worker.stop()
        listener.close()
        store.close()


def test_a_store_error_does_not_kill_the_worker(
    tmp_path: Path, mosquitto: Mosquitto, start_consumer: ConsumerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mirror.store import StoreError

    consumer = start_consumer(mosquitto.port)
    store = fill_store(tmp_path / "mirror", 5)
    real = store.outbox.due
    failures = iter([True, True])

    def flaky(*args: object, **kwargs: object) -> object:
        if next(failures, False):
            raise StoreError("closet database x is busy; retry")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store.outbox, "due", flaky)
    worker = SyncWorker(store, sync_settings(mosquitto.port), DEVICE)
    assert worker.drain(timeout=20)
    assert assert_exactly_once(store, consumer.db) == 5
    store.close()


def rewrite_oldest(folder: Path, count: int, oldest: int, body_sql: str) -> tuple[list[Record], ClosetStore]:
    """A closet of ``count`` garments whose ``oldest`` first stored bodies are rewritten on disk by ``body_sql``.

    Rewritten behind a closed store, then reopened, as damage or a bug from outside would reach it
    (an open store would answer from its cache of decoded versions).
    """
    store = fill_store(folder, count)
    first = sorted(store.list(), key=lambda r: r.created_at)[:oldest]
    store.close()
    conn = sqlite3.connect(folder / "closet.db")
    conn.executemany(f"UPDATE records SET body = {body_sql} WHERE id = ?", [(r.id,) for r in first])
    conn.commit()
    conn.close()
    return first, ClosetStore.open(folder, DEVICE, min_free_mb=0)


def test_a_damaged_record_is_skipped_and_does_not_stall_the_rest(
    tmp_path: Path, mosquitto: Mosquitto, start_consumer: ConsumerFactory
) -> None:
    """Two unreadable rows at the head of the outbox, two in-flight slots: the later records still go."""
    consumer = start_consumer(mosquitto.port)
    _damaged, store = rewrite_oldest(tmp_path / "mirror", 5, 2, "'{'")  # damaged on disk, as a bad SD card would
    worker = SyncWorker(store, sync_settings(mosquitto.port, max_inflight=2), DEVICE)
    assert worker.drain(timeout=6)  # done for now: the damaged two are held back, not in the way
    assert worker.stats.acked == 3 and store.outbox.stats().held == 2
    assert {i for _d, i, _v, _b in consumer.db.versions()} == {r.id for r in store.list()}
    assert store.outbox.stats().waiting == 2
    store.close()


def test_versions_the_cloud_rejects_wait_behind_the_rest_instead_of_blocking_it(
    tmp_path: Path, mosquitto: Mosquitto, start_consumer: ConsumerFactory
) -> None:
    """Three versions the consumer dead-letters at the head of the outbox, two in-flight slots, a short ack timeout."""
    consumer = start_consumer(mosquitto.port)
    # A score over 1: the schema says no.
    oldest, store = rewrite_oldest(tmp_path / "mirror", 6, 3, "json_set(body, '$.category_score', 5.0)")
    worker = SyncWorker(store, sync_settings(mosquitto.port, max_inflight=2, ack_timeout_s=1), DEVICE)
    assert worker.drain(timeout=8)  # done for now: the rejected three are held back for an hour
    assert worker.stats.rejected == 3 and "category_score" in worker.last_rejection
    at_cloud = {i for _d, i, _v, _b in consumer.db.versions()}
    assert at_cloud == {r.id for r in store.list()} - {r.id for r in oldest}
    assert len(consumer.db.dead_letters()) == 3, "each rejected version was offered once, not again and again"
    assert store.outbox.stats().waiting == store.outbox.stats().held == 3
    assert store.outbox.unacked_ids() == {r.id for r in oldest}
    store.close()


def test_a_version_with_a_lost_image_waits_instead_of_going_half(
    tmp_path: Path, mosquitto: Mosquitto, start_consumer: ConsumerFactory
) -> None:
    """The cloud would park a record whose image never comes; the mirror postpones it and sends the rest."""
    consumer = start_consumer(mosquitto.port)
    store = fill_store(tmp_path / "mirror", 4)
    oldest = min(store.list(), key=lambda r: r.created_at)
    store.images.path(oldest.images["cutout_png"].filename).unlink()  # a bad SD card sector, a stray rm
    worker = SyncWorker(store, sync_settings(mosquitto.port, max_inflight=1), DEVICE)
    assert worker.drain(timeout=6) and store.outbox.stats().held == 1
    assert {i for _d, i, _v, _b in consumer.db.versions()} == {r.id for r in store.list()} - {oldest.id}
    assert consumer.db.counts()["pending"] == 0, "nothing half-sent for the cloud to wait on"
    assert store.outbox.due(10, ack_timeout_s=60) == []  # postponed, still queued:
    assert store.outbox.unacked_ids() == {oldest.id}
    store.close()


def test_in_flight_is_bounded_while_no_ack_comes(
    tmp_path: Path, mosquitto: Mosquitto, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No consumer: the worker publishes max_inflight versions, then waits for acks instead of flooding."""
    store = fill_store(tmp_path / "mirror", 20)
    worker = SyncWorker(store, sync_settings(mosquitto.port, max_inflight=4, ack_timeout_s=60), DEVICE)
    published_after_each_look: list[int] = []  # the worker looks for due versions at every step
    look = worker._publish_due

    def counted(client: mqtt.Client) -> None:
        look(client)
        published_after_each_look.append(worker.stats.published)

    monkeypatch.setattr(worker, "_publish_due", counted)
    worker.start()
    try:
        wait_until(lambda: store.outbox.stats().in_flight == 4, 10, "four versions in flight")
        looks = len(published_after_each_look)
        wait_until(lambda: len(published_after_each_look) >= looks + 50, 20, "50 more looks at the outbox")
        assert set(published_after_each_look[looks:]) == {4}, "more than max_inflight went with no ack"
        assert store.outbox.stats().in_flight == 4 and store.outbox.stats().waiting == 16
        assert worker.stats.published == 4
    finally:
        worker.stop()
        store.close()


def test_acks_queued_while_the_mirror_was_away_come_before_anything_is_sent_again(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """The cloud acked while the mirror was off: the broker kept those acks in the mirror's session,
    and the mirror reads them before it sends what was in flight again (only new versions go at once)."""
    store = fill_store(tmp_path / "mirror", 3)
    settings = sync_settings(mosquitto.port, ack_timeout_s=60)
    first = SyncWorker(store, settings, DEVICE)
    first.start()
    try:
        wait_until(lambda: store.outbox.stats().in_flight == 3, 10, "three versions in flight")
    finally:
        first.stop()  # the mirror goes away before any ack came; its session stays at the broker
    with Listener(mosquitto.port, first.topics.acks) as cloud:
        for record in store.list():
            cloud.publish(first.topics.acks, ack_message(record.id, record.version, "stored"))
    new = store.add(synthetic_draft(99, image_kb=1))
    second = SyncWorker(store, settings, DEVICE)
    second.start()
    try:
        wait_until(lambda: store.outbox.stats().acked == 3, 10, "the queued acks")
        wait_until(lambda: second.stats.published >= 1, 10, "the new version")
        # Not polled: the grace must really elapse, since what it holds back would be sent once it ends.
        time.sleep(RESUME_GRACE_S + 0.5)
        assert second.stats.published == 1, "a version the cloud had acked was sent again"
        assert store.outbox.unacked_ids() == {new.id}
    finally:
        second.stop()
        store.close()


def test_malformed_acks_are_ignored_one_warning_each_and_the_worker_lives_on(
    tmp_path: Path, mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    """Anyone who may publish on the mirror's acks topic can send garbage: it is said once per
    message and dropped, and the real acks after it still empty the outbox (paho would re-raise
    an exception from the message callback and end the sync thread for good)."""
    store = fill_store(tmp_path / "mirror", 3)
    first, second, unacked = sorted(store.list(), key=lambda r: r.created_at)
    worker = SyncWorker(store, sync_settings(mosquitto.port, ack_timeout_s=60), DEVICE)
    wrong_schema = json.loads(ack_message(first.id, first.version, "stored"))
    wrong_schema["version"] = str(first.version)
    malformed = [b"\xff\xfe not UTF-8", b"{not json", json.dumps(wrong_schema).encode()]
    worker.start()
    with caplog.at_level(logging.WARNING, logger="sync.worker"), Listener(mosquitto.port, worker.topics.acks) as cloud:
        try:
            wait_until(lambda: store.outbox.stats().in_flight == 3, 10, "three versions in flight")
            cloud.publish(worker.topics.acks, ack_message(unacked.id, unacked.version + 1, "stored"))  # unknown
            for payload in malformed:
                cloud.publish(worker.topics.acks, payload)
            for record in (first, second):  # in order after the bad ones, on one topic: read after them
                cloud.publish(worker.topics.acks, ack_message(record.id, record.version, "stored"))
            wait_until(lambda: store.outbox.stats().acked == 2, 10, "the real acks after the malformed ones")
            assert worker._thread is not None and worker._thread.is_alive()
        finally:
            worker.stop()
    warnings = [r.getMessage() for r in caplog.records if r.name == "sync.worker"]
    assert len(warnings) == len(malformed), warnings
    assert all(w.startswith(f"ignoring a malformed ack on {worker.topics.acks}") for w in warnings), warnings
    assert worker.stats.acked == 2, "an ack for a version the mirror never sent completed something"
    assert store.outbox.unacked_ids() == {unacked.id}
    store.close()


@contextlib.contextmanager
def taken(port: int) -> Iterator[socket.socket]:
    """Another program listening on ``port``, as one can between free_port() and the broker's bind."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        yield other


def assert_serves(broker: Mosquitto) -> None:
    """The broker process runs and a message goes through it on its port."""
    assert broker.proc is not None and broker.proc.poll() is None, broker.log_text()[-500:]
    with Listener(broker.port, "probe") as client:
        client.publish("probe", b"hello")
        assert client.wait_for("probe") == [b"hello"]


def test_a_broker_whose_free_port_was_taken_meanwhile_starts_on_another(tmp_path: Path) -> None:
    if mosquitto_binary() is None:
        pytest.skip("needs the mosquitto broker (scripts/test.sh installs it with apt)")
    broker = Mosquitto(tmp_path / "broker")
    found = broker.port
    with taken(found):
        broker.start()
        try:
            assert broker.port != found and ADDRESS_IN_USE in broker.log_text()
            assert_serves(broker)
        finally:
            broker.stop()


def test_a_restarted_broker_keeps_its_port_and_waits_while_another_program_holds_it(mosquitto: Mosquitto) -> None:
    port = mosquitto.port
    mosquitto.kill()
    failed: list[BaseException] = []

    def restart() -> None:
        try:
            mosquitto.start()
        except BaseException as exc:  # said by the assertion below
            failed.append(exc)

    with taken(port):
        restarting = threading.Thread(target=restart)
        restarting.start()
        wait_until(lambda: ADDRESS_IN_USE in mosquitto.log_text(), 10, "a start refused for the port in use")
    restarting.join(15)
    assert not restarting.is_alive() and failed == []
    assert mosquitto.port == port, "a restart moved the broker away from the port its clients know"
    assert_serves(mosquitto)


def test_backoff_doubles_with_jitter_and_resets() -> None:
    backoff = Backoff(1.0, 8.0, rng=random.Random(1))
    delays = [backoff.next() for _ in range(6)]
    for delay, base in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert base / 2 <= delay <= base
    assert len(set(delays)) == 6  # jittered, not lock-step
    backoff.reset()
    assert backoff.next() <= 1.0



def test_backoff_never_overflows_however_long_the_broker_stays_down() -> None:
    """Review s13, H1: ``2.0**1024`` overflowed after 1024 straight failures and ended the sync thread."""
    backoff = Backoff(0.1, 60.0, rng=random.Random(1))
    for _ in range(10_000):
        delay = backoff.next()
    assert 30.0 <= delay <= 60.0  # the maximum, with its jitter
    assert 0.05 <= Backoff(0.1, 0.1).next() <= 0.1


def test_a_fault_while_recovering_from_a_fault_does_not_end_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The loop's own fault handling can fail too (H1: the backoff overflowed inside it): the loop
    goes on, waiting the longest backoff, and says so once."""

    class Overflowing(Backoff):
        def next(self) -> float:
            raise OverflowError(34, "Numerical result out of range")

    monkeypatch.setattr("sync.worker.Backoff", Overflowing)
    store = fill_store(tmp_path / "mirror", 1)
    with closed_port() as port, caplog.at_level(logging.WARNING, logger="sync.worker"):
        worker = SyncWorker(store, sync_settings(port, backoff_max_s=0.1), DEVICE)
        assert worker.drain(timeout=1.0) is False  # ran out of time; before the fix, OverflowError
    recoveries = [r for r in caplog.records if "could not recover" in r.getMessage()]
    assert len(recoveries) == 1 and recoveries[0].exc_info is not None
    assert "OverflowError" in worker.last_error and store.outbox.stats().waiting == 1
    store.close()

def test_a_reason_from_the_broker_cannot_forge_log_lines(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An ack's reason is the cloud's text (up to 500 characters): a newline in it would make journald
    show a second, forged line (security review S9, finding 18)."""
    store = fill_store(tmp_path / "mirror", 1)
    [record] = store.list()
    worker = SyncWorker(store, sync_settings(1883), DEVICE)
    forged = "ok)\nERROR mirror.service: camera: FORGED\x1b[2K"
    message = mqtt.MQTTMessage(topic=worker.topics.acks.encode())
    message.payload = ack_message(record.id, record.version, "rejected", forged)
    with caplog.at_level(logging.WARNING, logger="sync.worker"):
        worker._on_message(None, None, message)  # type: ignore[arg-type]
    [warning] = [r.getMessage() for r in caplog.records]
    assert "\n" not in warning and "\x1b" not in warning, warning
    assert "ok)\\nERROR mirror.service: camera: FORGED\\x1b[2K" in warning
    assert "\n" not in worker.last_rejection  # what `sync drain` prints
    store.close()


def test_a_connection_taken_over_again_and_again_backs_off_and_is_said_once(
    tmp_path: Path, mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    """Two mirrors with one device id (a closet restored onto a new Pi while the old one runs) throw each
    other off the broker: each connection drops within a second. Reconnecting at once and logging two
    lines each time made ~100k journal lines a day; the backoff grows and the log says it once."""
    store = fill_store(tmp_path / "mirror", 1)
    settings = sync_settings(mosquitto.port, backoff_min_s=0.1, backoff_max_s=2.0)
    worker = SyncWorker(store, settings, DEVICE)
    stop = threading.Event()

    def take_over() -> None:  # the other mirror: connects with the same client id whenever ours is on
        while not stop.is_set():
            if worker.connected:
                thief = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=settings.client_id,
                                    protocol=mqtt.MQTTv5)  # fmt: skip
                thief.connect("127.0.0.1", mosquitto.port)
                thief.loop(0.2)
                thief.disconnect()
            time.sleep(0.05)

    other = threading.Thread(target=take_over, daemon=True)
    with caplog.at_level(logging.INFO, logger="sync.worker"):
        worker.start()
        other.start()
        time.sleep(6)  # not polled: the window the connects below are counted in (a rate)
        stop.set()
        other.join(5)
        worker.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "sync.worker"]
    assert worker.stats.connects >= 3, "the scenario did not happen"
    assert worker.stats.connects <= 14, f"reconnected {worker.stats.connects} times in 6 s: no backoff"
    assert len(lines) <= 3, lines
    store.close()


def test_a_flood_of_malformed_acks_is_a_few_log_lines_then_a_count(
    tmp_path: Path, mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    """A buggy backend (or a broker without the ACL) can send thousands a minute: journald would drop the
    mirror's own lines past its burst limit, and the card pays for every one."""
    store = fill_store(tmp_path / "mirror", 1)
    [record] = store.list()
    worker = SyncWorker(store, sync_settings(mosquitto.port, ack_timeout_s=60), DEVICE)
    worker.start()
    with caplog.at_level(logging.WARNING, logger="sync.worker"), Listener(mosquitto.port, worker.topics.acks) as cloud:
        try:
            wait_until(lambda: store.outbox.stats().in_flight == 1, 10, "the version in flight")
            for n in range(200):
                cloud.publish(worker.topics.acks, f"{{not json {n}".encode())
            cloud.publish(worker.topics.acks, ack_message(record.id, record.version, "stored"))
            wait_until(lambda: store.outbox.stats().acked == 1, 10, "the real ack after the flood")
        finally:
            worker.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "sync.worker"]
    assert len(lines) == 5 and "only counted" in lines[-1], lines
    store.close()


def test_a_log_limit_reports_what_it_left_out_when_its_window_opens_again() -> None:
    from sync.loglimit import LogLimit

    now = [0.0]
    logger = logging.getLogger("test.loglimit")
    said: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            said.append(record.getMessage())

    logger.addHandler(keep := Keep())
    try:
        limit = LogLimit(logger, burst=2, window_s=60, clock=lambda: now[0])
        for n in range(10):
            limit.log(logging.WARNING, "bad %d", n)
        now[0] = 61
        limit.log(logging.WARNING, "bad %d", 10)
    finally:
        logger.removeHandler(keep)
    assert said == [
        "bad 0",
        "bad 1 (more like this are only counted for a while)",
        "8 more like that were left out of the log in the last 1 min",
        "bad 10",
    ]


def test_an_idle_worker_reads_its_outbox_a_few_times_a_second_not_fifty(
    tmp_path: Path, mosquitto: Mosquitto, start_consumer: ConsumerFactory
) -> None:
    """Nothing to send: each read of the outbox is a wake-up and SQLite work on a Pi, all day long."""
    consumer = start_consumer(mosquitto.port)
    store = fill_store(tmp_path / "mirror", 2)
    reads = [0]
    real_due = store.outbox.due

    def counted(*args: object, **kwargs: object) -> list[OutboxItem]:
        reads[0] += 1
        return real_due(*args, **kwargs)  # type: ignore[arg-type]

    store.outbox.due = counted  # type: ignore[method-assign]
    worker = SyncWorker(store, sync_settings(mosquitto.port), DEVICE)
    worker.start()
    try:
        wait_until(lambda: store.outbox.stats().acked == 2, 10, "the first two versions")
        reads[0] = 0
        time.sleep(2)  # not polled: the idle window the reads are counted in (a rate)
        idle_reads = reads[0]
        store.add(synthetic_draft(7, image_kb=1))  # a new garment still goes within a moment
        wait_until(lambda: store.outbox.stats().acked == 3, 5, "the new version")  # not the idle poll's pace
    finally:
        worker.stop()
    assert idle_reads <= 12, f"{idle_reads} outbox reads in 2 s with nothing to send"
    assert assert_exactly_once(store, consumer.db) == 3
    store.close()


@pytest.mark.parametrize(
    "reason",
    [ReasonCode(PacketTypes.DISCONNECT, identifier=141), MQTTErrorCode.MQTT_ERR_KEEPALIVE],  # MQTT 5, or the loop's
)
def test_a_broker_silent_past_the_keepalive_before_the_login_is_not_called_a_credentials_problem(
    tmp_path: Path, reason: ReasonCode | MQTTErrorCode
) -> None:
    """It said "closed the connection before accepting it (Keep alive timeout); check … the credentials"."""
    store = fill_store(tmp_path / "mirror", 1)
    worker = SyncWorker(store, sync_settings(1883), DEVICE)
    worker._lost(reason)
    assert "accepted the connection but never answered the login" in worker.last_error
    assert "credentials" not in worker.last_error
    worker._dropped = False
    worker._lost(ReasonCode(PacketTypes.DISCONNECT, identifier=135))  # "Not authorized": that one is about them
    assert "credentials" in worker.last_error
    store.close()
