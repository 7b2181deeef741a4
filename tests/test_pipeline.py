"""Pipeline pieces that need no model: prominence, contract shape, drafts, encoding, timing."""

from __future__ import annotations

import json
import time

import cv2
import numpy as np
import pytest

from mirror.pipeline.analyzer import garment_colour
from mirror.pipeline.choose import held_first
from mirror.pipeline.contract import error_object, result_object, to_line
from mirror.pipeline.drafts import basic_color, to_draft
from mirror.pipeline.encode import cutout_images, downscale, halve_to, on_white, photo_jpeg
from mirror.pipeline.prominence import prominence
from mirror.pipeline.result import (
    CUTOUT_BLACK,
    CUTOUT_PNG,
    CUTOUT_WHITE,
    PHOTO,
    AnalysisResult,
    GarmentColour,
    GarmentResult,
)
from mirror.pipeline.timing import StageTimer
from mirror.store.records import IMAGE_KINDS, PaletteEntry
from mirror.vision.colour import BASIC_TERMS, ColourResult
from mirror.vision.cutout import make_cutout
from mirror.vocab import BASIC_HEX


def garment(**kw) -> GarmentResult:
    base = {
        "category": "t-shirt",
        "category_score": 0.912345,
        "top3": (("t-shirt", 0.91), ("shirt", 0.05), ("longsleeve", 0.02)),
        "unsure": False,
        "group": "top",
        "score": 0.87654,
        "box": (10, 20, 110, 220),
        "polygons": (((10, 20), (110, 20), (110, 220)),),
        "color": GarmentColour("red", "crimson", "#b3202a", (PaletteEntry("#b3202a", "red", 0.8),)),
    }
    base.update(kw)
    return GarmentResult(**base)  # type: ignore[arg-type]


def test_prominence_prefers_big_central_confident_garments() -> None:
    centre = (300, 200, 500, 400)
    corner = (0, 0, 200, 200)
    assert prominence(40000, 0.9, centre, 800, 600) > prominence(40000, 0.9, corner, 800, 600)
    assert prominence(40000, 0.9, centre, 800, 600) > prominence(20000, 0.9, centre, 800, 600)
    assert prominence(40000, 0.9, centre, 800, 600) > prominence(40000, 0.5, centre, 800, 600)
    # slightly larger worn trousers low in the frame lose to the shirt held up in the middle
    assert prominence(40000, 0.9, centre, 800, 600) > prominence(45000, 0.9, (300, 350, 500, 600), 800, 600)


def test_contract_objects_have_exactly_the_documented_keys_in_order() -> None:
    result = AnalysisResult(1, (garment(),), 12.3456, {"segment": 5.0}, (800, 600), {"segmenter": "1"})
    obj = result_object("a.jpg", result, ms=20.123)
    assert list(obj) == ["image", "ms", "garments"] and obj["ms"] == 20.12
    g = obj["garments"][0]
    assert list(g) == ["category", "category_score", "group", "score", "box", "polygons", "color"]
    assert g["category_score"] == 0.9123 and g["box"] == [10, 20, 110, 220]
    assert list(g["color"]) == ["basic", "name", "hex", "palette"]
    assert g["color"]["palette"] == [{"hex": "#b3202a", "basic": "red", "share": 0.8}]
    line = to_line(obj)
    assert "\n" not in line and json.loads(line) == obj
    assert error_object("x", "no such file") == {"image": "x", "error": "no such file"}


def test_draft_carries_the_garment_the_photo_and_the_model_versions() -> None:
    images = {CUTOUT_PNG: b"png", CUTOUT_BLACK: b"b", CUTOUT_WHITE: b"w"}
    result = AnalysisResult(
        3, (garment(images=images), garment(category="pants")), 1.0, {}, (800, 600), {"segmenter": "7"}, None, b"jpg"
    )
    draft = to_draft(result)
    assert draft.category == "t-shirt" and draft.color.basic == "red" and draft.color.palette[0].share == 0.8
    assert dict(draft.images) == {**images, PHOTO: b"jpg"}
    assert {CUTOUT_PNG, CUTOUT_BLACK, CUTOUT_WHITE, PHOTO} == set(IMAGE_KINDS)
    assert draft.color.palette == result.garments[0].color.palette  # one palette type: stored as analysed
    assert draft.color.to_dict() == result.garments[0].color.as_dict()
    assert dict(draft.model_versions) == {"segmenter": "7"}
    assert to_draft(result, 1).category == "pants"


def test_basic_colours_the_person_can_pick_are_the_eleven_terms() -> None:
    assert tuple(BASIC_HEX) == BASIC_TERMS
    assert basic_color("blue").basic == "blue"
    assert basic_color("red").hex == basic_color("red").palette[0].hex == BASIC_HEX["red"]
    with pytest.raises(ValueError, match="pick one of"):
        basic_color("navy")


def test_encoded_cutouts_decode_with_transparency_and_backgrounds() -> None:
    frame = np.full((120, 160, 3), 200, np.uint8)
    mask = np.zeros((120, 160), bool)
    mask[30:90, 40:120] = True
    frame[mask] = (30, 30, 200)
    files = cutout_images(make_cutout(frame, mask))
    png = cv2.imdecode(np.frombuffer(files[CUTOUT_PNG], np.uint8), cv2.IMREAD_UNCHANGED)
    assert png.shape[2] == 4 and png[0, 0, 3] == 0 and png[png.shape[0] // 2, png.shape[1] // 2, 3] == 255
    black = cv2.imdecode(np.frombuffer(files[CUTOUT_BLACK], np.uint8), cv2.IMREAD_COLOR)
    white = cv2.imdecode(np.frombuffer(files[CUTOUT_WHITE], np.uint8), cv2.IMREAD_COLOR)
    assert black[0, 0].max() < 20 and white[0, 0].min() > 235
    photo = cv2.imdecode(np.frombuffer(photo_jpeg(np.zeros((1232, 1640, 3), np.uint8)), np.uint8), cv2.IMREAD_COLOR)
    assert max(photo.shape[:2]) == 960


def test_downscale_never_enlarges() -> None:
    small = np.zeros((100, 50, 3), np.uint8)
    assert downscale(small, 200) is small
    assert downscale(np.zeros((2000, 1000, 3), np.uint8), 1000).shape == (1000, 500, 3)


def test_stage_timer_sums_repeated_stages() -> None:
    timer = StageTimer()
    for _ in range(3):
        with timer.stage("classify"):
            time.sleep(0.02)  # waiting: wall time, next to no CPU time
    with pytest.raises(RuntimeError), timer.stage("colour"):
        start = time.thread_time()
        while time.thread_time() - start < 0.03:  # working: CPU time on this thread
            pass
        raise RuntimeError
    assert set(timer.ms) == set(timer.cpu_ms) == {"classify", "colour"}
    assert timer.ms["classify"] >= 3 * 20, "the three runs of one stage are summed"
    assert timer.cpu_ms["classify"] < timer.ms["classify"] / 2, "a sleep is wall time, not CPU time"
    assert timer.cpu_ms["colour"] >= 30 and timer.ms["colour"] >= 30, "a stage that raises is still timed"
    assert timer.total_ms() >= timer.ms["classify"] + timer.ms["colour"]


def test_on_white_from_on_black_matches_a_fresh_composite() -> None:
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 255, (80, 100, 3), dtype=np.uint8)
    mask = np.zeros((80, 100), bool)
    mask[10:70, 20:80] = True
    cutout = make_cutout(frame, mask)
    fast = on_white(cutout.on_black(), cutout.alpha)
    assert np.abs(fast.astype(int) - cutout.on((255, 255, 255)).astype(int)).max() <= 1


def test_halving_stops_at_the_working_size() -> None:
    assert halve_to(np.zeros((1232, 1640, 3), np.uint8), 640).shape == (616, 820, 3)
    assert halve_to(np.zeros((3000, 4000, 3), np.uint8), 640).shape == (750, 1000, 3)
    assert halve_to(np.zeros((960, 1280, 3), np.uint8), 640).shape == (480, 640, 3)
    photo = np.zeros((768, 1024, 3), np.uint8)
    assert halve_to(photo, 640) is photo


def test_the_held_garment_comes_first_in_a_mirror_shot() -> None:
    worn = garment(category="pants", box=(300, 400, 500, 600))
    held = garment(category="t-shirt", box=(280, 100, 520, 380))
    result = AnalysisResult(1, (worn, held), 1.0, {}, (800, 600), {})
    chosen, held_seen = held_first(result, (290, 110, 510, 370))
    assert [g.category for g in chosen.garments] == ["t-shirt", "pants"] and held_seen
    assert held_first(result, None) == (result, False)  # a manual shot with nothing found in the preview
    assert held_first(result, (0, 0, 50, 50)) == (result, False)  # overlaps nothing: prominence order stays
    first = AnalysisResult(1, (held, worn), 1.0, {}, (800, 600), {})
    assert held_first(first, (290, 110, 510, 370)) == (first, True)  # already first, and still the one held


def test_palette_shares_never_sum_above_one_after_rounding() -> None:
    rounded_up = ColourResult(
        "red", "red", "#aa0000", (PaletteEntry("#aa0000", "red", 0.667), PaletteEntry("#fff", "white", 0.334))
    )
    palette = garment_colour(rounded_up).palette
    assert sum(p.share for p in palette) <= 1.0 and palette[0].share == pytest.approx(0.6663, abs=1e-4)
