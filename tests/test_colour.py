"""Garment colour on synthetic photos: where naive averaging fails, the shipped table must not.

Each scene is a garment on a background with one of the classic traps: shading and folds,
a highlight, a logo, skin at the outline, a colour cast. The naive mean is checked to fall
into the trap where that is the point, so the test shows the robustness is real.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from mirror.manifest import ManifestError, ModelManifest, default_models_dir
from mirror.vision.colour import (
    analyse_fabric,
    describe_analysis,
    describe_colour,
    garment_features,
    white_balance_gains,
)
from mirror.vision.colour_model import FEATURE_NAMES, AchromaticRule, ColourTable, FabricStage
from mirror.vision.colourspace import lab_to_srgb, srgb_to_lab
from mirror.vocab import BASIC_TERMS

H, W = 240, 240


@pytest.fixture(scope="module")
def table() -> ColourTable:
    return ColourTable.load(default_models_dir() / "colour")


def _garment_mask() -> NDArray[np.bool_]:
    mask = np.zeros((H, W), bool)
    mask[40:200, 50:190] = True
    return mask


def _scene(garment_bgr: tuple[int, int, int], background: int = 215) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    image = np.full((H, W, 3), background, np.uint8)
    mask = _garment_mask()
    image[mask] = garment_bgr
    return image, mask


def _naive(image: NDArray[np.uint8], mask: NDArray[np.bool_], table: ColourTable) -> str:
    """The naive answer: the mean garment pixel, named with the same table and adaptation."""
    return BASIC_TERMS[int(table.name_fabric(image[mask].mean(axis=0)[::-1].reshape(1, 3))[0][0])]


def test_srgb_lab_round_trip() -> None:
    rgb = np.random.default_rng(0).uniform(0, 255, (200, 3))
    assert np.abs(lab_to_srgb(srgb_to_lab(rgb)) - rgb).max() < 1e-6
    assert np.allclose(srgb_to_lab([255, 255, 255]), [100, 0, 0], atol=1e-3)


@pytest.mark.parametrize(
    ("bgr", "basic"),
    [((30, 30, 30), "black"), ((240, 240, 240), "white"), ((40, 40, 200), "red"), ((180, 90, 20), "blue"),
     ((40, 150, 40), "green"), ((30, 200, 230), "yellow"), ((30, 120, 240), "orange"), ((40, 70, 110), "brown"),
     ((140, 40, 110), "purple"), ((180, 150, 245), "pink"), ((128, 128, 128), "grey")],
)
def test_plain_garments(table: ColourTable, bgr: tuple[int, int, int], basic: str) -> None:
    image, mask = _scene(bgr)
    result = describe_colour(image, mask, table)
    assert result.basic == basic
    assert result.alternative is None, "a plain colour is not in doubt"
    assert result.palette[0].basic == basic
    assert result.hex.startswith("#") and len(result.hex) == 7
    assert result.name


def test_shadowed_black_shirt_stays_black(table: ColourTable) -> None:
    image, mask = _scene((28, 28, 28))
    ys = np.arange(H)[:, None].repeat(W, 1)
    folds = (np.sin(ys / 6.0) > 0.3) & mask  # fold highlights: a sheen on 40 % of the fabric
    image[folds] = (150, 150, 150)
    image[mask & (ys > 170)] = (12, 12, 12)  # a shadow over the bottom
    image[70:80, 90:110] = (235, 235, 235)  # a specular highlight
    assert _naive(image, mask, table) == "grey", "the trap: the mean of this black shirt is grey"
    assert describe_colour(image, mask, table).basic == "black"


@pytest.mark.parametrize(
    ("bgr", "basic"),
    [((52, 42, 36), "black"), ((156, 146, 140), "grey"), ((70, 40, 25), "blue"), ((95, 45, 20), "blue")],
)
def test_faint_tint_is_neutral_but_navy_is_blue(table: ColourTable, bgr: tuple[int, int, int], basic: str) -> None:
    """A cool black jacket or a faintly blue grey is neutral; navy, with real chroma for its lightness, stays blue."""
    image, mask = _scene(bgr)
    assert describe_colour(image, mask, table).basic == basic
    if basic != "blue":  # the trap: without the neutral rule the table reads the faint tint as blue
        assert describe_colour(image, mask, replace(table, achromatic=AchromaticRule(0.0, 0.0, 0.0))).basic == "blue"


def test_logo_does_not_win(table: ColourTable) -> None:
    image, mask = _scene((40, 30, 170))  # a red T-shirt
    image[70:150, 80:160] = (245, 245, 245)  # a big white print, ~30 % of the shirt
    image[90:130, 100:140] = (30, 30, 30)
    result = describe_colour(image, mask, table)
    assert result.basic == "red"
    assert {p.basic for p in result.palette} >= {"red", "white"}
    assert abs(sum(p.share for p in result.palette) - 1.0) < 0.01


def test_skin_at_the_outline_is_ignored(table: ColourTable) -> None:
    image, mask = _scene((150, 90, 30))  # a blue garment held up by two hands
    skin = (120, 160, 220)  # BGR of a light skin tone
    band = mask.copy()
    band[50:190, 62:178] = False  # the outer 12 px of the garment are arms and hands
    image[band] = skin
    assert describe_colour(image, mask, table).basic == "blue"


def test_skin_coloured_garment_keeps_its_colour(table: ColourTable) -> None:
    image, mask = _scene((140, 170, 225), background=60)  # a beige/peach dress is mostly "skin"
    assert describe_colour(image, mask, table).basic in {"pink", "orange", "brown"}


def test_white_balance_cast_is_corrected(table: ColourTable) -> None:
    image, mask = _scene((128, 128, 128), background=200)  # a grey shirt on a light grey wall
    warm = np.clip(image.astype(np.float64) * (0.90, 1.0, 1.10), 0, 255).astype(np.uint8)  # a warm lamp
    gains = white_balance_gains(warm, mask)
    assert gains[0] > 1.05 and gains[2] < 0.95, "blue up, red down"
    assert describe_colour(warm, mask, table, white_balance=False).basic == "brown", "the trap: a cast shirt"
    assert describe_colour(warm, mask, table).basic == "grey"


def test_coloured_background_is_not_a_cast(table: ColourTable) -> None:
    image, mask = _scene((128, 128, 128), background=0)
    image[~mask] = (60, 140, 220)  # an orange wall is not a neutral: no correction
    assert np.allclose(white_balance_gains(image, mask), 1.0)


@pytest.mark.parametrize(
    ("garment_bgr", "basic"), [((20, 20, 60), "red"), ((140, 60, 100), "purple"), ((180, 180, 180), "white")]
)
def test_a_beige_wall_does_not_repaint_the_garment(
    table: ColourTable, garment_bgr: tuple[int, int, int], basic: str
) -> None:
    """A warm beige wall passes for a neutral (its chroma is in the window), but it is a wall, not a
    cast: the bounded gains leave the garment its colour, where unbounded ones turn it brown, blue or grey."""
    image, mask = _scene(garment_bgr, background=0)
    image[~mask] = (170, 190, 210)
    gains = white_balance_gains(image, mask)
    assert not np.allclose(gains, 1.0), "the beige wall counts as a neutral: the bound is what is tested"
    assert describe_colour(image, mask, table).basic == basic


def test_empty_mask_is_refused(table: ColourTable) -> None:
    image, mask = _scene((30, 30, 30))
    with pytest.raises(ValueError, match="no garment pixels"):
        describe_colour(image, np.zeros_like(mask), table)


def test_table_names_are_consistent(table: ColourTable) -> None:
    assert set(np.unique(table.basic)) <= set(range(len(BASIC_TERMS)))
    assert int(table.name.max()) < len(table.names)


def test_shipped_fabric_stage_loads_and_verifies(table: ColourTable) -> None:
    """The learned stage ships with the table, listed and checksummed in model.json."""
    folder = default_models_dir() / "colour"
    assert ModelManifest.load(folder).verify() == []
    assert table.fabric is not None
    assert table.fabric.mean.shape == (len(FEATURE_NAMES),)
    assert 0.0 < table.fabric.min_confidence < 1.0
    image, mask = _scene((40, 30, 170))
    features = garment_features(analyse_fabric(image, mask), table)
    assert features.shape == (len(FEATURE_NAMES),) and np.all(np.isfinite(features))
    p = table.fabric.probabilities(features)
    assert p.shape == (1, len(BASIC_TERMS)) and abs(float(p.sum()) - 1.0) < 1e-9


def test_fabric_stage_for_other_features_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "stage.npz"
    n = len(FEATURE_NAMES) - 1
    np.savez(path, features=np.array(FEATURE_NAMES[:n]), mean=np.zeros(n), std=np.ones(n), hidden_w=np.zeros((0, 0)),
             hidden_b=np.zeros(0), out_w=np.zeros((n, len(BASIC_TERMS))), out_b=np.zeros(len(BASIC_TERMS)),
             min_confidence=np.float32(0.5))
    with pytest.raises(ManifestError, match="refit it with colour_fit"):
        FabricStage.load(path)


def _stage_for(term: str, confidence: float, gate: float) -> FabricStage:
    """A stage whose decision is ``term`` with probability ``confidence`` whatever the garment."""
    k = len(BASIC_TERMS)
    rest = (1 - confidence) / (k - 1)
    bias = np.log(np.full(k, rest))
    bias[BASIC_TERMS.index(term)] = np.log(confidence)
    n = len(FEATURE_NAMES)
    return FabricStage(np.zeros(n), np.ones(n), (), np.zeros((n, k)), bias, gate)


def test_fabric_stage_decides_only_when_confident(table: ColourTable) -> None:
    """A confident stage renames the dominant fabric; an unsure one leaves the table's answer."""
    image, mask = _scene((95, 45, 20))  # navy: the table says blue
    analysis = analyse_fabric(image, mask)
    sure = describe_analysis(analysis, replace(table, fabric=_stage_for("black", 0.8, 0.5)))
    assert sure.basic == "black" and sure.palette[0].basic == "black" and sure.name == "black"
    unsure = describe_analysis(analysis, replace(table, fabric=_stage_for("black", 0.4, 0.5)))
    assert unsure.basic == "blue"


def test_doubtful_colour_names_the_runner_up(table: ColourTable) -> None:
    """Below ``DOUBT_BELOW`` the result offers the next most likely term, including the stage's own when the
    table decided."""
    analysis = analyse_fabric(*_scene((95, 45, 20)))  # navy: the table says blue
    k, n = len(BASIC_TERMS), len(FEATURE_NAMES)
    p = np.full(k, 0.1 / (k - 2))
    p[BASIC_TERMS.index("black")], p[BASIC_TERMS.index("blue")] = 0.6, 0.3
    stage = FabricStage(np.zeros(n), np.ones(n), (), np.zeros((n, k)), np.log(p), 0.5)
    doubtful = describe_analysis(analysis, replace(table, fabric=stage))
    assert (doubtful.basic, doubtful.alternative) == ("black", "blue")
    assert describe_analysis(analysis, replace(table, fabric=_stage_for("black", 0.8, 0.5))).alternative is None
    table_decided = describe_analysis(analysis, replace(table, fabric=_stage_for("black", 0.4, 0.5)))
    assert (table_decided.basic, table_decided.alternative) == ("blue", "black")
    assert describe_analysis(analysis, replace(table, fabric=None)).alternative is None  # no stage, no doubt


def test_fabric_stage_fit_is_deterministic() -> None:
    """colour_fit gives byte-identical weights on the same data (shipped files can be rebuilt and checked)."""
    from models.training.colour_fit import cross_validate, fit, grouped_folds

    rng = np.random.default_rng(3)
    y = rng.integers(0, len(BASIC_TERMS), 120)
    x = rng.normal(0, 1, (120, 6)) + np.eye(len(BASIC_TERMS))[y][:, :6] * 3
    for hidden in (0, 4):
        a, b = fit(x, y, hidden, 1e-3), fit(x, y, hidden, 1e-3)
        assert np.array_equal(a.out_w, b.out_w) and np.array_equal(a.hidden_w, b.hidden_w)
    folds = grouped_folds([f"s{i % 17}" for i in range(120)])
    assert {int(f) for f in folds} == set(range(5))
    assert all(len({int(f) for f, g in zip(folds, range(120), strict=True) if g % 17 == s}) == 1 for s in range(17))
    assert cross_validate(x, y, folds, 0, 1e-3) > 0.5  # the signal planted in the first six terms is learned
