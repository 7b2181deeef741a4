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
4. **Achromatic decision** before naming: a cluster whose chroma is within the camera's
   neutral noise (see ``AchromaticRule``) is named as the grey of its lightness, so a
   slightly cool black jacket is not "blue" and a faintly tinted grey is not "blue" either.
5. **Learned fabric stage** (``FabricStage``, when ``models/colour`` ships one): a small
   softmax model over features of steps 1–4 (the table's basic-term shares of the fabric
   clusters, the dominant clusters' CIELAB, the fabric's lightness against its surroundings)
   makes the final basic-term decision. Why: the table names screen colours; whether a
   photographed light grey is "white" or a dark navy "black" depends on the fabric against
   its room, which hand-set thresholds could not capture without over-fitting. It is fitted
   by ``models.training.colour_fit`` on by-eye labels of training photos.
6. **Doubt**: when the stage gives the final term less than ``DOUBT_BELOW``, the result also
   names the runner-up (``alternative``), so the mirror can ask "grey, or white?" instead of
   filing a guess silently, as the classifier's ``unsure`` does for the category.

Stable API: ``ColourTable.load(folder)``, ``describe_colour(image_bgr, mask, table)`` ->
``ColourResult(basic, name, hex, palette, alternative)`` (the palette in the store's
``PaletteEntry``, the one palette type); ``garment_features`` (the learned stage's input,
also used by its fit); ``srgb_to_lab``/``lab_to_srgb`` (also used by
the build code so that table and runtime share one colour space).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from mirror.manifest import ManifestError, ModelManifest
from mirror.store.records import PaletteEntry
from mirror.vocab import BASIC_TERMS as BASIC_TERMS  # re-exported: the table stores term indices in this order

FloatArray = npt.NDArray[np.float64]
UInt8Array = npt.NDArray[np.uint8]

#: Bins per sRGB channel in the lookup table (index with ``value >> BIN_SHIFT``).
BINS = 32
BIN_SHIFT = 3

_D65 = np.array([0.95047, 1.0, 1.08883])
_RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)

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


def _srgb_lut() -> npt.NDArray[np.float32]:
    """Linear light of each 8-bit sRGB value: a lookup replaces the power function on uint8 pixels."""
    v = np.arange(256) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


_LINEAR_OF_BYTE = _srgb_lut()


def srgb_to_linear(rgb01: FloatArray) -> FloatArray:
    """sRGB in [0, 1] -> linear light."""
    return np.where(rgb01 <= 0.04045, rgb01 / 12.92, ((rgb01 + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(lin: FloatArray) -> FloatArray:
    """Linear light -> sRGB in [0, 1] (clipped)."""
    lin = np.clip(lin, 0.0, 1.0)
    return np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)


def srgb_to_lab(rgb: npt.ArrayLike) -> FloatArray:
    """sRGB (0–255, shape ``(..., 3)``) -> CIELAB (D65)."""
    return linear_to_lab(srgb_to_linear(np.asarray(rgb, dtype=np.float64) / 255.0))


def linear_to_lab(lin: npt.NDArray[np.floating[Any]]) -> FloatArray:
    """Linear-light RGB (shape ``(..., 3)``) -> CIELAB (D65); keeps the input's float precision."""
    xyz = lin @ _RGB_TO_XYZ.T.astype(lin.dtype) / _D65.astype(lin.dtype)
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def lab_to_srgb(lab: npt.ArrayLike) -> FloatArray:
    """CIELAB (D65, shape ``(..., 3)``) -> sRGB 0–255 (float, clipped to the gamut)."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    xyz = np.where(f > 6 / 29, f**3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * _D65
    return linear_to_srgb(xyz @ _XYZ_TO_RGB.T) * 255.0


def to_hex(rgb: npt.ArrayLike) -> str:
    """``#rrggbb`` of an sRGB triple."""
    r, g, b = (round(float(v)) for v in np.clip(np.asarray(rgb, dtype=np.float64), 0, 255))
    return f"#{r:02x}{g:02x}{b:02x}"


@dataclass(frozen=True)
class SurfaceAdaptation:
    """Map a photographed fabric's colour to the screen colour the survey would name the same.

    The survey named self-luminous screen patches: only near-black pixels were "black" and
    only near-white ones "white". A black T-shirt in a photo is dark grey on screen and a
    white one light grey, yet people name the fabric, not the pixel. This stretches CIELAB
    lightness so that ``black_l`` maps to 0 and ``white_l`` to 100 (mid-tones bent by
    ``gamma``: above 1 keeps a crimson red from turning pink) and scales chroma by
    ``chroma_gain``. The values ship in ``models/colour/model.json``.
    """

    black_l: float = 0.0
    white_l: float = 100.0
    gamma: float = 1.0
    chroma_gain: float = 1.0

    def apply(self, rgb: npt.ArrayLike) -> FloatArray:
        """Adapted sRGB (0–255) of photographed sRGB pixels."""
        lab = srgb_to_lab(rgb)
        stretched = np.clip((lab[..., 0] - self.black_l) / (self.white_l - self.black_l), 0, 1)
        lab[..., 0] = 100.0 * stretched**self.gamma
        lab[..., 1:] *= self.chroma_gain
        return lab_to_srgb(lab)


@dataclass(frozen=True)
class AchromaticRule:
    """Which clusters are neutral (black/grey/white) whatever tint the table would read in them.

    The survey named screen patches, where a chroma of 8 at mid lightness is a visible blue;
    on a photographed garment the same chroma is sensor noise, a residual cast or a cool
    sheen on black cloth. A cluster is neutral when its chroma (CIELAB, after white balance)
    is below ``chroma`` at lightness >= ``dark_l``; in the dark, where noise and casts scale
    with the signal, when chroma / lightness is below ``dark_ratio`` (navy keeps a ratio well
    above it). Neutral clusters are then named as the grey of their lightness. Chosen on the
    calibration half of the by-eye labels only (``colour_eval --search-achromatic``).
    """

    chroma: float = 10.0
    dark_ratio: float = 0.4
    dark_l: float = 30.0

    def neutralise(self, lab: FloatArray) -> FloatArray:
        """``lab`` with the chroma of neutral colours set to zero (a copy)."""
        lab = np.array(lab, dtype=np.float64)
        chroma = np.hypot(lab[..., 1], lab[..., 2])
        light = lab[..., 0]
        dark_limit = self.dark_ratio * np.maximum(light, 1.0)
        neutral = np.where(light >= self.dark_l, chroma < self.chroma, chroma < dark_limit)
        lab[neutral, 1:] = 0.0
        return lab


#: Names of the learned stage's inputs, in order (``garment_features``). A shipped stage whose
#: list differs was fitted for other code and is refused at load.
FEATURE_NAMES: tuple[str, ...] = (
    *(f"pool_{t}" for t in BASIC_TERMS),  # share of the fabric clusters the table names t
    *(f"rules_{t}" for t in BASIC_TERMS),  # one-hot: the table's largest pool (the answer without the stage)
    *(f"winner_{f}" for f in ("l", "c", "hue_cos", "hue_sin", "a", "b")),  # largest cluster of that pool
    *(f"largest_{f}" for f in ("l", "c", "hue_cos", "hue_sin", "a", "b")),  # largest cluster overall
    "fabric_l10", "fabric_l50", "fabric_l90", "fabric_c50",  # fabric pixel lightness percentiles, chroma
    "background_l", "fabric_minus_background_l", "background_c",  # the garment's surroundings
    "log_exposure", "log_red_over_blue",  # the corrections applied
)


@dataclass(frozen=True)
class FabricStage:
    """The learned basic-term decision: a softmax layer (optionally after one tanh layer).

    ``mean``/``std`` standardise ``garment_features``; ``hidden`` is ``(w, b)`` of the tanh
    layer or empty for plain multinomial logistic regression; ``out`` is the softmax layer.
    The stage overrides the table only when its best term has at least ``min_confidence``:
    the by-eye labels skip doubtful colours (beige, cream, peach, teal…), so on those the
    stage has seen nothing and is unsure, and the table, which the survey taught every
    colour, is the better judge. Fitted by ``models.training.colour_fit``; a few KB.
    """

    mean: FloatArray
    std: FloatArray
    hidden: tuple[FloatArray, ...]
    out_w: FloatArray
    out_b: FloatArray
    min_confidence: float = 0.0

    @classmethod
    def load(cls, path: Path) -> FabricStage:
        """Read a stage written by ``colour_fit``; ManifestError when it does not fit this code."""
        try:
            with np.load(path, allow_pickle=False) as data:
                features = tuple(str(f) for f in data["features"])
                hidden = (data["hidden_w"].astype(np.float64), data["hidden_b"].astype(np.float64))
                stage = cls(
                    mean=data["mean"].astype(np.float64),
                    std=data["std"].astype(np.float64),
                    hidden=hidden if hidden[0].size else (),
                    out_w=data["out_w"].astype(np.float64),
                    out_b=data["out_b"].astype(np.float64),
                    min_confidence=float(data["min_confidence"]),
                )
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise ManifestError(f"{path}: unreadable fabric stage ({exc}); reinstall models/colour") from exc
        if features != FEATURE_NAMES or stage.out_w.shape[1] != len(BASIC_TERMS):
            raise ManifestError(f"{path}: fabric stage fitted for other features; refit it with colour_fit")
        return stage

    def probabilities(self, features: FloatArray) -> FloatArray:
        """Basic-term probabilities (rows of ``features`` -> rows of 11)."""
        x = (np.atleast_2d(features) - self.mean) / self.std
        if self.hidden:
            x = np.tanh(x @ self.hidden[0] + self.hidden[1])
        z = x @ self.out_w + self.out_b
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return np.asarray(z / z.sum(axis=1, keepdims=True))

    def decide(self, probabilities: FloatArray) -> str | None:
        """The stage's basic term from one garment's ``probabilities``, or None where it is not confident
        enough to override (the probabilities are passed in: the doubt step reads them too)."""
        best = int(probabilities.argmax())
        return BASIC_TERMS[best] if probabilities[best] >= self.min_confidence else None


def runner_up(probabilities: FloatArray, basic: str, doubt_below: float = DOUBT_BELOW) -> str | None:
    """The most likely other term when ``basic`` has less than ``doubt_below``; None when the answer is clear."""
    final = BASIC_TERMS.index(basic)
    if probabilities[final] >= doubt_below:
        return None
    others = probabilities.copy()
    others[final] = -1.0
    return BASIC_TERMS[int(others.argmax())]


@dataclass(frozen=True)
class ColourTable:
    """The shipped lookup: for each 8×8×8 sRGB bin, its basic term and its finer name."""

    basic: UInt8Array  # (BINS, BINS, BINS) index into BASIC_TERMS
    name: npt.NDArray[np.uint16]  # (BINS, BINS, BINS) index into names
    names: tuple[str, ...]
    version: str = "dev"
    surface: SurfaceAdaptation = SurfaceAdaptation()
    achromatic: AchromaticRule = AchromaticRule()
    fabric: FabricStage | None = None  # the learned stage; None: the table's largest pool decides

    @classmethod
    def load(cls, folder: Path, with_fabric: bool = True) -> ColourTable:
        """Read ``folder/model.json``, its ``table`` and (unless ``with_fabric`` is off) ``fabric`` files.

        Raise ManifestError on a bad install. ``colour_fit`` reads the table alone, since it
        is about to replace the stage.
        """
        manifest = ModelManifest.load(folder)
        path = manifest.path("table")
        try:
            with np.load(path, allow_pickle=False) as data:
                table = cls(
                    basic=np.asarray(data["basic"], dtype=np.uint8),
                    name=np.asarray(data["name"], dtype=np.uint16),
                    names=tuple(str(n) for n in data["names"]),
                    version=manifest.version,
                    surface=SurfaceAdaptation(**{k: float(v) for k, v in manifest.meta.get("surface", {}).items()}),
                )
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise ManifestError(f"{path}: unreadable colour table ({exc}); reinstall models/colour") from exc
        if table.basic.shape != (BINS, BINS, BINS) or table.name.shape != table.basic.shape:
            raise ManifestError(f"{path}: colour table has shape {table.basic.shape}; rebuild it with colour_build")
        if with_fabric and "fabric" in manifest.files:
            table = replace(table, fabric=FabricStage.load(manifest.path("fabric")))
        return table

    def lookup(self, rgb: npt.ArrayLike) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """Basic-term index and name index of sRGB triples (0–255, shape ``(..., 3)``)."""
        idx = np.clip(np.rint(np.asarray(rgb, dtype=np.float64)), 0, 255).astype(np.intp) >> BIN_SHIFT
        r, g, b = idx[..., 0], idx[..., 1], idx[..., 2]
        return self.basic[r, g, b].astype(np.intp), self.name[r, g, b].astype(np.intp)

    def name_fabric(self, rgb: npt.ArrayLike) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """Basic-term and name indices of photographed fabric colours: step 4 (the achromatic rule), then the
        surface adaptation, then the table."""
        neutral = lab_to_srgb(self.achromatic.neutralise(srgb_to_lab(rgb)))
        return self.lookup(self.surface.apply(neutral))


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
    lin = _LINEAR_OF_BYTE[pixels[:, ::-1]]  # float32 linear RGB, converted once
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
    luminance = _LINEAR_OF_BYTE[small] @ (gains_bgr * _RGB_TO_XYZ[1][::-1]).astype(np.float32)
    reference = float(np.percentile(luminance, 98)) if len(luminance) else 1.0
    return float(np.clip(1.0 / max(reference, 1e-3), 1.0, _MAX_EXPOSURE))


def apply_gains(pixels_rgb: UInt8Array | FloatArray, gains_bgr: FloatArray) -> FloatArray:
    """Apply linear-light gains (B, G, R order) to sRGB pixels (0–255, RGB order)."""
    if isinstance(pixels_rgb, np.ndarray) and pixels_rgb.dtype == np.uint8:
        lin = _LINEAR_OF_BYTE[pixels_rgb].astype(np.float64) * gains_bgr[::-1]
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
    lin = _LINEAR_OF_BYTE[pixels].astype(np.float64) * gains_bgr[::-1]
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
    return replace(result, alternative=runner_up(probabilities, result.basic))
