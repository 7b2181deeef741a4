"""Blind by-eye review of the validation teacher masks for the single-garment IoU figure.

Why: the single-garment target (issue #3) is measured against IS-Net teacher masks, and the
teacher is sometimes wrong (keeps only a print or collar, takes in a rug, bed or second
garment, misses a sleeve). The earlier second check (``seg_fit``) only looked where our own
model disagreed with the teacher, so what it removed is biased toward the model. This review
looks at *every* validation photo with only the teacher mask drawn -- never any model output
-- so the set of references it rejects does not depend on the model being measured.

Rule (fixed before looking at any sheet):
  ``wrong`` when the mask does not outline the main garment a person would name in the photo:
  it covers only part of it (a print, a collar, one sleeve, or less than ~80 % of it), or it
  takes in a clearly separate object (rug, bed, chair, another garment, a person's body beyond
  the garment) as large as ~20 % of the garment, or it outlines something else entirely.
  Minor edge wobble, thin straps, small gaps and shadows along the edge are ``ok``. When
  genuinely unsure, ``ok`` (the reference stands).

Commands (run from the repository root with the dev venv; ../shared beside the checkout):
  python -m models.training.seg_review sheets --out /work/scratch/review_sheets
      the 204 validation photos, sorted by image id, in numbered 4x3 sheets (+ index.csv);
      each tile: photo, mask outline in bright green, outside of the mask dimmed by half
  python -m models.training.seg_review zoom IMAGE --out /work/scratch/review_sheets/zoom.png
      one photo side by side: plain and with the mask drawn, larger, for unclear tiles
  python -m models.training.seg_review summary
      counts by verdict in ``models/training/data/seg_val_review.csv``
  python -m models.training.seg_review check
      that CSV covers exactly the validation photos, verdicts only ok/wrong, every wrong has a reason

The sheets show photos of ../shared, so they go to a scratch folder outside git.
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from models.training import seg_data

Image = npt.NDArray[np.uint8]
DEFAULT_CSV = Path(__file__).resolve().parent / "data" / "seg_val_review.csv"
VERDICTS = ("ok", "wrong")
TILE = 300
COLS, ROWS = 4, 3
OUTLINE = (0, 255, 0)  # BGR bright green


def validation_images(
    masks: Path = seg_data.TEACHER_MASKS, clothing: Path = seg_data.CLOTHING
) -> list[tuple[str, str]]:
    """(image id, label) of the validation photos the 1.0.0 figure is measured on, sorted by id.

    The same photos as ``seg_data.checked_split(masks, second_check=False)``, with the photo
    folder as an argument (the tests name ../shared by its real place).
    """
    _, val = seg_data.clothing_split(seg_data.usable_clothing(masks, clothing))
    return sorted((p.image, p.label) for p in val)


def overlay(image: Image, mask: Image) -> Image:
    """The photo with the outside of ``mask`` dimmed by half and its outline drawn (2 px)."""
    inside = mask >= 128
    out = image.copy()
    out[~inside] = (out[~inside].astype(np.uint16) // 2).astype(np.uint8)
    contours, _ = cv2.findContours(inside.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, OUTLINE, 2, cv2.LINE_AA)
    return out


def cutout(image: Image, mask: Image) -> Image:
    """The photo with everything outside ``mask`` white: a missing sleeve or an extra rug shows at a glance."""
    out = image.copy()
    out[mask < 128] = 255
    return out


def _fit(image: Image, size: int) -> Image:
    """``image`` scaled so its long side is ``size``, letterboxed on mid-grey."""
    canvas = np.full((size, size, 3), 128, np.uint8)
    scale = size / max(image.shape[:2])
    dims = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    small = cv2.resize(image, dims, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    y0, x0 = (size - small.shape[0]) // 2, (size - small.shape[1]) // 2
    canvas[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    return canvas


def _load(image_id: str, masks: Path, clothing: Path) -> tuple[Image, Image]:
    image = cv2.imread(str(clothing / "images" / f"{image_id}.jpg"), cv2.IMREAD_COLOR)
    mask = cv2.imread(str(masks / f"{image_id}.png"), cv2.IMREAD_GRAYSCALE)
    if image is None or mask is None:
        raise SystemExit(f"cannot read photo or teacher mask of {image_id}: check ../shared and {masks}")
    if mask.shape != image.shape[:2]:
        mask = cv2.resize(mask, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST)
    return np.asarray(image, np.uint8), np.asarray(mask, np.uint8)


def _caption(tile: Image, text: str) -> None:
    (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.6, 1)
    cv2.rectangle(tile, (0, 0), (w + 8, h + 10), (0, 0, 0), -1)
    cv2.putText(tile, text, (4, h + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)


def _tile(image_id: str, masks: Path, clothing: Path, pairs: bool) -> Image:
    image, mask = _load(image_id, masks, clothing)
    if pairs:
        return np.hstack([_fit(image, TILE * 2 // 3), _fit(cutout(image, mask), TILE * 2 // 3)])
    return _fit(overlay(image, mask), TILE)


def write_sheets(out: Path, masks: Path, clothing: Path, pairs: bool = False) -> int:
    """Numbered sheets ``sheet_NN.png`` and ``index.csv`` (number, image, label); returns the photo count.

    ``pairs``: each tile is the plain photo beside its cut-out on white (a second look, 3 x 4 a sheet).
    """
    items = validation_images(masks, clothing)
    out.mkdir(parents=True, exist_ok=True)
    cols, rows_n = (COLS - 1, ROWS + 1) if pairs else (COLS, ROWS)
    per_sheet = cols * rows_n
    with (out / "index.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["number", "image", "label"])
        for first in range(0, len(items), per_sheet):
            tiles = []
            for number, (image_id, label) in enumerate(items[first : first + per_sheet], start=first):
                tile = _tile(image_id, masks, clothing, pairs)
                _caption(tile, f"{number} {label}")
                tiles.append(tile)
                writer.writerow([number, image_id, label])
            tiles += [np.zeros_like(tiles[0])] * (per_sheet - len(tiles))
            sheet = np.vstack([np.hstack(tiles[r * cols : (r + 1) * cols]) for r in range(rows_n)])
            height, width = tiles[0].shape[:2]
            sheet[:, width::width] = 255  # 1 px white lines between tiles
            sheet[height::height, :] = 255
            cv2.imwrite(str(out / f"sheet_{first // per_sheet:02d}.png"), sheet)
    return len(items)


def write_zoom(image_id: str, out: Path, masks: Path, clothing: Path, size: int) -> None:
    """The plain photo and the photo with the mask drawn, side by side, long side ``size``."""
    image, mask = _load(image_id, masks, clothing)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), np.hstack([_fit(image, size), _fit(overlay(image, mask), size)]))


def read_review(path: Path = DEFAULT_CSV) -> list[dict[str, str]]:
    """Rows (image, verdict, reason) of the review CSV."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def reviewed_wrong(path: Path = DEFAULT_CSV) -> set[str]:
    """Validation images whose teacher mask the blind review judged ``wrong``."""
    return {r["image"] for r in read_review(path) if r["verdict"] == "wrong"}


def problems(path: Path, masks: Path, clothing: Path) -> list[str]:
    """What is wrong with the review CSV: photos missing or extra, unknown verdicts, ``wrong`` without a reason."""
    rows = read_review(path)
    images = [r["image"] for r in rows]
    expected = {image for image, _ in validation_images(masks, clothing)}
    out = [f"not reviewed: {i}" for i in sorted(expected - set(images))]
    out += [f"not a validation photo: {i}" for i in sorted(set(images) - expected)]
    out += [f"reviewed twice: {i}" for i in sorted({i for i in images if images.count(i) > 1})]
    out += [f"verdict {r['verdict']!r} (not ok/wrong): {r['image']}" for r in rows if r["verdict"] not in VERDICTS]
    out += [
        f"wrong without a reason: {r['image']}" for r in rows if r["verdict"] == "wrong" and not r["reason"].strip()
    ]
    return out


def summary(path: Path) -> str:
    """Counts by verdict, then the ``wrong`` images with their reasons."""
    rows = read_review(path)
    counts = Counter(r["verdict"] for r in rows)
    lines = [f"{len(rows)} reviewed: " + ", ".join(f"{v} {counts[v]}" for v in sorted(counts))]
    lines += [f"  wrong {r['image']}: {r['reason']}" for r in rows if r["verdict"] == "wrong"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--masks", type=Path, default=seg_data.TEACHER_MASKS)
    parser.add_argument("--clothing", type=Path, default=seg_data.CLOTHING, help="the single-garment photos")
    sub = parser.add_subparsers(dest="command", required=True)
    sheets = sub.add_parser("sheets", help="numbered contact sheets of the validation masks")
    sheets.add_argument("--out", type=Path, required=True, help="a scratch folder outside git")
    sheets.add_argument("--pairs", action="store_true", help="photo beside its cut-out on white (second look)")
    zoom = sub.add_parser("zoom", help="one photo, plain and with its mask, larger")
    zoom.add_argument("image")
    zoom.add_argument("--out", type=Path, required=True)
    zoom.add_argument("--size", type=int, default=700)
    summ = sub.add_parser("summary", help="counts by verdict in the review CSV")
    summ.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    check = sub.add_parser("check", help="the CSV covers exactly the validation photos, verdicts ok/wrong, reasons")
    check.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    args = parser.parse_args(argv)
    if args.command == "sheets":
        print(f"{write_sheets(args.out, args.masks, args.clothing, args.pairs)} photos -> {args.out}")
    elif args.command == "zoom":
        write_zoom(args.image, args.out, args.masks, args.clothing, args.size)
    else:
        if not args.csv.is_file():
            raise SystemExit(f"no review CSV at {args.csv}: write it from the sheets first")
        if args.command == "summary":
            print(summary(args.csv))
            return
        found = problems(args.csv, args.masks, args.clothing)
        print("\n".join(found) or f"{args.csv}: every validation photo reviewed once, verdicts ok/wrong, reasons given")
        if found:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
