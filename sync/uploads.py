"""Images over HTTP (``[sync] images = http``): ask the cloud for presigned PUT URLs, then upload.

Flow per record version with images: publish an upload request (the image hashes and sizes)
on ``<prefix>/<device>/uploads/request``; the cloud answers on ``.../uploads/urls`` with one
URL per image it does not have yet; each image is PUT there with ``requests``; then the
record message goes over MQTT as usual. The cloud acks the record only once it holds every
image, so a lost upload just means the version is sent again after the ack timeout.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
import requests

from mirror.store import ClosetStore, Record, StoreError
from sync.contract import SCHEMA_VERSION, UPLOAD_REQUEST_SCHEMA, UPLOAD_URLS_SCHEMA, Topics

log = logging.getLogger("sync.uploads")
REQUEST_AGAIN_S = 10.0
PUT_TIMEOUT_S = 15.0


@dataclass
class _Pending:
    asked_at: float
    urls: dict[str, str] | None = None
    done: set[str] = field(default_factory=set)


class HttpUploader:
    """Per record version: request URLs once, upload when they come, then let the record go."""

    def __init__(self, topics: Topics, session: requests.Session | None = None) -> None:
        self.topics = topics
        self._session = session or requests.Session()
        self._pending: dict[tuple[str, int], _Pending] = {}

    def reset(self) -> None:
        self._pending.clear()

    def ready(self, client: mqtt.Client, store: ClosetStore, record: Record) -> bool:
        """True when the record's images are uploaded (or it has none) and the record may be published."""
        if not record.images:
            return True
        key = (record.id, record.version)
        now = time.monotonic()
        state = self._pending.get(key)
        if state is None or (state.urls is None and now - state.asked_at > REQUEST_AGAIN_S):
            request = {
                "schema": UPLOAD_REQUEST_SCHEMA,
                "schema_version": SCHEMA_VERSION,
                "id": record.id,
                "version": record.version,
                "images": [{"sha256": r.sha256, "size": r.size} for r in record.images.values()],
            }
            client.publish(self.topics.upload_request, json.dumps(request), qos=1)
            self._pending[key] = _Pending(asked_at=now)
            return False
        if state.urls is None:
            return False
        for ref in record.images.values():
            url = state.urls.get(ref.sha256)
            if url is None or ref.sha256 in state.done:
                continue  # the cloud already has it
            try:
                response = self._session.put(
                    url, data=store.read_image(ref), headers={"Content-Type": ref.media_type}, timeout=PUT_TIMEOUT_S
                )
                response.raise_for_status()
            except (requests.RequestException, OSError, StoreError) as exc:  # the worker postpones a lost image
                log.warning("upload of garment %s image %s failed (%s); will ask again", record.id, ref.kind, exc)
                del self._pending[key]
                return False
            state.done.add(ref.sha256)
        del self._pending[key]
        return True

    def on_urls(self, payload: bytes | bytearray) -> None:
        try:
            data = json.loads(payload)
            if data.get("schema") != UPLOAD_URLS_SCHEMA:
                raise ValueError(f"schema {data.get('schema')!r}")
            key = (str(data["id"]), int(data["version"]))
            urls = {str(k): str(v) for k, v in dict(data["urls"]).items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("ignoring malformed upload URLs (%s)", exc)
            return
        state = self._pending.get(key)
        if state is not None:
            state.urls = urls
