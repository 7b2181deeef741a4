"""Fit the learned fabric-colour stage (``models/colour/fabric_stage.npz``) on by-eye training labels.

Why a learned stage: the XKCD table (``colour_build``) names screen colours well (0.95
agreement with the survey) but a photographed garment is not a screen patch: whether a
light grey jumper on a dark bed is "white", or a dark navy T-shirt "black", depends on the
fabric against its surroundings and on the camera. Hand-set thresholds for that over-fit the
94 calibration photos. So a small softmax model makes the final decision from the table's
own reading of the fabric (``mirror.vision.colour.garment_features``: the basic-term shares
of the fabric clusters, the dominant clusters' CIELAB, lightness against the surroundings,
the corrections applied); the table stays the base.

Data: ``tests/data/colour_labels_train.csv`` and ``colour_labels_train_boundary.csv`` (by eye,
training photos, no sender shared with the validation labels; the second names the boundary colours
the first skips; ``skip`` rows are left out; see ``tests/data/README.md``). Regions come from the shipped segmenter
exactly as the mirror makes them (``colour_data.RegionSource("mirror")``). The model type and
L2 strength are chosen by 5-fold cross-validation **grouped by sender** on these labels only;
the validation labels (``colour_eval``) are never read here. ``--baseline-labels`` also
cross-validates a stage fitted only on the photos of those files, with the same folds, and scores both
on the same held-out photos: how a new label file is judged (on training labels, never on
validation). The fit is deterministic (zero or seeded initialisation, full-batch Adam for a fixed
number of steps, float64).

    python -m models.training.colour_fit --out models/colour
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mirror.manifest import default_models_dir, sha256_of
from mirror.vision.colour import analyse_fabric, garment_features
from mirror.vision.colour_model import FEATURE_NAMES, ColourTable, FabricStage
from mirror.vocab import BASIC_TERMS
from models.training.colour_data import RegionSource, doubtful, load_image, named, senders

Array = npt.NDArray[np.float64]
STAGE_FILE = "fabric_stage.npz"
STAGE_VERSION = "1.3.0"  # the colour model's version with this stage
FOLDS = 5
STEPS = 1500
#: The training label files read by default, in this order (photos named in two files are refused).
LABELS = (Path("tests/data/colour_labels_train.csv"), Path("tests/data/colour_labels_train_boundary.csv"))
#: The grid searched by grouped cross-validation: hidden tanh units (0 = logistic regression) × L2.
HIDDEN = (0, 8)
#: The stage overrides the table only at this probability or more ("more likely than not").
#: Not tuned for accuracy: on the training labels' cross-validation it costs 1 photo of 407
#: against no gate, and it keeps the table's answer on colours the labels skip by rule
#: (a peach or beige garment alone on a dark floor, which the ungated stage calls white).
MIN_CONFIDENCE = 0.5
L2 = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)


@dataclass(frozen=True)
class Params:
    """A fitted stage: standardisation and layers (``hidden_w`` empty for logistic regression)."""

    mean: Array
    std: Array
    hidden_w: Array
    hidden_b: Array
    out_w: Array
    out_b: Array

    def stage(self, min_confidence: float = MIN_CONFIDENCE) -> FabricStage:
        hidden = (self.hidden_w, self.hidden_b) if self.hidden_w.size else ()
        return FabricStage(self.mean, self.std, hidden, self.out_w, self.out_b, min_confidence)


def collect(
    rows: Sequence[tuple[str, str]], clothing: Path, regions: RegionSource, table: ColourTable
) -> tuple[Array, npt.NDArray[np.intp]]:
    """Features and label indices of labelled photos, through the regions the mirror makes."""
    features, labels = [], []
    for name, basic in rows:
        image, mask = regions.region(load_image(clothing, name), name)
        features.append(garment_features(analyse_fabric(image, mask), table))
        labels.append(BASIC_TERMS.index(basic))
    return np.array(features), np.array(labels, dtype=np.intp)


def fit(x: Array, y: npt.NDArray[np.intp], hidden: int, l2: float, seed: int = 0) -> Params:
    """Softmax regression (``hidden == 0``) or one tanh layer + softmax, mean cross-entropy + L2 on weights."""
    mean = x.mean(0)
    std = np.where(x.std(0) > 1e-6, x.std(0), 1.0)
    z = (x - mean) / std
    n, f = z.shape
    k = len(BASIC_TERMS)
    onehot = np.eye(k)[y]
    rng = np.random.default_rng(seed)
    weights: list[Array] = []
    if hidden:
        weights += [rng.normal(0, 1 / np.sqrt(f), (f, hidden)), np.zeros(hidden)]
        weights += [rng.normal(0, 1 / np.sqrt(hidden), (hidden, k)), np.zeros(k)]
    else:
        weights += [np.zeros((f, k)), np.zeros(k)]
    m = [np.zeros_like(w) for w in weights]
    v = [np.zeros_like(w) for w in weights]
    lr, b1, b2 = 0.02, 0.9, 0.999
    for step in range(1, STEPS + 1):
        grads = _gradients(weights, z, onehot, l2, n)
        for i, g in enumerate(grads):
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            weights[i] = weights[i] - lr * (m[i] / (1 - b1**step)) / (np.sqrt(v[i] / (1 - b2**step)) + 1e-8)
    empty = np.zeros((0,))
    if hidden:
        return Params(mean, std, weights[0], weights[1], weights[2], weights[3])
    return Params(mean, std, empty.reshape(0, 0), empty, weights[0], weights[1])


def _gradients(weights: list[Array], z: Array, onehot: Array, l2: float, n: int) -> list[Array]:
    """Gradients of mean cross-entropy + ``l2`` × squared weights (biases not penalised)."""
    if len(weights) == 4:
        h = np.tanh(z @ weights[0] + weights[1])
        p = _softmax(h @ weights[2] + weights[3])
        d_out = (p - onehot) / n
        d_h = (d_out @ weights[2].T) * (1 - h * h)
        return [z.T @ d_h + 2 * l2 * weights[0], d_h.sum(0), h.T @ d_out + 2 * l2 * weights[2], d_out.sum(0)]
    p = _softmax(z @ weights[0] + weights[1])
    d_out = (p - onehot) / n
    return [z.T @ d_out + 2 * l2 * weights[0], d_out.sum(0)]


def _softmax(logits: Array) -> Array:
    e = np.exp(logits - logits.max(1, keepdims=True))
    return np.asarray(e / e.sum(1, keepdims=True))


def grouped_folds(groups: Sequence[str], folds: int = FOLDS, seed: int = 0) -> npt.NDArray[np.intp]:
    """Fold of each sample; all photos of one sender in one fold, folds balanced by photo count."""
    sizes: dict[str, int] = {}
    for g in groups:
        sizes[g] = sizes.get(g, 0) + 1
    order = sorted(sizes)
    random.Random(seed).shuffle(order)
    order.sort(key=lambda g: -sizes[g])  # stable: shuffled within equal sizes
    load = [0] * folds
    fold_of: dict[str, int] = {}
    for g in order:
        fold_of[g] = int(np.argmin(load))
        load[fold_of[g]] += sizes[g]
    return np.array([fold_of[g] for g in groups], dtype=np.intp)


def cross_validate(
    x: Array, y: npt.NDArray[np.intp], folds: npt.NDArray[np.intp], hidden: int, l2: float, gate: float = 0.0
) -> float:
    """Accuracy over the held-out folds (each fold predicted by a model fitted on the others).

    With ``gate``, a prediction below that probability falls back to the table's answer, as at runtime.
    """
    return float(np.mean(held_out_hits(x, y, folds, hidden, l2, gate)))


def held_out_hits(
    x: Array, y: npt.NDArray[np.intp], folds: npt.NDArray[np.intp], hidden: int, l2: float, gate: float = 0.0,
    fit_on: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.bool_]:
    """Per photo: is its held-out prediction right? ``fit_on`` limits the photos each fold's model is
    fitted on (a baseline trained on fewer labels), while every photo is still predicted."""
    hits = np.zeros(len(y), np.bool_)
    for f in range(int(folds.max()) + 1):
        train, test = folds != f, folds == f
        if fit_on is not None:
            train = train & fit_on
        p = fit(x[train], y[train], hidden, l2).stage().probabilities(x[test])
        pred = p.argmax(1)
        if gate > 0:  # the table's answer: the one-hot "rules_*" features
            rules = x[test][:, len(BASIC_TERMS) : 2 * len(BASIC_TERMS)].argmax(1)
            pred = np.where(p.max(1) >= gate, pred, rules)
        hits[test] = pred == y[test]
    return hits


def save(params: Params, out: Path, meta: dict[str, Any]) -> None:
    """Write the stage (float32) and add it to ``out/model.json`` (file, SHA-256, version, figures)."""
    path = out / STAGE_FILE
    with path.open("wb") as handle:
        np.savez_compressed(
            handle,
            features=np.array(FEATURE_NAMES),
            min_confidence=np.float32(MIN_CONFIDENCE),
            **{k: np.asarray(getattr(params, k), np.float32) for k in ("mean", "std", "hidden_w", "hidden_b",
                                                                       "out_w", "out_b")},
        )
    manifest_path = out / "model.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["version"] = STAGE_VERSION
    manifest["files"]["fabric"] = STAGE_FILE
    manifest["sha256"][STAGE_FILE] = sha256_of(path)
    manifest["meta"]["fabric"] = meta
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clothing", type=Path, default=Path("../shared/data/clothing"))
    parser.add_argument("--labels", type=Path, nargs="+", default=list(LABELS), help="training label files")
    parser.add_argument("--baseline-labels", type=Path, nargs="+",
                        help="also cross-validate a stage fitted on these files' photos only, same folds")
    parser.add_argument("--models", type=Path, default=default_models_dir(), help="shipped segmenter and table")
    parser.add_argument("--out", type=Path, default=Path("models/colour"))
    parser.add_argument("--features", type=Path, help="cache the features here (.npz) and reuse them")
    parser.add_argument("--clear-only", action="store_true",
                        help="leave out photos flagged doubt=1 (labeller 1's rule: doubtful colours skipped)")
    args = parser.parse_args(argv)
    if not args.clothing.is_dir():
        raise SystemExit(f"{args.clothing}: missing; the labelled photos live in ../shared/data/clothing")
    rows = [row for path in args.labels for row in named(path)]
    if args.clear_only:
        doubt = frozenset().union(*(doubtful(path) for path in args.labels))
        rows = [row for row in rows if row[0] not in doubt]
    if len({name for name, _ in rows}) < len(rows):
        raise SystemExit("a photo is labelled in two of the --labels files; keep one label per photo")
    table = ColourTable.load(args.models / "colour", with_fabric=False)  # the features read the table alone
    regions = RegionSource("mirror", args.models)
    if args.features and args.features.is_file():
        cached = np.load(args.features)
        x, y = cached["x"], cached["y"]
        if len(y) != len(rows):
            raise SystemExit(f"{args.features}: cached for {len(y)} photos, the labels name {len(rows)}; delete it")
    else:
        x, y = collect(rows, args.clothing, regions, table)
        if args.features:
            np.savez(args.features, x=x, y=y)
    sender = senders(args.clothing)
    folds = grouped_folds([sender[name] for name, _ in rows])
    rules_acc = float(np.mean(x[:, len(BASIC_TERMS) : 2 * len(BASIC_TERMS)].argmax(1) == y))
    scores = {(h, l2): cross_validate(x, y, folds, h, l2) for h, l2 in itertools.product(HIDDEN, L2)}
    for (h, l2), acc in scores.items():
        print(f"hidden {h:2d}  l2 {l2:g}  cv accuracy {acc:.4f}")
    # Best cross-validated accuracy; ties go to the simpler model, then to the stronger penalty.
    hidden, l2 = max(scores, key=lambda p: (round(scores[p], 4), -p[0], p[1]))
    params = fit(x, y, hidden, l2)
    meta = {
        "model": "softmax regression" if hidden == 0 else f"one tanh layer ({hidden}) + softmax",
        "hidden": hidden,
        "l2": l2,
        "train_labels": len(y),
        "label_files": [str(p) for p in args.labels],
        "train_senders": len({sender[name] for name, _ in rows}),
        "cv_accuracy_ungated": round(scores[(hidden, l2)], 4),
        "min_confidence": MIN_CONFIDENCE,
        "cv_accuracy": round(cross_validate(x, y, folds, hidden, l2, MIN_CONFIDENCE), 4),
        "train_accuracy_table_only": round(rules_acc, 4),
        "cv": f"{FOLDS}-fold grouped by sender, grid hidden {list(HIDDEN)} x l2 {list(L2)}",
        "regions": f"mirror path (analyzer crop), segmenter {regions.segmenter_version}",
        "built_by": "python -m models.training.colour_fit --out models/colour"
        + (f" --labels {' '.join(map(str, args.labels))}" if list(args.labels) != list(LABELS) else "")
        + (" --clear-only" if args.clear_only else "")
        + (f" --baseline-labels {' '.join(map(str, args.baseline_labels))}" if args.baseline_labels else ""),
    }
    if args.baseline_labels:
        meta["baseline"] = compare_with_baseline(x, y, folds, rows, args.baseline_labels, (hidden, l2))
    save(params, args.out, meta)
    print(json.dumps(meta))


def compare_with_baseline(
    x: Array, y: npt.NDArray[np.intp], folds: npt.NDArray[np.intp], rows: Sequence[tuple[str, str]],
    baseline_files: Sequence[Path], chosen: tuple[int, float],
) -> dict[str, Any]:
    """Gated held-out accuracy of the chosen stage and of a baseline fitted only on ``baseline_files``' photos
    (its own grid choice), with the same folds, on all photos and on the baseline's photos."""
    base = {name for path in baseline_files for name, _ in named(path)}
    fit_on = np.array([name in base for name, _ in rows], np.bool_)
    grid = {(h, l2): float(np.mean(held_out_hits(x, y, folds, h, l2, fit_on=fit_on)[fit_on]))
            for h, l2 in itertools.product(HIDDEN, L2)}
    b_hidden, b_l2 = max(grid, key=lambda p: (round(grid[p], 4), -p[0], p[1]))
    new = held_out_hits(x, y, folds, *chosen, MIN_CONFIDENCE)
    old = held_out_hits(x, y, folds, b_hidden, b_l2, MIN_CONFIDENCE, fit_on)
    report: dict[str, Any] = {"baseline_files": [str(p) for p in baseline_files], "baseline_hidden": b_hidden,
                              "baseline_l2": b_l2}
    for key, sel in (("all", np.ones(len(y), np.bool_)), ("baseline_photos", fit_on), ("other_photos", ~fit_on)):
        report[key] = {"photos": int(sel.sum()), "baseline_cv": round(float(np.mean(old[sel])), 4),
                       "new_cv": round(float(np.mean(new[sel])), 4)}
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
