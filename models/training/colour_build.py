"""Build the shipped colour-naming table (``models/colour``) from ``../shared/data/colors``.

What it learns from:

- the **XKCD colour survey** as modelled by Heer & Stone (``c3_xkcd.json``): 8,325 CIELAB
  colours with how many answers gave each of 153 names. Each name is mapped to one of the
  11 basic terms by ``TERM_TO_BASIC`` below (hand-written, checked against the survey: for
  each name we looked at which basic term the same people used for the same colours; the
  overrides where the word's everyday meaning wins are marked). A colour's **survey basic
  term** is the basic term with the most answers after mapping.
- the **van de Weijer 11-term table** (``w2color_netdissect.npy``): a prior for sRGB bins
  the survey barely covers (its weight only matters where few survey colours are near).
- the **colornamer hierarchy** (``colornamer_color_hierarchy.csv``): how to spell the
  survey's run-together names ("navyblue" -> "navy blue") for the finer ``name``.

Model: for every 8×8×8 bin of the sRGB cube, a Gaussian kernel in CIELAB (sigma
``SIGMA``) over the survey colours gives a distribution over the 11 basic terms (plus the
van de Weijer prior with weight ``PRIOR``); the bin stores its argmax, and as finer name the
most-used survey name that maps to that basic term. The surface adaptation that the runtime
applies to photographed fabric before the lookup (``--black-l`` etc.) is stored in the
manifest; its defaults come from ``colour_eval --search`` (calibration half only). The learned
fabric stage on top of the table is fitted afterwards by ``colour_fit`` (kept by a rebuild that
leaves the table byte-identical). Agreement with the survey majority is
measured at every survey colour, both with the shipped table and 5-fold cross-validated
(each fold's colours left out of the kernel), and written into ``model.json``.

    python -m models.training.colour_build --colors ../shared/data/colors --out models/colour
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mirror.manifest import sha256_of
from mirror.vision.colour_model import BINS
from mirror.vision.colourspace import lab_to_srgb, srgb_to_lab
from mirror.vocab import BASIC_TERMS

VERSION = "1.0.0"
SIGMA = 5.0  # the survey colours lie on a 5-unit CIELAB grid: one grid step
PRIOR = 0.5  # van de Weijer prior weight; a bin inside the survey gathers ~15 of kernel weight
FINER_SHARE = 0.35  # a finer name replaces the plain basic term once it has this share of its answers
TABLE_FILE = "colour_table.npz"

Array = npt.NDArray[Any]

#: Every survey name -> basic term. Basic terms map to themselves. Names marked "# everyday"
#: override what the survey answers alone suggest (beige and sand are light browns to a
#: shopper; off-white and cream are whites; wine is a red), the rest follow the survey.
TERM_TO_BASIC: dict[str, str] = {
    **{t: t for t in BASIC_TERMS},
    "teal": "green", "lightblue": "blue", "limegreen": "green", "magenta": "pink", "lightgreen": "green",
    "brightgreen": "green", "skyblue": "blue", "cyan": "blue", "turquoise": "blue", "darkblue": "blue",
    "darkgreen": "green", "aqua": "blue", "olive": "green", "navyblue": "blue", "lavender": "purple",
    "fuchsia": "pink", "royalblue": "blue", "violet": "purple", "hotpink": "pink", "tan": "brown",
    "forestgreen": "green", "lightpurple": "purple", "neongreen": "green", "yellowgreen": "green",
    "maroon": "red", "darkpurple": "purple", "salmon": "pink", "peach": "orange",
    "beige": "brown",  # everyday (survey: grey 0.26, spread thin)
    "lime": "green", "seafoamgreen": "green", "mustard": "yellow", "brightblue": "blue", "lilac": "purple",
    "seagreen": "green", "palegreen": "green", "bluegreen": "green", "mint": "green", "lightbrown": "brown",
    "mauve": "purple", "darkred": "red", "greyblue": "blue", "burntorange": "orange", "darkpink": "pink",
    "indigo": "blue", "periwinkle": "blue", "bluegrey": "blue", "lightpink": "pink", "aquamarine": "green",
    "gold": "yellow", "brightpurple": "purple", "grassgreen": "green", "redorange": "red", "bluepurple": "blue",
    "greygreen": "green", "kellygreen": "green", "puke": "green", "rose": "pink", "darkteal": "blue",
    "babyblue": "blue", "paleblue": "blue", "greenyellow": "green", "brickred": "red", "lightgrey": "grey",
    "darkgrey": "grey", "brightpink": "pink", "chartreuse": "green", "purpleblue": "blue",
    "royalpurple": "purple", "burgundy": "red", "goldenrod": "yellow", "darkbrown": "brown",
    "lightorange": "orange", "darkorange": "orange", "redbrown": "brown", "paleyellow": "yellow",
    "plum": "purple",
    "offwhite": "white",  # everyday (survey: grey 0.39)
    "pinkpurple": "purple", "darkyellow": "yellow", "lightyellow": "yellow", "mustardyellow": "yellow",
    "brightred": "red", "peagreen": "green",
    "khaki": "brown",  # everyday (survey: green 0.37; khaki trousers are a light brown)
    "orangered": "red", "crimson": "red", "deepblue": "blue", "springgreen": "green",
    "cream": "white",  # everyday (survey: yellow 0.37)
    "palepink": "pink", "yelloworange": "orange", "deeppurple": "purple", "pinkred": "red",
    "pastelgreen": "green",
    "sand": "brown",  # everyday (survey: yellow 0.33)
    "rust": "brown", "lightred": "red", "taupe": "brown", "armygreen": "green", "robinseggblue": "blue",
    "huntergreen": "green", "greenblue": "green", "lightteal": "green", "cerulean": "blue", "flesh": "pink",
    "orangebrown": "orange", "slateblue": "blue", "slate": "grey", "coral": "red", "blueviolet": "blue",
    "ochre": "brown", "leafgreen": "green", "electricblue": "blue", "seablue": "blue", "midnightblue": "blue",
    "steelblue": "blue", "brick": "red", "palepurple": "purple", "mediumblue": "blue", "burntsienna": "brown",
    "darkmagenta": "purple", "eggplant": "purple", "sage": "green", "darkturquoise": "blue",
    "puce": "brown",  # everyday (survey: green 0.26, spread thin; XKCD's puce is a brown)
    "bloodred": "red", "neonpurple": "purple", "mossgreen": "green", "terracotta": "brown",
    "oceanblue": "blue", "yellowbrown": "brown", "brightyellow": "yellow", "dustyrose": "pink",
    "applegreen": "green", "neonpink": "pink", "skin": "pink", "cornflowerblue": "blue",
    "lightturquoise": "blue",
    "wine": "red",  # everyday (survey: purple 0.49)
    "deepred": "red", "azure": "blue",
}
#: Names never shown as the finer name (not how anyone describes clothes).
NAME_BLOCKLIST = frozenset({"puke", "skin", "flesh"})


def load_survey(colors: Path) -> tuple[Array, Array, list[str]]:
    """Survey colours (N×3 CIELAB), answer counts (N×terms) and the term list."""
    data = json.loads((colors / "c3_xkcd.json").read_text(encoding="utf-8"))
    terms = [str(t) for t in data["terms"]]
    lab = np.asarray(data["color"], dtype=np.float64).reshape(-1, 3)
    pairs = np.asarray(data["T"], dtype=np.int64).reshape(-1, 2)
    counts = np.zeros((len(lab), len(terms)))
    counts[pairs[:, 0] // len(terms), pairs[:, 0] % len(terms)] = pairs[:, 1]
    missing = sorted(set(terms) - set(TERM_TO_BASIC))
    if missing:
        raise SystemExit(f"c3_xkcd.json has names without a basic term: {missing}; add them to TERM_TO_BASIC")
    return lab, counts, terms


def basic_matrix(terms: list[str]) -> Array:
    """terms×11 one-hot matrix of TERM_TO_BASIC."""
    m = np.zeros((len(terms), len(BASIC_TERMS)))
    for i, t in enumerate(terms):
        m[i, BASIC_TERMS.index(TERM_TO_BASIC[t])] = 1
    return m


def spelled_names(colors: Path, terms: list[str]) -> list[str]:
    """Survey terms spelled with spaces as in the colornamer hierarchy's XKCD names."""
    with (colors / "colornamer_color_hierarchy.csv").open(newline="", encoding="utf-8") as handle:
        spelled = {re.sub(r"[^a-z]", "", r["xkcd_color"]): r["xkcd_color"] for r in csv.DictReader(handle)}
    return [spelled.get(t, t) for t in terms]


def kernel_estimate(query_lab: Array, lab: Array, dist: Array, chunk: int = 1024) -> Array:
    """Gaussian-kernel average of per-colour distributions ``dist`` at ``query_lab``; also the weight sum."""
    out = np.zeros((len(query_lab), dist.shape[1] + 1))
    for start in range(0, len(query_lab), chunk):
        q = query_lab[start : start + chunk]
        d2 = ((q[:, None, :] - lab[None, :, :]) ** 2).sum(-1)
        w = np.exp(-d2 / (2 * SIGMA**2))
        out[start : start + chunk, :-1] = w @ dist
        out[start : start + chunk, -1] = w.sum(1)
    return out


def basic_probabilities(est: Array, prior_idx: Array) -> Array:
    """Normalised basic-term distribution from a kernel estimate plus the van de Weijer prior."""
    prior = np.zeros((len(est), len(BASIC_TERMS)))
    prior[np.arange(len(est)), prior_idx] = PRIOR
    p = est[:, : len(BASIC_TERMS)] + prior
    return p / (est[:, -1:] + PRIOR)


def vdw_prior(colors: Path, rgb: Array) -> Array:
    """van de Weijer table's term for sRGB points, reordered into BASIC_TERMS indices."""
    table = np.load(colors / "w2color_netdissect.npy")
    vdw_order = ("black", "blue", "brown", "grey", "green", "orange", "pink", "purple", "red", "white", "yellow")
    remap = np.array([BASIC_TERMS.index(t) for t in vdw_order])
    idx = np.clip(np.rint(rgb), 0, 255).astype(np.int64) // 8
    return np.asarray(remap[table[idx[:, 0], idx[:, 1], idx[:, 2]]])


def bin_centres() -> Array:
    """sRGB centre of every lookup bin, in r, g, b index order."""
    axis = np.arange(BINS) * (256 // BINS) + (256 // BINS - 1) / 2
    r, g, b = np.meshgrid(axis, axis, axis, indexing="ij")
    return np.asarray(np.stack([r, g, b], -1).reshape(-1, 3))


def build(colors: Path) -> dict[str, Any]:
    """Build the table arrays and the agreement figures."""
    lab, counts, terms = load_survey(colors)
    to_basic = basic_matrix(terms)
    answers = counts.sum(1, keepdims=True)
    basic_share = (counts @ to_basic) / answers
    survey_majority = basic_share.argmax(1)

    centres = bin_centres()
    est = kernel_estimate(srgb_to_lab(centres), lab, np.hstack([basic_share, counts / answers]))
    n_basic = len(BASIC_TERMS)
    p_basic = basic_probabilities(np.hstack([est[:, :n_basic], est[:, -1:]]), vdw_prior(colors, centres))
    basic = p_basic.argmax(1)

    # Finer name: the most-used survey name of the bin's basic term, if people used it enough.
    term_w = est[:, n_basic:-1].copy()
    blocked = [i for i, t in enumerate(terms) if t in NAME_BLOCKLIST]
    term_w[:, blocked] = 0
    term_basic = to_basic.argmax(1)
    term_w[term_basic[None, :] != basic[:, None]] = 0
    finer = term_w.argmax(1)
    plain = np.array([terms.index(BASIC_TERMS[b]) for b in basic])
    plain_w = term_w[np.arange(len(basic)), plain]
    use_finer = term_w[np.arange(len(basic)), finer] >= FINER_SHARE * (plain_w + term_w.max(1))
    name = np.where(use_finer, finer, plain)

    # Agreement at the survey colours: shipped table, then 5-fold cross-validated.
    survey_rgb = lab_to_srgb(lab)
    idx = np.clip(np.rint(survey_rgb), 0, 255).astype(np.int64) >> 3
    table_basic = basic.reshape(BINS, BINS, BINS)
    shipped = float(np.mean(table_basic[idx[:, 0], idx[:, 1], idx[:, 2]] == survey_majority))
    vdw = float(np.mean(vdw_prior(colors, survey_rgb) == survey_majority))
    folds = np.random.default_rng(0).integers(0, 5, len(lab))
    hits = 0
    for f in range(5):
        test, train = folds == f, folds != f
        q = srgb_to_lab(centres[_flat(idx[test])])
        e = kernel_estimate(q, lab[train], basic_share[train])
        p = basic_probabilities(e, vdw_prior(colors, survey_rgb[test]))
        hits += int(np.sum(p.argmax(1) == survey_majority[test]))
    return {
        "basic": basic.reshape(BINS, BINS, BINS).astype(np.uint8),
        "name": name.reshape(BINS, BINS, BINS).astype(np.uint16),
        "names": np.array(spelled_names(colors, terms)),
        "agreement": {"table": round(shipped, 4), "cross_validated": round(hits / len(lab), 4),
                      "van_de_weijer_baseline": round(vdw, 4), "survey_colours": len(lab)},
    }


def _flat(idx: Array) -> Array:
    """Flat bin index of r, g, b bin indices."""
    return np.asarray((idx[:, 0] * BINS + idx[:, 1]) * BINS + idx[:, 2])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--colors", type=Path, default=Path("../shared/data/colors"))
    parser.add_argument("--out", type=Path, default=Path("models/colour"))
    # Surface adaptation (mirror.vision.colour_model.SurfaceAdaptation): chosen by
    # ``python -m models.training.colour_eval --search`` on the calibration half of the by-eye labels.
    parser.add_argument("--black-l", type=float, default=3.0)
    parser.add_argument("--white-l", type=float, default=84.0)
    parser.add_argument("--gamma", type=float, default=1.5)
    parser.add_argument("--chroma-gain", type=float, default=1.2)
    args = parser.parse_args(argv)
    result = build(args.colors)
    args.out.mkdir(parents=True, exist_ok=True)
    table = args.out / TABLE_FILE
    with table.open("wb") as handle:
        np.savez_compressed(handle, basic=result["basic"], name=result["name"], names=result["names"])
    manifest = {
        "name": "colour",
        "version": VERSION,
        "files": {"table": TABLE_FILE},
        "sha256": {TABLE_FILE: sha256_of(table)},
        "meta": {
            "basic_terms": list(BASIC_TERMS),
            "bins": BINS,
            "sigma_lab": SIGMA,
            "prior_weight": PRIOR,
            "xkcd_agreement": result["agreement"],
            "surface": {"black_l": args.black_l, "white_l": args.white_l, "gamma": args.gamma,
                        "chroma_gain": args.chroma_gain},
            "term_to_basic": TERM_TO_BASIC,
            "built_by": "python -m models.training.colour_build --colors ../shared/data/colors --out models/colour",
        },
    }
    _keep_fabric_stage(args.out / "model.json", manifest)
    (args.out / "model.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result["agreement"]))


def _keep_fabric_stage(path: Path, manifest: dict[str, Any]) -> None:
    """Carry the learned fabric stage (``colour_fit``) over when the rebuilt table is byte-identical.

    The stage was fitted on this table's reading of the fabric; a changed table needs a refit,
    so then the stage is left out of the manifest and the build says so.
    """
    if not path.is_file():
        return
    old = json.loads(path.read_text(encoding="utf-8"))
    stage = old.get("files", {}).get("fabric")
    if not stage:
        return
    if old.get("sha256", {}).get(TABLE_FILE) != manifest["sha256"][TABLE_FILE]:
        print(f"the table changed: {stage} left out; refit it with python -m models.training.colour_fit")
        return
    manifest["version"] = old["version"]
    manifest["files"]["fabric"] = stage
    manifest["sha256"][stage] = old["sha256"][stage]
    manifest["meta"]["fabric"] = old["meta"]["fabric"]


if __name__ == "__main__":
    main()
