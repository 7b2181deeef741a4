"""The mirror's stable identity.

Records, MQTT topics, the broker user name and the client id all carry the device id, and
the cloud refuses a record that arrives under another device's topic. So it must survive
reinstalls: when the config names none, it is the id the closet's garments were made with,
and only for a new closet is it derived from ``/etc/machine-id`` (a new SD card with the
closet restored from a backup, or a changed host name, keeps the mirror's identity).
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

from mirror.config import Settings
from mirror.store.peek import closet_device_ids

MACHINE_ID = Path("/etc/machine-id")


def device_id(settings: Settings, machine_id_file: Path = MACHINE_ID) -> str:
    """The configured id, else the closet's, else ``mirror-`` and 10 hex digits of the machine id."""
    if settings.device.id:
        return settings.device.id
    kept = closet_device_ids(settings.store.path())
    if kept:
        return kept[0]
    try:
        seed = machine_id_file.read_text(encoding="utf-8").strip()
    except OSError:
        seed = socket.gethostname()
    # Hash with an app-specific salt: the raw machine-id must not leave the device.
    return "mirror-" + hashlib.sha256(f"smart-mirror:{seed}".encode()).hexdigest()[:10]
