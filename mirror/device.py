"""The mirror's stable identity.

Record ids, MQTT topics and the client id all carry the device id, so it must survive
reinstalls: when the config names none, it is derived from ``/etc/machine-id``.
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

from mirror.config import Settings

MACHINE_ID = Path("/etc/machine-id")


def device_id(settings: Settings, machine_id_file: Path = MACHINE_ID) -> str:
    """The configured id, else ``mirror-`` and 10 hex digits derived from the machine id."""
    if settings.device.id:
        return settings.device.id
    try:
        seed = machine_id_file.read_text(encoding="utf-8").strip()
    except OSError:
        seed = socket.gethostname()
    # Hash with an app-specific salt: the raw machine-id must not leave the device.
    return "mirror-" + hashlib.sha256(f"smart-mirror:{seed}".encode()).hexdigest()[:10]
