"""The contract holds for whatever the store can hold: every message the mirror sends validates.

Property-based (hypothesis): random drafts, edits, resends, renumberings and tombstones go through
the real store and ``garment_message``; the JSON must validate against
``sync/schemas/garment.v1.json`` and decode back to the same record. What a capture keeps (the real
models on the demo scene, encoded on keep as the service does) must validate too. Acks and upload
requests are checked against their schemas too.
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

from mirror.pipeline.analyzer import Analyzer
from mirror.pipeline.bench import demo_frames
from mirror.pipeline.drafts import to_draft
from mirror.pipeline.models import load_models, models_dir
from mirror.store import ClosetStore, Color, GarmentDraft, PaletteEntry, Record
from mirror.store.codec import record_from_dict
from mirror.store.samples import noise_png, synthetic_draft
from mirror.vocab import GROUPS
from sync.consumer.db import ConsumerDB
from sync.consumer.handler import MessageHandler
from sync.contract import (
    SCHEMA_DIR,
    Ack,
    Topics,
    ack_message,
    garment_message,
    load_schema,
    parse_ack,
)
from sync.validation import ecma_regex, schema_problem, schema_validator
from tests.conftest import ROOT
from tests.test_analyze import require_models

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
#: The groups the mirror's records carry: its segmenter's garment classes (every version shipped).
SEGMENTER = json.loads((ROOT / "models" / "segmenter" / "model.json").read_text())
SEGMENTER_GROUPS: tuple[str, ...] = tuple(SEGMENTER["meta"]["garment_classes"])
JPEG = b"\xff\xd8not really\xff\xd9"
image_sets = st.sampled_from(
    [
        {"cutout_png": noise_png(256, 1)},  # tests and tools (synthetic_draft)
        {"cutout_png": noise_png(256, 1), "photo_jpg": JPEG},
        {  # a capture kept on the mirror
            "cutout_png": noise_png(256, 2),
            "cutout_black_jpg": JPEG + b"black",
            "cutout_white_jpg": JPEG + b"white",
            "photo_jpg": JPEG,
        },
    ]
)
drafts = st.builds(
    GarmentDraft,
    category=name,
    category_score=score,
    color=colours,
    images=image_sets,
    top3=st.lists(st.tuples(name, score), max_size=3),
    unsure=st.booleans(),
    group=st.sampled_from(SEGMENTER_GROUPS),
    score=score,
    box=st.lists(coord, min_size=4, max_size=4),
    polygons=st.lists(st.lists(st.lists(coord, min_size=2, max_size=2), min_size=3, max_size=20), max_size=3),
    model_versions=st.dictionaries(name, name, max_size=3),
)
GARMENT = schema_validator(load_schema("garment"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draft=drafts, new_colour=colours, via=st.sampled_from(["mqtt", "http"]))
def test_every_version_the_store_makes_is_a_valid_message(draft: GarmentDraft, new_colour: Color, via: str) -> None:
    """Every way the store makes a version: kept, corrected, queued again (``sync resend``), renumbered
    after a ``version_conflict`` (live, and a tombstone), deleted."""
    with tempfile.TemporaryDirectory() as tmp, ClosetStore.open(Path(tmp), "dev-1", min_free_mb=0) as store:
        first = store.add(draft)
        edited = store.edit(first.id, category="bag", color=new_colour)
        assert store.resend_all() == 1
        resent = store.get(first.id)
        assert resent is not None
        renumbered = store.renumber_above(first.id, resent.version, resent.version + 2)
        assert renumbered is not None
        deleted = store.delete(first.id)
        dead_renumbered = store.renumber_above(first.id, deleted.version, deleted.version + 1)
        assert dead_renumbered is not None and dead_renumbered.deleted
        for record in (first, edited, resent, renumbered, deleted, dead_renumbered):
            check_message(record, via)


def check_message(record: Record, via: str = "mqtt") -> None:
    """``record`` as the worker would send it: valid, and read back the same."""
    message = json.loads(garment_message(record, via))
    assert schema_problem(GARMENT, message) == ""
    assert record_from_dict(message["record"]) == record
    assert bool(message["record"]["images"]) is not record.deleted


@pytest.mark.slow
def test_what_a_capture_keeps_is_a_valid_message(tmp_path: Path) -> None:
    """The real models on the demo scene, analysed and encoded on keep as ``MirrorService`` does:
    groups, boxes and images as the mirror really makes them."""
    require_models()
    analyzer = Analyzer(load_models(models_dir(""), "tflite", 1, 0.02))
    groups = set()
    with ClosetStore.open(tmp_path, "dev-1", min_free_mb=0) as store:
        for index, frame in enumerate(demo_frames(1024, 768, count=3)):
            result = analyzer.analyze(frame, capture_id=index, encode=False, encode_later=True, keep_photo=True)
            for garment in range(len(result.garments)):
                record = store.add(to_draft(result, garment))
                groups.add(record.group)
                check_message(record)
                check_message(store.delete(record.id))
    assert groups and groups <= set(SEGMENTER_GROUPS), groups


def test_the_schema_names_the_segmenters_groups_and_the_docs_say_the_same() -> None:
    """A segmenter that adds a group changes the contract (a new version): this says so first."""
    schema_groups = load_schema("garment")["$defs"]["record"]["properties"]["group"]["enum"]
    assert schema_groups == list(SEGMENTER_GROUPS) == list(GROUPS), "the store refuses any other (mirror.vocab)"
    docs = (ROOT / "docs" / "sync.md").read_text()
    sentence = docs.split("* `group` is the segmenter's garment group:", 1)[1].split(" (as in", 1)[0]
    assert re.findall(r"`([a-z-]+)`", sentence) == schema_groups


def test_the_schema_refuses_what_no_mirror_sends(tmp_path: Path) -> None:
    """Group outside the segmenter's, a box of other than four numbers, a tombstone with images, a live
    record without: each is ``schema_invalid``, and names the field."""
    with ClosetStore.open(tmp_path, "dev-1", min_free_mb=0) as store:
        kept = store.add(synthetic_draft(3))
        live = json.loads(garment_message(kept, "mqtt"))
        tombstone = json.loads(garment_message(store.delete(kept.id), "mqtt"))
    assert list(GARMENT.iter_errors(live)) == [] and list(GARMENT.iter_errors(tombstone)) == []

    def with_record(body: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return {**body, "record": {**body["record"], **fields}}

    broken = [
        (with_record(live, group="upper"), "record/group: 'upper' is not one of"),
        (with_record(live, group=""), "record/group: '' is not one of"),  # a Record's default, never stored
        (with_record(live, group="TOP"), "record/group: 'TOP' is not one of"),
        (with_record(live, box=[1.0, 2.0, 3.0]), "record/box: [1.0, 2.0, 3.0] is too short"),
        (with_record(live, box=[]), "record/box: [] is too short"),
        (with_record(live, box=[1.0, 2.0, 3.0, 4.0, 5.0]), "record/box: [1.0, 2.0, 3.0, 4.0, 5.0] is too long"),
        (with_record(tombstone, images=live["record"]["images"]), "record/images: "),
        (with_record(live, images=[]), "record/images: [] should be non-empty"),
    ]
    for body, problem in broken:
        assert schema_problem(GARMENT, body).startswith(problem), (problem, schema_problem(GARMENT, body))
    # The consumer dead-letters them as schema_invalid (it validates through the same schema).
    handler = MessageHandler(ConsumerDB.open(str(tmp_path / "cloud.db")), "p", frozenset({"dev-1"}))
    for body, _problem in broken:
        topic = Topics("p", "dev-1").garment(kept.id)
        (ack,) = handler.handle(topic, json.dumps(body).encode())
        assert ack.status == "rejected" and ack.reason.startswith("schema_invalid: "), ack


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


def test_the_upload_urls_read_limit_holds_the_largest_message_the_schema_allows() -> None:
    """``MAX_URLS_BYTES`` is derived from the schema's bounds (``MAX_URLS`` URLs of ``MAX_URL_CHARS``); both
    were written down by hand, and only this keeps them in step with ``upload-urls.v1.json``."""
    from sync.contract import MAX_URL_CHARS, MAX_URLS, MAX_URLS_BYTES, load_schema

    urls = load_schema("upload-urls")["properties"]["urls"]
    assert (urls["maxProperties"], urls["additionalProperties"]["maxLength"]) == (MAX_URLS, MAX_URL_CHARS)
    largest = {
        "schema": "smart-mirror.upload-urls",
        "schema_version": 1,
        "id": "x" * 64,
        "version": 2**53,
        "urls": {f"{k:064x}": "https://" + "u" * (MAX_URL_CHARS - 8) for k in range(MAX_URLS)},
    }
    assert len(json.dumps(largest).encode()) <= MAX_URLS_BYTES
