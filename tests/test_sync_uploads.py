"""The HTTP uploader against real, badly behaved upload hosts: slow ones and failing ones.

The PUTs must never hold the sync worker's thread (it also drives the MQTT keepalive), a
failing host must be asked again after a backoff rather than at every worker step, and the
log must not carry a presigned URL's signature. The upload requests go through a real
mosquitto to a real subscriber; the backoff runs on a clock the test moves.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mirror.store import ClosetStore, Record
from sync.contract import SCHEMA_VERSION, UPLOAD_URLS_SCHEMA, Topics
from sync.uploads import RETRY_MIN_S, HttpUploader, RefusedUrlError, check_url, redact
from tests.broker import Mosquitto, closed_port
from tests.conftest_broker import DEVICE, PREFIX, Listener, fill_store, wait_until

TOPICS = Topics(PREFIX, DEVICE)


@dataclass
class UploadHost:
    """A real HTTP server that answers each PUT with ``status`` once ``release`` is set."""

    status: int = 201
    location: str = ""  # sent as Location (with a 3xx status)
    release: threading.Event = field(default_factory=threading.Event)
    puts: int = 0  # PUTs received
    answered: int = 0  # PUTs answered
    server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def serve() -> Iterator[UploadHost]:
    spec = UploadHost()
    spec.release.set()

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            spec.puts += 1
            spec.release.wait(10)
            self.send_response(spec.status)
            if spec.location:
                self.send_header("Location", spec.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            spec.answered += 1

        def log_message(self, *_args: Any) -> None:
            pass

    spec.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=spec.server.serve_forever, daemon=True)
    thread.start()
    yield spec
    spec.release.set()
    spec.server.shutdown()
    spec.server.server_close()


@pytest.fixture
def host() -> Iterator[UploadHost]:
    yield from serve()


@pytest.fixture
def other_host() -> Iterator[UploadHost]:
    """A second upload host (a redirect's target, a proxy)."""
    yield from serve()


def uploader_for(base: str = "http://127.0.0.1", **kwargs: Any) -> HttpUploader:
    """An uploader whose broker is on the upload host's host, as in the loopback tests."""
    return HttpUploader(TOPICS, hosts={"127.0.0.1"}, https_only=False, **kwargs)


@pytest.fixture
def cloud(mosquitto: Mosquitto) -> Iterator[Listener]:
    """The uploader's MQTT client (a real one on the real broker), which also hears the upload requests."""
    with Listener(mosquitto.port, TOPICS.upload_request) as listener:
        yield listener


def urls_message(record: Record, base: str) -> bytes:
    urls = {ref.sha256: f"{base}/blobs/{ref.sha256}?sig=SECRETSIGNATURE" for ref in record.images.values()}
    body = {"schema": UPLOAD_URLS_SCHEMA, "schema_version": SCHEMA_VERSION, "id": record.id,
            "version": record.version, "urls": urls}  # fmt: skip
    return json.dumps(body).encode()


def offer_urls(uploader: HttpUploader, store: ClosetStore, base: str) -> None:
    """The cloud's answer: a presigned URL (with its signature) for every image of every record."""
    for record in store.list():
        uploader.on_urls(urls_message(record, base))


def upload_once(uploader: HttpUploader, store: ClosetStore, base: str, client: Any) -> str:
    """Ask for URLs, offer ``base``'s, and wait for the PUTs: their result ("" or what failed)."""
    [record] = store.list()
    assert not uploader.ready(client, store, record)
    offer_urls(uploader, store, base)
    assert not uploader.ready(client, store, record)
    state = uploader._pending[(record.id, record.version)]
    assert state.upload is not None, "the URLs were not taken"
    return state.upload.result(timeout=20)


@pytest.mark.broker
def test_a_slow_upload_host_does_not_hold_the_sync_thread(tmp_path: Path, host: UploadHost, cloud: Listener) -> None:
    host.release.clear()  # every PUT hangs at the host until the test lets it answer
    store = fill_store(tmp_path / "closet", 1)
    [record] = store.list()
    uploader = uploader_for()
    assert not uploader.ready(cloud.client, store, record)  # asks for URLs
    [request] = cloud.wait_for(TOPICS.upload_request)
    assert json.loads(request)["id"] == record.id
    offer_urls(uploader, store, host.base)
    assert not uploader.ready(cloud.client, store, record)  # starts the PUTs ...
    wait_until(lambda: host.puts == 1, 10, "the PUT to reach the host")
    assert not uploader.ready(cloud.client, store, record)  # ... and does not wait for them
    assert host.answered == 0, "ready() waited for the upload host"
    host.release.set()
    wait_until(lambda: uploader.ready(cloud.client, store, record), 10, "the upload to finish")
    assert host.puts == host.answered == len(record.images)
    store.close()


@pytest.mark.broker
def test_a_failing_upload_host_is_asked_again_after_a_backoff(
    tmp_path: Path, host: UploadHost, cloud: Listener, caplog: pytest.LogCaptureFixture
) -> None:
    host.status = 500
    store = fill_store(tmp_path / "closet", 1)
    [record] = store.list()
    failed_at = 1000.0  # the clock stands still until the test moves it
    now = [failed_at]
    uploader = uploader_for(clock=lambda: now[0])

    def step() -> bool:
        return uploader.ready(cloud.client, store, record)

    with caplog.at_level(logging.WARNING, logger="sync.uploads"):
        assert not step()  # asks for URLs
        offer_urls(uploader, store, host.base)
        # Step (as the worker does, every ~20 ms) until the failure is seen, then on and on.
        wait_until(lambda: not step() and bool(caplog.records), 10, "the failed upload")
        for _ in range(50):
            assert not step()
        now[0] = failed_at + RETRY_MIN_S - 0.01
        assert not step()
        assert host.puts == 1, "a failed upload was retried at once, not after a backoff"
        assert len(cloud.settled(TOPICS.upload_request)) == 1, "the URLs were asked for again before the backoff"
        now[0] = failed_at + RETRY_MIN_S
        assert not step()
        assert len(cloud.settled(TOPICS.upload_request)) == 2, "the URLs were not asked for again after the backoff"
    assert host.puts == 1
    [warning] = [r.getMessage() for r in caplog.records if r.name == "sync.uploads"]
    assert "500" in warning and f"asking again in {RETRY_MIN_S:.0f} s" in warning
    assert "SECRETSIGNATURE" not in warning and "/blobs/" in warning
    store.close()


def test_redact_keeps_where_and_drops_the_signature() -> None:
    text = "500 Server Error: x for url: https://s3.example/b/k.png?X-Amz-Signature=abc&X-Amz-Date=1 (retry)"
    assert redact(text) == "500 Server Error: x for url: https://s3.example/b/k.png?… (retry)"


# --------------------------------------------------------------------------- where photos may go
# The URLs come from the broker: without these checks whoever can write .../uploads/urls could
# send the closet's photos anywhere, or PUT into the mirror's LAN (security review S9, finding 6).


@pytest.mark.broker
def test_a_redirect_is_a_failed_upload_not_a_resend(
    tmp_path: Path, host: UploadHost, other_host: UploadHost, cloud: Listener
) -> None:
    host.status, host.location = 307, f"{other_host.base}/elsewhere"
    store = fill_store(tmp_path / "closet", 1)
    error = upload_once(uploader_for(), store, host.base, cloud.client)
    assert host.puts == 1 and other_host.puts == 0, "the photo followed the redirect"
    assert error.startswith("PUT http://127.0.0.1:") and "HTTP 307" in error and "sig=" not in error
    store.close()


@pytest.mark.broker
def test_the_environments_proxy_is_not_used(
    tmp_path: Path, host: UploadHost, other_host: UploadHost, cloud: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, other_host.base)
    store = fill_store(tmp_path / "closet", 1)
    assert upload_once(uploader_for(), store, host.base, cloud.client) == ""
    assert other_host.puts == 0 and host.puts == len(store.list()[0].images)
    store.close()


@pytest.mark.parametrize(
    ("hosts", "https_only", "url", "why"),
    [
        ({"127.0.0.1"}, False, "http://evil.example/blobs/x?sig=SECRETSIGNATURE", "host 'evil.example' is neither"),
        ({"127.0.0.1"}, False, "http://127.0.0.1.evil.example/b?sig=SECRETSIGNATURE", "is neither the broker"),
        ({"127.0.0.1"}, False, "http://127.0.0.1@evil.example/b?sig=SECRETSIGNATURE", "host 'evil.example'"),
        ({"broker.example"}, True, "http://broker.example/blobs/x?sig=SECRETSIGNATURE", "only https"),
        ({"broker.example"}, False, "ftp://broker.example/blobs/x?sig=SECRETSIGNATURE", "malformed"),
        ({"broker.example"}, False, "file:///etc/passwd", "malformed"),
    ],
)
def test_urls_to_other_hosts_or_plain_http_under_tls_are_refused_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, hosts: set[str], https_only: bool, url: str, why: str
) -> None:
    store = fill_store(tmp_path / "closet", 1)
    [record] = store.list()
    sent: list[bytes] = []

    class Client:
        def publish(self, _topic: str, payload: str | bytes, qos: int = 0) -> object:
            sent.append(payload.encode() if isinstance(payload, str) else payload)
            return None

    uploader = HttpUploader(TOPICS, hosts=hosts, https_only=https_only)
    assert not uploader.ready(Client(), store, record)
    body = json.loads(urls_message(record, "https://broker.example"))
    body["urls"] = dict.fromkeys(body["urls"], url)
    with caplog.at_level(logging.WARNING, logger="sync.uploads"):
        uploader.on_urls(json.dumps(body).encode())
    assert uploader._pending[(record.id, record.version)].urls is None, "the URLs were taken"
    [warning] = [r.getMessage() for r in caplog.records]
    assert why in warning and "SECRETSIGNATURE" not in warning, warning
    # The broker's own host (any case), a configured one, https under TLS: taken.
    good = HttpUploader(TOPICS, hosts={"Broker.Example", "uploads.example"}, https_only=True)
    assert not good.ready(Client(), store, record)
    for base in ("https://broker.example:8443", "https://UPLOADS.example"):
        good.on_urls(urls_message(record, base))
        assert good._pending[(record.id, record.version)].urls is not None, base
    store.close()


@pytest.mark.broker
def test_an_unreachable_upload_host_leaves_no_signature_in_the_log(
    tmp_path: Path, cloud: Listener, caplog: pytest.LogCaptureFixture
) -> None:
    """requests puts the whole URL (query and all) in a ConnectionError's text (finding 12)."""
    store = fill_store(tmp_path / "closet", 1)
    [record] = store.list()
    uploader = uploader_for()
    with closed_port() as port, caplog.at_level(logging.WARNING, logger="sync.uploads"):
        error = upload_once(uploader, store, f"http://127.0.0.1:{port}", cloud.client)
        assert not uploader.ready(cloud.client, store, record)  # logs the failure
    assert error == f"PUT http://127.0.0.1:{port}/blobs/{next(iter(record.images.values())).sha256}: ConnectionError"
    [warning] = [r.getMessage() for r in caplog.records]
    assert "sig=" not in warning and "SECRETSIGNATURE" not in warning and "ConnectionError" in warning
    store.close()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/blobs/x", "http://localhost:8080/blobs/x", "http://[::1]:8080/b"])
def test_this_machine_is_one_host_however_it_is_named(url: str) -> None:
    """The default single box: the broker at ``localhost`` and the consumer handing out
    ``http://127.0.0.1:…`` URLs. Plain http to it is fine even under TLS: nothing crosses the network."""
    for https_only in (False, True):
        check_url(url, frozenset({"localhost"}), https_only)
        check_url(url, frozenset({"127.0.0.1"}), https_only)
    with pytest.raises(RefusedUrlError, match="neither the broker"):
        check_url(url, frozenset({"broker.example"}), False)  # a broker elsewhere does not vouch for this box
    with pytest.raises(RefusedUrlError, match="neither the broker"):
        check_url("http://127.0.0.1.nip.example/b", frozenset({"localhost"}), False)
