"""The contract holds for whatever the store can hold: every message the mirror sends validates.

Property-based (hypothesis): random drafts, edits and tombstones go through the real store and
``garment_message``; the JSON must validate against ``sync/schemas/garment.v1.json`` and decode
back to the same record. Acks and upload requests are checked against their schemas too.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from mirror.store import ClosetStore, Color, GarmentDraft, PaletteEntry
from mirror.store.codec import record_from_dict
from mirror.store.samples import noise_png
from sync.contract import SCHEMA_DIR, Ack, ack_message, garment_message, load_schema, parse_ack

score = st.floats(min_value=0, max_value=1, allow_nan=False)
coord = st.integers(min_value=0, max_value=4096)
hex_colour = st.integers(min_value=0, max_value=0xFFFFFF).map(lambda v: f"#{v:06x}")
name = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20)
colours = st.builds(
    Color,
    basic=st.sampled_from(["black", "white", "red", "blue"]),
    name=name,
    hex=hex_colour,
    palette=st.lists(st.builds(PaletteEntry, hex=hex_colour, basic=name, share=score), max_size=4).map(tuple),
)
drafts = st.builds(
    GarmentDraft,
    category=name,
    category_score=score,
    color=colours,
    images=st.just({"cutout_png": noise_png(256, 1), "photo_jpg": b"\xff\xd8not really\xff\xd9"}),
    top3=st.lists(st.tuples(name, score), max_size=3),
    unsure=st.booleans(),
    group=st.text(max_size=10),
    score=score,
    box=st.lists(coord, min_size=4, max_size=4),
    polygons=st.lists(st.lists(st.lists(coord, min_size=2, max_size=2), min_size=3, max_size=20), max_size=3),
    model_versions=st.dictionaries(name, name, max_size=3),
)
GARMENT = Draft202012Validator(load_schema("garment"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draft=drafts, new_colour=colours, via=st.sampled_from(["mqtt", "http"]))
def test_every_version_the_store_makes_is_a_valid_message(draft: GarmentDraft, new_colour: Color, via: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, ClosetStore.open(Path(tmp), "dev-1", min_free_mb=0) as store:
        first = store.add(draft)
        versions = [first, store.edit(first.id, category="bag", color=new_colour), store.delete(first.id)]
        for record in versions:
            message = json.loads(garment_message(record, via))
            errors = [e.message for e in GARMENT.iter_errors(message)]
            assert errors == [], errors
            assert record_from_dict(message["record"]) == record


def test_acks_validate_and_every_schema_is_a_valid_schema() -> None:
    for path in sorted(SCHEMA_DIR.glob("*.v1.json")):
        Draft202012Validator.check_schema(json.loads(path.read_text()))
    ack = json.loads(ack_message("019ab3f2-5c1e-7a4b-9c3d-2e1f0a9b8c7d", 3, "rejected", "schema_version: x"))
    assert list(Draft202012Validator(load_schema("ack")).iter_errors(ack)) == []


def test_an_ack_is_checked_in_full_before_it_removes_a_version() -> None:
    """An ack ends a version's life in the outbox: one the mirror cannot fully read must not."""
    good = {"schema": "smart-mirror.ack", "schema_version": 1, "id": "r1", "version": 2, "status": "stored"}
    assert parse_ack(json.dumps(good).encode()) == Ack("r1", 2, "stored")
    assert parse_ack(json.dumps({**good, "status": "rejected", "reason": "bad"}).encode()).reason == "bad"
    broken = [
        {**good, "schema_version": 2},
        {**good, "schema_version": True},
        {**good, "version": "2"},
        {**good, "version": 2.0},
        {**good, "version": True},
        {**good, "status": "STORED"},
        {**good, "extra": 1},
        {k: v for k, v in good.items() if k != "id"},
        [good],
    ]
    for body in broken:
        with pytest.raises(ValueError):
            parse_ack(json.dumps(body).encode())
    for payload in (b"{", b"\xff\xfe", b""):
        with pytest.raises(ValueError):
            parse_ack(payload)


def test_the_command_result_schema_lists_the_rejection_codes_the_docs_list() -> None:
    """A backend may read either; tests/test_refusals.py ties the docs' codes to the mirror's."""
    schema = re.search(r"reason says why: ([a-z_, ]+)\)", load_schema("command-result")["description"])
    docs = (Path(__file__).resolve().parents[1] / "docs" / "sync.md").read_text()
    sentence = docs.split("A rejection's `reason` is a code, a colon and one line:", 1)[1].split(". ", 1)[0]
    assert schema is not None
    assert set(schema.group(1).split(", ")) == set(re.findall(r"`(\w+)`", sentence))


def test_every_code_the_command_gate_answers_is_in_the_schema() -> None:
    """The codes ``sync.commands`` itself answers with (the core's come from mirror/refusals.py)."""
    source = (Path(__file__).resolve().parents[1] / "sync" / "commands.py").read_text()
    codes = set(re.findall(r'_RejectedError\(\s*"([a-z_]+)"', source)) | set(re.findall(r'f?"([a-z_]+): ', source))
    schema = re.search(r"reason says why: ([a-z_, ]+)\)", load_schema("command-result")["description"])
    assert schema is not None and "rate_limited" in codes
    assert codes - {"duplicate", "expired"} <= set(schema.group(1).split(", "))
