"""Images over HTTP ([sync] images = http): presigned URLs over MQTT, PUT with requests, real broker."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import http.client
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sync.broker import BrokerConfig
from sync.consumer.cli import build_parser
from sync.consumer.db import ConsumerDB
from sync.consumer.handler import Limits, MessageHandler
from sync.consumer.service import ConsumerService
from sync.consumer.uploads import LINGER_BYTES, UploadServer
from sync.contract import Topics
from sync.worker import SyncWorker
from tests.broker import Mosquitto
from tests.conftest_broker import DEVICE, PREFIX, assert_exactly_once, fill_store, sync_settings, wait_until

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
    # The default single box: the mirror names its broker "localhost" ([sync] host's default) while
    # the consumer hands out http://127.0.0.1:… URLs; that is one host (sync.uploads.check_url).
    settings = dataclasses.replace(sync_settings(mosquitto.port, images="http"), host="localhost")
    worker = SyncWorker(store, settings, DEVICE)
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


def test_a_mirror_not_registered_is_told_so_and_asks_for_urls_again_only_in_an_hour(
    tmp_path: Path, mosquitto: Mosquitto, http_consumer: tuple[ConsumerDB, UploadServer]
) -> None:
    """Its upload requests were dead-lettered unanswered: it asked again every 10 s (a dead letter each time,
    filling the table within hours) and never learnt why."""
    db, _uploads = http_consumer
    stranger = "mirror-new"
    store = fill_store(tmp_path / "mirror", 2, device=stranger)
    settings = sync_settings(mosquitto.port, images="http", client_id=f"mirror-{stranger}")
    worker = SyncWorker(store, settings, stranger)
    assert worker.drain(timeout=12)  # rejected versions are not waited for (unanswered, it ran out of time)
    assert worker.stats.rejected == 2
    assert "unknown_device: device 'mirror-new' is not registered" in worker.last_rejection
    assert not SyncWorker(store, settings, stranger).run(timeout=3)  # a restart: not due for an hour
    assert [reason for _t, reason, _d in db.dead_letters()] == ["unknown_device"] * 2  # one request each, no more
    assert store.outbox.stats().waiting == 2  # kept, for when it is registered
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


# ----------------------------------------------------------------------------- the HTTP server on its own
def upload_server(tmp_path: Path, idle_timeout_s: float = 15.0, max_connections: int = 32) -> UploadServer:
    handler = MessageHandler(ConsumerDB.open(str(tmp_path / "up.db")), PREFIX, frozenset({DEVICE}),
                             Limits(max_image_bytes=1 << 20))  # fmt: skip
    server = UploadServer(handler, idle_timeout_s=idle_timeout_s, max_connections=max_connections)
    server.start()
    return server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[UploadServer]:
    uploads = upload_server(tmp_path)
    yield uploads
    uploads.stop()


def target(url: str) -> str:
    """The request target (path and query) of a presigned URL."""
    return "/" + url.split("/", 3)[3]


def status_of(sock: socket.socket) -> int:
    """The status code of the answer on a raw connection (its headers are read, its body is not)."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    return int(answer.split(b" ", 2)[1])


def raw_put(port: int, path: str, headers: str, body: bytes = b"") -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"PUT {path} HTTP/1.1\r\nHost: cloud\r\n{headers}\r\n".encode() + body)
        return status_of(sock)


def test_a_bad_signature_is_refused_before_the_body_is_read(server: UploadServer) -> None:
    sha = hashlib.sha256(b"x").hexdigest()
    forged = target(server.url_for(sha, DEVICE)).rsplit("sig=", 1)[0] + "sig=" + "0" * 64
    for declared in (1 << 20, 100_000_000):  # the image limit, and far over it
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(f"PUT {forged} HTTP/1.1\r\nHost: cloud\r\nContent-Length: {declared}\r\n\r\n".encode())
            assert status_of(sock) == 403  # answered before a single body byte was sent
            try:
                for _ in range(64):  # then 64 MiB of body: the server reads only a little of it and hangs up
                    sock.sendall(b"\0" * (1 << 20))
            except OSError:
                pass
        wait_until(lambda: server.connections == 0, 5, "the connection to end")
    assert server.body_bytes_read <= 2 * LINGER_BYTES
    assert server.handler.db.counts()["blobs"] == 0


def test_a_put_must_declare_a_plain_content_length_within_the_limit(server: UploadServer) -> None:
    data = b"an image" * 100
    sha = hashlib.sha256(data).hexdigest()
    path = target(server.url_for(sha, DEVICE))
    assert raw_put(server.port, path, "") == 411
    assert raw_put(server.port, path, "Transfer-Encoding: chunked\r\n") == 411
    for bad in ("-1", "abc", "+800", "8e2", "\u00b2", "800, 800", ""):
        assert raw_put(server.port, path, f"Content-Length: {bad}\r\n") == 400, bad
    assert raw_put(server.port, path, "Content-Length: 800\r\nContent-Length: 801\r\n") == 400
    assert raw_put(server.port, path, f"Content-Length: {(1 << 20) + 1}\r\n") == 413
    assert server.body_bytes_read <= 10 * LINGER_BYTES and server.handler.db.counts()["blobs"] == 0
    assert raw_put(server.port, path, f"Content-Length: {len(data)}\r\n", data) == 201


def test_an_idle_connection_is_dropped(tmp_path: Path) -> None:
    uploads = upload_server(tmp_path, idle_timeout_s=0.5)
    try:
        for first_bytes in (b"", b"PUT /blobs/x HTTP/1.1\r\n"):  # nothing, then half a request
            with socket.create_connection(("127.0.0.1", uploads.port), timeout=10) as sock:
                sock.sendall(first_bytes)
                with contextlib.suppress(ConnectionResetError):
                    assert sock.recv(100) == b""  # closed by the server, long before our 10 s
        wait_until(lambda: uploads.connections == 0, 5, "the server to let go of the connections")
    finally:
        uploads.stop()


def test_connections_beyond_the_cap_are_answered_503(tmp_path: Path) -> None:
    uploads = upload_server(tmp_path, max_connections=2)
    try:
        idle = [socket.create_connection(("127.0.0.1", uploads.port), timeout=5) for _ in range(2)]
        wait_until(lambda: uploads.connections == 2, 5, "two connections")
        with socket.create_connection(("127.0.0.1", uploads.port), timeout=5) as third:
            assert status_of(third) == 503
        for sock in idle:
            sock.close()
        wait_until(lambda: uploads.connections == 0, 5, "the idle connections to end")
        assert raw_put(uploads.port, "/blobs/x", "Content-Length: 0\r\n") == 403
    finally:
        uploads.stop()


def test_a_non_ascii_signature_or_expiry_is_a_403_not_a_dropped_connection(server: UploadServer) -> None:
    sha = hashlib.sha256(b"x").hexdigest()
    for query in (f"device={DEVICE}&expires=4000000000&sig=%C3%A9", f"device={DEVICE}&expires=%C2%B2&sig={'0' * 64}"):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("PUT", f"/blobs/{sha}?{query}", body=b"x")
        assert conn.getresponse().status == 403, query
        conn.close()


def test_a_device_name_with_url_characters_survives_the_url(server: UploadServer) -> None:
    data = b"a picture"
    sha = hashlib.sha256(data).hexdigest()
    response = requests.put(server.url_for(sha, "a&b #c"), data=data, timeout=5)
    assert response.status_code == 201, response.text


def test_the_upload_server_listens_on_loopback_by_default() -> None:
    assert build_parser().parse_args([]).http_bind == "127.0.0.1"
    # ...and says so when its URLs send mirrors elsewhere (an update from the old 0.0.0.0 default).
    from sync.consumer.cli import unreachable_uploads

    assert "--http-bind 0.0.0.0" in unreachable_uploads("127.0.0.1", "http://cloud.lan:8080")
    assert unreachable_uploads("127.0.0.1", "") == ""  # URLs name the bind address itself
    assert unreachable_uploads("127.0.0.1", "http://localhost:8080") == ""
    assert unreachable_uploads("0.0.0.0", "http://cloud.lan:8080") == ""


def test_upload_requests_are_size_capped_and_refuse_nan(server: UploadServer) -> None:
    answers: list[bytes] = []
    server.bind(lambda _topic, payload: answers.append(payload), lambda _acks: None)
    topic = Topics(PREFIX, DEVICE).upload_request
    request = {"schema": "smart-mirror.upload-request", "schema_version": 1, "id": "r1", "version": 1,
               "images": [{"sha256": "a" * 64, "size": 10}]}  # fmt: skip
    padded = json.dumps(request).encode()[:-1] + b" " * server.handler.limits.max_record_bytes + b"}"
    server.on_request(topic, padded)
    server.on_request(topic, json.dumps({**request, "version": float("nan")}).encode())
    assert [reason for _t, reason, _d in server.handler.db.dead_letters()] == ["oversized", "malformed_json"]
    assert answers == []
    server.on_request(topic, json.dumps(request).encode())
    assert list(json.loads(answers[0])["urls"]) == ["a" * 64]


def test_a_client_that_trickles_its_request_loses_its_slot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each read only has to beat the idle timeout, so a byte every few seconds held one of the
    server's slots for ever, before any signature was checked: the head (and a signed body, by its
    length) must now arrive within a deadline."""
    import sync.consumer.uploads as uploads_mod

    monkeypatch.setattr(uploads_mod, "HEAD_DEADLINE_S", 1.0)
    server = upload_server(tmp_path, idle_timeout_s=15.0)
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"PUT /blobs/x HTTP/1.1\r\n")
            started, closed = time.monotonic(), False
            while time.monotonic() - started < 5 and not closed:
                try:
                    sock.sendall(b"X-Slow: 1\r\n")  # well inside the idle timeout each time
                    sock.settimeout(0.3)
                    closed = sock.recv(1) == b""
                except TimeoutError:
                    continue
                except OSError:
                    closed = True
            assert closed, "the trickling client kept its slot"
            assert time.monotonic() - started < 3
        assert raw_put(server.port, "/blobs/x", "Content-Length: 1\r\n") == 403  # others are served
    finally:
        server.stop()
