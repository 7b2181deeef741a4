"""The words and swatches the mirror shows for categories and colours.

The names themselves belong to the models (``CATEGORIES`` of the classifier, the eleven
``BASIC_TERMS`` of the colour table, both in ``mirror.vocab``), so the pickers offer exactly
what the pipeline can say and the store can filter on; only how they read on the glass is
decided here. A swatch without a measured hex is ``mirror.vocab.BASIC_HEX``, the same value a
hand-corrected garment stores, so its chip and its detail show one red.
"""

from __future__ import annotations

from PySide6.QtGui import QColor

from mirror.vocab import BASIC_HEX, BASIC_TERMS, CATEGORIES

__all__ = ["BASIC_TERMS", "CATEGORIES", "category_label", "colour_label", "colour_line", "swatch"]

_CATEGORY_LABELS = {
    "t-shirt": "T-shirt",
    "longsleeve": "Long sleeve",
    "shirt": "Shirt",
    "outwear": "Outerwear",
    "dress": "Dress",
    "skirt": "Skirt",
    "pants": "Trousers",
    "shorts": "Shorts",
    "shoes": "Shoes",
    "hat": "Hat",
}


def category_label(name: str) -> str:
    """How a category reads on the mirror (``outwear`` -> ``Outerwear``)."""
    return _CATEGORY_LABELS.get(name, name.replace("-", " ").capitalize())


def colour_label(name: str) -> str:
    """How a colour name reads on the mirror (capitalised, as written)."""
    return name[:1].upper() + name[1:] if name else ""


def colour_line(name: str, basic: str) -> str:
    """A garment's colour in words: the shade (``Light grey``), with its family only where the
    shade does not already say it (``Cobalt · blue``, never ``Light grey · grey``)."""
    shade = name or basic
    if not basic or basic.lower() in shade.lower():
        return colour_label(shade)
    return f"{colour_label(shade)} · {basic}"


def swatch(basic: str, measured_hex: str | None = None) -> QColor:
    """The garment's measured colour when known, else the basic term's representative."""
    if measured_hex and QColor.isValidColorName(measured_hex):
        return QColor(measured_hex)
    return QColor(BASIC_HEX.get(basic, "#808080"))
