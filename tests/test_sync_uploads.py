"""The HTTP uploader against real, badly behaved upload hosts: slow ones and failing ones.

The PUTs must never hold the sync worker's thread (it also drives the MQTT keepalive), a
failing host must be asked again after a backoff rather than at every worker step, and the
log must not carry a presigned URL's signature.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mirror.store import ClosetStore
from sync.contract import SCHEMA_VERSION, UPLOAD_URLS_SCHEMA, Topics
from sync.uploads import RETRY_MIN_S, HttpUploader, redact
from tests.conftest_broker import DEVICE, PREFIX, fill_store


@dataclass
class UploadHost:
    """A real HTTP server that answers each PUT after ``delay_s`` with ``status``."""

    status: int = 201
    delay_s: float = 0.0
    puts: int = 0
    server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@dataclass
class Publishes:
    """Stands in for the paho client, whose only use here is ``publish`` (the broker is not under test)."""

    sent: list[tuple[str, bytes]] = field(default_factory=list)

    def publish(self, topic: str, payload: str | bytes, qos: int = 0) -> object:
        self.sent.append((topic, payload.encode() if isinstance(payload, str) else payload))
        return None


@pytest.fixture
def host() -> Iterator[UploadHost]:
    spec = UploadHost()

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            spec.puts += 1
            time.sleep(spec.delay_s)
            self.send_response(spec.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    spec.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=spec.server.serve_forever, daemon=True)
    thread.start()
    yield spec
    spec.server.shutdown()
    spec.server.server_close()


def offer_urls(uploader: HttpUploader, store: ClosetStore, base: str) -> None:
    """The cloud's answer: a presigned URL (with its signature) for every image of every record."""
    for record in store.list():
        urls = {ref.sha256: f"{base}/blobs/{ref.sha256}?sig=SECRETSIGNATURE" for ref in record.images.values()}
        body = {"schema": UPLOAD_URLS_SCHEMA, "schema_version": SCHEMA_VERSION, "id": record.id,
                "version": record.version, "urls": urls}  # fmt: skip
        uploader.on_urls(json.dumps(body).encode())


def test_a_slow_upload_host_does_not_hold_the_sync_thread(tmp_path: Path, host: UploadHost) -> None:
    host.delay_s = 1.5
    store = fill_store(tmp_path / "closet", 1)
    [record] = store.list()
    client = Publishes()
    uploader = HttpUploader(Topics(PREFIX, DEVICE))
    assert not uploader.ready(client, store, record)  # asks for URLs
    assert [t for t, _ in client.sent] == [f"{PREFIX}/{DEVICE}/uploads/request"]
    offer_urls(uploader, store, host.base)
    started = time.monotonic()
    assert not uploader.ready(client, store, record)  # starts the PUTs ...
    assert not uploader.ready(client, store, record)  # ... and does not wait for them
    assert time.monotonic() - started < 0.5
    deadline = time.monotonic() + 10
    while not uploader.ready(client, store, record):
        assert time.monotonic() < deadline, "the upload never finished"
        time.sleep(0.05)
    assert host.puts == len(record.images)
    store.close()


def test_a_failing_upload_host_is_asked_again_after_a_backoff(
    tmp_path: Path, host: UploadHost, caplog: pytest.LogCaptureFixture
) -> None:
    host.status = 500
    store = fill_store(tmp_path / "closet", 1)
    [record] = store.list()
    client = Publishes()
    uploader = HttpUploader(Topics(PREFIX, DEVICE))
    uploader.ready(client, store, record)
    offer_urls(uploader, store, host.base)
    end = time.monotonic() + RETRY_MIN_S - 1.5
    with caplog.at_level(logging.WARNING, logger="sync.uploads"):
        while time.monotonic() < end:  # the worker steps every ~20 ms
            assert not uploader.ready(client, store, record)
            time.sleep(0.02)
    assert host.puts == 1, "a failed upload was retried at once, not after a backoff"
    assert len(client.sent) == 1, "the URLs were asked for again before the backoff"
    [warning] = [r.getMessage() for r in caplog.records]
    assert "500" in warning and f"asking again in {RETRY_MIN_S:.0f} s" in warning
    assert "SECRETSIGNATURE" not in warning and "/blobs/" in warning
    store.close()


def test_redact_keeps_where_and_drops_the_signature() -> None:
    text = "500 Server Error: x for url: https://s3.example/b/k.png?X-Amz-Signature=abc&X-Amz-Date=1 (retry)"
    assert redact(text) == "500 Server Error: x for url: https://s3.example/b/k.png?… (retry)"
