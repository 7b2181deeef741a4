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

    def __init__(self, path: Path, detail: str, *, floor_mb: int = 0) -> None:
        lower = " (or lower [store] min_free_mb)" if floor_mb > 0 else ""
        super().__init__(
            f"closet storage {path} is full ({detail}); free some space on that disk{lower} "
            "and try again — nothing stored was lost"
        )
        self.path = path


class StoreCorruptError(StoreError):
    """The database file is damaged; nothing more is written to it."""

    def __init__(self, path: Path, detail: str) -> None:
        first = " ".join(detail.split())[:160]  # SQLite's integrity report can span many lines
        super().__init__(
            f"closet database {path} is damaged ({first}); stop the mirror and restore the closet from a "
            f"backup, or move {path}* aside (docs/deploy.md), then restart — the garment images are kept"
        )
        self.path = path


class StoreOrphanLogError(StoreError):
    """``closet.db`` is missing or empty beside a ``closet.db-wal`` that holds garments.

    Opening would make a new, empty database, and SQLite would then delete that log with every
    garment in it: after a power cut (not a clean stop) the log holds most of the closet. So the
    store refuses and changes nothing.
    """

    def __init__(self, path: Path, log_bytes: int) -> None:
        super().__init__(
            f"closet database {path} is missing or empty, but {path.name}-wal beside it holds {log_bytes // 1024} KB "
            f"of garments not yet written into it; put {path.name} back beside it (they belong together: move, copy "
            f"and restore {path.name}* as a pair), or move {path.name}-wal aside to start an empty closet — "
            "nothing was changed"
        )
        self.path = path
        self.log_bytes = log_bytes


class StoreReadOnlyError(StoreError):
    """The closet's file system is mounted read-only (often after errors on an SD card)."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"closet folder {path} is on a read-only file system (an SD card is remounted read-only after "
            "errors: see `dmesg`); check the card (fsck) and reboot — the data on it is unchanged"
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

    def __init__(self, record_id: str, deleted: bool = False) -> None:
        """``deleted``: the id is a garment's that was deleted (a second delete is told so, not "no garment")."""
        super().__init__(
            f"garment {record_id} was deleted already; nothing to do"
            if deleted
            else f"no garment with id {record_id} in the closet; see `smart-mirror closet list`"
        )
        self.record_id = record_id
        self.deleted = deleted
