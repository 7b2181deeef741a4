"""The outbox worker: drains the closet's outbox to the broker, and only an application ack empties it.

Why not trust MQTT alone: a PUBACK says the broker has the message, not that the cloud stored
it, and paho keeps its session in memory, so a reboot mid-sync would lose whatever was in
flight. Here the outbox is on disk (the store), a version is published (images first, then
the record), and it leaves the outbox only when the cloud's ack for that id + version arrives
on ``<prefix>/<device>/acks``. No ack within ``[sync] ack_timeout_s``, a dropped connection,
or a restart: it is published again (the cloud dedupes by id + version).

One thread does everything (paho's ``loop()`` is driven here, not in paho's own thread), so
acks, publishes and store writes never race. Given ``on_command``, it also listens on
``<prefix>/<device>/commands`` and answers each message on ``.../commands/result``
(``sync.commands`` checks them; the callback, the core's, decides). ``on_acked`` hears which
record versions the cloud has just confirmed (the closet's sync badges follow it). At most
``[sync] max_inflight`` record versions are unacknowledged at once; reconnects back off
exponentially with jitter.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from mirror.config import SyncSettings
from mirror.store import ClosetStore, DamagedRecordError, OutboxItem, Record, StoreError
from sync import homeassistant
from sync.backoff import Backoff
from sync.broker import (
    MIRROR_MAX_PACKET_BYTES,
    BrokerConfig,
    BrokerSetupError,
    connect_kwargs,
    make_client,
    reason_text,
)
from sync.commands import CommandHandler, CommandInbox, StoreAnswers, closet_newest, result_message
from sync.contract import OFFLINE, ONLINE, Topics, garment_message, parse_ack, printable
from sync.loglimit import LogLimit
from sync.uploads import HttpUploader

log = logging.getLogger(__name__)
STATE_EVERY_S = 10.0
#: A version that cannot go now (the cloud rejected it, its row or an image of it is unreadable) is
#: offered again after this long; meanwhile it holds no in-flight slot, so the versions behind it go.
POSTPONE_S = 3600.0
#: After resuming a session the broker kept, versions sent before wait this long before going
#: again: the acks the cloud sent while the mirror was away arrive first (new versions go at once).
RESUME_GRACE_S = 2.0
#: How long one step waits for network traffic (which wakes it at once): short while versions are
#: going out, longer when nothing was due nor in flight, so an idle mirror does not read its outbox
#: 50 times a second (a new version waits at most IDLE_LOOP_S to go).
BUSY_LOOP_S = 0.02
IDLE_LOOP_S = 0.25
#: A connection that held this long is a good one: the reconnect backoff starts over. One that drops
#: sooner (another mirror with the same client id takes the session over, a broker that accepts and
#: then drops) keeps backing off, and the log says it once instead of two lines every few seconds.
STABLE_S = 60.0
#: What :meth:`SyncWorker._fail` appends to a connection problem, after the count: the records are safe.
QUEUED_TAIL = " record version(s) waiting — they stay queued and go when it is back"


def without_queued_tail(error: str) -> str:
    """A ``last_error`` without the count and :data:`QUEUED_TAIL` (``sync drain`` gives the count left
    after its run instead), keeping the rest: the fix a message names comes after a ``;`` too."""
    head, _sep, tail = error.rpartition("; ")
    return head if tail.endswith(QUEUED_TAIL) else error


@dataclass
class WorkerStats:
    """What the worker did since it started (the bench and ``sync drain`` report these)."""

    published: int = 0
    acked: int = 0
    rejected: int = 0
    republished: int = 0
    connects: int = 0
    latencies_s: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))
    """Publish-to-ack seconds of the most recent acks (bounded: the service runs for months)."""


#: MQTT 5's reason code for a keep-alive timeout ("Keep alive timeout").
KEEPALIVE_TIMEOUT = 141


def _keepalive(reason: ReasonCode | MQTTErrorCode) -> bool:
    """Whether the connection ended because nothing was heard within the keep-alive (either way paho says it)."""
    if isinstance(reason, ReasonCode):
        return reason.value == KEEPALIVE_TIMEOUT
    return reason == MQTTErrorCode.MQTT_ERR_KEEPALIVE


class SyncWorker:
    """Publish the outbox; call :meth:`run` (blocking), :meth:`drain`, or :meth:`start`/:meth:`stop` (thread)."""

    def __init__(
        self,
        store: ClosetStore,
        sync: SyncSettings,
        device_id: str,
        *,
        broker: BrokerConfig | None = None,
        device_name: str = "Smart mirror",
        on_command: CommandHandler | None = None,
        on_acked: Callable[[list[tuple[str, int]]], None] | None = None,
        presence: bool = True,
    ) -> None:
        """``presence=False`` for a helper beside the running mirror (``sync drain``): it delivers the
        outbox but leaves the mirror's status, last will, discovery and state topics alone, so its
        exit does not mark a running mirror offline."""
        self.store = store
        self.sync = sync
        self.device_id = device_id
        self.device_name = device_name
        self.topics = Topics(sync.topic_prefix, device_id)
        self.broker = broker or BrokerConfig.from_sync(sync, sync.mirror_client_id(device_id))
        self.stats = WorkerStats()
        self.last_error = ""
        self.last_rejection = ""  # the latest version the cloud rejected, and why (for sync drain)
        self._client: mqtt.Client | None = None
        self._connected = False
        self._connected_at = 0.0  # monotonic, when the current connection was accepted
        self._flaps = 0  # connections that dropped within STABLE_S since one last held
        self._dropped = False
        self._closing = False
        self._inflight: dict[tuple[str, int], float] = {}
        self._held_said: set[tuple[str, int]] = set()  # versions held back (unreadable, or another device's): said once
        self._acks: list[tuple[str, int]] = []
        self._rejected: list[tuple[str, int]] = []
        self._idle = False  # nothing due nor in flight at the last look: wait longer for the network
        self._conflicts: list[tuple[tuple[str, int], int]] = []  # (version, the cloud's newest of that garment)
        self._malformed_acks = LogLimit(log)
        self._rejections = LogLimit(log, burst=20)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._requeued = False  # in-flight versions of an earlier run put back to waiting (once per run)
        self._state_due = 0.0
        self._resend_after = 0.0  # monotonic; until then only never-sent versions go (RESUME_GRACE_S)
        self._uploader = (
            HttpUploader(
                self.topics,
                hosts=frozenset(h.strip() for h in (self.broker.host, *sync.upload_hosts.split(",")) if h.strip()),
                https_only=self.broker.tls,
            )
            if sync.images == "http"
            else None
        )
        self._failed_kinds: set[str] = set()  # message kinds whose handling raised: traceback logged once each
        self._inbox = (
            CommandInbox(on_command, answers=StoreAnswers(store.commands), newest=closet_newest(store))
            if on_command is not None
            else None
        )
        self.on_acked = on_acked
        self.presence = presence
        self.listening = threading.Event()
        """Set once the broker has confirmed the commands subscription (commands sent from then on arrive)."""
        self._commands_mid: int | None = None

    # ----------------------------------------------------------------------------- public
    @property
    def connected(self) -> bool:
        return self._connected

    def start(self) -> None:
        """Run in a background thread until :meth:`stop`."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="sync-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Ask the thread to stop and wait up to ``timeout`` s: ``False`` when it is still running (a
        disconnect stuck on a broker that does not answer); it stops by itself after that."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def drain(self, timeout: float) -> bool:
        """Publish until nothing waits or is in flight; ``False`` when ``timeout`` ran out first.

        Versions held back (rejected by the cloud, or with an unreadable image) are not waited
        for: they are due again only in an hour. ``store.outbox.stats().held`` counts them.
        """
        return self.run(until=self._outbox_empty, timeout=timeout)

    def run(self, until: Callable[[], bool] | None = None, timeout: float | None = None) -> bool:
        """Connect, publish and collect acks until ``until()`` holds, :meth:`stop`, or ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        backoff = Backoff(self.sync.backoff_min_s, self.sync.backoff_max_s)
        self._requeued = False
        try:
            while not self._stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    return False
                try:
                    if self._turn(until, backoff, deadline):
                        return True
                except Exception as exc:  # a bug must not end sync and remote commands until a restart
                    self._recover(exc, backoff, deadline)
            return until() if until is not None else True
        finally:
            self._shutdown()

    def _turn(self, until: Callable[[], bool] | None, backoff: Backoff, deadline: float | None) -> bool:
        """One pass of :meth:`run`'s loop; ``True`` once ``until()`` holds. What it raises goes to :meth:`_recover`."""
        if not self._requeued:
            self.store.outbox.requeue_in_flight()
            self._requeued = True
        if until is not None and until():
            return True
        if self._client is None and not self._connect():
            self._wait(backoff.next(), deadline)
            return False
        self._step()
        if self._dropped:
            self._teardown()
            self._wait(backoff.next(), deadline)
        elif self._connected and time.monotonic() - self._connected_at >= STABLE_S:
            self._settled()
            backoff.reset()
        return False

    def _recover(self, exc: Exception, backoff: Backoff, deadline: float | None) -> None:
        """After a failed pass: say why (once), drop the connection unless the closet was the trouble
        (busy or full: the connection is fine), and back off.

        Nothing may raise out of here: it would end :meth:`run`, and with it the service's sync thread,
        until a restart (review s13, H1: the backoff overflowed right here). A second fault while
        recovering is logged once per kind, the connection is forgotten, and the longest backoff is waited.
        """
        try:
            self._report(exc)
            if not isinstance(exc, StoreError):
                self._teardown()
            delay = backoff.next()
        except Exception as again:
            name = type(again).__name__
            if f"recovery:{name}" not in self._failed_kinds:  # kinds of a fault's handling that raised
                self._failed_kinds.add(f"recovery:{name}")
                log.exception("sync could not recover from a fault (%s); it waits and tries again", name)
            self._client = None
            self._connected = False
            self._inflight.clear()
            delay = self.sync.backoff_max_s
        self._wait(delay, deadline)

    def _report(self, exc: Exception) -> None:
        """Log a failed pass once while it repeats: a closet problem is a warning with its fix, anything else
        a bug, logged with its traceback."""
        if isinstance(exc, StoreError):  # e.g. the closet is busy or full: keep the thread, retry later
            line = str(exc)
            if line != self.last_error:
                log.warning("%s", line)
        else:
            line = f"sync stumbled ({type(exc).__name__}: {printable(exc)}); it reconnects and carries on"
            if line != self.last_error:
                log.error("%s", line, exc_info=exc)
        self.last_error = line

    # ----------------------------------------------------------------------------- connection
    def _connect(self) -> bool:
        try:
            client = make_client(self.broker)
        except BrokerSetupError as exc:  # e.g. [sync] ca_file missing: say so, retry with backoff
            self._fail(str(exc))
            return False
        if self.presence:
            client.will_set(self.topics.status, OFFLINE, qos=1, retain=True)
        client.max_inflight_messages_set(max(20, self.sync.max_inflight * 5))
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        self._dropped = False
        try:
            client.connect(**connect_kwargs(self.broker, max_packet_bytes=MIRROR_MAX_PACKET_BYTES))
        except (OSError, ValueError) as exc:
            self._fail(f"broker {self.broker.describe()} unreachable ({exc})")
            return False
        self._client = client
        return True

    def _on_connect(
        self, client: mqtt.Client, _u: Any, flags: mqtt.ConnectFlags, reason: ReasonCode, _props: Properties | None
    ) -> None:
        if reason.is_failure:
            self._fail(f"broker {self.broker.describe()} refused the connection ({reason_text(reason)})")
            self._dropped = True
            return
        self._connected = True
        self._connected_at = time.monotonic()
        self.stats.connects += 1
        if not self._flaps:  # while the connection keeps dropping, one line when it holds (_settled)
            if self.last_error:
                log.info("connected to %s again", self.broker.describe())
            self.last_error = ""
        if flags.session_present:
            # The broker queued whatever the cloud acked while the mirror was away; it sends that
            # right after CONNACK. Sending those versions again first only earns "duplicate" acks.
            self._resend_after = time.monotonic() + RESUME_GRACE_S
        client.subscribe(self.topics.acks, qos=1)
        if self._inbox is not None:
            # MQTT 5 "retain as published": a retained command published while the mirror is
            # subscribed keeps its flag, so it is refused like one replayed on connect (with
            # 3.1.1 the broker clears the flag on live delivery: docs/sync.md, Commands).
            options = SubscribeOptions(qos=1, retainAsPublished=True) if self.broker.v5 else None
            if options is not None:
                self._commands_mid = client.subscribe(self.topics.commands, options=options)[1]
            else:
                self._commands_mid = client.subscribe(self.topics.commands, qos=1)[1]
        if self._uploader is not None:
            client.subscribe(self.topics.upload_urls, qos=1)
        if self.presence:
            client.publish(self.topics.status, ONLINE, qos=1, retain=True)
        if self.presence and self.sync.ha_discovery:
            for topic, payload in homeassistant.discovery_messages(self.topics, self.device_id, self.device_name):
                client.publish(topic, payload, qos=1, retain=True)
        self._state_due = 0.0

    def _on_subscribe(
        self, _c: mqtt.Client, _u: Any, mid: int, reasons: list[ReasonCode], _props: Properties | None
    ) -> None:
        if mid == self._commands_mid:
            if not any(r.is_failure for r in reasons):
                self.listening.set()
            else:
                log.warning("the broker refused the commands subscription (%s)", reasons[0])

    def _on_disconnect(
        self, _c: mqtt.Client, _u: Any, _flags: mqtt.DisconnectFlags, reason: ReasonCode, _props: Properties | None
    ) -> None:
        self._lost(reason)

    def _lost(self, reason: ReasonCode | MQTTErrorCode) -> None:
        """The connection is gone: the broker said so (``reason``), or ``loop()`` failed (its error code)."""
        self.listening.clear()
        if not self._stop.is_set() and not self._closing and not self._dropped:
            if self._connected and time.monotonic() - self._connected_at < STABLE_S:
                self._flaps += 1
            if self._connected:
                self._fail(f"lost the broker {self.broker.describe()} ({reason_text(reason)})")
            elif _keepalive(reason):  # it took the TCP connection and never answered the login: no credential issue
                self._fail(
                    f"broker {self.broker.describe()} accepted the connection but never answered the login "
                    f"({reason_text(reason)}); check the broker's log, and that this port is an MQTT broker's"
                )
            else:  # e.g. a TLS client certificate refused after the handshake
                self._fail(
                    f"broker {self.broker.describe()} closed the connection before accepting it "
                    f"({reason_text(reason)}); check [sync] tls, cert_file, key_file and the credentials"
                )
        self._connected = False
        self._dropped = True

    def _settled(self) -> None:
        """The connection has held for :data:`STABLE_S`: after a spell of drops, say so once."""
        if self._flaps:
            log.info(
                "connected to %s; it held after dropping %d time(s) within a minute of being made "
                "(another client with this client id? a broker that drops the session?)",
                self.broker.describe(),
                self._flaps,
            )
            self._flaps = 0
            self.last_error = ""

    def _fail(self, message: str) -> None:
        try:
            waiting: int | str = self._waiting_count()
        except StoreError:
            waiting = "some"
        line = f"{message}; {waiting}{QUEUED_TAIL}"
        if line != self.last_error:
            log.warning("%s", line)
        self.last_error = line

    def _teardown(self) -> None:
        """Forget the connection; whatever was in flight is sent again after reconnecting."""
        if self._client is not None:
            sock = self._client.socket()
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        self._client = None
        self._connected = False
        self._inflight.clear()
        if self._uploader is not None:
            self._uploader.reset()
        with contextlib.suppress(StoreError):  # if this fails, overdue in-flight versions are resent anyway
            self.store.outbox.requeue_in_flight()

    def _shutdown(self) -> None:
        self._closing = True
        client = self._client
        if client is not None and self._connected:
            with contextlib.suppress(StoreError):
                self._flush_acks()
            if self.presence:
                info = client.publish(self.topics.status, OFFLINE, qos=1, retain=True)
                end = time.monotonic() + 2.0
                while not info.is_published() and time.monotonic() < end and client.loop(0.05) == mqtt.MQTT_ERR_SUCCESS:
                    pass
            client.disconnect()
            client.loop(0.05)
        self._client = None
        self._connected = False
        self._closing = False
        self._inflight.clear()

    def _wait(self, seconds: float, deadline: float | None) -> None:
        if deadline is not None:
            seconds = min(seconds, max(0.0, deadline - time.monotonic()))
        self._stop.wait(seconds)

    # ----------------------------------------------------------------------------- work
    def _step(self) -> None:
        client = self._client
        assert client is not None
        rc = client.loop(IDLE_LOOP_S if self._idle else BUSY_LOOP_S)
        if rc != mqtt.MQTT_ERR_SUCCESS:
            if not self._dropped:
                self._lost(rc)
            return
        if not self._connected:
            return
        self._flush_acks()
        self._publish_due(client)
        now = time.monotonic()
        if self.presence and now >= self._state_due:
            self._state_due = now + STATE_EVERY_S
            state = {"garments": self.store.counts().garments, "waiting": self._waiting_count()}
            client.publish(self.topics.state, json.dumps(state), qos=0, retain=True)

    def _publish_due(self, client: mqtt.Client) -> None:
        now = time.monotonic()
        overdue = {k for k, t in self._inflight.items() if now - t > self.sync.ack_timeout_s}
        if len(self._inflight) - len(overdue) >= self.sync.max_inflight:
            return
        items = self.store.outbox.due(self.sync.max_inflight, self.sync.ack_timeout_s)
        self._idle = not items and not self._inflight
        resending = now >= self._resend_after
        sent: list[OutboxItem] = []
        for item in items:
            key = (item.record_id, item.version)
            if item.attempts > 0 and not resending:
                continue  # sent before the session resumed: its ack may be queued at the broker
            if key in self._inflight and key not in overdue:
                continue
            if key not in self._inflight and len(self._inflight) >= self.sync.max_inflight:
                break
            try:
                record = self.store.get_version(item.record_id, item.version)
            except DamagedRecordError as exc:  # one bad row must not stall every later record
                self._hold_back(key, str(exc))  # stays queued: a restore may bring it back
                continue
            if record is None:  # superseded meanwhile: its outbox row went with it
                continue
            if record.device_id != self.device_id:  # the cloud would refuse it (device_mismatch)
                self._hold_back(
                    key,
                    f"garment {record.id} v{record.version} was made by device {record.device_id}, but this "
                    f'mirror is {self.device_id} (set [device] id = "{record.device_id}" in the config to sync it)',
                )
                continue
            if not self._publish_record(client, record):
                continue
            if key in self._inflight:
                self.stats.republished += 1
            self._inflight[key] = now
            self.stats.published += 1
            sent.append(item)
        if sent:
            self.store.outbox.mark_published(sent)

    def _hold_back(self, key: tuple[str, int], why: str) -> None:
        """Keep a version queued but not due for an hour, saying why once (not at every retry)."""
        if key not in self._held_said:
            self._held_said.add(key)
            log.error("%s; it waits, and is tried again in %.0f min", why, POSTPONE_S / 60)
        self.store.outbox.postpone([key], POSTPONE_S)

    def _publish_record(self, client: mqtt.Client, record: Record) -> bool:
        """Images (or their upload), then the record; ``False`` when it cannot go now.

        That is while an HTTP upload is pending, or when an image file cannot be read: then the
        cloud could never complete the record (it waits for every image it names), so the version
        is postponed like a rejected one, named in the log once, and tried again later (after a
        restore from backup it goes).
        """
        images: list[tuple[str, bytes]] = []
        for ref in record.images.values():
            try:
                if self._uploader is None:
                    images.append((ref.sha256, self.store.read_image(ref)))
                elif not self.store.has_image(ref):  # over HTTP the uploader reads it, once, when URLs come
                    raise StoreError(f"{ref.filename}: no such file")
            except StoreError as exc:
                self._hold_back(
                    (record.id, record.version),
                    f"garment {record.id} v{record.version}: image {ref.kind} unreadable ({exc}; restore the "
                    "closet's images from a backup, docs/deploy.md)",
                )
                return False
        if self._uploader is not None:
            if not self._uploader.ready(client, self.store, record):
                return False
            via = "http"
        else:
            for sha256, data in images:
                client.publish(self.topics.image(sha256), data, qos=1)
            via = "mqtt"
        client.publish(self.topics.garment(record.id), garment_message(record, via), qos=1)
        return True

    def _on_message(self, client: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        """One message from the broker. Never raises: paho would not PUBACK it, the exception would end
        the thread, and the persistent session would hand the same message to every restart."""
        if self._inbox is not None and message.topic == self.topics.commands:
            kind = "command"
        elif self._uploader is not None and message.topic == self.topics.upload_urls:
            kind = "upload URLs"
        else:
            kind = "ack"
        try:
            if kind == "command":
                self._on_command(client, message)
            elif kind == "upload URLs" and self._uploader is not None:
                self._uploader.on_urls(message.payload)
            else:
                self._on_ack(message)
        except Exception:  # a bug, or input nobody foresaw: drop this message (it is acked), keep the worker
            if kind not in self._failed_kinds:
                self._failed_kinds.add(kind)
                log.exception("ignoring a %s message the mirror could not handle (only the first is logged)", kind)

    def _on_command(self, client: mqtt.Client, message: mqtt.MQTTMessage) -> None:
        assert self._inbox is not None
        command_id, verdict = self._inbox.handle(bytes(message.payload), retained=bool(message.retain))
        client.publish(self.topics.command_results, result_message(command_id, verdict), qos=1)

    def _on_ack(self, message: mqtt.MQTTMessage) -> None:
        try:
            ack = parse_ack(bytes(message.payload))
        except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            bad = printable(exc)
            self._malformed_acks.log(logging.WARNING, "ignoring a malformed ack on %s (%s)", message.topic, bad)
            return
        newest = ack.conflict_newest
        if ack.status in ("stored", "duplicate"):
            self._acks.append(ack.key)
        elif newest is not None:
            self._conflicts.append((ack.key, newest))
        else:
            self._rejected.append(ack.key)
            self.stats.rejected += 1
            why = printable(ack.reason or ack.status)  # from the network: one log line, whatever it holds
            self.last_rejection = f"garment {printable(ack.id)} v{ack.version}: {why}"
            self._rejections.log(
                logging.WARNING,
                "the cloud rejected garment %s v%d (%s); it stays queued and is offered again in %.0f min",
                printable(ack.id),
                ack.version,
                why,
                POSTPONE_S / 60,
            )

    def _flush_acks(self) -> None:
        self._renumber_conflicts()
        if self._rejected:
            rejected, self._rejected = self._rejected, []
            try:
                self.store.outbox.postpone(rejected, POSTPONE_S)
            except StoreError:
                self._rejected = rejected + self._rejected
                raise
            for key in rejected:
                self._inflight.pop(key, None)  # its slot goes to the next version
        if not self._acks:
            return
        acks, self._acks = self._acks, []
        try:
            self.stats.acked += self.store.outbox.mark_acked(acks)
        except StoreError:
            self._acks = acks + self._acks  # keep them for the next try
            raise
        now = time.monotonic()
        for key in acks:
            sent_at = self._inflight.pop(key, None)
            if sent_at is not None:
                self.stats.latencies_s.append(now - sent_at)
        if self.on_acked is not None:
            try:
                self.on_acked(acks)
            except Exception:  # a listener's bug must not stop the sync
                log.exception("the ack listener failed")

    def _renumber_conflicts(self) -> None:
        """Versions whose numbers the cloud already holds with other content go again, numbered above it."""
        while self._conflicts:
            (record_id, version), newest = self._conflicts[0]
            record = self.store.renumber_above(record_id, version, newest)  # a StoreError keeps the rest queued
            self._conflicts.pop(0)
            self._inflight.pop((record_id, version), None)
            if record is not None:
                log.warning(
                    "the cloud holds another v%d of garment %s (was this closet restored from a backup?); "
                    "its current state goes again as v%d",
                    version,
                    printable(record_id),
                    record.version,
                )

    def _waiting_count(self) -> int:
        return self.store.outbox.stats().unacked

    def _outbox_empty(self) -> bool:
        """Nothing left to send now: versions held back after a rejection do not count (they wait an hour)."""
        self._flush_acks()
        return self.store.outbox.stats().due == 0
