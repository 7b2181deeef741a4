"""Post-processing: class map -> garment instances (synthetic maps, no model needed)."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from mirror.vision.instances import extract_instances

NAMES = ("background", "person", "top", "outerwear", "bottom", "one-piece", "footwear", "headwear", "accessory")
GARMENTS = (2, 3, 4, 5, 6, 7)


def blank(h: int = 300, w: int = 200) -> npt.NDArray[np.uint8]:
    return np.zeros((h, w), np.uint8)


def test_tiny_fragments_are_dropped() -> None:
    m = blank()
    m[30:90, 40:120] = 2
    m[200:203, 150:153] = 2  # 9 px speck of the same class
    m[250:252, 10:12] = 4  # 4 px speck of another class
    found = extract_instances(m, NAMES, GARMENTS)
    assert [(g.group, g.area) for g in found] == [("top", 60 * 80)]


def test_holes_are_kept() -> None:
    m = blank()
    m[50:250, 40:160] = 3
    m[120:160, 80:120] = 0  # a hole (an arm through, a gap)
    (coat,) = extract_instances(m, NAMES, GARMENTS)
    assert coat.area == 200 * 120 - 40 * 40
    assert not coat.mask[140, 100] and coat.mask[60, 50]
    assert len(coat.outlines) == 1 and len(coat.holes) == 1
    hx, hy = coat.holes[0][:, 0], coat.holes[0][:, 1]
    assert 76 <= hx.min() <= 82 and 117 <= hx.max() <= 122 and 116 <= hy.min() <= 122 and 157 <= hy.max() <= 162


def test_polygons_and_box_in_source_pixels() -> None:
    m = blank(480, 640)
    m[100:300, 200:500] = 4
    (trousers,) = extract_instances(m, NAMES, GARMENTS)
    assert trousers.box == (200, 100, 300, 200)
    poly = trousers.outlines[0]
    assert poly.dtype == np.int32 and poly.shape[1] == 2
    assert 4 <= len(poly) <= 8  # a rectangle simplifies to a handful of points
    assert abs(int(poly[:, 0].min()) - 200) <= 2 and abs(int(poly[:, 0].max()) - 499) <= 2
    assert abs(int(poly[:, 1].min()) - 100) <= 2 and abs(int(poly[:, 1].max()) - 299) <= 2


def test_sorted_most_prominent_first_and_groups_named() -> None:
    m = blank()
    m[10:40, 10:40] = 7  # small hat
    m[60:200, 20:180] = 5  # big dress
    m[220:280, 30:90] = 6  # shoes
    found = extract_instances(m, NAMES, GARMENTS)
    assert [g.group for g in found] == ["one-piece", "footwear", "headwear"]
    assert [g.area for g in found] == sorted((g.area for g in found), reverse=True)


def test_person_background_and_accessories_are_not_garments() -> None:
    m = blank()
    m[:, :100] = 1
    m[100:200, 120:190] = 8
    assert extract_instances(m, NAMES, GARMENTS) == []


def test_same_class_in_two_places_gives_two_instances_with_scores() -> None:
    m = blank()
    m[20:120, 10:90] = 4
    m[150:250, 110:190] = 4
    conf = np.full(m.shape, 0.5, np.float32)
    conf[150:250, 110:190] = 0.9
    found = extract_instances(m, NAMES, GARMENTS, conf)
    assert len(found) == 2 and all(g.group == "bottom" for g in found)
    assert sorted(round(g.score, 3) for g in found) == [0.5, 0.9]


def test_a_pair_of_shoes_is_one_instance_but_far_apart_shoes_are_not() -> None:
    m = blank(200, 400)
    m[100:160, 60:140] = 6
    m[105:160, 170:245] = 6  # the other shoe, beside it
    (pair,) = extract_instances(m, NAMES, GARMENTS)
    assert pair.group == "footwear" and len(pair.outlines) == 2
    assert pair.box == (60, 100, 185, 60) and pair.area == 60 * 80 + 55 * 75
    far = blank(200, 1000)
    far[100:160, 20:100] = 6
    far[100:160, 880:960] = 6
    assert len(extract_instances(far, NAMES, GARMENTS)) == 2


def test_outlines_score_and_mask_match_the_whole_frame_contours_at_the_border_and_inside() -> None:
    """Instances are traced inside each component's box: the result must equal a full-frame trace."""
    m = blank()
    m[0:120, 0:70] = 2  # touches the frame's top-left corner
    m[40:60, 20:40] = 0  # with a hole
    m[180:300, 120:200] = 4  # touches the bottom-right corner
    m[150:170, 90:110] = 4  # a second bottom, inside the frame
    confidence = np.random.default_rng(2).random(m.shape, dtype=np.float32)
    found = extract_instances(m, NAMES, GARMENTS, confidence, min_area_frac=0.001)
    assert len(found) == 3
    for inst in found:
        contours, hierarchy = cv2.findContours(inst.mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
        simplified = [cv2.approxPolyDP(c, 2.0, True).reshape(-1, 2) for c in contours]
        outer = [p for p, h in zip(simplified, hierarchy[0], strict=True) if h[3] < 0 and len(p) >= 3]
        inner = [p for p, h in zip(simplified, hierarchy[0], strict=True) if h[3] >= 0 and len(p) >= 3]
        assert [p.tolist() for p in inst.outlines] == [p.tolist() for p in outer]
        assert [p.tolist() for p in inst.holes] == [p.tolist() for p in inner]
        assert inst.score == float(confidence[inst.mask].mean())
        assert int(inst.mask.sum()) == inst.area and (m[inst.mask] == inst.class_id).all()
