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

__all__ = [
    "BASIC_TERMS",
    "CATEGORIES",
    "category_claim",
    "category_label",
    "category_noun",
    "category_phrase",
    "category_pronoun",
    "category_question",
    "colour_label",
    "colour_line",
    "on_lines",
    "sentence",
    "swatch",
]

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


#: How each category reads inside a sentence: (noun, article, plural). A label is a heading
#: ("Trousers"); a sentence needs the noun's own grammar, or the mirror asks "Is this a trousers?":
#: trousers, shorts and shoes are plurals ("Are these shoes?"), outerwear a mass noun ("Is this
#: outerwear?"). The noun keeps the label's capitals where they are the word's own (T-shirt).
_CATEGORY_NOUNS: dict[str, tuple[str, str, bool]] = {
    "t-shirt": ("T-shirt", "a", False),
    "longsleeve": ("long-sleeved top", "a", False),
    "shirt": ("shirt", "a", False),
    "outwear": ("outerwear", "", False),
    "dress": ("dress", "a", False),
    "skirt": ("skirt", "a", False),
    "pants": ("trousers", "", True),
    "shorts": ("shorts", "", True),
    "shoes": ("shoes", "", True),
    "hat": ("hat", "a", False),
}


def category_label(name: str) -> str:
    """How a category reads on the mirror (``outwear`` -> ``Outerwear``)."""
    return _CATEGORY_LABELS.get(name, name.replace("-", " ").capitalize())


def _noun(name: str) -> tuple[str, str, bool]:
    """(noun, article, plural) of ``name``; a name outside the vocabulary (an old record) is a
    singular count noun, its article chosen by its first letter."""
    known = _CATEGORY_NOUNS.get(name)
    if known is not None:
        return known
    noun = name.replace("-", " ").lower()
    return noun, "an" if noun[:1] in ("a", "e", "i", "o", "u") else "a", False


def category_noun(name: str) -> str:
    """The category as a noun inside a sentence, without an article (``light grey T-shirt``)."""
    return _noun(name)[0]


def category_phrase(name: str) -> str:
    """The category with its article, as a sentence says it: ``a T-shirt``, ``outerwear``, ``trousers``."""
    noun, article, _ = _noun(name)
    return f"{article} {noun}" if article else noun


def category_pronoun(name: str) -> str:
    """What stands for the garment later in a sentence: ``them`` for trousers, else ``it``."""
    return "them" if _noun(name)[2] else "it"


def category_question(name: str) -> str:
    """The unsure result's question: ``Is this a T-shirt?``, ``Are these trousers?``, ``Is this outerwear?``."""
    return f"{'Are these' if _noun(name)[2] else 'Is this'} {category_phrase(name)}?"


def category_claim(name: str) -> str:
    """What the mirror believes, for "sure …" and "unsure …": ``it is a T-shirt``, ``they are shorts``."""
    return f"{'they are' if _noun(name)[2] else 'it is'} {category_phrase(name)}"


def sentence(text: str) -> str:
    """``text`` with a capital first letter and the rest as written (``str.capitalize`` would lower
    "T-shirt" and "Capture")."""
    return text[:1].upper() + text[1:]


def on_lines(text: str) -> str:
    """A "message · fix" broken onto lines where the sense breaks, each line starting as a sentence
    (the parts after " · " are written lower case to follow a dot on one line)."""
    return "\n".join(sentence(part) for part in text.split(" · "))


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
