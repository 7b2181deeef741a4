"""The loadable colour model: the shipped ``models/colour`` files and what they name.

One job: read ``models/colour`` (``model.json``, the lookup table, the learned fabric stage)
and turn colours into basic terms and finer names with it: the table's lookup, the surface
adaptation and the achromatic rule it applies first, and the stage's decision over
``FEATURE_NAMES``. Why separate: this is the model artefact's code, shared by the runtime
(``mirror.vision.colour``, which measures a garment's fabric and hands its colours here) and
by the training code that writes and tunes the files (``models.training.colour_build``,
``colour_eval``, ``colour_fit``); it needs no OpenCV and knows nothing of photos or masks.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mirror.manifest import ManifestError, ModelManifest
from mirror.vision.colourspace import FloatArray, lab_to_srgb, srgb_to_lab
from mirror.vocab import BASIC_TERMS  # the table stores term indices in this order

#: What ``np.load`` of a damaged ``.npz`` raises (a truncated file is a bad zip, not an OSError).
UNREADABLE = (OSError, EOFError, KeyError, ValueError, TypeError, zipfile.BadZipFile)

#: Bins per sRGB channel in the lookup table (index with ``value >> BIN_SHIFT``).
BINS = 32
BIN_SHIFT = 3


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
        except UNREADABLE as exc:
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


def _surface(value: object) -> SurfaceAdaptation:
    """``meta.surface``: an object of :class:`SurfaceAdaptation`'s numbers; ValueError otherwise.

    Read before the table so that a bad value is blamed on ``model.json``, not on the ``.npz``.
    """
    known = [f.name for f in fields(SurfaceAdaptation)]
    if not isinstance(value, dict) or not all(k in known and _is_number(v) for k, v in value.items()):
        raise ValueError(f"expected numbers for some of {', '.join(known)}, got {value!r}")
    surface = SurfaceAdaptation(**{k: float(v) for k, v in value.items()})
    if not surface.white_l > surface.black_l:
        raise ValueError(f"white_l must be above black_l, got {value!r}")
    return surface


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def runner_up(probabilities: FloatArray, basic: str, doubt_below: float) -> str | None:
    """The most likely other term when ``basic`` has less than ``doubt_below``; None when the answer is clear.

    ``doubt_below`` is the caller's policy (the pipeline's ``mirror.vision.colour.DOUBT_BELOW``)."""
    final = BASIC_TERMS.index(basic)
    if probabilities[final] >= doubt_below:
        return None
    others = probabilities.copy()
    others[final] = -1.0
    return BASIC_TERMS[int(others.argmax())]


@dataclass(frozen=True)
class ColourTable:
    """The shipped lookup: for each 8×8×8 sRGB bin, its basic term and its finer name."""

    basic: npt.NDArray[np.uint8]  # (BINS, BINS, BINS) index into BASIC_TERMS
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
        surface = manifest.read_meta("surface", _surface, {})
        path = manifest.path("table")
        try:
            with np.load(path, allow_pickle=False) as data:
                table = cls(
                    basic=np.asarray(data["basic"], dtype=np.uint8),
                    name=np.asarray(data["name"], dtype=np.uint16),
                    names=tuple(str(n) for n in data["names"]),
                    version=manifest.version,
                    surface=surface,
                )
        except UNREADABLE as exc:
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
        """Basic-term and name indices of photographed fabric colours: step 4 of ``mirror.vision.colour``
        (the achromatic rule), then the surface adaptation, then the table."""
        neutral = lab_to_srgb(self.achromatic.neutralise(srgb_to_lab(rgb)))
        return self.lookup(self.surface.apply(neutral))

