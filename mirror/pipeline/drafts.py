"""A kept garment becomes the store's ``GarmentDraft`` here, and nowhere else."""

from __future__ import annotations

from mirror.pipeline.encode import garment_files, photo_jpeg
from mirror.pipeline.result import PHOTO, AnalysisResult, GarmentColour
from mirror.store.records import Color, GarmentDraft, PaletteEntry
from mirror.vocab import BASIC_HEX


def basic_color(term: str) -> Color:
    """The store's ``Color`` for a basic term the person chose (name = term, a typical hex)."""
    if term not in BASIC_HEX:
        raise ValueError(f"unknown colour {term!r}: pick one of {', '.join(BASIC_HEX)}")
    return Color(basic=term, name=term, hex=BASIC_HEX[term], palette=(PaletteEntry(BASIC_HEX[term], term, 1.0),))


def store_color(colour: GarmentColour) -> Color:
    """The pipeline's colour as the store's ``Color`` (the palette is already the store's; the doubt is not kept)."""
    return Color(basic=colour.basic, name=colour.name, hex=colour.hex, palette=colour.palette)


def to_draft(result: AnalysisResult, index: int = 0) -> GarmentDraft:
    """Garment ``index`` of ``result`` (0: the most prominent) with its cut-outs and the photo.

    A result whose encoding was left for later (``result.work``) is encoded here: this
    garment's files and the photo only (on the store's thread, after the person chose).
    """
    garment = result.garments[index]
    images = dict(garment.images)
    photo = result.photo_jpg
    if result.work is not None:
        if not images and garment.cutout_bgra is not None:
            images = garment_files(garment.cutout_bgra)
        photo = photo or photo_jpeg(result.work)
    if photo:
        images[PHOTO] = photo
    return GarmentDraft(
        category=garment.category,
        category_score=garment.category_score,
        color=store_color(garment.color),
        images=images,
        top3=garment.top3,
        unsure=garment.unsure,
        group=garment.group,
        score=garment.score,
        box=garment.box,
        polygons=garment.polygons,
        model_versions=dict(result.model_versions),
    )
