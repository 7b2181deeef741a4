"""The reference consumer on bad input: every kind goes to the dead letters, and it keeps running."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import socket
import sqlite3
import stat
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from mirror.store import ClosetStore
from mirror.store.samples import synthetic_draft
from sync.consumer.db import ConsumerDB, ConsumerDBError, Tx
from sync.consumer.handler import PENDING_TTL_S, Limits, MessageHandler
from sync.consumer.uploads import UploadServer
from sync.contract import Topics, garment_message
from tests.broker import Mosquitto
from tests.conftest_broker import DEVICE, PREFIX, ConsumerFactory, Listener, wait_until

TOPICS = Topics(PREFIX, DEVICE)


@pytest.fixture
def handler(tmp_path: Path) -> MessageHandler:
    db = ConsumerDB.open(str(tmp_path / "c.db"))
    return MessageHandler(db, PREFIX, frozenset({DEVICE}), Limits(max_record_bytes=8192))


@pytest.fixture
def record_and_image(tmp_path: Path) -> tuple[bytes, bytes, str, str]:
    with ClosetStore.open(tmp_path / "mirror", DEVICE, min_free_mb=0) as store:
        record = store.add(synthetic_draft(1, image_kb=2))
        ref = record.images["cutout_png"]
        return garment_message(record, "mqtt"), store.read_image(ref), ref.sha256, record.id


def bad_inputs(
    message: bytes, image: bytes, sha: str, record_id: str, oversize: int = 9000
) -> list[tuple[str, bytes, str]]:
    """(topic, payload, expected dead-letter reason); the last one never matches the consumer's subscription."""
    body = json.loads(message)
    wrong_version = json.dumps({**body, "schema_version": 99}).encode()
    invalid = json.dumps({**body, "record": {**body["record"], "category_score": 7}}).encode()
    other_device = Topics(PREFIX, "intruder")
    record = body["record"]
    not_a_number = json.dumps({**body, "record": {**record, "category_score": float("nan")}}).encode()
    no_such_day = json.dumps({**body, "record": {**record, "created_at": "2026-13-01T99:00:00.000Z"}}).encode()
    huge_version = json.dumps({**body, "record": {**record, "version": 2**70}}).encode()
    return [
        (TOPICS.garment(record_id), not_a_number, "malformed_json"),
        (TOPICS.garment(record_id), no_such_day, "schema_invalid"),
        (TOPICS.garment(record_id), huge_version, "schema_invalid"),
        (TOPICS.garment(record_id), b"[" * 5000, "malformed_json"),  # deeper than the JSON parser recurses
        (TOPICS.garment(record_id), b"{not json", "malformed_json"),
        (TOPICS.garment(record_id), b"[1, 2]", "malformed_json"),
        (TOPICS.garment(record_id), b"\xff\xfe", "malformed_json"),
        (TOPICS.garment(record_id), wrong_version, "schema_version"),
        (TOPICS.garment(record_id), invalid, "schema_invalid"),
        (TOPICS.garment(record_id), b"{" + b" " * oversize + b"}", "oversized"),
        (other_device.garment(record_id), message, "unknown_device"),
        (other_device.image(sha), image, "unknown_device"),
        (TOPICS.image(sha), image + b"tampered", "hash_mismatch"),
        (TOPICS.image("not-a-hash"), image, "unknown_topic"),
        (f"{PREFIX}/{DEVICE}/weird/level/deep", b"x", "unknown_topic"),
    ]


def test_each_bad_input_is_dead_lettered_with_its_reason(
    handler: MessageHandler, record_and_image: tuple[bytes, bytes, str, str]
) -> None:
    message, image, sha, record_id = record_and_image
    cases = bad_inputs(message, image, sha, record_id)
    for topic, payload, _reason in cases:
        acks = handler.handle(topic, payload)
        assert all(a.status == "rejected" for a in acks)
    assert [reason for _t, reason, _d in handler.db.dead_letters()] == [reason for _t, _p, reason in cases]
    # ...and a good record with its image still goes through afterwards, in either order.
    assert handler.handle(TOPICS.garment(record_id), message) == []  # parked: image not here yet
    (ack,) = handler.handle(TOPICS.image(sha), image)
    assert (ack.record_id, ack.version, ack.status) == (record_id, 1, "stored")
    (again,) = handler.handle(TOPICS.garment(record_id), message)
    assert again.status == "duplicate"
    assert handler.db.counts()["garments"] == 1 and hashlib.sha256(handler.db.blob(sha) or b"").hexdigest() == sha


def test_rejected_record_gets_a_rejected_ack_with_the_reason(
    handler: MessageHandler, record_and_image: tuple[bytes, bytes, str, str]
) -> None:
    message, _image, _sha, record_id = record_and_image
    body = json.loads(message)
    (ack,) = handler.handle(TOPICS.garment(record_id), json.dumps({**body, "schema_version": 2}).encode())
    assert ack.status == "rejected" and ack.reason.startswith("schema_version:")


def test_a_mirror_not_registered_is_told_so_instead_of_resending_every_minute(
    handler: MessageHandler, record_and_image: tuple[bytes, bytes, str, str]
) -> None:
    message, image, sha, record_id = record_and_image
    stranger = Topics(PREFIX, "mirror-new")
    body = json.loads(message)
    theirs = json.dumps({**body, "record": {**body["record"], "device_id": "mirror-new"}}).encode()
    (ack,) = handler.handle(stranger.garment(record_id), theirs)
    assert (ack.device_id, ack.record_id, ack.status) == ("mirror-new", record_id, "rejected")
    assert ack.reason.startswith("unknown_device:") and "not registered" in ack.reason
    assert handler.handle(stranger.image(sha), image) == []  # an image names no version to answer


def test_one_mirror_cannot_overwrite_or_delete_another_mirrors_garment(
    tmp_path: Path, record_and_image: tuple[bytes, bytes, str, str]
) -> None:
    message, image, sha, record_id = record_and_image
    handler = MessageHandler(ConsumerDB.open(str(tmp_path / "two.db")), PREFIX, frozenset({DEVICE, "mirror-b"}))
    handler.handle(TOPICS.image(sha), image)
    assert [a.status for a in handler.handle(TOPICS.garment(record_id), message)] == ["stored"]
    body = json.loads(message)
    for version in (1, 9):  # the same version (not a "duplicate" of someone else's) and a newer tombstone
        forged_record = {**body["record"], "device_id": "mirror-b", "version": version, "deleted": True, "images": []}
        forged = {**body, "record": forged_record}
        (ack,) = handler.handle(Topics(PREFIX, "mirror-b").garment(record_id), json.dumps(forged).encode())
        assert ack.status == "rejected" and ack.reason.startswith("device_mismatch: id ")
    assert [(d, i, v) for d, i, v, _b in handler.db.versions()] == [(DEVICE, record_id, 1)]
    with handler.db.transaction() as tx:  # the garment's current row: still the first mirror's, live
        current = tx.q("SELECT device_id, version, deleted FROM garments").fetchall()
    assert [tuple(row) for row in current] == [(DEVICE, 1, 0)]
    assert [reason for _t, reason, _d in handler.db.dead_letters()] == ["device_mismatch", "device_mismatch"]


def test_database_failure_is_an_internal_error_dead_letter_not_a_crash(
    handler: MessageHandler, record_and_image: tuple[bytes, bytes, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    message, _image, _sha, record_id = record_and_image

    def broken(*_a: object, **_k: object) -> str:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Tx, "offer_record", broken)
    assert handler.handle(TOPICS.garment(record_id), message) == []
    assert handler.db.dead_letters()[-1][1:] == ("internal_error", "RuntimeError: disk on fire")


def test_postgres_url_without_psycopg_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as on a machine without it: import fails
    with pytest.raises(ConsumerDBError, match=r"needs the psycopg package.*pip install"):
        ConsumerDB.open("postgresql://user@db.example/closet")


@pytest.mark.broker
def test_bad_input_through_a_real_broker_keeps_the_consumer_running(
    mosquitto: Mosquitto, start_consumer: ConsumerFactory, record_and_image: tuple[bytes, bytes, str, str]
) -> None:
    consumer = start_consumer(mosquitto.port)
    message, image, sha, record_id = record_and_image
    cases = bad_inputs(message, image, sha, record_id, oversize=300 * 1024)[:-1]
    with Listener(mosquitto.port, TOPICS.acks) as client:
        for topic, payload, _reason in cases:
            client.publish(topic, payload)
        wait_until(lambda: len(consumer.db.dead_letters()) == len(cases), 10, "all dead letters")
        client.publish(TOPICS.image(sha), image)
        client.publish(TOPICS.garment(record_id), message)
        wait_until(
            lambda: any(b'"status":"stored"' in a for a in client.payloads(TOPICS.acks)), 10, "the good record's ack"
        )
    assert sorted(r for _t, r, _d in consumer.db.dead_letters()) == sorted(r for _t, _p, r in cases)
    assert consumer.db.counts()["garments"] == 1
    assert hashlib.sha256(consumer.db.blob(sha) or b"").hexdigest() == sha


def emptied(db: ConsumerDB) -> ConsumerDB:
    """``db`` with its consumer tables emptied (the private PostgreSQL server is shared by the tests)."""
    with db.transaction() as tx:
        for table in ("garment_versions", "garments", "blobs", "pending", "pending_images", "dead_letters"):
            tx.q(f"DELETE FROM {table}")
    return db


def three_versions(tmp_path: Path) -> tuple[list[bytes], bytes, str]:
    """One garment's messages as kept, corrected and deleted (v1, v2, v3), its image and that image's hash."""
    with ClosetStore.open(tmp_path / "versions", DEVICE, min_free_mb=0) as store:
        kept = store.add(synthetic_draft(1, image_kb=2))
        ref = kept.images["cutout_png"]
        image = store.read_image(ref)  # before the delete, which lets the images go
        corrected = store.edit(kept.id, category="dress")
        deleted = store.delete(kept.id)
        return [garment_message(record, "mqtt") for record in (kept, corrected, deleted)], image, ref.sha256


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_late_older_version_never_replaces_a_newer_one(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    """Versions may arrive in any order (docs/sync.md): a v1 redelivered after the consumer was killed can
    land after the v2 edit or the v3 delete, and must not bring back the old category or the deleted
    garment. Only the versions table was checked before, so "last to arrive wins" passed every test."""
    url = str(tmp_path / "c.db") if backend == "sqlite" else request.getfixturevalue("postgres_url")
    db = emptied(ConsumerDB.open(url))
    handler = MessageHandler(db, PREFIX, frozenset({DEVICE}))
    (v1, v2, v3), image, sha = three_versions(tmp_path)
    record_id = json.loads(v1)["record"]["id"]

    def current() -> list[tuple[Any, ...]]:
        with db.transaction() as tx:
            rows = tx.q("SELECT version, body, deleted FROM garments").fetchall()
        return [(version, json.loads(body)["category"], deleted) for version, body, deleted in rows]

    handler.handle(TOPICS.image(sha), image)
    for message in (v2, v1):
        assert [a.status for a in handler.handle(TOPICS.garment(record_id), message)] == ["stored"]
    assert current() == [(2, "dress", 0)], "the late v1 took the corrected garment's place"
    handler.handle(TOPICS.garment(record_id), v3)
    handler.handle(TOPICS.garment(record_id), v1)  # redelivered once more, after the delete
    assert current() == [(3, "dress", 1)], "the late v1 brought a deleted garment back"
    assert sorted(v for _d, _i, v, _b in db.versions()) == [1, 2, 3]
    db.close()


def test_a_parked_record_sent_again_stays_parked_until_its_image_comes(
    handler: MessageHandler, record_and_image: tuple[bytes, bytes, str, str]
) -> None:
    """A resend of a parked record was answered ``duplicate``: the mirror marked the version acknowledged and
    stopped sending its image, while the cloud held only the parked row (dead-lettered a week later)."""
    message, image, sha, record_id = record_and_image
    for _resend in range(3):
        assert handler.handle(TOPICS.garment(record_id), message) == []
    assert handler.db.counts()["pending"] == 1 and handler.db.counts()["garments"] == 0
    changed = json.dumps({**json.loads(message), "record": {**json.loads(message)["record"], "category": "dress"}})
    (conflict,) = handler.handle(TOPICS.garment(record_id), changed.encode())  # same version, other content
    assert conflict.status == "rejected" and conflict.reason.startswith("version_conflict")
    (ack,) = handler.handle(TOPICS.image(sha), image)
    assert (ack.record_id, ack.status) == (record_id, "stored")
    assert [a.status for a in handler.handle(TOPICS.garment(record_id), message)] == ["duplicate"]


def test_a_parked_record_whose_image_came_without_completing_it_is_stored_when_sent_again(
    handler: MessageHandler, record_and_image: tuple[bytes, bytes, str, str]
) -> None:
    """Two replicas: one parks the record while the other stores its image (before the park commits), so no
    image arrival completes it; the mirror's next resend must, not leave it parked until it expires."""
    message, image, sha, record_id = record_and_image
    assert handler.handle(TOPICS.garment(record_id), message) == []
    with handler.db.transaction() as tx:  # the other replica's write: the image, without the promotion
        tx.q("INSERT INTO blobs (sha256, size, data, received_at) VALUES (?, ?, ?, ?)", (sha, len(image), image, 0.0))
    assert [a.status for a in handler.handle(TOPICS.garment(record_id), message)] == ["stored"]
    assert handler.db.counts()["pending"] == 0 and handler.db.counts()["garments"] == 1


def test_postgres_backend_parks_stores_dedupes_and_dead_letters(
    record_and_image: tuple[bytes, bytes, str, str], postgres_url: str
) -> None:
    """The same flow on a real PostgreSQL server (tests/conftest_postgres.py starts a private one;
    its consumer tables are emptied first)."""
    db = emptied(ConsumerDB.open(postgres_url))
    handler = MessageHandler(db, PREFIX, frozenset({DEVICE}))
    message, image, sha, record_id = record_and_image
    assert handler.handle(TOPICS.garment(record_id), message) == []
    assert handler.handle(TOPICS.garment(record_id), message) == []  # resent while parked: no ack yet
    assert db.counts()["pending"] == 1
    (ack,) = handler.handle(TOPICS.image(sha), image)
    assert (ack.record_id, ack.status) == (record_id, "stored")
    assert [a.status for a in handler.handle_batch([(TOPICS.garment(record_id), message)] * 2)] == [
        "duplicate",
        "duplicate",
    ]
    assert handler.handle(TOPICS.image(sha), image + b"x") == []
    assert [r for _t, r, _d in db.dead_letters()] == ["hash_mismatch"]
    assert db.blob(sha) == image
    assert db.counts() == {"garments": 1, "garment_versions": 1, "blobs": 1, "pending": 0, "dead_letters": 1}
    db.close()


def upload_request(*hashes: str) -> bytes:
    return json.dumps({"schema": "smart-mirror.upload-request", "schema_version": 1, "id": "r1", "version": 1,
                       "images": [{"sha256": h, "size": 1} for h in hashes]}).encode()  # fmt: skip


def test_asking_whether_an_image_is_stored_never_reads_the_image(tmp_path: Path) -> None:
    db = ConsumerDB.open(str(tmp_path / "c.db"))
    data = b"a big image" * 10_000
    sha = hashlib.sha256(data).hexdigest()
    with db.transaction() as tx:
        tx.add_blob(sha, data)
    conn = db._conn
    assert isinstance(conn, sqlite3.Connection)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 1000)  # from now on, reading the image's column fails
    with pytest.raises(sqlite3.DataError, match="too big"):
        db.blob(sha)
    assert db.has_blob(sha) and not db.has_blob("0" * 64)
    uploads = UploadServer(MessageHandler(db, PREFIX, frozenset({DEVICE})))  # the upload request's check
    answers: list[bytes] = []
    uploads.bind(lambda _topic, payload: answers.append(payload), lambda _acks: None)
    uploads.on_request(TOPICS.upload_request, upload_request(sha, "0" * 64))
    uploads.httpd.server_close()
    assert db.dead_letters() == [] and list(json.loads(answers[0])["urls"]) == ["0" * 64]


class _SqlLog:
    """A database connection that notes every statement it runs."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.statements: list[str] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self.statements.append(sql)
        return self.conn.execute(sql, params)

    def close(self) -> None:
        self.conn.close()


def test_postgres_asks_whether_an_image_is_stored_without_selecting_it(postgres_url: str) -> None:
    db = ConsumerDB.open(postgres_url)
    data = b"another image"
    sha = hashlib.sha256(data).hexdigest()
    with db.transaction() as tx:
        tx.add_blob(sha, data)
    log = _SqlLog(db._conn)
    db._conn = log
    assert db.has_blob(sha) and not db.has_blob("0" * 64)
    assert log.statements and not [s for s in log.statements if "data" in s], log.statements
    db.close()


def test_consumer_cli_says_what_is_missing_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sync.consumer.cli import main

    assert main([]) == 2
    assert capsys.readouterr().err.strip().endswith("with --device ID or --devices-file PATH (or --any-device)")
    assert main(["--any-device", "--password-file", str(tmp_path / "nope")]) == 2
    assert "cannot read --password-file" in capsys.readouterr().err
    assert main(["--any-device", "--db", "postgresql://cloud@127.0.0.1:1/closet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ("psycopg" in err or "cannot connect to PostgreSQL" in err)


def test_consumer_cli_guards_its_secrets_and_keeps_its_database_private(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sync.consumer.cli import main

    unreachable = ["--db", "postgresql://cloud@127.0.0.1:1/closet"]  # fails right after the secrets are read
    for short in (b"", b"\n", b"tooshort\n"):
        (tmp_path / "short").write_bytes(short)
        (tmp_path / "short").chmod(0o600)
        assert main(["--any-device", "--upload-secret-file", str(tmp_path / "short"), *unreachable]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "the key needs at least 16" in err, err
    password, secret = tmp_path / "password", tmp_path / "secret"
    password.write_text("hunter2\n")
    secret.write_text("k" * 32)
    password.chmod(0o644)
    secret.chmod(0o640)
    assert main(["--any-device", "--password-file", str(password), "--upload-secret-file", str(secret), *unreachable])
    err = capsys.readouterr().err
    assert f"--password-file {password} is open to other users (mode 644); run: chmod 600" in err
    assert f"--upload-secret-file {secret} is open to other users (mode 640)" in err
    password.chmod(0o600)
    secret.chmod(0o400)
    with socket.socket() as taken:  # the upload port is in use: main() stops once the database is open
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        args = ["--any-device", "--password-file", str(password), "--upload-secret-file", str(secret)]
        assert main([*args, "--db", str(tmp_path / "cloud" / "consumer.db"), "--http-port", port]) == 2
    assert "open to other users" not in capsys.readouterr().err
    assert stat.S_IMODE((tmp_path / "cloud" / "consumer.db").stat().st_mode) == 0o600


def test_a_record_whose_images_never_come_expires_into_the_dead_letters(
    tmp_path: Path, record_and_image: tuple[bytes, bytes, str, str]
) -> None:
    message, image, sha, record_id = record_and_image
    db = ConsumerDB.open(str(tmp_path / "c.db"))
    assert MessageHandler(db, PREFIX, frozenset({DEVICE})).handle(TOPICS.garment(record_id), message) == []
    assert db.counts()["pending"] == 1
    with db.transaction() as tx:  # parked eight days ago
        tx.q("UPDATE pending SET received_at = received_at - ?", (8 * 86400,))
    restarted = MessageHandler(db, PREFIX, frozenset({DEVICE}))  # looks for expired records at its first batch
    restarted.handle(TOPICS.image("0" * 64), b"")  # any message
    assert db.counts()["pending"] == 0
    assert db._read("SELECT COUNT(*) FROM pending_images")[0][0] == 0
    (expired,) = [(t, d) for t, r, d in db.dead_letters() if r == "pending_expired"]
    assert expired == (f"pending:{DEVICE}/{record_id}", f"version 1 of {record_id} waited too long for image(s) {sha}")
    # A record younger than the TTL stays parked, and completes when its image comes.
    assert restarted.handle(TOPICS.garment(record_id), message) == []
    assert [a.status for a in MessageHandler(db, PREFIX, frozenset({DEVICE})).handle(TOPICS.image(sha), image)] == [
        "stored"
    ]


def test_a_flood_of_bad_messages_keeps_only_the_newest_dead_letters(handler: MessageHandler) -> None:
    handler.db.max_dead_letters = 50
    handler.handle_batch([(TOPICS.garment(f"r{i}"), b"{not json") for i in range(300)])
    handler.handle(TOPICS.garment("last"), b"{not json")
    letters = handler.db.dead_letters()
    assert len(letters) == 50 and letters[-1][0] == TOPICS.garment("last")
    assert letters[0][0] == TOPICS.garment("r251")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_mirror_can_be_erased_leaving_the_images_another_mirror_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest, backend: str
) -> None:
    """A retired mirror, or a person who asks to be forgotten: the backend needs a way to delete what one
    mirror sent. Images are stored once by content, so one another mirror's garment names must stay."""
    from sync.consumer.cli import main as consumer_main

    url = str(tmp_path / "cloud.db") if backend == "sqlite" else str(request.getfixturevalue("postgres_url"))
    gone, staying = f"erase-a-{tmp_path.name}", f"erase-b-{tmp_path.name}"  # the PG database is shared
    handler = MessageHandler(ConsumerDB.open(url), PREFIX, frozenset({gone, staying}))
    shared, own = f"the same photo {tmp_path}".encode(), f"only a's {tmp_path}".encode()
    stores = {}
    for device, images in ((gone, [shared, own]), (staying, [shared])):
        store = ClosetStore.open(tmp_path / device, device, min_free_mb=0)
        stores[device] = store
        topics = Topics(PREFIX, device)
        for n, data in enumerate(images):
            record = store.add(dataclasses.replace(synthetic_draft(n, image_kb=1), images={"cutout_png": data}))
            handler.handle(topics.image(hashlib.sha256(data).hexdigest()), data)
            acks = handler.handle(topics.garment(record.id), garment_message(record, "mqtt"))
            assert [a.status for a in acks] == ["stored"]
    parked = stores[gone].add(synthetic_draft(9, image_kb=1))  # its image never came: pending
    assert handler.handle(Topics(PREFIX, gone).garment(parked.id), garment_message(parked, "mqtt")) == []
    on_its_way = f"b's next photo {tmp_path}".encode()  # sent before its record, which has not come yet
    handler.handle(Topics(PREFIX, staying).image(hashlib.sha256(on_its_way).hexdigest()), on_its_way)
    handler.db.close()

    assert consumer_main(["--db", url, "--erase-device", gone]) == 0
    assert f"erased mirror {gone}: 3 garment version(s)" in capsys.readouterr().out
    db = ConsumerDB.open(url)
    devices = [d for d, _i, _v, _b in db.versions()]
    assert gone not in devices and devices.count(staying) == 1
    assert db.blob(hashlib.sha256(shared).hexdigest()) == shared
    assert db.blob(hashlib.sha256(own).hexdigest()) is None
    assert db.blob(hashlib.sha256(on_its_way).hexdigest()) == on_its_way, "not the erased mirror's to erase"
    db.close()
    for store in stores.values():
        store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_images_no_garment_names_are_collected_once_they_are_a_week_old(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest, backend: str
) -> None:
    """A mirror sends a garment's images before its record: a young unnamed image is on its way to being
    named and stays; one nobody named for 7 days lost its record and goes. Named ones always stay."""
    from sync.consumer.cli import collect_images
    from sync.consumer.cli import main as consumer_main

    url = str(tmp_path / "cloud.db") if backend == "sqlite" else str(request.getfixturevalue("postgres_url"))
    device = f"collect-{tmp_path.name}"  # the PG database is shared between tests
    handler = MessageHandler(ConsumerDB.open(url), PREFIX, frozenset({device}))
    topics = Topics(PREFIX, device)
    store = ClosetStore.open(tmp_path / "closet", device, min_free_mb=0)
    named, lost, parked = (f"{what} {tmp_path}".encode() for what in ("named", "lost", "parked"))
    record = store.add(dataclasses.replace(synthetic_draft(1, image_kb=1), images={"cutout_png": named}))
    waiting = store.add(dataclasses.replace(synthetic_draft(2, image_kb=1), images={"cutout_png": parked}))
    for data in (named, lost):
        handler.handle(topics.image(hashlib.sha256(data).hexdigest()), data)
    assert [a.status for a in handler.handle(topics.garment(record.id), garment_message(record, "mqtt"))] == ["stored"]
    assert handler.handle(topics.garment(waiting.id), garment_message(waiting, "mqtt")) == []  # parked
    db = handler.db

    # (Counts are not asserted: the PostgreSQL database is shared with other tests' images.)
    assert consumer_main(["--db", url, "--collect-images"]) == 0  # today: everything is young
    assert capsys.readouterr().out.startswith("collected ")
    assert db.blob(hashlib.sha256(lost).hexdigest()) == lost, "a young unnamed image stays"
    sha = hashlib.sha256(lost).hexdigest()
    with db.transaction() as tx:  # first sent over a week ago...
        tx.q("UPDATE blobs SET received_at = ? WHERE sha256 = ?", (time.time() - PENDING_TTL_S - 60, sha))
    handler.handle(topics.image(sha), lost)  # ...and sent again now: its record may be on its way
    assert collect_images(db) == 0 and db.blob(sha) == lost
    capsys.readouterr()
    week_later = time.time() + PENDING_TTL_S + 60
    assert collect_images(db, now=week_later) == 0
    assert "that no garment names and came over 7 days ago" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # one job per run: not an erase that silently skips the collect
        consumer_main(["--db", url, "--collect-images", "--erase-device", device])
    assert db.blob(hashlib.sha256(lost).hexdigest()) is None
    assert db.blob(hashlib.sha256(named).hexdigest()) == named, "a stored garment's image stays"
    db.close()
    store.close()
