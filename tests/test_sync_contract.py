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
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from mirror.store import ClosetStore, Color, GarmentDraft, PaletteEntry
from mirror.store.codec import record_from_dict
from mirror.store.samples import noise_png, synthetic_draft
from sync.contract import (
    SCHEMA_DIR,
    Ack,
    ack_message,
    ecma_regex,
    garment_message,
    load_schema,
    parse_ack,
    schema_validator,
)
from tests.conftest import ROOT

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
GARMENT = schema_validator(load_schema("garment"))


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


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("^[a-z]{1,8}$", "abc", True),
        ("^[a-z]{1,8}$", "abc\n", False),  # Python's "$" matches before a final newline; ECMA-262's does not
        ("^[0-9a-f]{64}$", "0" * 64 + "\n", False),
        ("^[$]x$", "$x", True),  # a "$" in a class, or escaped, is a dollar sign
        (r"^\$x$", "$x", True),
        (r"^\d{4}$", "2026", True),
        (r"^\d{4}$", "\u0662\u0660\u0662\u0666", False),  # Arabic-Indic digits are \d to Python, not ECMA-262
        (r"^\w+$", "caf\u00e9", False),
        (r"^\s$", "\u00a0", True),  # ECMA-262's \s is Unicode whitespace
        (r"^\S$", "\u3000", False),
        (r"^[^\s]$", "\ufeff", False),
        (r"^a.b$", "a\rb", False),  # ECMA-262's "." stops at every line terminator
        (r"^a.b$", "a-b", True),
        ("^https?://", "https://x\n", True),  # unanchored at the end: anything may follow
    ],
)
def test_schema_patterns_mean_what_ecma_262_says(pattern: str, text: str, matches: bool) -> None:
    """JSON Schema's ``pattern`` is an ECMA-262 regex; jsonschema runs it through Python's ``re`` as is."""
    assert bool(ecma_regex(pattern).search(text)) is matches


@pytest.mark.parametrize("pattern", [r"[\S]", r"\Z", r"a\A", "[]a]", "[^]"])
def test_a_pattern_the_dialects_read_differently_is_refused_when_the_validator_is_built(pattern: str) -> None:
    with pytest.raises(ValueError, match="read differently"):
        schema_validator({"type": "string", "pattern": pattern})
    with pytest.raises(ValueError, match="patternProperties"):
        schema_validator({"type": "object", "patternProperties": {"^a$": {}}})


def test_a_final_newline_fits_no_schema() -> None:
    """Every ``^…$`` of the contract is an exact match (s9 review, "pattern anchors")."""
    record = "019ab3f2-5c1e-7a4b-9c3d-2e1f0a9b8c7d"
    command: dict[str, Any] = {"schema": "smart-mirror.command", "schema_version": 1, "id": "abc", "command": "delete",
               "record_id": record, "sent_at": "2026-11-24T01:32:33.120Z"}  # fmt: skip
    validator = schema_validator(load_schema("command"))
    assert list(validator.iter_errors(command)) == []
    for field in ("id", "record_id", "sent_at"):
        assert [e.path[0] for e in validator.iter_errors({**command, field: command[field] + "\n"})] == [field]
    sha = "0" * 64
    urls = {"schema": "smart-mirror.upload-urls", "schema_version": 1, "id": record, "version": 1,
            "urls": {sha: "https://blobs.example/put"}}  # fmt: skip
    upload_urls = schema_validator(load_schema("upload-urls"))
    assert list(upload_urls.iter_errors(urls)) == []
    assert list(upload_urls.iter_errors({**urls, "urls": {sha + "\n": "https://blobs.example/put"}})) != []
    request = {"schema": "smart-mirror.upload-request", "schema_version": 1, "id": record, "version": 1,
               "images": [{"sha256": sha, "size": 1}]}  # fmt: skip
    upload_request = schema_validator(load_schema("upload-request"))
    assert list(upload_request.iter_errors(request)) == []
    assert list(upload_request.iter_errors({**request, "images": [{"sha256": sha + "\n", "size": 1}]})) != []
    garment = schema_validator(load_schema("garment"))
    with tempfile.TemporaryDirectory() as tmp, ClosetStore.open(Path(tmp), "dev-1", min_free_mb=0) as store:
        message = json.loads(garment_message(store.add(synthetic_draft(0)), "mqtt"))
    assert list(garment.iter_errors(message)) == []
    message["record"]["id"] += "\n"
    assert [list(e.path) for e in garment.iter_errors(message)] == [["record", "id"]]


def test_every_schema_check_reads_patterns_as_ecma_262() -> None:
    """The mirror and the consumer build their validators through ``schema_validator`` only: a plain
    ``Draft202012Validator`` would let ``"abc\n"`` through every ``^…$`` again."""
    for path in sorted(SCHEMA_DIR.glob("*.v1.json")):
        schema_validator(json.loads(path.read_text()))  # every pattern translates; no patternProperties
    plain = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "sync").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "Draft202012Validator(" in line or "validators.create(" in line
    ]
    assert plain == [], plain
