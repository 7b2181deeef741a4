"""``smart-mirror bench --sync``: end-to-end sync throughput and ack latency on loopback.

Starts its own mosquitto (persistence on) and reference consumer, fills a throw-away closet
with ``records`` garments carrying one ``image_kb`` image each, then times the drain: from the
first publish to the last application ack, i.e. outbox -> broker -> consumer (validated,
stored, image hashed and written, fsynced) -> ack -> outbox row closed. Latency is per record
version, from its publish to its ack.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from mirror.benchstats import summary
from mirror.config import Settings
from mirror.store import ClosetStore
from mirror.store.samples import synthetic_draft
from sync.broker import BrokerConfig
from sync.consumer.db import ConsumerDB
from sync.consumer.handler import MessageHandler
from sync.consumer.service import ConsumerService
from sync.localbroker import Mosquitto, mosquitto_binary
from sync.worker import SyncWorker

TARGET_RECORDS_PER_S = 100.0
DEVICE = "bench-mirror"
PREFIX = "bench"


class BenchUnavailableError(Exception):
    """The benchmark cannot run here (one line: what is missing and how to get it)."""


def run_sync_bench(
    settings: Settings, records: int = 500, image_kb: float = 50.0, timeout_s: float = 300.0
) -> dict[str, Any]:
    """Run the benchmark; the JSON-able report. ``settings.sync`` gives max_inflight and protocol."""
    if mosquitto_binary() is None:
        raise BenchUnavailableError("bench --sync needs the mosquitto broker; install it: apt-get install mosquitto")
    with tempfile.TemporaryDirectory(prefix="smart-mirror-bench-") as tmp:
        root = Path(tmp)
        broker = Mosquitto(root / "broker").start()
        try:
            return _measure(settings, root, broker.port, records, image_kb, timeout_s)
        finally:
            broker.stop()


def _measure(
    settings: Settings, root: Path, port: int, records: int, image_kb: float, timeout_s: float
) -> dict[str, Any]:
    db = ConsumerDB.open(str(root / "cloud" / "consumer.db"))
    handler = MessageHandler(db, PREFIX, frozenset({DEVICE}))
    consumer = ConsumerService(handler, BrokerConfig(host="127.0.0.1", port=port, client_id="bench-consumer"))
    consumer.start()
    if not consumer.connected.wait(10):
        raise BenchUnavailableError(f"the bench consumer could not connect to its mosquitto on port {port}")
    store = ClosetStore.open(root / "mirror", DEVICE, min_free_mb=0)
    try:
        add_ms = []
        for i in range(records):
            started = time.perf_counter()
            store.add(synthetic_draft(i, image_kb=image_kb))
            add_ms.append((time.perf_counter() - started) * 1000)
        sync = dataclasses.replace(settings.sync, host="127.0.0.1", port=port, topic_prefix=PREFIX, tls=False,
                                   username="", password_file="", client_id="bench-mirror", ha_discovery=False,
                                   images="mqtt")  # fmt: skip
        worker = SyncWorker(store, sync, DEVICE, broker=BrokerConfig.from_sync(sync, "bench-mirror"))
        started = time.perf_counter()
        done = worker.drain(timeout_s)
        elapsed = time.perf_counter() - started
        stored = db.counts()["garments"]
    finally:
        consumer.stop()
        store.close()
        db.close()
    latencies = [s * 1000 for s in worker.stats.latencies_s]
    ack = summary(latencies, (50, 95))  # one method for every bench report (mirror.benchstats)
    rate = records / elapsed if elapsed > 0 else float("inf")
    return {
        "sync": {
            "records": records,
            "image_kb": image_kb,
            "all_acked": done,
            "stored_at_consumer": stored,
            "seconds": round(elapsed, 3),
            "records_per_s": round(rate, 1),
            "target_records_per_s": TARGET_RECORDS_PER_S,
            "meets_target": done and rate >= TARGET_RECORDS_PER_S,
            "ack_latency_ms": {
                "p50": round(ack.at[50], 1) if latencies else None,
                "p95": round(ack.at[95], 1),
                "max": round(ack.max, 1) if latencies else None,
            },
            "store_add_ms_median": round(statistics.median(add_ms), 2) if add_ms else None,
            "max_inflight": sync.max_inflight,
            "protocol": sync.protocol,
            "path": "closet outbox -> mosquitto (loopback, persistence on) -> reference consumer (SQLite FULL) -> ack",
        }
    }
