"""A closet restored from a backup numbers versions the cloud already holds: the mirror must still win.

After a restore the mirror's next change to a garment gets a version number the cloud already
stored with other content. Answered ``duplicate`` (as a plain ``(id, version)`` dedup would), the
person's change never reached the cloud and nothing said so. The consumer compares content and
answers ``version_conflict``; the mirror sends the garment again above the cloud's newest, and
``smart-mirror sync resend`` brings the cloud back to what the restored mirror shows.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mirror.cli import exitcodes, main
from mirror.store import ClosetStore, Record
from mirror.store.samples import synthetic_draft
from sync.consumer.db import ConsumerDB
from sync.consumer.handler import Ack as ConsumerAck
from sync.consumer.handler import MessageHandler
from sync.contract import Ack, Topics, ack_message, conflict_reason, garment_message, parse_ack
from sync.worker import SyncWorker
from tests.broker import Mosquitto
from tests.conftest_broker import DEVICE, PREFIX, ConsumerFactory, assert_exactly_once, fill_store, sync_settings


def drain(store: ClosetStore, port: int) -> SyncWorker:
    worker = SyncWorker(store, sync_settings(port), DEVICE)
    assert worker.drain(timeout=30), worker.last_error
    return worker


def cloud_current(db: ConsumerDB) -> dict[str, dict[str, Any]]:
    """Each garment's newest version at the consumer, as the body it stored."""
    newest: dict[str, dict[str, Any]] = {}
    for _device, record_id, version, body in db.versions():
        if record_id not in newest or newest[record_id]["version"] < version:
            newest[record_id] = json.loads(body)
    return newest


@pytest.mark.broker
def test_a_restored_closet_wins_over_the_versions_it_lost(
    tmp_path: Path, mosquitto: Mosquitto, start_consumer: ConsumerFactory
) -> None:
    consumer = start_consumer(mosquitto.port)
    live, backup = tmp_path / "mirror", tmp_path / "backup"
    store = fill_store(live, 2)
    a, b = store.list()
    drain(store, mosquitto.port)
    store.close()
    shutil.copytree(live, backup)  # the nightly backup
    store = ClosetStore.open(live, DEVICE, min_free_mb=0)
    store.edit(a.id, category="coat")
    store.delete(b.id)
    drain(store, mosquitto.port)  # the cloud now holds v2 of both
    store.close()
    shutil.rmtree(live)
    shutil.copytree(backup, live)  # the card died; the backup is restored
    store = ClosetStore.open(live, DEVICE, min_free_mb=0)

    assert store.edit(a.id, category="dress").version == 2  # a number the cloud has, with other content
    drain(store, mosquitto.port)
    cloud = cloud_current(consumer.db)
    assert store.get(a.id) is not None and store.get(a.id).version == 3  # type: ignore[union-attr]
    assert cloud[a.id]["category"] == "dress" and cloud[a.id]["version"] == 3
    assert cloud[b.id]["deleted"]  # not sent again yet: B's restored version is one the cloud already had

    config = tmp_path / "config.toml"
    config.write_text(
        f'[device]\nid = "{DEVICE}"\n[store]\ndata_dir = "{live}"\nmin_free_mb = 0\n'
        f'[sync]\nhost = "127.0.0.1"\nport = {mosquitto.port}\ntopic_prefix = "{PREFIX}"\n'
    )
    store.close()
    assert main(["--config", str(config), "sync", "resend"]) == exitcodes.OK
    store = ClosetStore.open(live, DEVICE, min_free_mb=0)
    drain(store, mosquitto.port)
    cloud = cloud_current(consumer.db)
    assert not cloud[b.id]["deleted"] and cloud[b.id]["version"] == 3 == store.get(b.id).version  # type: ignore[union-attr]
    assert cloud[a.id]["category"] == "dress" and cloud[a.id]["version"] == 4
    assert assert_exactly_once(store, consumer.db) == 2
    assert consumer.db.dead_letters() == []
    store.close()


def test_the_consumer_tells_a_repeat_from_a_clash(tmp_path: Path) -> None:
    """Same ``(id, version)``: the same body is a duplicate; another body, stored or parked, is a conflict."""
    db = ConsumerDB.open(str(tmp_path / "cloud.db"))
    handler = MessageHandler(db, PREFIX, frozenset({DEVICE}))
    topics = Topics(PREFIX, DEVICE)
    store = ClosetStore.open(tmp_path / "mirror", DEVICE, min_free_mb=0)
    first = store.add(synthetic_draft(1, image_kb=1))

    def offer(record: Record) -> list[ConsumerAck]:
        return handler.handle(topics.garment(record.id), garment_message(record, "mqtt"))

    for ref in first.images.values():
        handler.handle(topics.image(ref.sha256), store.read_image(ref))
    assert [ack.status for ack in offer(first)] == ["stored"]
    edited = store.edit(first.id, category="coat")
    assert [ack.status for ack in offer(edited)] == ["stored"]
    assert [(ack.status, ack.reason) for ack in offer(edited)] == [("duplicate", "")]
    other = offer(replace(edited, category="dress"))
    assert len(other) == 1 and other[0].status == "rejected"
    parsed = Ack(other[0].record_id, other[0].version, other[0].status, other[0].reason)
    assert parsed.conflict_newest == 2

    # Parked (its image not here yet) and then offered with other content: a conflict too, not dropped.
    second = store.add(synthetic_draft(2, image_kb=1))
    assert offer(second) == []  # pending
    clash = offer(replace(second, category="hat"))
    assert [ack.status for ack in clash] == ["rejected"] and "version_conflict: newest 1;" in clash[0].reason
    store.close()


def test_a_conflict_ack_is_read_from_a_contract_1_message() -> None:
    """The newest version rides in ``reason``, so contract-1 acks carry it and older mirrors still just wait."""
    ack = parse_ack(ack_message("g1", 2, "rejected", conflict_reason(2, 7)))
    assert ack.conflict_newest == 7
    assert parse_ack(ack_message("g1", 2, "rejected", "schema_invalid: newest 7")).conflict_newest is None
    assert parse_ack(ack_message("g1", 2, "stored")).conflict_newest is None
