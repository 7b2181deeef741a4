"""ClosetStore: the API the pipeline, the UI and sync use (implementation lands next)."""

from __future__ import annotations

from pathlib import Path

from mirror.store.records import Color, GarmentDraft, OutboxStats, Record


class ClosetStore:
    """The closet on this mirror: SQLite (WAL) + content-addressed image files + the sync outbox."""

    @classmethod
    def open(cls, data_dir: Path, device_id: str, *, min_free_mb: int = 200) -> ClosetStore:
        raise NotImplementedError

    def add(self, draft: GarmentDraft) -> Record:
        raise NotImplementedError

    def edit(self, record_id: str, *, category: str | None = None, color: Color | None = None) -> Record:
        raise NotImplementedError

    def delete(self, record_id: str) -> Record:
        raise NotImplementedError

    def get(self, record_id: str) -> Record | None:
        raise NotImplementedError

    def list(self, category: str | None = None, basic_color: str | None = None) -> list[Record]:
        raise NotImplementedError

    def counts(self) -> dict[str, dict[str, int]]:
        raise NotImplementedError

    def image_path(self, record: Record, kind: str) -> Path:
        raise NotImplementedError

    def outbox_stats(self) -> OutboxStats:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError
