"""Contact sheets for labelling garment colours by eye.

The colour target is measured against labels given by looking at the photos, not against our
own output. This tool tiles photos of ``../shared/data/clothing`` into numbered 5x5 sheets
(PNG) that a labeller views one at a time (so far every labeller was an AI session viewing
the sheets as images, not a person: ``tests/data/README.md``); the labels typed from them go to
``tests/data/colour_labels.csv`` (validation photos, the measure) or
``tests/data/colour_labels_train.csv`` (training photos, for the learned fabric-colour
stage). The image order is a fixed shuffle so a labelled set is a random sample of its
split, not the first rows of the CSV.

``--split train`` takes the training side: ``small_split == train`` and, with
``--with-unsplit``, the photos outside the curated subset (empty ``small_split``; labels
"Not sure", "Skip" and "Other" left out). ``--exclude-senders-of`` drops every photo whose
``sender_id`` took a photo in the given label CSV, so the training labels share no sender
with the validation labels they are measured on (photos by one sender look alike).
``--split unsplit`` takes only those photos outside the curated subset. ``--start`` numbers and
tiles from that position of the shuffled order, so more sheets can be made later without
renumbering the ones already labelled. ``--images`` tiles exactly the photos listed in a file (one
id per line, in that order) instead: how photos skipped under one rule are shown again under another.

    python -m models.training.colour_sheets --out .scratch/colour_sheets --count 300
    python -m models.training.colour_sheets --split train --with-unsplit \
        --exclude-senders-of tests/data/colour_labels.csv --out .scratch/colour_sheets_train --count 700
    python -m models.training.colour_sheets --split unsplit \
        --exclude-senders-of tests/data/colour_labels.csv --out .scratch/colour_sheets_unsplit --count 900
    python -m models.training.colour_sheets --images .scratch/train_skipped.txt --out .scratch/colour_sheets_again
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

TILE = 200
GRID = 5
#: ``label`` values that are not one garment (kept out of the unsplit training photos).
NOT_A_GARMENT = frozenset({"Not sure", "Skip", "Other"})


def read_images_csv(clothing: Path) -> list[dict[str, str]]:
    """Rows of ``images.csv``."""
    with (clothing / "images.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def senders_of(rows: list[dict[str, str]], label_csv: Path) -> set[str]:
    """``sender_id`` of every photo named in a label CSV (column ``image``)."""
    with label_csv.open(newline="", encoding="utf-8") as handle:
        labelled = {r["image"] for r in csv.DictReader(handle)}
    return {r["sender_id"] for r in rows if r["image"] in labelled}


def candidate_images(
    rows: list[dict[str, str]],
    split: str,
    seed: int,
    with_unsplit: bool = False,
    exclude_senders: frozenset[str] = frozenset(),
) -> list[str]:
    """Image ids of ``split`` (plus unsplit garment photos if asked), minus excluded senders, in a fixed shuffle."""

    def wanted(r: dict[str, str]) -> bool:
        unsplit = (with_unsplit or split == "unsplit") and r["small_split"] == "" and r["label"] not in NOT_A_GARMENT
        in_split = r["small_split"] == split or unsplit
        return in_split and r["sender_id"] not in exclude_senders

    ids = sorted(r["image"] for r in rows if wanted(r))
    random.Random(seed).shuffle(ids)
    return ids


def tile(path: Path, number: int) -> npt.NDArray[np.uint8]:
    """One thumbnail, letterboxed on mid-grey, with its number drawn in the corner."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    canvas = np.full((TILE, TILE, 3), 128, np.uint8)
    if image is not None:
        scale = TILE / max(image.shape[:2])
        size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        y0, x0 = (TILE - small.shape[0]) // 2, (TILE - small.shape[1]) // 2
        canvas[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    cv2.rectangle(canvas, (0, 0), (44, 24), (0, 0, 0), -1)
    cv2.putText(canvas, str(number), (3, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    return canvas


def write_sheets(clothing: Path, out: Path, ids: list[str], start: int) -> None:
    """Numbered sheets ``sheet_NN.png`` of ``ids`` (numbered from ``start``) and ``index.csv``."""
    out.mkdir(parents=True, exist_ok=True)
    per_sheet = GRID * GRID
    index = out / "index.csv"
    new = not index.exists()
    with index.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(["number", "image"])
        for offset in range(0, len(ids), per_sheet):
            first = start + offset
            chunk = ids[offset : offset + per_sheet]
            tiles = [tile(clothing / "images" / f"{i}.jpg", first + k) for k, i in enumerate(chunk)]
            tiles += [np.zeros((TILE, TILE, 3), np.uint8)] * (per_sheet - len(tiles))
            rows = [np.hstack(tiles[r * GRID : (r + 1) * GRID]) for r in range(GRID)]
            cv2.imwrite(str(out / f"sheet_{first // per_sheet:02d}.png"), np.vstack(rows))
            writer.writerows([first + k, i] for k, i in enumerate(chunk))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clothing", type=Path, default=Path("../shared/data/clothing"))
    parser.add_argument("--out", type=Path, default=Path(".scratch/colour_sheets"))
    parser.add_argument("--split", choices=("validation", "train", "unsplit"), default="validation")
    parser.add_argument("--images", type=Path, help="tile exactly these photo ids (one per line), in order")
    parser.add_argument("--with-unsplit", action="store_true", help="also photos outside the curated subset")
    parser.add_argument("--exclude-senders-of", type=Path, help="a label CSV whose photos' senders are left out")
    parser.add_argument("--start", type=int, default=0, help="first position in the shuffled order (a sheet multiple)")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args(argv)
    if args.start % (GRID * GRID):
        parser.error(f"--start must be a multiple of {GRID * GRID} so sheet numbers stay aligned")
    rows = read_images_csv(args.clothing)
    exclude = frozenset(senders_of(rows, args.exclude_senders_of)) if args.exclude_senders_of else frozenset()
    if args.images:
        ids = [line.strip() for line in args.images.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        ids = candidate_images(rows, args.split, args.seed, args.with_unsplit, exclude)
    write_sheets(args.clothing, args.out, ids[args.start : args.start + args.count], args.start)


if __name__ == "__main__":
    main()
