"""Presigned HTTP uploads for images (the mirror's ``[sync] images = http``): URLs out, PUTs in.

The mirror asks on ``<prefix>/<device>/uploads/request``; this answers on ``.../uploads/urls``
with one URL per image the database lacks, each signed (HMAC-SHA256 over hash, device and
expiry, with a secret only the consumer knows) so nobody can write without asking over the
authenticated MQTT session first. A PUT is checked like an MQTT image (size, content hash),
stored in the same ``blobs`` table, and acks any record it completes.

Anyone who can reach the port can talk to the server, so it spends nothing on a stranger: the
URL's signature and expiry are checked before a single body byte is read, a PUT must declare
its ``Content-Length`` (at most the image limit), an idle connection is dropped after
:data:`IDLE_TIMEOUT_S`, and at most :data:`MAX_CONNECTIONS` are served at once (more get 503).
It speaks plain HTTP on loopback by default: a TLS reverse proxy in front of it is the public
``--http-url``.

A real deployment would hand out object-store URLs (S3 and the like presign the same way);
this built-in server keeps the reference consumer self-contained.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from sync.consumer.handler import Ack, DeadLetterError, MessageHandler, load_json
from sync.contract import SCHEMA_VERSION, UPLOAD_URLS_SCHEMA, Topics, load_schema, parse_topic
from sync.validation import schema_validator

log = logging.getLogger(__name__)
URL_LIFETIME_S = 600
IDLE_TIMEOUT_S = 15.0  # a connection that sends nothing for this long is dropped
MAX_CONNECTIONS = 32  # served at once; one more is answered 503 and closed
LINGER_BYTES = 16 * 1024  # after refusing a PUT, read (and drop) at most this much of its body
LINGER_S = 0.5
#: The request line and headers must all be in within this, however slowly they trickle (each read
#: alone only has to beat IDLE_TIMEOUT_S, so a byte every few seconds held a slot for ever).
HEAD_DEADLINE_S = 15.0
#: A signed body must arrive at this average rate or better (after HEAD_DEADLINE_S of slack).
MIN_BODY_BYTES_PER_S = 32 * 1024
_SIG = re.compile(r"[0-9a-f]{64}")
_EXPIRES = re.compile(r"[0-9]{1,12}")
_LENGTH = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True)
class Grant:
    """What a valid presigned URL allows: one PUT of the image with this hash, for this device."""

    sha256: str
    device: str


class RefusedError(Exception):
    """An HTTP answer other than success, given before the body is read."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message


class UploadServer:
    """HTTP server for presigned PUTs; :meth:`on_request` is called by the consumer for each URL request."""

    def __init__(
        self,
        handler: MessageHandler,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str = "",
        secret: bytes = b"",
        *,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.handler = handler
        self.secret = secret or secrets.token_bytes(32)
        self._publish: Callable[[str, bytes], object] | None = None
        self._publish_acks: Callable[[list[Ack]], None] | None = None
        self._validator = schema_validator(load_schema("upload-request"))
        self.uploaded = 0
        self.body_bytes_read = 0  # of PUT bodies, refused ones included
        self._count_lock = threading.Lock()
        self.httpd = _Server((host, port), _make_request_handler(self, idle_timeout_s), max_connections)
        self.port = int(self.httpd.server_address[1])
        self.public_url = (public_url or f"http://{host}:{self.port}").rstrip("/")
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="upload-server", daemon=True)

    @property
    def connections(self) -> int:
        """Connections being served now."""
        return self.httpd.active

    def bind(self, publish: Callable[[str, bytes], object], publish_acks: Callable[[list[Ack]], None]) -> None:
        self._publish = publish
        self._publish_acks = publish_acks

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def count_read(self, n: int) -> None:
        with self._count_lock:
            self.body_bytes_read += n

    # ----------------------------------------------------------------------------- MQTT side
    def sign(self, sha256: str, device: str, expires: int) -> str:
        return hmac.new(self.secret, f"{sha256}:{device}:{expires}".encode(), hashlib.sha256).hexdigest()

    def url_for(self, sha256: str, device: str) -> str:
        expires = int(time.time()) + URL_LIFETIME_S
        query = urlencode({"device": device, "expires": expires, "sig": self.sign(sha256, device, expires)})
        return f"{self.public_url}/blobs/{sha256}?{query}"

    def on_request(self, topic: str, payload: bytes) -> None:
        """Answer an upload request with URLs for the images not stored yet. Never raises."""
        try:
            parsed = self.handler.parse(topic)
            request = load_json(payload, self.handler.limits.max_record_bytes, "upload request")
            errors = list(self._validator.iter_errors(request))
            if errors:
                raise DeadLetterError("schema_invalid", errors[0].message[:300])
            missing = [img["sha256"] for img in request["images"] if not self.handler.db.has_blob(img["sha256"])]
            answer = {
                "schema": UPLOAD_URLS_SCHEMA,
                "schema_version": SCHEMA_VERSION,
                "id": request["id"],
                "version": request["version"],
                "urls": {sha: self.url_for(sha, parsed.device) for sha in missing},
            }
            if self._publish is not None:
                self._publish(Topics(self.handler.prefix, parsed.device).upload_urls, json.dumps(answer).encode())
        except DeadLetterError as rej:
            self._dead(topic, rej.reason, rej.detail, payload)
            self._refuse(topic, payload, f"{rej.reason}: {rej.detail}")
        except Exception as exc:
            log.exception("failed to answer an upload request on %s", topic)
            self._dead(topic, "internal_error", f"{type(exc).__name__}: {exc}", payload)

    def _refuse(self, topic: str, payload: bytes, reason: str) -> None:
        """Answer a refused request that names its version with a ``rejected`` ack, as a refused record is: the
        mirror logs why and asks again in an hour, not every 10 s (one dead letter each time)."""
        parsed = parse_topic(self.handler.prefix, topic)
        if parsed is None or self._publish_acks is None:
            return
        try:
            request = load_json(payload, self.handler.limits.max_record_bytes, "upload request")
        except DeadLetterError:  # too broken to name a version: the dead letter is all there is
            return
        if not isinstance(request, dict):
            return
        record_id, version = request.get("id"), request.get("version")
        if isinstance(record_id, str) and isinstance(version, int) and not isinstance(version, bool):
            self._publish_acks([Ack(parsed.device, record_id[:64], max(1, version), "rejected", reason)])

    def _dead(self, topic: str, reason: str, detail: str, payload: bytes) -> None:
        log.warning("dead letter from %s: %s (%s)", topic, reason, detail)
        try:
            with self.handler.db.transaction() as tx:
                tx.dead_letter(topic, reason, detail, payload)
        except Exception:
            log.exception("could not record the dead letter from %s", topic)

    # ----------------------------------------------------------------------------- HTTP side
    def authorize(self, path: str, query: dict[str, list[str]]) -> Grant:
        """The grant a URL carries, checked before any of the body is read; :class:`RefusedError` (403) if none."""
        sha = path.removeprefix("/blobs/")
        device = (query.get("device") or [""])[0]
        expires_text = (query.get("expires") or [""])[0]
        sig = (query.get("sig") or [""])[0]
        # Plain ASCII first: compare_digest refuses non-ASCII str, and int() takes digits like "²".
        if not _SIG.fullmatch(sig) or not _EXPIRES.fullmatch(expires_text):
            raise RefusedError(403, "bad signature")
        expires = int(expires_text)
        if not hmac.compare_digest(sig, self.sign(sha, device, expires)):
            raise RefusedError(403, "bad signature")
        if expires < time.time():
            raise RefusedError(403, "URL expired; ask for a new one")
        return Grant(sha, device)

    def content_length(self, headers: Message) -> int:
        """The declared body size; :class:`RefusedError` unless it is one plain number within the image limit."""
        values = headers.get_all("Content-Length") or []
        if not values:
            raise RefusedError(411, "Content-Length required")
        if len(set(values)) != 1 or not _LENGTH.fullmatch(values[0].strip()) or headers.get("Transfer-Encoding"):
            raise RefusedError(400, "bad Content-Length")
        length = int(values[0])
        if length > self.handler.limits.max_image_bytes:
            raise RefusedError(413, f"image too large (limit {self.handler.limits.max_image_bytes} bytes)")
        return length

    def store(self, grant: Grant, body: bytes) -> tuple[int, str]:
        """Keep the body of an authorized PUT; (HTTP status, message)."""
        topic = f"http:/blobs/{grant.sha256}?device={grant.device}"
        try:
            image = self.handler.check_image(grant.sha256, body)
            with self.handler.db.transaction() as tx:
                completed = tx.add_blob(image.sha256, image.data)
        except DeadLetterError as rej:
            self._dead(topic, rej.reason, rej.detail, body)
            return 400, f"{rej.reason}: {rej.detail}"
        self.uploaded += 1
        if self._publish_acks is not None:
            self._publish_acks([Ack(c.device_id, c.record_id, c.version, "stored") for c in completed])
        return 201, "stored"


class _Server(ThreadingHTTPServer):
    """A thread per connection, at most ``max_connections`` at once (one more is answered 503)."""

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], max_connections: int) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        self._active = 0
        self._active_lock = threading.Lock()
        super().__init__(address, handler)

    @property
    def active(self) -> int:
        return self._active

    def _taken(self, delta: int) -> None:
        with self._active_lock:
            self._active += delta

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(
                    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    b"Content-Length: 5\r\nConnection: close\r\nRetry-After: 5\r\n\r\nbusy\n"
                )
            self.shutdown_request(request)
            return
        self._taken(1)
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._taken(-1)
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._taken(-1)
            self._slots.release()


def _make_request_handler(server: UploadServer, idle_timeout_s: float) -> type[BaseHTTPRequestHandler]:
    def _read_up_to(read: Callable[[int], bytes], limit: int, step: int) -> bytes:
        """Up to ``limit`` bytes from ``read``, ``step`` at a time, fewer when the stream ends (each counted)."""
        chunks: list[bytes] = []
        left = limit
        while left > 0:
            chunk = read(min(left, step))
            if not chunk:
                break
            server.count_read(len(chunk))
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    class Handler(BaseHTTPRequestHandler):
        timeout = idle_timeout_s  # per socket operation: an idle or stalled client is dropped
        _deadline: threading.Timer | None = None

        def setup(self) -> None:
            super().setup()
            self._cut_after(HEAD_DEADLINE_S)

        def finish(self) -> None:
            self._cut_after(None)
            super().finish()

        def _cut_after(self, seconds: float | None) -> None:
            """Close the connection unless what is being read now is in within ``seconds`` (None: no limit)."""
            if self._deadline is not None:
                self._deadline.cancel()
            self._deadline = None
            if seconds is not None:
                self._deadline = threading.Timer(seconds, self._cut)
                self._deadline.daemon = True
                self._deadline.start()

        def _cut(self) -> None:
            """Too slow: give the slot to others (a blocked read then ends with nothing)."""
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def do_PUT(self) -> None:
            url = urlsplit(self.path)
            try:
                grant = server.authorize(url.path, parse_qs(url.query))
                length = server.content_length(self.headers)
            except RefusedError as no:
                self._cut_after(None)
                self._refuse(no.status, no.message)
                return
            self._cut_after(HEAD_DEADLINE_S + length / MIN_BODY_BYTES_PER_S)
            body = self._read_body(length)
            self._cut_after(None)
            if len(body) < length:
                self._refuse(400, "body shorter than its Content-Length")
                return
            self._answer(*server.store(grant, body))

        def _read_body(self, length: int) -> bytes:
            return _read_up_to(self.rfile.read, length, 65536)

        def _refuse(self, status: int, message: str) -> None:
            """Answer, then close without reading the body: drop at most a little of what already came,
            so that closing with unread data does not reset the connection before the client reads why."""
            self.close_connection = True
            self._answer(status, message)
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_WR)
                self.connection.settimeout(LINGER_S)
                _read_up_to(self.connection.recv, LINGER_BYTES, 4096)  # dropped
            except OSError:
                pass

        def _answer(self, status: int, message: str) -> None:
            data = message.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("%s " + format, self.address_string(), *args)

    return Handler
