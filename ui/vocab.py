"""The words and swatches the mirror shows for categories and colours.

The names themselves belong to the models (``CATEGORIES`` of the classifier, the eleven
``BASIC_TERMS`` of the colour table), so the pickers offer exactly what the pipeline can say
and the store can filter on; only how they read on the glass is decided here.
"""

from __future__ import annotations

from PySide6.QtGui import QColor

from mirror.vision.classifier import CATEGORIES
from mirror.vision.colour import BASIC_TERMS

__all__ = ["BASIC_TERMS", "CATEGORIES", "category_label", "colour_label", "swatch"]

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

#: A representative sRGB value per basic term, for swatches where no measured hex exists
#: (a filter chip, a colour the person picked by hand). Black is lifted a little so its dot
#: still shows as a disc inside its grey ring.
_BASIC_SWATCH = {
    "black": "#161616",
    "white": "#f4f4f4",
    "grey": "#8c8c8c",
    "red": "#d8312b",
    "orange": "#f08a24",
    "yellow": "#f5d33c",
    "green": "#3ea352",
    "blue": "#2f6fd6",
    "purple": "#8a4fc6",
    "pink": "#f08cb8",
    "brown": "#8b5a32",
}


def category_label(name: str) -> str:
    """How a category reads on the mirror (``outwear`` -> ``Outerwear``)."""
    return _CATEGORY_LABELS.get(name, name.replace("-", " ").capitalize())


def colour_label(name: str) -> str:
    """How a colour name reads on the mirror (capitalised, as written)."""
    return name[:1].upper() + name[1:] if name else ""


def swatch(basic: str, measured_hex: str | None = None) -> QColor:
    """The garment's measured colour when known, else the basic term's representative."""
    if measured_hex and QColor.isValidColorName(measured_hex):
        return QColor(measured_hex)
    return QColor(_BASIC_SWATCH.get(basic, "#808080"))
