"""Records to and from plain JSON-able dicts: the database body and the sync message share this shape.

Keeping one shape means what the cloud receives is exactly what the mirror stored, and the
JSON Schema in ``sync/schemas/`` describes both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from mirror.store.records import Color, ImageRef, Record


def iso(moment: datetime) -> str:
    """UTC, millisecond precision, ``Z`` suffix: sorts as text and parses everywhere."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


#: When the closet's newest garment was added: the store asks it, and so does the clock check that
#: peeks at the closet before the store is open (``mirror.store.peek``). Read it with :func:`newest_created`.
NEWEST_CREATED_SQL = "SELECT MAX(created_at) FROM current"


def newest_created(rows: Sequence[Sequence[object]]) -> datetime | None:
    """The answer to :data:`NEWEST_CREATED_SQL` (``None``: an empty closet, or no answer at all)."""
    return parse_iso(str(rows[0][0])) if rows and rows[0][0] is not None else None


def record_to_dict(record: Record) -> dict[str, Any]:
    return {
        "id": record.id,
        "version": record.version,
        "device_id": record.device_id,
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
        "deleted": record.deleted,
        "edited": record.edited,
        "category": record.category,
        "category_score": record.category_score,
        "top3": [[name, score] for name, score in record.top3],
        "unsure": record.unsure,
        "group": record.group,
        "score": record.score,
        "box": list(record.box),
        "polygons": [[list(point) for point in polygon] for polygon in record.polygons],
        "color": record.color.to_dict(),
        "model_versions": dict(record.model_versions),
        "images": [ref.to_dict() for ref in record.images.values()],
    }


def record_from_json(body: str) -> Record:
    """A stored record body back as a Record; any malformed body (bad JSON, missing or mistyped field) is ValueError."""
    try:
        return record_from_dict(json.loads(body))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{type(exc).__name__}: {exc}") from None


def record_from_dict(data: Mapping[str, Any]) -> Record:
    images = {
        str(ref["kind"]): ImageRef(
            kind=str(ref["kind"]), sha256=str(ref["sha256"]), size=int(ref["size"]), media_type=str(ref["media_type"])
        )
        for ref in data.get("images", ())
    }
    return Record(
        id=str(data["id"]),
        version=int(data["version"]),
        device_id=str(data["device_id"]),
        created_at=parse_iso(str(data["created_at"])),
        updated_at=parse_iso(str(data["updated_at"])),
        deleted=bool(data["deleted"]),
        edited=bool(data.get("edited", False)),
        category=str(data["category"]),
        category_score=float(data["category_score"]),
        top3=tuple((str(name), float(score)) for name, score in data.get("top3", ())),
        unsure=bool(data.get("unsure", False)),
        group=str(data.get("group", "")),
        score=float(data.get("score", 0.0)),
        box=tuple(float(v) for v in data.get("box", ())),
        polygons=tuple(tuple(tuple(float(v) for v in point) for point in poly) for poly in data.get("polygons", ())),
        color=Color.from_dict(data["color"]),
        model_versions={str(k): str(v) for k, v in dict(data.get("model_versions", {})).items()},
        images=images,
    )
