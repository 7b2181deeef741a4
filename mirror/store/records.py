"""What the closet keeps: the pipeline's draft in, immutable record versions out.

A :class:`GarmentDraft` is what the capture pipeline hands over (images as encoded bytes); a
:class:`Record` is one stored version of a garment (images as content-addressed references).
Records are frozen: a correction or a delete makes a new version, it never edits one, so the
cloud can apply versions idempotently and in any order (highest version wins).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: Image kinds, the names of a draft's images (``GarmentDraft.images`` keys); the pipeline
#: re-exports them (``mirror.pipeline.result``), where they are made.
CUTOUT_PNG = "cutout_png"  # RGBA, alpha from the mask, edge feathered
CUTOUT_BLACK = "cutout_black_jpg"  # on black: what the mirror shows
CUTOUT_WHITE = "cutout_white_jpg"  # on white: what the web shows
PHOTO = "photo_jpg"  # the captured frame, downscaled

IMAGE_KINDS: dict[str, tuple[str, str]] = {
    CUTOUT_PNG: ("png", "image/png"),
    CUTOUT_BLACK: ("jpg", "image/jpeg"),
    CUTOUT_WHITE: ("jpg", "image/jpeg"),
    PHOTO: ("jpg", "image/jpeg"),
}
"""Image kinds a draft may carry: kind -> (file extension, media type)."""


@dataclass(frozen=True)
class PaletteEntry:
    """One colour of a garment's palette and its share of the garment's pixels."""

    hex: str
    basic: str
    share: float

    def to_dict(self) -> dict[str, Any]:
        return {"hex": self.hex, "basic": self.basic, "share": self.share}


@dataclass(frozen=True)
class Color:
    """A garment's colour: one of the basic terms, a finer name, a hex value and the palette."""

    basic: str
    name: str
    hex: str
    palette: tuple[PaletteEntry, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"basic": self.basic, "name": self.name, "hex": self.hex, "palette": [p.to_dict() for p in self.palette]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Color:
        """Build from the analyze/sync JSON shape ``{basic, name, hex, palette: [{hex, basic, share}]}``."""
        palette = tuple(
            PaletteEntry(hex=str(p["hex"]), basic=str(p["basic"]), share=float(p["share"]))
            for p in data.get("palette", ())
        )
        return cls(basic=str(data["basic"]), name=str(data["name"]), hex=str(data["hex"]), palette=palette)


@dataclass(frozen=True)
class GarmentDraft:
    """One analysed garment, as the pipeline hands it to :meth:`ClosetStore.add`.

    Coordinates are in the source frame's pixels. ``images`` maps a kind from
    :data:`IMAGE_KINDS` to the encoded file bytes; the store hashes and writes them.
    """

    category: str
    category_score: float
    color: Color
    images: Mapping[str, bytes]
    top3: Sequence[tuple[str, float]] = ()
    unsure: bool = False
    group: str = field(kw_only=True)
    """The segmenter's garment group, one of ``mirror.vocab.GROUPS`` (the store refuses any other):
    required, since no default is one the cloud would take."""
    score: float = 0.0
    box: Sequence[float] = (0, 0, 0, 0)
    polygons: Sequence[Sequence[Sequence[float]]] = ()
    model_versions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageRef:
    """A stored image: its kind, content hash (sha256 hex), size in bytes and media type."""

    kind: str
    sha256: str
    size: int
    media_type: str

    @property
    def filename(self) -> str:
        """File name under the images folder: the hash, so equal content is stored once."""
        return f"{self.sha256}.{IMAGE_KINDS.get(self.kind, ('bin', ''))[0]}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "sha256": self.sha256, "size": self.size, "media_type": self.media_type}


@dataclass(frozen=True)
class Record:
    """One version of one garment. ``deleted`` marks a tombstone (no images, data of the last live version)."""

    id: str
    version: int
    device_id: str
    created_at: datetime
    updated_at: datetime
    deleted: bool
    category: str
    category_score: float
    color: Color
    images: Mapping[str, ImageRef]
    top3: tuple[tuple[str, float], ...] = ()
    unsure: bool = False
    group: str = ""
    score: float = 0.0
    box: tuple[float, ...] = ()
    polygons: tuple[tuple[tuple[float, ...], ...], ...] = ()
    model_versions: Mapping[str, str] = field(default_factory=dict)
    edited: bool = False
    """True once the person corrected category or colour (the values are no longer the models')."""


@dataclass(frozen=True)
class ClosetCounts:
    """Live garments per category and per basic colour: the numbers on the closet's filter chips."""

    category: Mapping[str, int] = field(default_factory=dict)
    basic_color: Mapping[str, int] = field(default_factory=dict)

    @property
    def garments(self) -> int:
        """How many garments were counted (each has exactly one category)."""
        return sum(self.category.values())

    @classmethod
    def tally(cls, records: Iterable[Record]) -> ClosetCounts:
        """The counts of ``records`` already read (a filtered list), as the store counts the closet."""
        category: Counter[str] = Counter()
        basic_color: Counter[str] = Counter()
        for record in records:
            category[record.category] += 1
            basic_color[record.color.basic] += 1
        return cls(dict(category), dict(basic_color))


@dataclass(frozen=True)
class OutboxStats:
    """How many record versions wait to be sent, are sent but not acknowledged, and are done."""

    waiting: int
    in_flight: int
    acked: int
    held: int = 0
    """Of ``waiting``: postponed (rejected by the cloud, or an unreadable image) and not yet due again."""

    @property
    def unacked(self) -> int:
        """Versions the cloud has not acknowledged yet: a version sent is not synced until it is acked."""
        return self.waiting + self.in_flight

    @property
    def due(self) -> int:
        """Of ``unacked``: those the worker would send or wait on now (the held ones are not due yet)."""
        return self.unacked - self.held


@dataclass(frozen=True)
class OutboxItem:
    """One record version the sync worker must deliver; ``attempts`` counts earlier publishes."""

    record_id: str
    version: int
    attempts: int
