"""The service with [sync] enabled: a kept garment reaches a real broker and the reference cloud consumer."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from mirror.events import AnalysisDone, Event, RecordSaved
from mirror.health import Health
from mirror.service import MirrorService
from tests.broker import Mosquitto
from tests.conftest_broker import DEVICE, ConsumerFactory, sync_settings, wait_until
from tests.test_analyze import require_models
from tests.test_service import fast_settings, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.broker]


def test_kept_garment_is_synced_and_the_status_line_says_online(
    tmp_path: Path, mosquitto: Mosquitto, start_consumer: ConsumerFactory
) -> None:
    require_models()
    consumer = start_consumer(mosquitto.port)
    base = fast_settings(tmp_path)
    settings = dataclasses.replace(
        base,
        camera=dataclasses.replace(base.camera, preview_width=640, preview_height=480),
        sync=sync_settings(mosquitto.port),
        device=dataclasses.replace(base.device, id=DEVICE),
    )
    seen: list[Event] = []
    with MirrorService(settings, health=Health()) as service:
        done = wait_for(service.events, lambda e: isinstance(e, AnalysisDone), 60, seen)
        assert isinstance(done, AnalysisDone)
        service.keep(done.result)
        saved = wait_for(service.events, lambda e: isinstance(e, RecordSaved), 30, seen)
        assert isinstance(saved, RecordSaved)
        record = saved.record
        wait_until(
            lambda: any(i == record.id for _d, i, _v, _b in consumer.db.versions()), 30, "the record at the consumer"
        )
        wait_until(lambda: service.status().sync.text == "sync: online", 10, "the status line to say online")
        body = next(json.loads(b) for _d, i, _v, b in consumer.db.versions() if i == record.id)
        assert body["category"] == record.category and body["device_id"] == DEVICE
        assert "online" in service.about().broker

        # The broker dies under a running mirror, and comes back: the status line follows it.
        mosquitto.kill()
        wait_until(lambda: service.status().sync.text == "sync: offline (0 waiting)", 15, "the status to say offline")
        mosquitto.start()
        wait_until(lambda: service.status().sync.text == "sync: online", 30, "the status to say online again")
