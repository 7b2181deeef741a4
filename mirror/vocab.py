"""The mirror's words for garments: the ten categories and the eleven basic colour terms.

One place for them, importing nothing: the classifier and the colour table say these names,
the store filters on them, the CLI offers them as choices and the UI as pickers and chips.
Why dependency-free: ``smart-mirror --help`` and the UI's vocabulary must not pay for OpenCV
and numpy just to spell a word (``tests/test_architecture.py`` checks it).
"""

from __future__ import annotations

#: The ten garment categories, in the classifier's output order (part of the ``analyze`` contract).
CATEGORIES: tuple[str, ...] = (
    "t-shirt",
    "longsleeve",
    "shirt",
    "outwear",
    "dress",
    "skirt",
    "pants",
    "shorts",
    "shoes",
    "hat",
)

#: The segmenter's six garment groups (``models/segmenter/model.json`` ``meta.garment_classes``):
#: a record's ``group``, one of these in the sync contract (``garment.v1.json``).
GROUPS: tuple[str, ...] = ("top", "outerwear", "bottom", "one-piece", "footwear", "headwear")

#: The eleven basic colour terms (Berlin & Kay), in the order the colour table stores them.
BASIC_TERMS: tuple[str, ...] = (
    "black",
    "white",
    "grey",
    "red",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "pink",
    "brown",
)

#: A representative sRGB value per basic term, where no measured hex exists: stored on a
#: garment whose colour the person picked by hand, and drawn on the pickers' and filters'
#: swatches, so a garment corrected to red shows the same red in its detail and on its chip.
#: Black is a little off pure black so its swatch still shows as a disc on the black glass.
BASIC_HEX: dict[str, str] = {
    "black": "#1a1a1a",
    "white": "#f5f5f5",
    "grey": "#8c8c8c",
    "red": "#c62828",
    "orange": "#ef6c00",
    "yellow": "#fdd835",
    "green": "#2e7d32",
    "blue": "#1565c0",
    "purple": "#6a1b9a",
    "pink": "#ec407a",
    "brown": "#6d4c41",
}

__all__ = ["BASIC_HEX", "BASIC_TERMS", "CATEGORIES", "GROUPS"]
