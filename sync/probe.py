"""Does the broker take this mirror's login? One short connection, for ``smart-mirror doctor``.

Why more than a TCP connect: a broker that is up but refuses the mirror's user name or password
(the user not in its password file, ``[sync] username`` unset where anonymous logins are off)
looks fine from outside, and the mirror's records would only wait in the outbox. The probe logs
in exactly as the sync worker does (protocol, TLS, user name, password), under its own client id
and without a lasting session, so it neither knocks the running mirror off the broker nor leaves
anything behind.
"""

from __future__ import annotations

import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from mirror.config import SyncSettings
from sync.broker import BrokerConfig, BrokerSetupError, connect_kwargs, make_client, reason_text


def login_problem(settings: SyncSettings, client_id: str, timeout_s: float = 5.0) -> str:
    """Log in and out again: ``""`` when the broker accepted the login, else its refusal in a few words.

    No verdict raises: ``OSError`` when the connection fails (``ConnectionResetError`` when the broker
    hangs up without answering, ``TimeoutError`` when it does not answer within ``timeout_s``),
    ``BrokerSetupError`` when the client cannot even be set up (a TLS file unreadable)."""
    config = BrokerConfig.from_sync(settings, client_id)
    client = make_client(config, persistent=False)
    answer: list[str] = []

    def on_connect(
        _c: mqtt.Client, _u: Any, _flags: mqtt.ConnectFlags, reason: ReasonCode, _props: Properties | None
    ) -> None:
        answer.append(reason_text(reason) if reason.is_failure else "")

    client.on_connect = on_connect
    try:
        client.connect(**connect_kwargs(config, max_packet_bytes=None, resume=False))
        deadline = time.monotonic() + timeout_s
        while not answer and time.monotonic() < deadline:
            if client.loop(timeout=0.1) != mqtt.MQTT_ERR_SUCCESS and not answer:
                # Hung up without a CONNACK: a plain client on a TLS port, a broker at its
                # max_connections. Said at once, not waited out (paho's loop would spin).
                raise ConnectionResetError("the broker closed the connection before answering the login")
    finally:
        client.disconnect()
    if not answer:
        raise TimeoutError(f"no answer to the login within {timeout_s:g} s")
    return answer[0]


__all__ = ["BrokerSetupError", "login_problem"]
