"""One vocabulary: the names and the representative colours the core stores are those the UI shows."""

from __future__ import annotations

from mirror.pipeline.drafts import basic_color
from mirror.vision import classifier, colour
from mirror.vocab import BASIC_HEX, BASIC_TERMS, CATEGORIES
from ui import vocab


def test_the_models_and_the_ui_say_the_same_names() -> None:
    assert classifier.CATEGORIES is CATEGORIES and colour.BASIC_TERMS is BASIC_TERMS
    assert vocab.CATEGORIES is CATEGORIES and vocab.BASIC_TERMS is BASIC_TERMS
    assert len(CATEGORIES) == 10 and len(BASIC_TERMS) == 11 and tuple(BASIC_HEX) == BASIC_TERMS


def test_a_hand_picked_colour_shows_the_hex_it_is_stored_with() -> None:
    """A garment corrected to red: its chip (no measured hex) and its detail (the stored hex) are one red."""
    for term in BASIC_TERMS:
        stored = basic_color(term).hex
        assert vocab.swatch(term).name() == vocab.swatch(term, stored).name() == stored
