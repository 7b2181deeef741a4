"""Synthetic garments for tests, the sync benchmark and the demo: no camera, no models.

The image is a real (noise-filled, so incompressible) RGBA PNG of about the asked size, so
byte counts and hashes behave like a real cut-out's would. Categories, colours and groups are
the app's own (``mirror.vocab``): a demo or bench closet then reads like a real one, every
garment reachable from a filter chip of the closet screen.
"""

from __future__ import annotations

import random
import struct
import zlib

from mirror.store.records import Color, GarmentDraft, PaletteEntry
from mirror.vocab import BASIC_TERMS, CATEGORIES

#: The segmenter's group each category belongs to (``mirror.vocab.GROUPS``), as the pipeline would pair them.
GROUP_OF = {
    "t-shirt": "top",
    "longsleeve": "top",
    "shirt": "top",
    "outwear": "outerwear",
    "dress": "one-piece",
    "skirt": "bottom",
    "pants": "bottom",
    "shorts": "bottom",
    "shoes": "footwear",
    "hat": "headwear",
}


def noise_png(size_bytes: int, seed: int) -> bytes:
    """A valid RGBA PNG of random pixels, about ``size_bytes`` long."""
    rng = random.Random(seed)
    side = max(2, int((max(size_bytes, 64) / 4) ** 0.5))
    rows = b"".join(b"\x00" + rng.randbytes(side * 4) for _ in range(side))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b"")


def synthetic_draft(index: int, image_kb: float = 10.0) -> GarmentDraft:
    """A plausible draft, different for every ``index`` (category, colour and image all vary)."""
    rng = random.Random(index)
    category = CATEGORIES[index % len(CATEGORIES)]
    basic = BASIC_TERMS[index % len(BASIC_TERMS)]
    hex_value = f"#{rng.randrange(1 << 24):06x}"
    color = Color(
        basic=basic, name=f"{basic} {index % 7}", hex=hex_value, palette=(PaletteEntry(hex_value, basic, 1.0),)
    )
    x0, y0 = rng.randrange(0, 200), rng.randrange(0, 200)
    box = (x0, y0, x0 + 300, y0 + 400)
    polygon = [[x0, y0], [x0 + 300, y0], [x0 + 300, y0 + 400], [x0, y0 + 400]]
    return GarmentDraft(
        category=category,
        category_score=round(rng.uniform(0.5, 1.0), 3),
        color=color,
        images={"cutout_png": noise_png(int(image_kb * 1024), seed=index)},
        top3=[
            (category, 0.8),
            (CATEGORIES[(index + 1) % len(CATEGORIES)], 0.1),
            (CATEGORIES[(index + 2) % len(CATEGORIES)], 0.05),
        ],
        unsure=False,
        group=GROUP_OF.get(category, "top"),
        score=0.9,
        box=box,
        polygons=[polygon],
        model_versions={"segmenter": "test", "classifier": "test", "colour": "test"},
    )
