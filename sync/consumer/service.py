"""The consumer's MQTT side: a shared subscription, batches, manual PUBACKs, acks after commit.

MQTT 5 only: the shared subscription (``$share/<group>/...``) is what lets several consumers
split the load. paho's network thread only queues messages; one worker thread takes whatever
has queued up (up to :data:`BATCH`), stores it in one transaction, then publishes the
application acks and only then sends the PUBACKs (paho's manual ack). A consumer killed
mid-batch has sent no PUBACK for it, so the broker redelivers to its persistent session.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from sync.broker import BrokerConfig, ConnectArgs, connect_kwargs, make_client, reason_text
from sync.consumer.handler import Ack, MessageHandler
from sync.consumer.uploads import UploadServer
from sync.contract import Topics, ack_message

log = logging.getLogger(__name__)
BATCH = 64


class ConsumerService:
    """Run with :meth:`start`/:meth:`stop` (background threads) or :meth:`run_forever`."""

    def __init__(
        self,
        handler: MessageHandler,
        broker: BrokerConfig,
        group: str = "smart-mirror",
        uploads: UploadServer | None = None,
    ) -> None:
        if not broker.v5:
            raise ValueError("the consumer needs MQTT 5 (shared subscriptions); set protocol 5")
        self.handler = handler
        self.broker = broker
        self.prefix = handler.prefix
        self.group = group
        self.uploads = uploads
        self.connected = threading.Event()
        self.handled = 0
        self._queue: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._stopping = threading.Event()
        self._worker = threading.Thread(target=self._work, name="consumer-batches", daemon=True)
        self._client = make_client(broker)
        self._client.manual_ack_set(True)
        self._client.max_inflight_messages_set(200)
        self._client.max_queued_messages_set(0)
        self._client.reconnect_delay_set(1, 10)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_connect_fail = self._on_connect_fail
        self._unreachable_logged = False
        self._refused = ""  # the last reason the broker refused us for, logged once
        self._client.on_message = lambda _c, _u, message: self._queue.put(message)
        if uploads is not None:
            uploads.bind(lambda topic, payload: self._client.publish(topic, payload, qos=1), self.publish_acks)

    def _connect_kwargs(self) -> ConnectArgs:
        """The broker drops, rather than sends, a message larger than the largest this consumer would
        store (MQTT 5 ``MaximumPacketSize``): it is never read into memory."""
        limits = self.handler.limits
        largest = max(limits.max_image_bytes, limits.max_record_bytes) + 64 * 1024  # + topic and headers
        return connect_kwargs(self.broker, max_packet_bytes=largest)

    @property
    def client(self) -> mqtt.Client:
        return self._client

    def filters(self) -> list[str]:
        share = f"$share/{self.group}/{self.prefix}/+"
        topics = [f"{share}/garments/+", f"{share}/images/+"]
        if self.uploads is not None:
            topics.append(f"{share}/uploads/request")
        return topics

    def start(self) -> None:
        if self.uploads is not None:
            self.uploads.start()
        self._worker.start()
        self._client.connect_async(**self._connect_kwargs())
        self._client.loop_start()

    def stop(self) -> None:
        self._stopping.set()
        self._client.disconnect()
        self._client.loop_stop()
        self._worker.join(5)
        if self.uploads is not None:
            self.uploads.stop()

    def run_forever(self) -> None:
        if self.uploads is not None:
            self.uploads.start()
        self._worker.start()
        self._client.connect_async(**self._connect_kwargs())
        self._client.loop_forever(retry_first_connection=True)
        self._stopping.set()
        self._worker.join(5)

    def stop_forever(self) -> None:
        """Make :meth:`run_forever` return (from a signal handler)."""
        self._client.disconnect()

    def publish_acks(self, acks: list[Ack]) -> None:
        for ack in acks:
            topic = Topics(self.prefix, ack.device_id).acks
            self._client.publish(topic, ack_message(ack.record_id, ack.version, ack.status, ack.reason), qos=1)

    def _on_connect(
        self, client: mqtt.Client, _u: Any, _flags: mqtt.ConnectFlags, reason: ReasonCode, _props: Properties | None
    ) -> None:
        if reason.is_failure:
            text = reason_text(reason)
            if text != self._refused:  # paho retries every few seconds: say each new reason once
                log.error("broker %s refused the consumer (%s); it keeps retrying", self.broker.describe(), text)
                self._refused = text
            return
        log.info("consumer connected to %s", self.broker.describe())
        self._unreachable_logged = False
        self._refused = ""
        client.subscribe([(f, 1) for f in self.filters()])
        self.connected.set()

    def _on_connect_fail(self, _c: mqtt.Client, _u: Any) -> None:
        if not self._unreachable_logged:  # paho retries with its reconnect delay; say it once
            log.warning("broker %s unreachable; the consumer keeps retrying", self.broker.describe())
            self._unreachable_logged = True

    def _on_disconnect(
        self, _c: mqtt.Client, _u: Any, _flags: mqtt.DisconnectFlags, reason: ReasonCode, _props: Properties | None
    ) -> None:
        self.connected.clear()
        if not self._stopping.is_set() and not self._refused:  # after a refusal paho's disconnect says nothing new
            log.warning("consumer lost the broker %s (%s); reconnecting", self.broker.describe(), reason_text(reason))

    def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._process(batch)

    def _process(self, batch: list[mqtt.MQTTMessage]) -> None:
        records: list[mqtt.MQTTMessage] = []
        for message in batch:
            if self.uploads is not None and message.topic.endswith("/uploads/request"):
                self.uploads.on_request(message.topic, bytes(message.payload))
            else:
                records.append(message)
        if records:
            self.publish_acks(self.handler.handle_batch([(m.topic, bytes(m.payload)) for m in records]))
        for message in batch:
            self._client.ack(message.mid, message.qos)
        self.handled += len(batch)
