"""Images over HTTP ([sync] images = http): presigned URLs over MQTT, PUT with requests, real broker."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sync.broker import BrokerConfig
from sync.consumer.db import ConsumerDB
from sync.consumer.handler import MessageHandler
from sync.consumer.service import ConsumerService
from sync.consumer.uploads import UploadServer
from sync.worker import SyncWorker
from tests.broker import Mosquitto
from tests.conftest_broker import DEVICE, PREFIX, assert_exactly_once, fill_store, sync_settings

pytestmark = pytest.mark.broker


@pytest.fixture
def http_consumer(tmp_path: Path, mosquitto: Mosquitto) -> Iterator[tuple[ConsumerDB, UploadServer]]:
    db = ConsumerDB.open(str(tmp_path / "cloud.db"))
    handler = MessageHandler(db, PREFIX, frozenset({DEVICE}))
    uploads = UploadServer(handler)
    service = ConsumerService(handler, BrokerConfig(host="127.0.0.1", port=mosquitto.port, client_id="c-http"),
                              group="cloud", uploads=uploads)  # fmt: skip
    service.start()
    assert service.connected.wait(10)
    yield db, uploads
    service.stop()


def test_images_uploaded_over_http_then_records_acked(
    tmp_path: Path, mosquitto: Mosquitto, http_consumer: tuple[ConsumerDB, UploadServer]
) -> None:
    db, uploads = http_consumer
    store = fill_store(tmp_path / "mirror", 30)
    worker = SyncWorker(store, sync_settings(mosquitto.port, images="http"), DEVICE)
    assert worker.drain(timeout=30), worker.last_error
    assert assert_exactly_once(store, db) == 30
    assert uploads.uploaded == 30
    # An edit re-sends the record; the cloud already has the image, so no URL and no upload.
    record = store.list()[0]
    store.edit(record.id, category="bag")
    assert SyncWorker(store, sync_settings(mosquitto.port, images="http"), DEVICE).drain(timeout=30)
    assert db.counts()["garment_versions"] == 31 and db.dead_letters() == []
    assert uploads.uploaded == 30
    store.close()


def test_upload_urls_are_signed_expiring_and_hash_checked(http_consumer: tuple[ConsumerDB, UploadServer]) -> None:
    db, uploads = http_consumer
    data = b"an image" * 100
    sha = hashlib.sha256(data).hexdigest()
    url = uploads.url_for(sha, DEVICE)
    assert requests.put(url.replace("sig=", "sig=0"), data=data, timeout=5).status_code == 403
    other = hashlib.sha256(b"other").hexdigest()
    assert requests.put(url.replace(sha, other, 1), data=data, timeout=5).status_code == 403  # sig covers the hash
    tampered = requests.put(url, data=data + b"!", timeout=5)
    assert tampered.status_code == 400 and "hash_mismatch" in tampered.text
    assert db.dead_letters()[-1][1] == "hash_mismatch"
    assert requests.put(url, data=data, timeout=5).status_code == 201
    assert db.blob(sha) == data


def test_a_lost_image_file_does_not_stop_the_records_behind_it(
    tmp_path: Path, mosquitto: Mosquitto, http_consumer: tuple[ConsumerDB, UploadServer]
) -> None:
    db, _uploads = http_consumer
    store = fill_store(tmp_path / "mirror", 5)
    oldest = min(store.list(), key=lambda r: r.created_at)
    for ref in oldest.images.values():
        store.images.path(ref.filename).unlink()  # a bad SD card sector, a stray rm
    worker = SyncWorker(store, sync_settings(mosquitto.port, images="http"), DEVICE)
    worker.drain(timeout=8)
    others = {r.id for r in store.list()} - {oldest.id}
    assert others <= {i for _d, i, _v, _b in db.versions()}, worker.last_error
    store.close()
