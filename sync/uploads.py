"""Images over HTTP (``[sync] images = http``): ask the cloud for presigned PUT URLs, then upload.

Flow per record version with images: publish an upload request (the image hashes and sizes)
on ``<prefix>/<device>/uploads/request``; the cloud answers on ``.../uploads/urls`` with one
URL per image it does not have yet; each image is PUT there with ``requests``; then the
record message goes over MQTT as usual. The cloud acks the record only once it holds every
image, so a lost upload just means the version is sent again after the ack timeout.

The PUTs run on their own thread: the sync worker's thread also drives paho's network loop,
and a slow upload host there (15 s per PUT) starved the keepalive until the broker dropped
the mirror and published its last will. A failed upload is asked for again after a backoff
(5 s doubling to 5 min), not at the worker's next step (it was ~10 requests a second against
a failing endpoint), and the log names the host and path, never the URL's signature.

The URLs come from the broker, so they are checked before a photo goes anywhere: the message
against ``upload-urls.v1.json`` (at most :data:`~sync.contract.MAX_URLS_BYTES` read), each URL's
host against the broker's host and ``[sync] upload_hosts``, ``https`` whenever ``[sync] tls`` is
on. A PUT follows no redirect (a 3xx is a failed upload) and ignores the environment's proxy and
``.netrc`` settings.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Protocol
from urllib.parse import urlsplit

import requests
from jsonschema.protocols import Validator

from mirror.hosts import is_loopback
from mirror.store import ClosetStore, Record, StoreError
from sync.contract import (
    MAX_URLS_BYTES,
    SCHEMA_VERSION,
    UPLOAD_REQUEST_SCHEMA,
    UPLOAD_URLS_SCHEMA,
    Topics,
    load_schema,
    printable,
)
from sync.loglimit import LogLimit
from sync.validation import bounded_object, schema_problem, schema_validator

log = logging.getLogger(__name__)
REQUEST_AGAIN_S = 10.0
PUT_TIMEOUT_S = 15.0
#: After a failed upload, ask again after this long, doubling per failure up to RETRY_MAX_S.
RETRY_MIN_S = 5.0
RETRY_MAX_S = 300.0

_QUERY = re.compile(r"([a-z][a-z0-9+.-]*://[^\s?#'\"]+)\?[^\s'\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with every URL's query string (a presigned URL's signature) replaced by ``?…``."""
    return _QUERY.sub(r"\1?…", text)


def where(url: str) -> str:
    """``scheme://host[:port]/path`` of a URL: what a log may say about it (no query, no user info)."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:  # e.g. a port that is not a number
        return "(an unreadable URL)"
    return printable(f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}")


class RefusedUrlError(ValueError):
    """An upload URL the mirror will not PUT a photo to (another host, or plain http under TLS)."""


def check_url(url: str, hosts: frozenset[str], https_only: bool) -> None:
    """Raise :class:`RefusedUrlError` unless ``url`` is http(s) to one of ``hosts`` (https only when asked).

    This machine counts as one host however it is named (the broker at ``localhost`` and a consumer
    handing out ``http://127.0.0.1:…`` URLs are the default single-box setup), and plain http to it
    is allowed even with TLS on: nothing crosses the network.
    """
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
        _ = parts.port  # a port that is not a number raises here
    except ValueError as exc:
        raise RefusedUrlError(f"{where(url)}: {exc}") from None
    local = is_loopback(host)
    allowed = ("https",) if https_only and not local else ("http", "https")
    if parts.scheme not in allowed:
        why = (
            "[sync] tls is on, so only https is allowed (serve uploads through a TLS proxy: consumer --http-url https://…)"
            if https_only
            else "only http and https are allowed"
        )
        raise RefusedUrlError(f"{where(url)}: scheme {printable(parts.scheme)!r}; {why}")
    if host.lower() not in {h.lower().rstrip(".") for h in hosts} and not (local and any(map(is_loopback, hosts))):
        raise RefusedUrlError(
            f"{where(url)}: host {printable(host)!r} is neither the broker's host nor in [sync] upload_hosts "
            f"({', '.join(sorted(hosts))})"
        )


@cache
def _urls_validator() -> Validator:
    return schema_validator(load_schema("upload-urls"))


class Publisher(Protocol):
    """What the uploader needs of the MQTT client: one publish."""

    def publish(self, topic: str, payload: str | bytes, qos: int = ...) -> object: ...


@dataclass
class _Pending:
    ask_at: float  # when to publish the upload request (again), while no URLs are in hand
    urls: dict[str, str] | None = None
    upload: Future[str] | None = None  # the PUTs in progress; their result is "" or what failed
    failures: int = 0


class HttpUploader:
    """Per record version: request URLs once, upload when they come, then let the record go."""

    def __init__(
        self,
        topics: Topics,
        *,
        hosts: frozenset[str] | set[str],
        https_only: bool,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``hosts``: the host names a URL may point at (the broker's and ``[sync] upload_hosts``);
        ``https_only``: refuse plain http (``[sync] tls`` is on); ``clock``: seconds, for when to ask
        again (monotonic; a test passes its own)."""
        self.topics = topics
        self.hosts = frozenset(h.strip().lower().rstrip(".") for h in hosts if h.strip())
        self.https_only = https_only
        self._session = session or requests.Session()
        self._session.trust_env = False  # no HTTP(S)_PROXY or ~/.netrc from the environment
        self._clock = clock
        self._pending: dict[tuple[str, int], _Pending] = {}
        self._bad_urls = LogLimit(log, clock=clock)
        self._puts = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-upload")

    def reset(self) -> None:
        """Forget every request (after a reconnect the cloud's answers may be lost); uploads in
        progress finish on their own and are not waited for."""
        self._pending.clear()

    def ready(self, client: Publisher, store: ClosetStore, record: Record) -> bool:
        """True when the record's images are uploaded (or it has none) and the record may be published.

        Never blocks on the network: it asks for URLs, starts the PUTs on the upload thread,
        and answers True on a later call, once they have all succeeded.
        """
        if not record.images:
            return True
        key = (record.id, record.version)
        now = self._clock()
        state = self._pending.get(key)
        if state is None or (state.urls is None and now >= state.ask_at):
            self._request(client, record)
            failures = state.failures if state is not None else 0
            self._pending[key] = _Pending(ask_at=now + REQUEST_AGAIN_S, failures=failures)
            return False
        if state.urls is None:
            return False
        if state.upload is None:
            todo: list[tuple[str, bytes, str]] = []
            try:
                for ref in record.images.values():
                    url = state.urls.get(ref.sha256)
                    if url is not None:  # no URL: the cloud has it already
                        todo.append((url, store.read_image(ref), ref.media_type))
            except (OSError, StoreError) as exc:  # the worker postpones a lost image
                self._failed(key, state, f"image unreadable ({exc})", now)
                return False
            if not todo:
                del self._pending[key]
                return True
            state.upload = self._puts.submit(self._put_all, todo)
            return False
        if not state.upload.done():
            return False
        error = state.upload.result()
        if error:
            self._failed(key, state, error, now)
            return False
        del self._pending[key]
        return True

    def _request(self, client: Publisher, record: Record) -> None:
        request = {
            "schema": UPLOAD_REQUEST_SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "id": record.id,
            "version": record.version,
            "images": [{"sha256": r.sha256, "size": r.size} for r in record.images.values()],
        }
        client.publish(self.topics.upload_request, json.dumps(request), qos=1)

    def _put_all(self, todo: list[tuple[str, bytes, str]]) -> str:
        """On the upload thread: PUT each image; ``""`` when all went, else what failed.

        What failed names the URL's scheme, host and path only: an exception's text may hold the
        whole URL, signature included (requests' ConnectionError does), so it is not used.
        """
        for url, data, media_type in todo:
            try:
                response = self._session.put(
                    url, data=data, headers={"Content-Type": media_type}, timeout=PUT_TIMEOUT_S, allow_redirects=False
                )
                response.close()
            except requests.RequestException as exc:
                return f"PUT {where(url)}: {type(exc).__name__}"
            if not 200 <= response.status_code < 300:  # a 3xx too: the photo goes only where the URL said
                reason = printable(response.reason or "")[:100]
                return f"PUT {where(url)}: HTTP {response.status_code} {reason}".rstrip()
        return ""

    def _failed(self, key: tuple[str, int], state: _Pending, error: str, now: float) -> None:
        state.failures += 1
        wait = min(RETRY_MAX_S, RETRY_MIN_S * 2 ** (state.failures - 1))
        log.warning("upload of garment %s v%d failed (%s); asking again in %.0f s", *key, redact(error), wait)
        state.urls, state.upload, state.ask_at = None, None, now + wait

    def on_urls(self, payload: bytes | bytearray) -> None:
        """Take the cloud's URLs for a pending version; anything malformed or refused is logged and ignored."""
        try:
            key, urls = self._parse_urls(bytes(payload))
        except RefusedUrlError as exc:
            self._bad_urls.log(logging.WARNING, "refusing upload URLs (%s); no photo goes there", exc)
            return
        except ValueError as exc:
            self._bad_urls.log(logging.WARNING, "ignoring malformed upload URLs (%s)", redact(printable(exc)))
            return
        state = self._pending.get(key)
        if state is not None:
            state.urls = urls

    def _parse_urls(self, payload: bytes) -> tuple[tuple[str, int], dict[str, str]]:
        data = bounded_object(payload, MAX_URLS_BYTES, "an upload-URLs message")
        if data.get("schema") != UPLOAD_URLS_SCHEMA:
            raise ValueError(f"schema {data.get('schema')!r}")
        problem = schema_problem(_urls_validator(), data)
        if problem:
            raise ValueError(problem)
        if type(data["version"]) is not int:
            raise ValueError(f"version: {data['version']!r} is not an integer")
        urls: dict[str, str] = data["urls"]
        for url in urls.values():
            check_url(url, self.hosts, self.https_only)
        return (data["id"], data["version"]), urls
