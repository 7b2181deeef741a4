"""Fixtures for the sync tests: a real mosquitto, a filled closet, an in-process reference consumer.

Registered as a plugin from tests/conftest.py. The exactly-once check used by every fault
scenario lives here: each record version the mirror holds is at the consumer once, and every
image it names is there with the right content hash.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from mirror.config import SyncSettings
from mirror.store import ClosetStore
from mirror.store.samples import synthetic_draft
from sync.broker import BrokerConfig
from sync.consumer.db import ConsumerDB
from sync.consumer.handler import MessageHandler
from sync.consumer.service import ConsumerService
from tests.broker import Mosquitto, mosquitto_binary

DEVICE = "mirror-test"
PREFIX = "sm-test"


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    if mosquitto_binary() is None:
        pytest.skip("needs the mosquitto broker (scripts/test.sh installs it with apt)")
    broker = Mosquitto(tmp_path / "broker").start()
    yield broker
    broker.stop()


def sync_settings(port: int, **overrides: object) -> SyncSettings:
    """Settings for a loopback broker, with short timeouts so fault scenarios recover in seconds."""
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "topic_prefix": PREFIX,
        "client_id": f"mirror-{DEVICE}",
        "ack_timeout_s": 4,
        "backoff_min_s": 0.2,
        "backoff_max_s": 1.0,
        "max_inflight": 32,
    }
    values.update(overrides)
    return SyncSettings(**values)  # type: ignore[arg-type]


def fill_store(path: Path, count: int, image_kb: float = 6.0, device: str = DEVICE) -> ClosetStore:
    store = ClosetStore.open(path, device, min_free_mb=0)
    for i in range(count):
        store.add(synthetic_draft(i, image_kb=image_kb))
    return store


@dataclass
class Consumer:
    """An in-process reference consumer (its own DB and blob folder)."""

    db: ConsumerDB
    service: ConsumerService

    def stop(self) -> None:
        self.service.stop()


ConsumerFactory = Callable[..., Consumer]


@pytest.fixture
def start_consumer(tmp_path: Path) -> Iterator[ConsumerFactory]:
    started: list[Consumer] = []

    def make(
        port: int, name: str = "c1", db_path: Path | None = None, devices: frozenset[str] | None = None
    ) -> Consumer:
        db = ConsumerDB.open(str(db_path or tmp_path / "cloud" / "consumer.db"))
        handler = MessageHandler(db, PREFIX, devices if devices is not None else frozenset({DEVICE}))
        broker = BrokerConfig(host="127.0.0.1", port=port, client_id=f"consumer-{name}")
        service = ConsumerService(handler, broker, group="cloud")
        service.start()
        assert service.connected.wait(10), "consumer did not connect"
        consumer = Consumer(db, service)
        started.append(consumer)
        return consumer

    yield make
    for consumer in started:
        consumer.stop()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


_MARKER = "listener-marker-"


class Listener:
    """A plain MQTT 5 client on the real broker, subscribed to ``topic`` (the SUBACK waited for), keeping
    every message in arrival order; it can publish too (at QoS 1, waiting for the broker's PUBACK)."""

    def __init__(self, port: int, topic: str) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._markers = 0
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = lambda _c, _u, m: self.messages.append((m.topic, bytes(m.payload)))
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()
        if not subscribed.wait(5):
            self.close()
            raise AssertionError(f"the broker did not confirm the subscription to {topic}")

    def payloads(self, topic: str) -> list[bytes]:
        return [payload for t, payload in list(self.messages) if t == topic]

    def last(self, topic: str) -> bytes | None:
        """The latest payload on ``topic``, ``None`` while none came."""
        return next(iter(self.payloads(topic)[::-1]), None)

    def wait_for(self, topic: str, count: int = 1, timeout: float = 10) -> list[bytes]:
        """The payloads on ``topic`` once at least ``count`` have come."""
        wait_until(lambda: len(self.payloads(topic)) >= count, timeout, f"{count} message(s) on {topic}")
        return self.payloads(topic)

    def settled(self, topic: str) -> list[bytes]:
        """The payloads on ``topic`` once all that this client published there before has come back.

        A sync point for "nothing more was sent": a marker published now, on the same topic at the
        same QoS, arrives after them (MQTT keeps one publisher's order); markers are left out.
        """
        self._markers += 1
        marker = f"{_MARKER}{self._markers}".encode()
        self.publish(topic, marker)
        wait_until(lambda: marker in self.payloads(topic), 10, f"the marker on {topic}")
        return [p for p in self.payloads(topic) if not p.startswith(_MARKER.encode())]

    def publish(self, topic: str, payload: str | bytes, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(5)
        assert info.is_published(), f"the broker did not take the message on {topic}"

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def assert_exactly_once(store: ClosetStore, db: ConsumerDB) -> int:
    """Every live record's newest version is at the consumer exactly once, its images hash-checked."""
    versions = db.versions()
    keys = [(i, v) for _d, i, v, _b in versions]
    assert len(keys) == len(set(keys)), "a record version is stored twice"
    at_cloud = {(i, v): json.loads(b) for _d, i, v, b in versions}
    live = store.list()
    for record in live:
        body = at_cloud.get((record.id, record.version))
        assert body is not None, f"{record.id} v{record.version} never reached the consumer"
        assert body["category"] == record.category and body["device_id"] == record.device_id
        for ref in record.images.values():
            data = db.blob(ref.sha256)
            assert data is not None, f"image {ref.sha256} of {record.id} is missing at the consumer"
            assert hashlib.sha256(data).hexdigest() == ref.sha256 == hashlib.sha256(store.read_image(ref)).hexdigest()
    stats = store.outbox.stats()
    assert stats.waiting == 0 and stats.in_flight == 0, stats
    return len(live)
