"""Presigned HTTP uploads for images (the mirror's ``[sync] images = http``): URLs out, PUTs in.

The mirror asks on ``<prefix>/<device>/uploads/request``; this answers on ``.../uploads/urls``
with one URL per image the database lacks, each signed (HMAC-SHA256 over hash, device and
expiry, with a secret only the consumer knows) so nobody can write without asking over the
authenticated MQTT session first. A PUT is checked like an MQTT image (size, content hash),
stored in the same ``blobs`` table, and acks any record it completes.

A real deployment would hand out object-store URLs (S3 and the like presign the same way);
this built-in server keeps the reference consumer self-contained.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from jsonschema import Draft202012Validator

from sync.consumer.handler import Ack, DeadLetterError, MessageHandler
from sync.contract import SCHEMA_VERSION, UPLOAD_URLS_SCHEMA, Topics, load_schema

log = logging.getLogger(__name__)
URL_LIFETIME_S = 600


class UploadServer:
    """HTTP server for presigned PUTs; :meth:`on_request` is called by the consumer for each URL request."""

    def __init__(
        self, handler: MessageHandler, host: str = "127.0.0.1", port: int = 0, public_url: str = "", secret: bytes = b""
    ) -> None:
        self.handler = handler
        self.secret = secret or secrets.token_bytes(32)
        self._publish: Callable[[str, bytes], object] | None = None
        self._publish_acks: Callable[[list[Ack]], None] | None = None
        self._validator = Draft202012Validator(load_schema("upload-request"))
        self.uploaded = 0
        self.httpd = ThreadingHTTPServer((host, port), _make_request_handler(self))
        self.port = int(self.httpd.server_address[1])
        self.public_url = (public_url or f"http://{host}:{self.port}").rstrip("/")
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="upload-server", daemon=True)

    def bind(self, publish: Callable[[str, bytes], object], publish_acks: Callable[[list[Ack]], None]) -> None:
        self._publish = publish
        self._publish_acks = publish_acks

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # ----------------------------------------------------------------------------- MQTT side
    def sign(self, sha256: str, device: str, expires: int) -> str:
        return hmac.new(self.secret, f"{sha256}:{device}:{expires}".encode(), hashlib.sha256).hexdigest()

    def url_for(self, sha256: str, device: str) -> str:
        expires = int(time.time()) + URL_LIFETIME_S
        sig = self.sign(sha256, device, expires)
        return f"{self.public_url}/blobs/{sha256}?device={device}&expires={expires}&sig={sig}"

    def on_request(self, topic: str, payload: bytes) -> None:
        """Answer an upload request with URLs for the images not stored yet. Never raises."""
        try:
            parsed = self.handler.parse(topic)
            request = json.loads(payload)
            errors = list(self._validator.iter_errors(request))
            if errors:
                raise DeadLetterError("schema_invalid", errors[0].message[:300])
            missing = [img["sha256"] for img in request["images"] if self.handler.db.blob(img["sha256"]) is None]
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
        except ValueError as exc:
            self._dead(topic, "malformed_json", str(exc), payload)
        except Exception as exc:
            log.exception("failed to answer an upload request on %s", topic)
            self._dead(topic, "internal_error", f"{type(exc).__name__}: {exc}", payload)

    def _dead(self, topic: str, reason: str, detail: str, payload: bytes) -> None:
        log.warning("dead letter from %s: %s (%s)", topic, reason, detail)
        try:
            with self.handler.db.transaction() as tx:
                tx.dead_letter(topic, reason, detail, payload)
        except Exception:
            log.exception("could not record the dead letter from %s", topic)

    # ----------------------------------------------------------------------------- HTTP side
    def put(self, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, str]:
        """Handle one PUT; (HTTP status, message)."""
        sha = path.removeprefix("/blobs/")
        device = (query.get("device") or [""])[0]
        expires_text = (query.get("expires") or ["0"])[0]
        sig = (query.get("sig") or [""])[0]
        expires = int(expires_text) if expires_text.isdigit() else 0
        if not hmac.compare_digest(sig, self.sign(sha, device, expires)):
            return 403, "bad signature"
        if expires < time.time():
            return 403, "URL expired; ask for a new one"
        topic = f"http:/blobs/{sha}?device={device}"
        try:
            image = self.handler.check_image(sha, body)
            with self.handler.db.transaction() as tx:
                completed = tx.add_blob(image.sha256, image.data)
        except DeadLetterError as rej:
            self._dead(topic, rej.reason, rej.detail, body)
            return 400, f"{rej.reason}: {rej.detail}"
        self.uploaded += 1
        if self._publish_acks is not None:
            self._publish_acks([Ack(c.device_id, c.record_id, c.version, "stored") for c in completed])
        return 201, "stored"


def _make_request_handler(server: UploadServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length > server.handler.limits.max_image_bytes:
                self._answer(413, "image too large")
                return
            body = self.rfile.read(length)
            status, message = server.put(url.path, parse_qs(url.query), body)
            self._answer(status, message)

        def _answer(self, status: int, message: str) -> None:
            data = message.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("%s " + format, self.address_string(), *args)

    return Handler
