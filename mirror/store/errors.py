"""Errors the closet store raises: one line each, naming the file and the fix.

The UI and the CLI print ``str(error)`` as is, so every message must make sense to the person
standing at the mirror (or the installer at a shell), never be a traceback.
"""

from __future__ import annotations

from pathlib import Path


class StoreError(Exception):
    """Base of every store failure a user can meet."""


class StoreFullError(StoreError):
    """The disk holding the closet is (nearly) full; nothing was written."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"closet storage {path} is full ({detail}); free some space on that disk "
            "(or lower [store] min_free_mb) and try again — nothing was lost"
        )
        self.path = path


class StoreCorruptError(StoreError):
    """The database file is damaged; it has been left exactly as found."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"closet database {path} is damaged ({detail}); stop the mirror, move it aside "
            f"(mv {path} {path}.damaged) and restart — the file was left untouched"
        )
        self.path = path


class DamagedRecordError(StoreError):
    """One stored garment version cannot be read back; the database itself is sound."""

    def __init__(self, record_id: str, version: int, path: Path, detail: str) -> None:
        super().__init__(
            f"garment {record_id} (version {version}) in {path} is unreadable ({detail}); restore the closet "
            "from a backup (docs/deploy.md) — the other garments are unaffected"
        )
        self.record_id = record_id
        self.version = version


class RecordNotFoundError(StoreError):
    """No live garment has this id."""

    def __init__(self, record_id: str) -> None:
        super().__init__(f"no garment with id {record_id} in the closet; see `smart-mirror closet list`")
        self.record_id = record_id
