"""Name a garment's colour the way a person would: basic term, finer name, hex and palette.

Why not average the garment's pixels: the mean of a black T-shirt with folds and a sheen is
grey, a white logo drags a navy shirt towards grey-blue, the outline picks up skin and
background, and an indoor camera tints everything orange. So the colour is taken in steps:

1. **White balance** from the frame's own neutral regions (near-grey pixels outside the
   garment): von Kries gains in linear RGB, bounded so a beige wall cannot repaint the shirt.
2. **Clean pixels**: erode the mask (outline pixels mix garment and background), drop
   skin-coloured pixels unless most of the garment is skin-coloured (a beige dress), drop
   clipped highlights unless the garment is mostly that bright.
3. **Dominant fabric**: k-means in CIELAB; each cluster is named with the shipped lookup
   table (``models/colour``, built from the XKCD survey by ``models.training.colour_build``),
   clusters with the same basic term are pooled (light and shadowed red are both red), and
   the largest pool wins, so a logo or print covering less than the fabric never does.
   (Loading and applying the table is ``mirror.vision.colour_model``'s.)
4. **Achromatic decision** before naming: a cluster whose chroma is within the camera's
   neutral noise (see ``colour_model.AchromaticRule``) is named as the grey of its lightness, so a
   slightly cool black jacket is not "blue" and a faintly tinted grey is not "blue" either.
5. **Learned fabric stage** (``colour_model.FabricStage``, when ``models/colour`` ships one): a small
   softmax model over features of steps 1–4 (the table's basic-term shares of the fabric
   clusters, the dominant clusters' CIELAB, the fabric's lightness against its surroundings)
   makes the final basic-term decision. Why: the table names screen colours; whether a
   photographed light grey is "white" or a dark navy "black" depends on the fabric against
   its room, which hand-set thresholds could not capture without over-fitting. It is fitted
   by ``models.training.colour_fit`` on by-eye labels of training photos.
6. **Doubt**: when the stage gives the final term less than ``DOUBT_BELOW``, the result also
   names the runner-up (``alternative``), so the mirror can ask "grey, or white?" instead of
   filing a guess silently, as the classifier's ``unsure`` does for the category.

This module is that per-garment pipeline; the model it names colours with is
``mirror.vision.colour_model`` and the colour-space maths both use is ``mirror.vision.colourspace``.

Stable API: ``ColourTable.load(folder)`` (defined in ``colour_model``, re-exported here),
``describe_colour(image_bgr, mask, table)`` -> ``ColourResult(basic, name, hex, palette,
alternative)`` (the palette in the store's ``PaletteEntry``, the one palette type);
``garment_features`` (the learned stage's input, also used by its fit).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
import numpy.typing as npt

from mirror.store.records import PaletteEntry
from mirror.vision.colour_model import ColourTable, runner_up
from mirror.vision.colourspace import (
    LINEAR_OF_BYTE,
    RGB_TO_XYZ,
    FloatArray,
    linear_to_lab,
    linear_to_srgb,
    srgb_to_lab,
    srgb_to_linear,
    to_hex,
)
from mirror.vocab import BASIC_TERMS

UInt8Array = npt.NDArray[np.uint8]

# Tuning constants; each is explained where it is used.
_KMEANS_K = 4
_MAX_SAMPLES = 4000
_MIN_PIXELS = 30
_NEUTRAL_CHROMA = 8.0
_MAX_GAIN = 1.15
_MAX_EXPOSURE = 3.0
#: Below this probability of its final term (the learned stage's), a garment's colour is in doubt
#: and the result names the runner-up. Chosen on the training labels' grouped cross-validation,
#: never on validation: the smallest value at which the answers *not* in doubt were right at least
#: 90 % of the time (0.909; 28 % of the photos in doubt; 0.6 gave 0.873). ``models/README.md``.
DOUBT_BELOW = 0.7
#: At most this many background pixels are converted to estimate the white balance.
_WB_SAMPLES = 4000


@dataclass(frozen=True)
class ColourResult:
    """A garment's colour: ``basic`` (one of BASIC_TERMS), finer ``name``, dominant ``hex``, palette.

    ``alternative`` is the runner-up basic term when the answer is in doubt (see ``DOUBT_BELOW``).
    """

    basic: str
    name: str
    hex: str
    palette: tuple[PaletteEntry, ...]
    alternative: str | None = None


def white_balance_gains(image_bgr: UInt8Array, garment: npt.NDArray[np.bool_]) -> FloatArray:
    """Per-channel (B, G, R) linear gains that make the frame's neutral background grey.

    Neutral candidates are mid-bright, low-chroma pixels outside a dilated garment mask;
    their mean in linear RGB should be grey (von Kries). With too few candidates the frame
    has no usable neutral and the gains are 1. Gains are bounded to ``1/_MAX_GAIN..
    _MAX_GAIN`` because a strongly coloured "neutral" is a coloured wall, not a cast.
    """
    ones = np.ones(3)
    kernel = np.ones((15, 15), np.uint8)
    outside = ~cv2.dilate(garment.astype(np.uint8), kernel).astype(bool)
    # A regular sample (a grid, then every n-th): the cast is a property of the whole background,
    # and indexing the full frame would cost more than the estimate itself.
    stride = max(1, int(np.sqrt(outside.size / (4 * _WB_SAMPLES))))
    pixels = image_bgr[::stride, ::stride][outside[::stride, ::stride]]
    if len(pixels) * stride * stride < 200:
        return ones
    if len(pixels) > _WB_SAMPLES:
        pixels = pixels[:: -(-len(pixels) // _WB_SAMPLES)]
    lin = LINEAR_OF_BYTE[pixels[:, ::-1]]  # float32 linear RGB, converted once
    lab = linear_to_lab(lin)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    neutral = (chroma < _NEUTRAL_CHROMA * 2) & (lab[:, 0] > 25) & (lab[:, 0] < 97)
    if neutral.sum() < max(100, 0.05 * len(pixels)):
        return ones
    # Weight towards the greyest candidates; a robust mean of the cast direction.
    weights = np.exp(-((chroma[neutral] / _NEUTRAL_CHROMA) ** 2))
    mean = (lin[neutral] * weights[:, None]).sum(0) / max(float(weights.sum()), 1e-9)
    gains_rgb = np.clip(mean.mean() / np.maximum(mean, 1e-6), 1 / _MAX_GAIN, _MAX_GAIN)
    return np.asarray(gains_rgb[::-1], dtype=np.float64)


def exposure_gain(image_bgr: UInt8Array, gains_bgr: FloatArray) -> float:
    """Linear gain that brings the frame's bright reference (98th percentile luminance) to white.

    People judge a surface's lightness against the brightest surfaces around it; a white
    shirt in a dim room is still white. Only brightening (up to ``_MAX_EXPOSURE``) is done:
    a frame with clipped highlights already has its white.
    """
    small = image_bgr[::4, ::4].reshape(-1, 3)
    luminance = LINEAR_OF_BYTE[small] @ (gains_bgr * RGB_TO_XYZ[1][::-1]).astype(np.float32)
    reference = float(np.percentile(luminance, 98)) if len(luminance) else 1.0
    return float(np.clip(1.0 / max(reference, 1e-3), 1.0, _MAX_EXPOSURE))


def apply_gains(pixels_rgb: UInt8Array | FloatArray, gains_bgr: FloatArray) -> FloatArray:
    """Apply linear-light gains (B, G, R order) to sRGB pixels (0–255, RGB order)."""
    if isinstance(pixels_rgb, np.ndarray) and pixels_rgb.dtype == np.uint8:
        lin = LINEAR_OF_BYTE[pixels_rgb].astype(np.float64) * gains_bgr[::-1]
    else:
        lin = srgb_to_linear(np.asarray(pixels_rgb, dtype=np.float64) / 255.0) * gains_bgr[::-1]
    return linear_to_srgb(lin) * 255.0


def is_skin(rgb: FloatArray) -> npt.NDArray[np.bool_]:
    """Skin-coloured pixels by the classic YCrCb box (Chai & Ngan), which spans skin tones."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cr = (r - y) * 0.713 + 128
    cb = (b - y) * 0.564 + 128
    skin: npt.NDArray[np.bool_] = (cr >= 138) & (cr <= 173) & (cb >= 77) & (cb <= 127) & (y > 60)
    return skin


def fabric_pixels(image_bgr: UInt8Array, mask: npt.NDArray[np.bool_], gains_bgr: FloatArray) -> FloatArray:
    """White-balanced sRGB pixels of the garment's inside, without skin and clipped highlights."""
    area = int(mask.sum())
    if area == 0:
        return np.zeros((0, 3))
    ys, xs = np.nonzero(mask)
    size = max(int(ys.max() - ys.min()), int(xs.max() - xs.min()), 1)
    radius = max(1, round(size * 0.03))
    eroded = cv2.erode(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2))
    inner = eroded.astype(bool) if eroded.sum() >= max(_MIN_PIXELS, area * 0.2) else mask
    raw = image_bgr[inner][:, ::-1]
    if len(raw) > _MAX_SAMPLES * 4:
        raw = raw[np.random.default_rng(0).choice(len(raw), _MAX_SAMPLES * 4, replace=False)]
    rgb = apply_gains(raw, gains_bgr)
    keep = np.ones(len(rgb), bool)
    skin = is_skin(rgb)
    if skin.mean() < 0.5:  # a garment mostly of skin tone keeps its pixels
        keep &= ~skin
    clipped = raw.min(axis=1) >= 250
    if clipped.mean() < 0.5:  # a white garment is mostly "clipped"; a sheen on dark cloth is not
        keep &= ~clipped
    if keep.sum() >= _MIN_PIXELS:
        rgb = rgb[keep]
    if len(rgb) > _MAX_SAMPLES:
        rgb = rgb[np.random.default_rng(1).choice(len(rgb), _MAX_SAMPLES, replace=False)]
    return rgb


def _clusters(rgb: FloatArray) -> tuple[npt.NDArray[np.intp], int]:
    """k-means labels in CIELAB (deterministic seed) and the number of clusters used."""
    k = min(_KMEANS_K, max(1, len(rgb) // 50))
    if k == 1:
        return np.zeros(len(rgb), np.intp), 1
    lab = srgb_to_lab(rgb).astype(np.float32)
    cv2.setRNGSeed(7)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, labels, _ = cv2.kmeans(lab, k, np.zeros((len(lab), 1), np.int32), criteria, 2, cv2.KMEANS_PP_CENTERS)
    return labels.ravel().astype(np.intp), k


def cluster_pixels(rgb: FloatArray) -> tuple[FloatArray, FloatArray]:
    """k-means clusters of fabric pixels: each cluster's median sRGB colour and its pixel count."""
    labels, k = _clusters(rgb)
    centres = np.array([np.median(rgb[labels == c], axis=0) if np.any(labels == c) else np.zeros(3) for c in range(k)])
    return centres, np.bincount(labels, minlength=k).astype(np.float64)


def describe_clusters(
    centres: FloatArray, counts: FloatArray, table: ColourTable, basic: str | None = None
) -> ColourResult:
    """Name clusters, pool those with the same basic term; the largest pool wins unless ``basic`` is given.

    ``basic`` is the learned stage's decision. Its own pool leads the palette when it holds a
    real part of the fabric (at least half the largest pool); otherwise the stage has renamed
    the largest pool itself (a dark navy the table calls black, a light grey it calls white),
    so that pool leads under the stage's term.
    """
    k = len(centres)
    basic_idx, name_idx = table.name_fabric(centres)
    pools: dict[int, float] = {}
    for c in range(k):
        pools[int(basic_idx[c])] = pools.get(int(basic_idx[c]), 0.0) + counts[c]
    order = sorted(pools, key=lambda b: -pools[b])
    if basic is not None:
        wanted = BASIC_TERMS.index(basic)
        if pools.get(wanted, 0.0) >= 0.5 * pools[order[0]]:
            order.remove(wanted)
            order.insert(0, wanted)
    total = counts.sum()
    palette = []
    for b in order[:3]:
        best = max((c for c in range(k) if basic_idx[c] == b), key=lambda c: counts[c])
        palette.append(PaletteEntry(to_hex(centres[best]), BASIC_TERMS[b], float(round(pools[b] / total, 3))))
    # The largest cluster of the leading pool gives the hex and the finer name.
    best = max((c for c in range(k) if basic_idx[c] == order[0]), key=lambda c: counts[c])
    name = table.names[int(name_idx[best])]
    if basic is not None and basic != palette[0].basic:  # the stage renamed the leading pool
        name = basic
        palette[0] = replace(palette[0], basic=basic)
        palette = [palette[0], *(p for p in palette[1:] if p.basic != basic)]
    return ColourResult(palette[0].basic, name, palette[0].hex, tuple(palette))


@dataclass(frozen=True)
class FabricAnalysis:
    """What steps 1–3 measured for one garment: the corrections, the fabric pixels and their k-means clusters.

    The clusters are not named yet: naming and pooling them (the rest of step 3, with step 4's
    achromatic rule in ``ColourTable.name_fabric``) is ``describe_analysis``'s.
    """

    gains: FloatArray  # B, G, R linear gains (white balance × exposure)
    exposure: float
    rgb: FloatArray  # fabric pixels, corrected sRGB 0–255
    centres: FloatArray
    counts: FloatArray
    background_lab: FloatArray  # corrected CIELAB of a sample of the surroundings (may be empty)


def analyse_fabric(
    image_bgr: UInt8Array, mask: npt.NDArray[np.bool_] | UInt8Array, white_balance: bool = True
) -> FabricAnalysis:
    """Steps 1–3 up to the k-means for the garment under ``mask``: corrections, clean fabric pixels, clusters."""
    garment: npt.NDArray[np.bool_] = np.asarray(mask, dtype=np.uint8) > 0
    if garment.shape != image_bgr.shape[:2]:
        raise ValueError(f"mask shape {garment.shape} does not match image shape {image_bgr.shape[:2]}")
    wb = white_balance_gains(image_bgr, garment) if white_balance else np.ones(3)
    exposure = exposure_gain(image_bgr, wb)
    gains = wb * exposure
    rgb = fabric_pixels(image_bgr, garment, gains)
    if len(rgb) == 0:
        raise ValueError("no garment pixels to name a colour from; check the mask")
    centres, counts = cluster_pixels(rgb)
    return FabricAnalysis(gains, exposure, rgb, centres, counts, _background_lab(image_bgr, garment, gains))


def _background_lab(image_bgr: UInt8Array, garment: npt.NDArray[np.bool_], gains_bgr: FloatArray) -> FloatArray:
    """Corrected CIELAB of up to ~1,000 pixels around the garment (a grid sample outside the mask)."""
    stride = max(1, int(np.sqrt(garment.size / 2000)))
    outside = ~garment[::stride, ::stride]
    pixels = image_bgr[::stride, ::stride][outside][:, ::-1]
    lin = LINEAR_OF_BYTE[pixels].astype(np.float64) * gains_bgr[::-1]
    return linear_to_lab(np.clip(lin, 0.0, 1.0))


def _colour_features(lab: FloatArray) -> list[float]:
    """Lightness, chroma, hue (faded out where chroma is within noise) and a, b of one CIELAB colour."""
    chroma = float(np.hypot(lab[1], lab[2]))
    weight = float(np.tanh(chroma / 8.0))
    hue = float(np.arctan2(lab[2], lab[1]))
    return [lab[0] / 100, chroma / 50, weight * np.cos(hue), weight * np.sin(hue), lab[1] / 50, lab[2] / 50]


def garment_features(analysis: FabricAnalysis, table: ColourTable) -> FloatArray:
    """The learned stage's input (``FEATURE_NAMES``) from a garment's fabric analysis and the table."""
    centres, counts = analysis.centres, analysis.counts
    basic_idx, _ = table.name_fabric(centres)
    pool = np.bincount(basic_idx, weights=counts, minlength=len(BASIC_TERMS)) / counts.sum()
    rules = np.zeros(len(BASIC_TERMS))
    rules[int(pool.argmax())] = 1.0
    winner = max((c for c in range(len(centres)) if basic_idx[c] == pool.argmax()), key=lambda c: counts[c])
    centre_lab = srgb_to_lab(centres)
    pixel_lab = srgb_to_lab(analysis.rgb)
    l10, l50, l90 = np.percentile(pixel_lab[:, 0], (10, 50, 90))
    c50 = float(np.median(np.hypot(pixel_lab[:, 1], pixel_lab[:, 2])))
    bg = analysis.background_lab
    bg_l = float(np.median(bg[:, 0])) if len(bg) else l50
    bg_c = float(np.median(np.hypot(bg[:, 1], bg[:, 2]))) if len(bg) else 0.0
    gains = analysis.gains
    return np.array(
        [
            *pool,
            *rules,
            *_colour_features(centre_lab[winner]),
            *_colour_features(centre_lab[int(counts.argmax())]),
            l10 / 100, l50 / 100, l90 / 100, c50 / 50,
            bg_l / 100, (l50 - bg_l) / 100, bg_c / 50,
            np.log(analysis.exposure), np.log(gains[2] / gains[0]),
        ]
    )


def describe_colour(
    image_bgr: UInt8Array, mask: npt.NDArray[np.bool_] | UInt8Array, table: ColourTable, white_balance: bool = True
) -> ColourResult:
    """Colour of the garment under ``mask`` (H×W, nonzero = garment) in an OpenCV BGR frame."""
    analysis = analyse_fabric(image_bgr, mask, white_balance)
    return describe_analysis(analysis, table)


def describe_analysis(analysis: FabricAnalysis, table: ColourTable) -> ColourResult:
    """The clusters named and pooled (step 3, with step 4 in ``ColourTable.name_fabric``) and, when the table
    ships one, the learned stage (steps 5 and 6), on a fabric analysis."""
    if table.fabric is None:
        return describe_clusters(analysis.centres, analysis.counts, table)
    probabilities = table.fabric.probabilities(garment_features(analysis, table))[0]
    result = describe_clusters(analysis.centres, analysis.counts, table, table.fabric.decide(probabilities))
    return replace(result, alternative=runner_up(probabilities, result.basic, DOUBT_BELOW))


__all__ = [
    # Re-exported for importers outside this module's owners: mirror/pipeline/models.py (ColourTable) and
    # tests/test_vocab.py, test_analyze.py, test_pipeline.py, test_ui_screens.py (BASIC_TERMS).
    "BASIC_TERMS",
    "DOUBT_BELOW",
    "ColourResult",
    "ColourTable",
    "FabricAnalysis",
    "analyse_fabric",
    "apply_gains",
    "cluster_pixels",
    "describe_analysis",
    "describe_clusters",
    "describe_colour",
    "exposure_gain",
    "fabric_pixels",
    "garment_features",
    "is_skin",
    "white_balance_gains",
]
