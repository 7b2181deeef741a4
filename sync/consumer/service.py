"""The consumer's MQTT side: a shared subscription, manual PUBACKs, acks after storing.

MQTT 5 only: the shared subscription (``$share/<group>/...``) is what lets several consumers
split the load. PUBACKs are sent by hand (paho's manual ack) only after a message was handled,
so a consumer killed mid-message gets it redelivered by the broker (its session is persistent);
the application ack to the mirror goes out only after the record is committed.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import paho.mqtt.client as mqtt

from sync.broker import BrokerConfig, connect_kwargs, make_client, reason_text
from sync.consumer.handler import Ack, MessageHandler
from sync.contract import Topics, ack_message

log = logging.getLogger("sync.consumer")


class ConsumerService:
    """Run with :meth:`start`/:meth:`stop` (paho's network thread) or :meth:`run_forever`."""

    def __init__(
        self,
        handler: MessageHandler,
        broker: BrokerConfig,
        group: str = "smart-mirror",
        uploads: Any = None,
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
        self._client = make_client(broker)
        self._client.manual_ack_set(True)
        self._client.max_inflight_messages_set(200)
        self._client.max_queued_messages_set(0)
        self._client.reconnect_delay_set(1, 10)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    def filters(self) -> list[str]:
        share = f"$share/{self.group}/{self.prefix}/+"
        topics = [f"{share}/garments/+", f"{share}/images/+"]
        if self.uploads is not None:
            topics.append(f"{share}/uploads/request")
        return topics

    def start(self) -> None:
        self._client.connect_async(**connect_kwargs(self.broker))  # type: ignore[arg-type]
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def run_forever(self) -> None:
        self._client.connect_async(**connect_kwargs(self.broker))  # type: ignore[arg-type]
        self._client.loop_forever(retry_first_connection=True)

    def stop_forever(self) -> None:
        """Make :meth:`run_forever` return (from a signal handler)."""
        self._client.disconnect()

    def publish_acks(self, acks: list[Ack]) -> None:
        for ack in acks:
            topic = Topics(self.prefix, ack.device_id).acks
            self._client.publish(topic, ack_message(ack.record_id, ack.version, ack.status, ack.reason), qos=1)

    def _on_connect(self, client: mqtt.Client, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.error("broker %s refused the consumer (%s)", self.broker.describe(), reason_text(reason))
            return
        log.info("consumer connected to %s", self.broker.describe())
        client.subscribe([(f, 1) for f in self.filters()])
        self.connected.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self.connected.clear()
        log.warning("consumer lost the broker %s (%s); reconnecting", self.broker.describe(), reason_text(reason))

    def _on_message(self, client: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        payload = bytes(message.payload)
        if self.uploads is not None and message.topic.endswith("/uploads/request"):
            self.uploads.on_request(message.topic, payload)
        else:
            self.publish_acks(self.handler.handle(message.topic, payload))
        self.handled += 1
        client.ack(message.mid, message.qos)
