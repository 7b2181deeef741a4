"""Sync under faults, against a real mosquitto (persistence on): every record arrives exactly once.

Each scenario: 200 records with images in the mirror's closet, a fault in the middle of the
drain, recovery, then :func:`assert_exactly_once` — each record version at the consumer once,
each image there with the content hash the mirror computed, and the mirror's outbox empty
(which it only becomes through the cloud's application-level acks).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mirror.store import ClosetStore
from sync.consumer.db import ConsumerDB
from sync.worker import SyncWorker
from tests.broker import Mosquitto, TcpProxy
from tests.conftest import ROOT
from tests.conftest_broker import (
    DEVICE,
    PREFIX,
    ConsumerFactory,
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
    stats = store.outbox_stats()
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
        wait_until(lambda: store.outbox_stats().acked >= 40, 30, "the first acks")
        mosquitto.kill()
        assert not outbox_empty(store), "the drain finished before the fault: make the scenario harder"
        time.sleep(1.5)
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
        wait_until(lambda: store.outbox_stats().acked >= 40, 30, "the first acks")
        proxy.cut()
        assert not outbox_empty(store)
        time.sleep(4)
        assert worker.last_error and "waiting" in worker.last_error
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
    first = subprocess.Popen([*drain, "--timeout", "60"], cwd=ROOT, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: consumer.db.counts()["garments"] >= 40, 30, "the first records at the consumer")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert not outbox_empty(store), "the drain finished before the kill: make the scenario harder"
    assert store.outbox_stats().in_flight > 0  # it died with records published but not acknowledged
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
        time.sleep(1)
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
