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
import sqlite3
from datetime import datetime
from pathlib import Path

from mirror.config import Settings
from mirror.store.codec import NEWEST_CREATED_SQL, newest_created
from mirror.store.orphan import orphan_log

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


def closet_device_ids(data_dir: Path) -> list[str]:
    """The device ids the closet's records were made with, the oldest record's first."""
    rows = peek_closet(data_dir, "SELECT device_id FROM records GROUP BY device_id ORDER BY MIN(created_at)")
    return [str(row[0]) for row in rows]


def closet_newest_time(data_dir: Path) -> datetime | None:
    """When the closet's newest garment was added (what the wall clock must not precede), if any."""
    return newest_created(peek_closet(data_dir, NEWEST_CREATED_SQL))


def peek_closet(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    """One query on the closet, read-only and forgiving, without opening the store.

    A closet that does not exist or cannot be read answers nothing (opening it later reports the
    problem properly); used before the store is opened (the device id) and by doctor. Nor does it
    touch a database beside an orphan write-ahead log: connecting at all would delete that log,
    with every garment since the last checkpoint (:mod:`mirror.store.orphan`).
    """
    db = data_dir / "closet.db"  # mirror.store.closet.DB_NAME (not imported: the store imports this module)
    try:
        if not db.is_file() or orphan_log(db) is not None:
            return []
    except OSError:
        return []
    try:
        conn = sqlite3.connect(f"{db.absolute().as_uri()}?mode=ro", uri=True, timeout=5.0)
        try:
            return [tuple(row) for row in conn.execute(sql).fetchall()]
        finally:
            conn.close()
    except sqlite3.Error:
        return []
