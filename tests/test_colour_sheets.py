"""The contact-sheet tool that the by-eye colour labels are typed from (``models.training.colour_sheets``)."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from models.training.colour_sheets import candidate_images, main

FIELDS = ["image", "sender_id", "label", "kids", "small_split", "small_category"]


def _clothing(tmp_path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """A tiny clothing set: ``(image, sender, label, split)`` rows, each photo a flat colour."""
    folder = tmp_path / "clothing"
    (folder / "images").mkdir(parents=True)
    with (folder / "images.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        for k, (image, sender, label, split) in enumerate(rows):
            writer.writerow([image, sender, label, "False", split, ""])
            cv2.imwrite(str(folder / "images" / f"{image}.jpg"), np.full((40, 30, 3), 20 * k, np.uint8))
    return folder


def test_unsplit_split_takes_only_garments_outside_the_subset(tmp_path: Path) -> None:
    rows = [("a", "s1", "T-Shirt", "train"), ("b", "s1", "Pants", ""), ("c", "s2", "Skip", ""),
            ("d", "s3", "Dress", ""), ("e", "s4", "Hat", "validation")]
    from models.training.colour_sheets import read_images_csv

    listed = read_images_csv(_clothing(tmp_path, rows))
    assert sorted(candidate_images(listed, "unsplit", 4)) == ["b", "d"]
    assert sorted(candidate_images(listed, "unsplit", 4, exclude_senders=frozenset({"s3"}))) == ["b"]


def test_images_option_tiles_exactly_the_listed_photos_in_order(tmp_path: Path) -> None:
    clothing = _clothing(tmp_path, [(f"p{k}", "s", "Pants", "train") for k in range(30)])
    wanted = tmp_path / "ids.txt"
    wanted.write_text("p7\np3\n\np29\n", encoding="utf-8")
    out = tmp_path / "sheets"
    main(["--clothing", str(clothing), "--images", str(wanted), "--out", str(out), "--count", "400"])
    with (out / "index.csv").open(newline="", encoding="utf-8") as handle:
        assert [(r["number"], r["image"]) for r in csv.DictReader(handle)] == [("0", "p7"), ("1", "p3"), ("2", "p29")]
    sheet = cv2.imread(str(out / "sheet_00.png"))
    assert sheet is not None and sheet.shape == (1000, 1000, 3)
