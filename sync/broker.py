"""One way to make a paho client from settings: protocol, TLS, credentials, will, persistent session.

Shared by the mirror's worker and the reference consumer. The password is handed to paho and
nowhere else: it is never logged, and :meth:`BrokerConfig.describe` (what logs and errors show)
leaves it out.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import TypedDict

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from mirror.config import SyncSettings
from mirror.config.secrets import mqtt_password

SESSION_EXPIRY_S = 7 * 24 * 3600
"""How long the broker keeps an offline client's session (its subscriptions and queued acks)."""
MIRROR_MAX_PACKET_BYTES = 64 * 1024
"""The largest MQTT packet the mirror accepts (MQTT 5 ``MaximumPacketSize``): what it subscribes to is
small (acks at most ~6.5 KB, commands 4 KB, upload URLs ~34 KB by ``sync/schemas``). The broker drops a
larger message for this client instead of sending it, so a 200 MiB publish on its commands topic never
reaches a Pi's memory. MQTT 3.1.1 has no such property: there the broker's ``max_packet_size`` is the only
limit (docs/sync.md)."""


class ConnectArgs(TypedDict, total=False):
    """The keyword arguments :func:`connect_kwargs` gives ``Client.connect`` / ``connect_async``,
    typed as paho takes them, so a caller's ``connect(**kwargs)`` is checked."""

    host: str
    port: int
    keepalive: int
    clean_start: bool
    properties: Properties


class BrokerSetupError(ValueError):
    """The client cannot even be set up (a TLS file missing or unreadable); the message names the fix."""


@dataclass(frozen=True)
class BrokerConfig:
    host: str = "localhost"
    port: int = 1883
    protocol: str = "5"
    client_id: str = ""
    username: str = ""
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    keepalive_s: int = 30
    session_expiry_s: int = SESSION_EXPIRY_S

    @classmethod
    def from_sync(cls, sync: SyncSettings, client_id: str) -> BrokerConfig:
        return cls(
            host=sync.host,
            port=sync.port,
            protocol=sync.protocol,
            client_id=client_id,
            username=sync.username,
            password=mqtt_password(sync),
            tls=sync.tls,
            ca_file=sync.ca_file,
            cert_file=sync.cert_file,
            key_file=sync.key_file,
            keepalive_s=sync.keepalive_s,
        )

    def describe(self) -> str:
        """``mqtt[s]://user@host:port`` — never the password."""
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"

    @property
    def v5(self) -> bool:
        return self.protocol == "5"


def make_client(config: BrokerConfig, *, persistent: bool = True) -> mqtt.Client:
    """A paho client set up for a persistent session (clean_session False in 3.1.1), unless not
    ``persistent`` (a short-lived client: the broker keeps nothing of it once it leaves). In MQTT 5
    the session is chosen at connect instead (:func:`connect_kwargs`, ``resume``)."""
    if config.v5:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=config.client_id, protocol=mqtt.MQTTv5)
    else:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=config.client_id,
            protocol=mqtt.MQTTv311,
            clean_session=not persistent,
        )
    if config.username:
        client.username_pw_set(config.username, config.password)
    if config.tls:
        try:
            client.tls_set(
                ca_certs=config.ca_file or None,
                certfile=config.cert_file or None,
                keyfile=config.key_file or None,
                cert_reqs=ssl.CERT_REQUIRED,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            files = ", ".join(f for f in (config.ca_file, config.cert_file, config.key_file) if f) or "none named"
            raise BrokerSetupError(
                f"cannot set up TLS for {config.describe()} ({exc}); check the CA, certificate and key files "
                f"({files}) exist and are readable"
            ) from None
    return client


def setup_problem(config: BrokerConfig) -> str:
    """Why no client can be set up for ``config`` (the whole :class:`BrokerSetupError` message, which
    names the files and the fix); ``""`` when one can. Nothing connects: only the TLS files are read.
    For a one-shot run (``sync drain``) that should stop at once on a config error rather than retry
    it until its timeout: unlike a broker that is down, it never comes back by itself."""
    try:
        make_client(config, persistent=False)
    except BrokerSetupError as exc:
        return str(exc)
    return ""


def connect_kwargs(config: BrokerConfig, *, max_packet_bytes: int | None, resume: bool = True) -> ConnectArgs:
    """Arguments for ``client.connect``: resume the session (MQTT 5: clean_start False + expiry),
    unless ``resume`` is off (a short-lived client such as ``sync.remote``).

    ``max_packet_bytes``: the largest packet this client takes (MQTT 5 only; ``None``: no limit). Each
    caller names its own: the mirror :data:`MIRROR_MAX_PACKET_BYTES`, the consumer its image limit.
    """
    kwargs = ConnectArgs(host=config.host, port=config.port, keepalive=config.keepalive_s)
    if config.v5:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        if resume:
            props.SessionExpiryInterval = config.session_expiry_s
            kwargs["clean_start"] = False
        if max_packet_bytes is not None:
            props.MaximumPacketSize = max_packet_bytes
        kwargs["properties"] = props
    return kwargs


def reason_text(reason: object) -> str:
    """paho's reason codes / ints as a short human string."""
    if isinstance(reason, int):
        return mqtt.error_string(reason) if reason < 128 else f"reason {reason}"
    return str(reason)
